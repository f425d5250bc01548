import { MenuItem, TextField, type TextFieldProps } from '@mui/material';
import { forwardRef } from 'react';
import type { Account } from '../../types';
import { formatMoney } from '../../utils/money';
import { maskAccountNumber } from '../../utils/format';

export function accountLabel(a: Account): string {
  const status = a.status !== 'ACTIVE' ? ` (${a.status})` : '';
  return `${a.account_type === 'CHECKING' ? 'Checking' : 'Savings'} ${maskAccountNumber(a.account_number)} · ${formatMoney(a.available_balance, a.currency)}${status}`;
}

type Props = Omit<TextFieldProps, 'select' | 'children'> & { accounts: Account[] };

export const AccountSelect = forwardRef<HTMLDivElement, Props>(function AccountSelect({ accounts, ...rest }, ref) {
  return (
    <TextField select fullWidth ref={ref} {...rest}>
      {accounts.length === 0 && (
        <MenuItem value="" disabled>
          No accounts
        </MenuItem>
      )}
      {accounts.map((a) => (
        <MenuItem key={a.id} value={a.id}>
          {accountLabel(a)}
        </MenuItem>
      ))}
    </TextField>
  );
});
