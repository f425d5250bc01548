import { Alert, Box, Button, CircularProgress, Typography } from '@mui/material';
import type { ReactNode } from 'react';
import { Navigate } from 'react-router-dom';
import { MFA_ENROLMENT_MESSAGE } from '../../utils/errors';

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Box display="flex" alignItems="center" gap={2} p={3} role="status" aria-live="polite">
      <CircularProgress size={24} aria-label={label} />
      <Typography>{label}…</Typography>
    </Box>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Box p={3} textAlign="center" color="text.secondary">
      <Typography variant="subtitle1" component="p">
        {title}
      </Typography>
      {children}
    </Box>
  );
}

export function ErrorAlert({ error, onRetry }: { error: string | null | undefined; onRetry?: () => void }) {
  if (!error) return null;
  // A staff user without TOTP: the server refuses every staff call until they enrol (PCI DSS req. 8), so the
  // page they tried cannot work; their profile's two-factor section can.
  if (error === MFA_ENROLMENT_MESSAGE) return <Navigate to="/profile" replace state={{ mfaEnrolment: true }} />;
  return (
    <Alert
      severity="error"
      role="alert"
      sx={{ my: 2 }}
      action={
        onRetry ? (
          <Button color="inherit" size="small" onClick={onRetry}>
            Retry
          </Button>
        ) : undefined
      }
    >
      {error}
    </Alert>
  );
}

export function PageHeader({ title, actions }: { title: string; actions?: ReactNode }) {
  return (
    <Box display="flex" alignItems="center" justifyContent="space-between" flexWrap="wrap" gap={2} mb={3}>
      <Typography variant="h4" component="h1">
        {title}
      </Typography>
      {actions}
    </Box>
  );
}
