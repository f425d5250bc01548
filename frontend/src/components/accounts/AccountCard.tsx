import Visibility from '@mui/icons-material/Visibility';
import VisibilityOff from '@mui/icons-material/VisibilityOff';
import { Box, Card, CardActions, CardContent, IconButton, Typography } from '@mui/material';
import { useState, type ReactNode } from 'react';
import type { Account } from '../../types';
import { maskAccountNumber } from '../../utils/format';
import { MoneyText } from '../common/MoneyText';
import { StatusChip } from '../common/StatusChip';

export function AccountCard({ account, actions }: { account: Account; actions?: ReactNode }) {
  const [revealed, setRevealed] = useState(false);
  const name = account.account_type === 'CHECKING' ? 'Checking' : 'Savings';
  return (
    <Card component="article" aria-label={`${name} account ${maskAccountNumber(account.account_number)}`} variant="outlined">
      <CardContent>
        <Box display="flex" justifyContent="space-between" alignItems="center">
          <Typography variant="h6" component="h2">
            {name}
          </Typography>
          <StatusChip status={account.status} />
        </Box>
        <Box display="flex" alignItems="center" gap={0.5}>
          <Typography variant="body2" color="text.secondary" data-testid="account-number" sx={{ fontFamily: 'monospace' }}>
            {revealed ? account.account_number : maskAccountNumber(account.account_number)}
          </Typography>
          <IconButton size="small" aria-label={revealed ? 'Hide account number' : 'Show account number'} aria-pressed={revealed} onClick={() => setRevealed((r) => !r)}>
            {revealed ? <VisibilityOff fontSize="small" /> : <Visibility fontSize="small" />}
          </IconButton>
        </Box>
        <Typography variant="h5" component="p" mt={1} aria-label="Balance">
          <MoneyText amount={account.balance} currency={account.currency} />
        </Typography>
        <Typography variant="body2" color="text.secondary">
          Available: <MoneyText amount={account.available_balance} currency={account.currency} />
        </Typography>
      </CardContent>
      {actions && <CardActions sx={{ flexWrap: 'wrap' }}>{actions}</CardActions>}
    </Card>
  );
}
