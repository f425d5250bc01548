import { Box, Card, CardContent, Typography } from '@mui/material';
import type { Account } from '../../types';
import { formatMoney, totalsByCurrency } from '../../utils/money';

export function SummaryCards({ accounts }: { accounts: Account[] }) {
  const open = accounts.filter((a) => a.status !== 'CLOSED');
  const totals = totalsByCurrency(open.map((a) => ({ amount: a.balance, currency: a.currency })));
  const available = totalsByCurrency(open.map((a) => ({ amount: a.available_balance, currency: a.currency })));
  return (
    <Box display="grid" gridTemplateColumns={{ xs: '1fr', sm: 'repeat(3, 1fr)' }} gap={2}>
      <Card variant="outlined">
        <CardContent>
          <Typography color="text.secondary">Total balance</Typography>
          {Object.entries(totals).map(([c, v]) => (
            <Typography key={c} variant="h5" component="p">
              {formatMoney(v, c)}
            </Typography>
          ))}
          {open.length === 0 && <Typography variant="h5">—</Typography>}
        </CardContent>
      </Card>
      <Card variant="outlined">
        <CardContent>
          <Typography color="text.secondary">Available</Typography>
          {Object.entries(available).map(([c, v]) => (
            <Typography key={c} variant="h5" component="p">
              {formatMoney(v, c)}
            </Typography>
          ))}
          {open.length === 0 && <Typography variant="h5">—</Typography>}
        </CardContent>
      </Card>
      <Card variant="outlined">
        <CardContent>
          <Typography color="text.secondary">Accounts</Typography>
          <Typography variant="h5" component="p">
            {open.length}
          </Typography>
        </CardContent>
      </Card>
    </Box>
  );
}
