import { Alert, Button, Dialog, DialogActions, DialogContent, DialogTitle, MenuItem, Stack, TextField } from '@mui/material';
import { useState } from 'react';
import { useAppDispatch } from '../../hooks/redux';
import { openAccount } from '../../store/accountSlice';
import { showToast } from '../../store/notificationSlice';
import type { AccountType } from '../../types';

export function OpenAccountDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dispatch = useAppDispatch();
  const [type, setType] = useState<AccountType>('CHECKING');
  const [currency, setCurrency] = useState('USD');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError(null);
    const res = await dispatch(openAccount({ account_type: type, currency }));
    setBusy(false);
    if (openAccount.fulfilled.match(res)) {
      dispatch(showToast(`${type === 'CHECKING' ? 'Checking' : 'Savings'} account opened`));
      onClose();
    } else {
      setError(res.payload ?? 'Could not open the account');
    }
  };

  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="xs" aria-labelledby="open-account-title">
      <DialogTitle id="open-account-title">Open an account</DialogTitle>
      <DialogContent>
        <Stack spacing={2} mt={1}>
          {error && (
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          )}
          <TextField select label="Account type" value={type} onChange={(e) => setType(e.target.value as AccountType)}>
            <MenuItem value="CHECKING">Checking</MenuItem>
            <MenuItem value="SAVINGS">Savings</MenuItem>
          </TextField>
          <TextField select label="Currency" value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {['USD', 'EUR', 'GBP'].map((c) => (
              <MenuItem key={c} value={c}>
                {c}
              </MenuItem>
            ))}
          </TextField>
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" onClick={submit} disabled={busy}>
          Open account
        </Button>
      </DialogActions>
    </Dialog>
  );
}
