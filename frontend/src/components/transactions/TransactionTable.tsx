import { Button, Table, TableBody, TableCell, TableContainer, TableHead, TableRow } from '@mui/material';
import type { ReactNode } from 'react';
import type { Transaction } from '../../types';
import { formatDateTime, humanize } from '../../utils/format';
import { MoneyText } from '../common/MoneyText';
import { StatusChip } from '../common/StatusChip';

/** Signed amount from the point of view of `accountId` (outgoing negative). */
export function signedAmount(t: Transaction, accountId?: string | null): string {
  if (accountId && t.from_account_id === accountId && t.to_account_id !== accountId) {
    return t.amount.startsWith('-') ? t.amount : `-${t.amount}`;
  }
  return t.amount;
}

interface Props {
  items: Transaction[];
  accountId?: string | null;
  onSelect?: (t: Transaction) => void;
  actions?: (t: Transaction) => ReactNode;
  caption?: string;
}

export function TransactionTable({ items, accountId, onSelect, actions, caption = 'Transactions' }: Props) {
  return (
    <TableContainer sx={{ overflowX: 'auto' }}>
      <Table size="small" aria-label={caption}>
        <TableHead>
          <TableRow>
            <TableCell>Date</TableCell>
            <TableCell>Description</TableCell>
            <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>Type</TableCell>
            <TableCell>Status</TableCell>
            <TableCell align="right">Amount</TableCell>
            {(onSelect || actions) && <TableCell align="right">Actions</TableCell>}
          </TableRow>
        </TableHead>
        <TableBody>
          {items.map((t) => (
            <TableRow key={t.id} hover>
              <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatDateTime(t.created_at)}</TableCell>
              <TableCell>{t.description || t.transaction_ref}</TableCell>
              <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>{humanize(t.transaction_type)}</TableCell>
              <TableCell>
                <StatusChip status={t.status} />
              </TableCell>
              <TableCell align="right">
                <MoneyText amount={signedAmount(t, accountId)} currency={t.currency} signed={!!accountId} colored={!!accountId} />
              </TableCell>
              {(onSelect || actions) && (
                <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
                  {onSelect && (
                    <Button size="small" onClick={() => onSelect(t)} aria-label={`Details of ${t.transaction_ref}`}>
                      Details
                    </Button>
                  )}
                  {actions?.(t)}
                </TableCell>
              )}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
