import { Box, Button, Dialog, DialogActions, DialogContent, DialogTitle } from '@mui/material';
import { useAsync } from '../../hooks/useAsync';
import { transactionService } from '../../services/transactionService';
import { formatDateTime, humanize } from '../../utils/format';
import { formatMoney } from '../../utils/money';
import { ErrorAlert, Loading } from '../common/States';
import { StatusChip } from '../common/StatusChip';

export function TransactionDetailDialog({ id, onClose }: { id: string | null; onClose: () => void }) {
  const tx = useAsync(() => (id ? transactionService.get(id) : Promise.resolve(null)), [id]);
  const t = tx.data;
  return (
    <Dialog open={!!id} onClose={onClose} fullWidth maxWidth="sm" aria-labelledby="tx-detail-title">
      <DialogTitle id="tx-detail-title">Transaction details</DialogTitle>
      <DialogContent>
        {tx.loading && <Loading />}
        <ErrorAlert error={tx.error} onRetry={tx.reload} />
        {t && (
          <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 2, rowGap: 1, m: 0, '& dd': { m: 0, wordBreak: 'break-all' } }}>
            <dt>Reference</dt>
            <dd>{t.transaction_ref}</dd>
            <dt>Type</dt>
            <dd>{humanize(t.transaction_type)}</dd>
            <dt>Status</dt>
            <dd>
              <StatusChip status={t.status} />
            </dd>
            <dt>Amount</dt>
            <dd>{formatMoney(t.amount, t.currency)}</dd>
            <dt>From account</dt>
            <dd>{t.from_account_id ?? '—'}</dd>
            <dt>To account</dt>
            <dd>{t.to_account_id ?? '—'}</dd>
            <dt>Description</dt>
            <dd>{t.description || '—'}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(t.created_at)}</dd>
            <dt>Processed</dt>
            <dd>{formatDateTime(t.processed_at)}</dd>
            {t.reversed_at && (
              <>
                <dt>Reversed</dt>
                <dd>{formatDateTime(t.reversed_at)}</dd>
              </>
            )}
          </Box>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
