import { Box, Button, Paper, Stack, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { DepositDialog } from '../../components/admin/DepositDialog';
import { MoneyText } from '../../components/common/MoneyText';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../../components/common/States';
import { StatusChip } from '../../components/common/StatusChip';
import { useAppDispatch } from '../../hooks/redux';
import { useAsync } from '../../hooks/useAsync';
import { accountService } from '../../services/accountService';
import { customerService } from '../../services/customerService';
import { showToast } from '../../store/notificationSlice';
import type { Account, Customer } from '../../types';
import { errorMessage } from '../../utils/errors';
import { formatMoney } from '../../utils/money';

function CustomerAccounts({ customer }: { customer: Customer }) {
  const dispatch = useAppDispatch();
  const accounts = useAsync(() => accountService.listForUser(customer.user_id), [customer.user_id]);
  const [depositTo, setDepositTo] = useState<Account | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = `${customer.first_name} ${customer.last_name}`;

  const act = async (label: string, fn: () => Promise<Account>) => {
    setError(null);
    try {
      const updated = await fn();
      accounts.setData((accounts.data ?? []).map((a) => (a.id === updated.id ? updated : a)));
      dispatch(showToast(`${label}: ${updated.account_number} is now ${updated.status}`));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <Paper variant="outlined" sx={{ p: 2, mt: 2 }} component="section" aria-label={`Accounts of ${name}`}>
      <Typography variant="h6" component="h2" gutterBottom>
        Accounts of {name} <StatusChip status={customer.kyc_status} />
      </Typography>
      {accounts.loading && <Loading />}
      <ErrorAlert error={accounts.error ?? error} onRetry={accounts.reload} />
      {accounts.data && accounts.data.length === 0 && <EmptyState title="This customer has no accounts." />}
      {accounts.data && accounts.data.length > 0 && (
        <TableContainer>
          <Table size="small" aria-label={`Accounts table of ${name}`}>
            <TableHead>
              <TableRow>
                <TableCell>Number</TableCell>
                <TableCell>Type</TableCell>
                <TableCell>Status</TableCell>
                <TableCell align="right">Balance</TableCell>
                <TableCell align="right">Actions</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {accounts.data.map((a) => (
                <TableRow key={a.id}>
                  <TableCell sx={{ fontFamily: 'monospace' }}>{a.account_number}</TableCell>
                  <TableCell>{a.account_type}</TableCell>
                  <TableCell>
                    <StatusChip status={a.status} />
                  </TableCell>
                  <TableCell align="right">
                    <MoneyText amount={a.balance} currency={a.currency} />
                  </TableCell>
                  <TableCell align="right">
                    <Stack direction="row" spacing={1} justifyContent="flex-end" flexWrap="wrap">
                      <Button size="small" onClick={() => setDepositTo(a)} disabled={a.status === 'CLOSED'} aria-label={`Deposit to ${a.account_type} ${a.account_number}`}>
                        Deposit
                      </Button>
                      {a.status === 'ACTIVE' && (
                        <Button size="small" color="warning" onClick={() => act('Frozen', () => accountService.freeze(a.id))} aria-label={`Freeze ${a.account_type} ${a.account_number}`}>
                          Freeze
                        </Button>
                      )}
                      {a.status === 'FROZEN' && (
                        <Button size="small" onClick={() => act('Unfrozen', () => accountService.unfreeze(a.id))} aria-label={`Unfreeze ${a.account_type} ${a.account_number}`}>
                          Unfreeze
                        </Button>
                      )}
                      {a.status !== 'CLOSED' && (
                        <Button
                          size="small"
                          color="error"
                          onClick={() => window.confirm(`Close account ${a.account_number}?`) && act('Closed', () => accountService.close(a.id))}
                          aria-label={`Close ${a.account_type} ${a.account_number}`}
                        >
                          Close
                        </Button>
                      )}
                    </Stack>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}
      <DepositDialog
        account={depositTo}
        onClose={() => setDepositTo(null)}
        onDone={(tx) => {
          setDepositTo(null);
          dispatch(showToast(`Deposited ${formatMoney(tx.amount, tx.currency)}`));
          accounts.reload();
        }}
      />
    </Paper>
  );
}

export default function AdminCustomersPage() {
  const [q, setQ] = useState('');
  const [query, setQuery] = useState<string | null>(null);
  const [selected, setSelected] = useState<Customer | null>(null);
  const results = useAsync(() => (query === null ? Promise.resolve(null) : customerService.search({ q: query, limit: 50 })), [query]);

  return (
    <>
      <PageHeader title="Customers" />
      <Box
        component="form"
        role="search"
        aria-label="Customer search"
        onSubmit={(e) => {
          e.preventDefault();
          setSelected(null);
          setQuery(q.trim());
        }}
        display="flex"
        gap={2}
        mb={2}
      >
        <TextField label="Search customers" placeholder="Name, email or account number" value={q} onChange={(e) => setQ(e.target.value)} size="small" sx={{ flexGrow: 1, maxWidth: 480 }} />
        <Button type="submit" variant="contained">
          Search
        </Button>
      </Box>
      {results.loading && query !== null && <Loading label="Searching" />}
      <ErrorAlert error={results.error} onRetry={results.reload} />
      {results.data && results.data.items.length === 0 && <EmptyState title="No customers found." />}
      {results.data && results.data.items.length > 0 && (
        <TableContainer component={Paper} variant="outlined">
          <Table size="small" aria-label="Customer results">
            <TableHead>
              <TableRow>
                <TableCell>Name</TableCell>
                <TableCell>Email</TableCell>
                <TableCell>KYC</TableCell>
                <TableCell align="right">Actions</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {results.data.items.map((c) => (
                <TableRow key={c.id} selected={selected?.id === c.id}>
                  <TableCell>
                    {c.first_name} {c.last_name}
                  </TableCell>
                  <TableCell>{c.email ?? '—'}</TableCell>
                  <TableCell>
                    <StatusChip status={c.kyc_status} />
                  </TableCell>
                  <TableCell align="right">
                    <Button size="small" onClick={() => setSelected(c)} aria-label={`Manage ${c.first_name} ${c.last_name}`}>
                      Manage
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}
      {selected && <CustomerAccounts key={selected.id} customer={selected} />}
    </>
  );
}
