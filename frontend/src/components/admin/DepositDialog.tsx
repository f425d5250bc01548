import { Alert, Button, Dialog, DialogActions, DialogContent, DialogTitle, Stack, TextField } from '@mui/material';
import { useState } from 'react';
import { useIdempotentSubmit } from '../../hooks/useIdempotentSubmit';
import { transactionService } from '../../services/transactionService';
import type { Account, DepositRequest, Transaction } from '../../types';
import { errorMessage } from '../../utils/errors';
import { normalizeAmount, validateAmountInput } from '../../utils/money';

/** Teller deposit (admin) with its own idempotency key per submission. */
export function DepositDialog({ account, onClose, onDone }: { account: Account | null; onClose: () => void; onDone: (t: Transaction) => void }) {
  const [amount, setAmount] = useState('');
  const [description, setDescription] = useState('Teller deposit');
  const [error, setError] = useState<string | null>(null);
  const { submit, submitting, reset } = useIdempotentSubmit((key: string, body: DepositRequest) => transactionService.deposit(body, key));
  if (!account) return null;
  const go = async () => {
    const problem = validateAmountInput(amount, account.currency);
    if (problem) {
      setError(problem);
      return;
    }
    setError(null);
    try {
      const tx = await submit({ account_id: account.id, amount: normalizeAmount(amount, account.currency), currency: account.currency, description: description.trim() || undefined });
      if (!tx) return;
      reset();
      setAmount('');
      onDone(tx);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="xs" aria-labelledby="deposit-title">
      <DialogTitle id="deposit-title">Teller deposit to {account.account_number}</DialogTitle>
      <DialogContent>
        <Stack spacing={2} mt={1}>
          {error && (
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          )}
          <TextField
            label={`Amount (${account.currency})`}
            inputMode="decimal"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              reset();
            }}
            autoFocus
          />
          <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" onClick={go} disabled={submitting}>
          Deposit
        </Button>
      </DialogActions>
    </Dialog>
  );
}
