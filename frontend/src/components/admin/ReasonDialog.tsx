import { Button, Dialog, DialogActions, DialogContent, DialogTitle, TextField } from '@mui/material';
import { useState } from 'react';

/** Asks for a mandatory reason/note before a consequential admin action. */
export function ReasonDialog({ open, title, label = 'Reason', confirmLabel, onCancel, onConfirm }: { open: boolean; title: string; label?: string; confirmLabel: string; onCancel: () => void; onConfirm: (reason: string) => void | Promise<void> }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    try {
      await onConfirm(reason.trim());
      setReason('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onCancel} fullWidth maxWidth="sm" aria-labelledby="reason-title">
      <DialogTitle id="reason-title">{title}</DialogTitle>
      <DialogContent>
        <TextField autoFocus fullWidth multiline minRows={2} label={label} value={reason} onChange={(e) => setReason(e.target.value)} sx={{ mt: 1 }} required />
      </DialogContent>
      <DialogActions>
        <Button onClick={onCancel}>Cancel</Button>
        <Button variant="contained" color="error" onClick={submit} disabled={busy || reason.trim().length < 3}>
          {confirmLabel}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
