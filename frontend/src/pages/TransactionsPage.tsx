import { Box, Button, MenuItem, Paper, TextField } from '@mui/material';
import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../components/common/States';
import { accountLabel } from '../components/common/AccountSelect';
import { TransactionDetailDialog } from '../components/transactions/TransactionDetailDialog';
import { TransactionFilters } from '../components/transactions/TransactionFilters';
import { TransactionTable } from '../components/transactions/TransactionTable';
import { useAppDispatch, useAppSelector } from '../hooks/redux';
import { useAccounts } from '../hooks/useAccounts';
import { fetchTransactions } from '../store/transactionSlice';
import type { TransactionFilters as Filters } from '../types';

export default function TransactionsPage() {
  const { accounts, loading: accLoading } = useAccounts();
  const [params, setParams] = useSearchParams();
  const dispatch = useAppDispatch();
  const { items, nextCursor, status, error, query } = useAppSelector((s) => s.transactions);
  const [filters, setFilters] = useState<Filters>({});
  const [detail, setDetail] = useState<string | null>(null);
  const accountId = params.get('account') ?? accounts[0]?.id ?? null;

  useEffect(() => {
    if (accountId) void dispatch(fetchTransactions({ accountId, filters }));
  }, [accountId, filters, dispatch]);

  const loadMore = () => {
    if (accountId && nextCursor) void dispatch(fetchTransactions({ accountId, filters: { ...query.filters, cursor: nextCursor }, append: true }));
  };

  return (
    <>
      <PageHeader title="Transactions" />
      {accLoading && <Loading label="Loading accounts" />}
      {!accLoading && accounts.length === 0 && <EmptyState title="No accounts yet, so no transactions." />}
      {accounts.length > 0 && (
        <Paper variant="outlined" sx={{ p: 2 }}>
          <TextField select label="Account" size="small" value={accountId ?? ''} onChange={(e) => setParams({ account: e.target.value })} sx={{ mb: 2, minWidth: 280 }}>
            {accounts.map((a) => (
              <MenuItem key={a.id} value={a.id}>
                {accountLabel(a)}
              </MenuItem>
            ))}
          </TextField>
          <TransactionFilters onApply={setFilters} />
          <ErrorAlert error={error} onRetry={() => accountId && dispatch(fetchTransactions({ accountId, filters }))} />
          {status === 'loading' && items.length === 0 && <Loading label="Loading transactions" />}
          {status === 'succeeded' && items.length === 0 && <EmptyState title="No transactions match." />}
          {items.length > 0 && <TransactionTable items={items} accountId={accountId} onSelect={(t) => setDetail(t.id)} caption="Account transactions" />}
          {nextCursor && (
            <Box textAlign="center" mt={2}>
              <Button onClick={loadMore} disabled={status === 'loading'}>
                Load more
              </Button>
            </Box>
          )}
        </Paper>
      )}
      <TransactionDetailDialog id={detail} onClose={() => setDetail(null)} />
    </>
  );
}
