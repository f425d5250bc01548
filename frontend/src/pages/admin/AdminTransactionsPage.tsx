import { Box, Button, Paper } from '@mui/material';
import { useEffect, useState } from 'react';
import { ReasonDialog } from '../../components/admin/ReasonDialog';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../../components/common/States';
import { TransactionDetailDialog } from '../../components/transactions/TransactionDetailDialog';
import { TransactionFilters } from '../../components/transactions/TransactionFilters';
import { TransactionTable } from '../../components/transactions/TransactionTable';
import { useAppDispatch, useAppSelector } from '../../hooks/redux';
import { useIdempotentSubmit } from '../../hooks/useIdempotentSubmit';
import { transactionService } from '../../services/transactionService';
import { showToast } from '../../store/notificationSlice';
import { fetchTransactions, transactionUpdated } from '../../store/transactionSlice';
import type { Transaction, TransactionFilters as Filters } from '../../types';
import { errorMessage } from '../../utils/errors';

export default function AdminTransactionsPage() {
  const dispatch = useAppDispatch();
  const { items, nextCursor, status, error, query } = useAppSelector((s) => s.transactions);
  const [filters, setFilters] = useState<Filters>({});
  const [detail, setDetail] = useState<string | null>(null);
  const [reversing, setReversing] = useState<Transaction | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const { submit, reset } = useIdempotentSubmit((key: string, id: string, reason: string) => transactionService.reverse(id, reason, key));

  useEffect(() => {
    void dispatch(fetchTransactions({ accountId: null, filters }));
  }, [filters, dispatch]);

  const reverse = async (reason: string) => {
    if (!reversing) return;
    setActionError(null);
    try {
      const tx = await submit(reversing.id, reason);
      if (!tx) return;
      reset();
      dispatch(transactionUpdated(tx));
      dispatch(showToast(`Reversed ${tx.transaction_ref}`));
      setReversing(null);
    } catch (e) {
      setActionError(errorMessage(e));
      setReversing(null);
    }
  };

  const list = query.accountId === null ? items : [];
  return (
    <>
      <PageHeader title="All transactions" />
      <Paper variant="outlined" sx={{ p: 2 }}>
        <TransactionFilters onApply={setFilters} showSearch />
        <ErrorAlert error={error ?? actionError} />
        {status === 'loading' && list.length === 0 && <Loading label="Loading transactions" />}
        {status === 'succeeded' && list.length === 0 && <EmptyState title="No transactions match." />}
        {list.length > 0 && (
          <TransactionTable
            items={list}
            caption="Bank transactions"
            onSelect={(t) => setDetail(t.id)}
            actions={(t) =>
              t.status === 'COMPLETED' && t.transaction_type !== 'REVERSAL' ? (
                <Button
                  size="small"
                  color="error"
                  onClick={() => {
                    reset();
                    setReversing(t);
                  }}
                  aria-label={`Reverse ${t.transaction_ref}`}
                >
                  Reverse
                </Button>
              ) : null
            }
          />
        )}
        {nextCursor && (
          <Box textAlign="center" mt={2}>
            <Button onClick={() => dispatch(fetchTransactions({ accountId: null, filters: { ...query.filters, cursor: nextCursor }, append: true }))}>Load more</Button>
          </Box>
        )}
      </Paper>
      <TransactionDetailDialog id={detail} onClose={() => setDetail(null)} />
      <ReasonDialog open={!!reversing} title={`Reverse ${reversing?.transaction_ref ?? ''}`} confirmLabel="Reverse transaction" onCancel={() => setReversing(null)} onConfirm={reverse} />
    </>
  );
}
