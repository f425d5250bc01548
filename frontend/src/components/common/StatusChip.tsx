import { Chip } from '@mui/material';

const COLORS: Record<string, 'default' | 'success' | 'warning' | 'error' | 'info'> = {
  ACTIVE: 'success',
  COMPLETED: 'success',
  APPROVED: 'success',
  RELEASED: 'success',
  FROZEN: 'info',
  PENDING: 'warning',
  PROCESSING: 'warning',
  SUBMITTED: 'warning',
  REVIEW: 'warning',
  OPEN: 'warning',
  CLOSED: 'default',
  CANCELLED: 'default',
  REVERSED: 'default',
  FAILED: 'error',
  REJECTED: 'error',
};

export function StatusChip({ status }: { status: string }) {
  return <Chip size="small" label={status} color={COLORS[status.toUpperCase()] ?? 'default'} variant="outlined" />;
}
