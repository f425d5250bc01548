import { Alert, Box, Button, Card, CardContent, Paper, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, Typography } from '@mui/material';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../../components/common/States';
import { useAsync } from '../../hooks/useAsync';
import { adminService } from '../../services/adminService';
import type { AuditEntry } from '../../types';
import { errorMessage } from '../../utils/errors';
import { formatDateTime } from '../../utils/format';
import { formatMoney, toChartNumber } from '../../utils/money';

const PIE_COLORS = ['#2e7d32', '#ed6c02', '#d32f2f', '#0288d1', '#757575', '#6a1b9a'];

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <Card variant="outlined">
      <CardContent>
        <Typography color="text.secondary">{label}</Typography>
        <Typography variant="h5" component="p">
          {value}
        </Typography>
      </CardContent>
    </Card>
  );
}

export default function AdminOverviewPage() {
  const ov = useAsync(() => adminService.overview(), []);
  const verify = useAsync(() => adminService.verifyAudit(), []);
  const audit = useAsync(() => adminService.audit(), []);
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [moreError, setMoreError] = useState<string | null>(null);
  const next = cursor === undefined ? audit.data?.next_cursor : cursor;
  const entries = [...(audit.data?.items ?? []), ...more];

  const loadMore = async () => {
    if (!next) return;
    try {
      const page = await adminService.audit(next);
      setMore((m) => [...m, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setMoreError(errorMessage(e));
    }
  };

  const o = ov.data;
  // Chart one currency: the one holding the most accounts.
  const chartCurrency = o && o.totals.length > 0 ? [...o.totals].sort((x, y) => y.accounts - x.accounts)[0].currency : 'USD';
  return (
    <>
      <PageHeader title="Bank overview" actions={<Button onClick={() => { ov.reload(); verify.reload(); }}>Refresh</Button>} />
      {ov.loading && <Loading />}
      <ErrorAlert error={ov.error} onRetry={ov.reload} />
      {o && (
        <>
          {o.truncated && (
            <Alert severity="info" sx={{ mb: 2 }}>
              The bank is larger than the overview scans: figures cover the most recent {o.transactions_scanned} transactions and the first accounts and queues only.
            </Alert>
          )}
          <Box display="grid" gridTemplateColumns={{ xs: '1fr 1fr', md: 'repeat(3, 1fr)', lg: 'repeat(5, 1fr)' }} gap={2}>
            <Stat label="Accounts" value={o.accounts_total} />
            <Stat label="Frozen accounts" value={o.accounts_frozen} />
            <Stat label="Pending KYC" value={o.pending_kyc} />
            <Stat label="Open fraud cases" value={o.open_fraud_cases} />
            <Stat label="Total deposits" value={o.totals.length === 0 ? formatMoney('0', chartCurrency) : o.totals.map((t) => formatMoney(t.balance, t.currency)).join(' · ')} />
          </Box>
          <Box display="grid" gridTemplateColumns={{ xs: '1fr', md: '2fr 1fr' }} gap={2} mt={2}>
            <Paper variant="outlined" sx={{ p: 2 }}>
              <Typography variant="h6" component="h2">
                Volume per day
              </Typography>
              <Box height={260} role="img" aria-label="Bar chart of transaction volume per day">
                <ResponsiveContainer>
                  <BarChart data={o.volume_by_day.filter((d) => d.currency === chartCurrency).map((d) => ({ date: d.date, amount: toChartNumber(d.amount), count: d.count }))}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="date" tick={{ fontSize: 12 }} />
                    <YAxis tick={{ fontSize: 12 }} width={70} />
                    <Tooltip />
                    <Legend />
                    <Bar dataKey="amount" name={`Amount (${chartCurrency})`} fill="#1565c0" />
                    <Bar dataKey="count" name="Transactions" fill="#90caf9" />
                  </BarChart>
                </ResponsiveContainer>
              </Box>
            </Paper>
            <Paper variant="outlined" sx={{ p: 2 }}>
              <Typography variant="h6" component="h2">
                Transactions by status
              </Typography>
              <Box height={260} role="img" aria-label={`Transactions by status: ${o.transactions_by_status.map((s) => `${s.status} ${s.count}`).join(', ')}`}>
                <ResponsiveContainer>
                  <PieChart>
                    <Pie data={o.transactions_by_status} dataKey="count" nameKey="status" outerRadius={80} label>
                      {o.transactions_by_status.map((s, i) => (
                        <Cell key={s.status} fill={PIE_COLORS[i % PIE_COLORS.length]} />
                      ))}
                    </Pie>
                    <Tooltip />
                    <Legend />
                  </PieChart>
                </ResponsiveContainer>
              </Box>
            </Paper>
          </Box>
        </>
      )}
      <Paper variant="outlined" sx={{ p: 2, mt: 2 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          Audit log
        </Typography>
        {verify.loading && <Loading label="Verifying the audit chain" />}
        <ErrorAlert error={verify.error} onRetry={verify.reload} />
        {verify.data && (
          <Alert severity={verify.data.valid ? 'success' : 'error'} role="status" sx={{ mb: 2 }}>
            {verify.data.valid
              ? `Audit chain verified: ${verify.data.checked} entries intact.`
              : `Audit chain BROKEN at entry #${verify.data.first_invalid_seq} (${verify.data.checked} checked).`}
          </Alert>
        )}
        {audit.loading && <Loading label="Loading audit log" />}
        <ErrorAlert error={audit.error ?? moreError} onRetry={audit.reload} />
        {!audit.loading && entries.length === 0 && <EmptyState title="No audit entries." />}
        {entries.length > 0 && (
          <TableContainer>
            <Table size="small" aria-label="Audit log">
              <TableHead>
                <TableRow>
                  <TableCell>#</TableCell>
                  <TableCell>When</TableCell>
                  <TableCell>Action</TableCell>
                  <TableCell>Entity</TableCell>
                  <TableCell>Actor</TableCell>
                  <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>Hash</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {entries.map((a) => (
                  <TableRow key={a.id}>
                    <TableCell>{a.seq}</TableCell>
                    <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatDateTime(a.occurred_at)}</TableCell>
                    <TableCell>{a.action}</TableCell>
                    <TableCell>
                      {a.entity_type} {a.entity_id?.slice(0, 8)}
                    </TableCell>
                    <TableCell>{a.actor_id?.slice(0, 8) ?? 'system'}</TableCell>
                    <TableCell sx={{ display: { xs: 'none', md: 'table-cell' }, fontFamily: 'monospace' }}>{a.hash.slice(0, 12)}…</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        )}
        {next && (
          <Box textAlign="center" mt={2}>
            <Button onClick={loadMore}>Load more</Button>
          </Box>
        )}
      </Paper>
    </>
  );
}
