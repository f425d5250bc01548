import { Alert, Button, Dialog, DialogActions, DialogContent, DialogTitle, MenuItem, Stack, TextField } from '@mui/material';
import { useState } from 'react';
import { accountService } from '../../services/accountService';
import type { Account } from '../../types';
import { saveBlob } from '../../utils/download';
import { errorMessage } from '../../utils/errors';
import { daysAgo, isoDate } from '../../utils/format';

export function statementFileName(account: Account, from: string, to: string, format: string): string {
  return `statement-${account.account_number}-${from}-to-${to}.${format}`;
}

export function StatementDialog({ account, onClose }: { account: Account | null; onClose: () => void }) {
  const [from, setFrom] = useState(isoDate(daysAgo(30)));
  const [to, setTo] = useState(isoDate(new Date()));
  const [format, setFormat] = useState<'csv' | 'pdf'>('csv');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const download = async () => {
    if (!account) return;
    if (from > to) {
      setError('The start date must be before the end date.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const blob = await accountService.statementFile(account.id, from, to, format);
      saveBlob(blob, statementFileName(account, from, to, format));
      onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={!!account} onClose={onClose} fullWidth maxWidth="xs" aria-labelledby="statement-title">
      <DialogTitle id="statement-title">Download statement</DialogTitle>
      <DialogContent>
        <Stack spacing={2} mt={1}>
          {error && (
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          )}
          <TextField label="From" type="date" value={from} onChange={(e) => setFrom(e.target.value)} slotProps={{ inputLabel: { shrink: true } }} />
          <TextField label="To" type="date" value={to} onChange={(e) => setTo(e.target.value)} slotProps={{ inputLabel: { shrink: true } }} />
          <TextField select label="Format" value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'pdf')}>
            <MenuItem value="csv">CSV</MenuItem>
            <MenuItem value="pdf">PDF</MenuItem>
          </TextField>
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" onClick={download} disabled={busy}>
          {busy ? 'Preparing…' : 'Download'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
