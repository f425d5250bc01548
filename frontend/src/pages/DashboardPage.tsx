import { Alert, Box, Button, Paper, Typography } from '@mui/material';
import { Link as RouterLink } from 'react-router-dom';
import { AccountCard } from '../components/accounts/AccountCard';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../components/common/States';
import { BalanceChart } from '../components/dashboard/BalanceChart';
import { SummaryCards } from '../components/dashboard/SummaryCards';
import { TransactionTable } from '../components/transactions/TransactionTable';
import { useAppSelector } from '../hooks/redux';
import { useAccounts } from '../hooks/useAccounts';
import { useAsync } from '../hooks/useAsync';
import { accountService } from '../services/accountService';
import { transactionService } from '../services/transactionService';
import { daysAgo, isoDate } from '../utils/format';

export default function DashboardPage() {
  const user = useAppSelector((s) => s.auth.user);
  const { accounts, loading, error, reload } = useAccounts();
  const active = accounts.filter((a) => a.status !== 'CLOSED');
  const ids = active.map((a) => a.id).join(',');
  const primary = active[0];

  const recent = useAsync(async () => {
    const pages = await Promise.all(active.map((a) => transactionService.forAccount(a.id, { limit: 10 })));
    const seen = new Set<string>();
    return pages
      .flatMap((p) => p.items)
      .filter((t) => (seen.has(t.id) ? false : (seen.add(t.id), true)))
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
      .slice(0, 8);
  }, [ids]);

  const statement = useAsync(
    () => (primary ? accountService.statement(primary.id, isoDate(daysAgo(30)), isoDate(new Date())) : Promise.resolve(null)),
    [primary?.id, primary?.balance],
  );

  if (!user?.customer_id) {
    return (
      <>
        <PageHeader title="Welcome to BankFlow" />
        <Alert severity="info">
          Let&apos;s set up your profile and verify your identity.{' '}
          <Button component={RouterLink} to="/onboarding" variant="contained" size="small" sx={{ ml: 1 }}>
            Get started
          </Button>
        </Alert>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Dashboard" actions={<Button component={RouterLink} to="/transfers" variant="contained">New transfer</Button>} />
      <ErrorAlert error={error} onRetry={reload} />
      {loading ? <Loading label="Loading accounts" /> : <SummaryCards accounts={accounts} />}
      {!loading && active.length === 0 && (
        <EmptyState title="No accounts yet.">
          <Button component={RouterLink} to="/accounts">
            Open an account
          </Button>
        </EmptyState>
      )}
      <Box display="grid" gridTemplateColumns={{ xs: '1fr', md: '1fr 1fr' }} gap={2} mt={2}>
        {active.map((a) => (
          <AccountCard key={a.id} account={a} />
        ))}
      </Box>
      {primary && (
        <Paper variant="outlined" sx={{ p: 2, mt: 2 }}>
          {statement.loading && <Loading label="Loading chart" />}
          <ErrorAlert error={statement.error} />
          {statement.data && <BalanceChart statement={statement.data} currency={primary.currency} />}
        </Paper>
      )}
      {active.length > 0 && (
        <Paper variant="outlined" sx={{ p: 2, mt: 2 }}>
          <Typography variant="h6" component="h2" gutterBottom>
            Recent activity
          </Typography>
          {recent.loading && <Loading label="Loading activity" />}
          <ErrorAlert error={recent.error} onRetry={recent.reload} />
          {recent.data && recent.data.length === 0 && <EmptyState title="No transactions yet." />}
          {recent.data && recent.data.length > 0 && <TransactionTable items={recent.data} caption="Recent activity" />}
        </Paper>
      )}
    </>
  );
}
