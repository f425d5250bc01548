import { Alert, Box, Button, MenuItem, Paper, Stack, TextField } from '@mui/material';
import { useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { AccountSelect } from '../components/common/AccountSelect';
import { ErrorAlert, PageHeader } from '../components/common/States';
import { useAccounts } from '../hooks/useAccounts';
import { useIdempotentSubmit } from '../hooks/useIdempotentSubmit';
import { transactionService } from '../services/transactionService';
import type { PaymentRail, PaymentRequest } from '../types';
import { errorMessage } from '../utils/errors';
import { formatMoney, normalizeAmount, validateAmountInput } from '../utils/money';

interface V {
  rail: PaymentRail;
  from_account_id: string;
  payee_name: string;
  payee_account_number: string;
  payee_reference: string;
  amount: string;
  description: string;
}

export default function PaymentsPage() {
  const { accounts, reload } = useAccounts();
  const usable = accounts.filter((a) => a.status !== 'CLOSED');
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const { submit, submitting, reset } = useIdempotentSubmit((key: string, body: PaymentRequest) => transactionService.payment(body, key));
  const { control, register, handleSubmit, watch, reset: resetForm, formState } = useForm<V>({
    defaultValues: { rail: 'PAYMENT', from_account_id: '', payee_name: '', payee_account_number: '', payee_reference: '', amount: '', description: '' },
  });
  const e = formState.errors;
  const currency = usable.find((a) => a.id === watch('from_account_id'))?.currency ?? 'USD';

  const onSubmit = async (v: V) => {
    setError(null);
    setOk(null);
    try {
      const tx = await submit({
        rail: v.rail,
        from_account_id: v.from_account_id,
        payee_name: v.payee_name.trim(),
        payee_account_number: v.payee_account_number.trim(),
        payee_reference: v.payee_reference.trim() || undefined,
        amount: normalizeAmount(v.amount, currency),
        currency,
        description: v.description.trim() || undefined,
      });
      if (!tx) return;
      reset();
      resetForm();
      reload();
      setOk(tx.status === 'REVIEW' ? 'The payment is held for review.' : `Paid ${formatMoney(tx.amount, tx.currency)} (ref ${tx.transaction_ref}).`);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <>
      <PageHeader title="Pay a payee" />
      <Paper variant="outlined" sx={{ p: 3 }}>
        <form onSubmit={handleSubmit(onSubmit)} noValidate aria-label="Payment" onChange={() => reset()}>
          <Box display="grid" gridTemplateColumns={{ xs: '1fr', md: '1fr 1fr' }} gap={2}>
            <Controller name="from_account_id" control={control} rules={{ required: 'Choose an account' }} render={({ field }) => <AccountSelect accounts={usable} label="From account" {...field} error={!!e.from_account_id} helperText={e.from_account_id?.message} />} />
            <Controller
              name="rail"
              control={control}
              render={({ field }) => (
                <TextField select label="Payment type" {...field}>
                  <MenuItem value="PAYMENT">Bill payment</MenuItem>
                  <MenuItem value="ACH">ACH transfer</MenuItem>
                  <MenuItem value="WIRE">Wire</MenuItem>
                </TextField>
              )}
            />
            <TextField label="Payee name" {...register('payee_name', { required: 'Required', maxLength: { value: 140, message: 'At most 140 characters' } })} error={!!e.payee_name} helperText={e.payee_name?.message} />
            <TextField label="Payee account number" {...register('payee_account_number', { required: 'Required', pattern: { value: /^[A-Za-z0-9/-]{4,34}$/, message: "4–34 letters, digits, '-' or '/'" } })} error={!!e.payee_account_number} helperText={e.payee_account_number?.message} />
            <TextField label="Payee reference (optional)" {...register('payee_reference', { maxLength: { value: 140, message: 'At most 140 characters' } })} error={!!e.payee_reference} helperText={e.payee_reference?.message} />
            <TextField label={`Amount (${currency})`} inputMode="decimal" {...register('amount', { validate: (v) => validateAmountInput(v, currency) ?? true })} error={!!e.amount} helperText={e.amount?.message} />
            <TextField label="Description (optional)" {...register('description')} />
          </Box>
          <Stack direction="row" mt={2}>
            <Button type="submit" variant="contained" disabled={submitting || usable.length === 0}>
              {submitting ? 'Paying…' : 'Pay'}
            </Button>
          </Stack>
        </form>
        <ErrorAlert error={error} />
        {ok && (
          <Alert severity="success" role="status" sx={{ mt: 2 }}>
            {ok}
          </Alert>
        )}
      </Paper>
    </>
  );
}
