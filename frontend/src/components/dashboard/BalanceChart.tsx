import { Box, Typography } from '@mui/material';
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Statement } from '../../types';
import { toChartNumber } from '../../utils/money';

/** One point per day: the last balance_after of that day (chart numbers only; money stays strings elsewhere). */
export function balanceSeries(st: Statement): { date: string; balance: number }[] {
  const byDay = new Map<string, string>();
  byDay.set(st.from, st.opening_balance);
  for (const e of [...st.entries].sort((a, b) => a.posted_at.localeCompare(b.posted_at))) {
    byDay.set(e.posted_at.slice(0, 10), e.balance_after);
  }
  return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, bal]) => ({ date, balance: toChartNumber(bal) }));
}

export function BalanceChart({ statement, currency }: { statement: Statement; currency: string }) {
  const data = balanceSeries(statement);
  return (
    <Box>
      <Typography variant="h6" component="h2" gutterBottom>
        Balance, last 30 days
      </Typography>
      <Box height={240} role="img" aria-label={`Balance chart from ${statement.from} to ${statement.to}, closing balance ${statement.closing_balance} ${currency}`}>
        <ResponsiveContainer width="100%" height="100%">
          <AreaChart data={data} margin={{ left: 8, right: 8, top: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="date" tick={{ fontSize: 12 }} />
            <YAxis tick={{ fontSize: 12 }} width={70} />
            <Tooltip formatter={(v) => [`${v} ${currency}`, 'Balance']} />
            <Area type="stepAfter" dataKey="balance" stroke="#0d47a1" fill="#90caf9" />
          </AreaChart>
        </ResponsiveContainer>
      </Box>
    </Box>
  );
}
