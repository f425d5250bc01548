import { Alert, Button } from '@mui/material';
import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import { ErrorAlert, Loading, PageHeader } from '../components/common/States';
import { TransferForm } from '../components/transactions/TransferForm';
import { useAppDispatch } from '../hooks/redux';
import { useAccounts } from '../hooks/useAccounts';
import { showToast } from '../store/notificationSlice';
import { formatMoney } from '../utils/money';

export default function TransfersPage() {
  const { accounts, loading, error, reload } = useAccounts();
  const [params] = useSearchParams();
  const dispatch = useAppDispatch();
  return (
    <>
      <PageHeader title="Transfers" actions={<Button component={RouterLink} to="/scheduled">Scheduled transfers</Button>} />
      <ErrorAlert error={error} onRetry={reload} />
      {loading ? (
        <Loading label="Loading accounts" />
      ) : accounts.length === 0 ? (
        <Alert severity="info">
          Open an account first.{' '}
          <Button component={RouterLink} to="/accounts" size="small">
            Accounts
          </Button>
        </Alert>
      ) : (
        <TransferForm
          key={accounts.map((a) => a.id).join()}
          accounts={accounts}
          defaultFrom={params.get('from') ?? undefined}
          onCompleted={(tx) => {
            reload();
            if (tx.status === 'COMPLETED') dispatch(showToast(`Transfer of ${formatMoney(tx.amount, tx.currency)} completed`));
          }}
        />
      )}
    </>
  );
}
