import { Alert, Snackbar } from '@mui/material';
import { useAppDispatch, useAppSelector } from '../../hooks/redux';
import { dismissToast } from '../../store/notificationSlice';

export function Toasts() {
  const toasts = useAppSelector((s) => s.notifications.toasts);
  const dispatch = useAppDispatch();
  const t = toasts[0];
  if (!t) return null;
  return (
    <Snackbar
      key={t.id}
      open
      autoHideDuration={6000}
      onClose={() => dispatch(dismissToast(t.id))}
      anchorOrigin={{ vertical: 'bottom', horizontal: 'right' }}
    >
      <Alert severity={t.severity} variant="filled" onClose={() => dispatch(dismissToast(t.id))} role="status">
        {t.message}
      </Alert>
    </Snackbar>
  );
}
