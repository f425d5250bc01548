import { Alert, Box, Button } from '@mui/material';
import { useState } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import { AccountCard } from '../components/accounts/AccountCard';
import { OpenAccountDialog } from '../components/accounts/OpenAccountDialog';
import { StatementDialog } from '../components/accounts/StatementDialog';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../components/common/States';
import { useAppSelector } from '../hooks/redux';
import { useAccounts } from '../hooks/useAccounts';
import type { Account } from '../types';

export default function AccountsPage() {
  const { accounts, loading, error, reload } = useAccounts();
  const hasCustomer = useAppSelector((s) => !!s.auth.user?.customer_id);
  const [openDialog, setOpenDialog] = useState(false);
  const [statementFor, setStatementFor] = useState<Account | null>(null);
  const visible = accounts.filter((a) => a.status !== 'CLOSED');

  return (
    <>
      <PageHeader
        title="Accounts"
        actions={
          <Box display="flex" gap={1}>
            <Button onClick={reload}>Refresh</Button>
            <Button variant="contained" onClick={() => setOpenDialog(true)} disabled={!hasCustomer}>
              Open account
            </Button>
          </Box>
        }
      />
      {!hasCustomer && (
        <Alert severity="info" sx={{ mb: 2 }}>
          Complete your profile and identity verification before opening an account.{' '}
          <Button component={RouterLink} to="/onboarding" size="small">
            Start verification
          </Button>
        </Alert>
      )}
      <ErrorAlert error={error} onRetry={reload} />
      {loading && <Loading label="Loading accounts" />}
      {!loading && !error && visible.length === 0 && <EmptyState title="You have no accounts yet." />}
      <Box display="grid" gridTemplateColumns={{ xs: '1fr', sm: '1fr 1fr', lg: '1fr 1fr 1fr' }} gap={2}>
        {visible.map((a) => (
          <AccountCard
            key={a.id}
            account={a}
            actions={
              <>
                <Button size="small" onClick={() => setStatementFor(a)}>
                  Statement
                </Button>
                <Button size="small" component={RouterLink} to={`/transactions?account=${a.id}`}>
                  History
                </Button>
                <Button size="small" component={RouterLink} to={`/transfers?from=${a.id}`} disabled={a.status !== 'ACTIVE'}>
                  Transfer
                </Button>
              </>
            }
          />
        ))}
      </Box>
      <OpenAccountDialog open={openDialog} onClose={() => setOpenDialog(false)} />
      {statementFor && <StatementDialog account={statementFor} onClose={() => setStatementFor(null)} />}
    </>
  );
}
