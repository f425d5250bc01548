import { Alert, Box, Button, MenuItem, Paper, Stack, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { AccountSelect } from '../components/common/AccountSelect';
import { MoneyText } from '../components/common/MoneyText';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../components/common/States';
import { StatusChip } from '../components/common/StatusChip';
import { useAccounts } from '../hooks/useAccounts';
import { useAsync } from '../hooks/useAsync';
import { useIdempotentSubmit } from '../hooks/useIdempotentSubmit';
import { transactionService } from '../services/transactionService';
import type { Frequency, ScheduledTransferRequest } from '../types';
import { errorMessage } from '../utils/errors';
import { formatDate, isoDate } from '../utils/format';
import { normalizeAmount, validateAmountInput } from '../utils/money';

interface V {
  from_account_id: string;
  to_account_number: string;
  amount: string;
  frequency: Frequency;
  start_date: string;
  end_date: string;
  description: string;
}

/** A start date today means "now" (the server refuses a start in the past); a later date
 * runs at 09:00 local time that day. */
export function startInstant(date: string, now: Date = new Date()): string {
  return date === isoDate(now) ? now.toISOString() : new Date(`${date}T09:00:00`).toISOString();
}

export default function ScheduledPage() {
  const { accounts } = useAccounts();
  const usable = accounts.filter((a) => a.status === 'ACTIVE');
  const list = useAsync(() => transactionService.listScheduled(), []);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const { submit, submitting, reset } = useIdempotentSubmit((key: string, body: ScheduledTransferRequest) => transactionService.createScheduled(body, key));
  const { control, register, handleSubmit, watch, reset: resetForm, formState } = useForm<V>({
    defaultValues: { from_account_id: '', to_account_number: '', amount: '', frequency: 'MONTHLY', start_date: isoDate(new Date(Date.now() + 86_400_000)), end_date: '', description: '' },
  });
  const e = formState.errors;
  const from = usable.find((a) => a.id === watch('from_account_id'));
  const currency = from?.currency ?? 'USD';

  const onSubmit = async (v: V) => {
    setError(null);
    setOk(null);
    const own = accounts.find((a) => a.account_number === v.to_account_number.trim());
    const body: ScheduledTransferRequest = {
      from_account_id: v.from_account_id,
      ...(own ? { to_account_id: own.id } : { to_account_number: v.to_account_number.trim() }),
      amount: normalizeAmount(v.amount, currency),
      currency,
      frequency: v.frequency,
      start_at: startInstant(v.start_date),
      end_at: v.end_date ? new Date(`${v.end_date}T23:59:59`).toISOString() : undefined,
      description: v.description.trim() || undefined,
    };
    try {
      const created = await submit(body);
      if (!created) return;
      reset();
      resetForm();
      setOk('Scheduled transfer created.');
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const cancel = async (id: string) => {
    try {
      await transactionService.cancelScheduled(id);
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <>
      <PageHeader title="Scheduled transfers" />
      <Paper variant="outlined" sx={{ p: 3, mb: 3 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          New recurring transfer
        </Typography>
        <form onSubmit={handleSubmit(onSubmit)} noValidate aria-label="New scheduled transfer" onChange={() => reset()}>
          <Box display="grid" gridTemplateColumns={{ xs: '1fr', md: '1fr 1fr' }} gap={2}>
            <Controller name="from_account_id" control={control} rules={{ required: 'Choose an account' }} render={({ field }) => <AccountSelect accounts={usable} label="From account" {...field} error={!!e.from_account_id} helperText={e.from_account_id?.message} />} />
            <TextField label="To account number" {...register('to_account_number', { required: 'Required', pattern: { value: /^\d{6,20}$/, message: '6–20 digits' } })} error={!!e.to_account_number} helperText={e.to_account_number?.message} />
            <TextField label={`Amount (${currency})`} inputMode="decimal" {...register('amount', { validate: (v) => validateAmountInput(v, currency) ?? true })} error={!!e.amount} helperText={e.amount?.message} />
            <Controller
              name="frequency"
              control={control}
              render={({ field }) => (
                <TextField select label="Frequency" {...field}>
                  <MenuItem value="ONCE">Once</MenuItem>
                  <MenuItem value="DAILY">Daily</MenuItem>
                  <MenuItem value="WEEKLY">Weekly</MenuItem>
                  <MenuItem value="MONTHLY">Monthly</MenuItem>
                </TextField>
              )}
            />
            <TextField label="Start date" type="date" slotProps={{ inputLabel: { shrink: true } }} {...register('start_date', { required: 'Required', validate: (v) => v >= isoDate(new Date()) || 'Must be today or later' })} error={!!e.start_date} helperText={e.start_date?.message} />
            <TextField label="End date (optional)" type="date" slotProps={{ inputLabel: { shrink: true } }} {...register('end_date', { validate: (v) => !v || v >= watch('start_date') || 'After the start date' })} error={!!e.end_date} helperText={e.end_date?.message} />
            <TextField label="Description (optional)" sx={{ gridColumn: { md: '1 / -1' } }} {...register('description')} />
          </Box>
          <Stack direction="row" mt={2}>
            <Button type="submit" variant="contained" disabled={submitting || usable.length === 0}>
              Schedule transfer
            </Button>
          </Stack>
        </form>
        <ErrorAlert error={error} />
        {ok && (
          <Alert severity="success" role="status" sx={{ mt: 2 }}>
            {ok}
          </Alert>
        )}
      </Paper>
      <Paper variant="outlined" sx={{ p: 2 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          Your scheduled transfers
        </Typography>
        {list.loading && <Loading />}
        <ErrorAlert error={list.error} onRetry={list.reload} />
        {list.data && list.data.length === 0 && <EmptyState title="No scheduled transfers." />}
        {list.data && list.data.length > 0 && (
          <TableContainer>
            <Table size="small" aria-label="Scheduled transfers">
              <TableHead>
                <TableRow>
                  <TableCell>To</TableCell>
                  <TableCell>Frequency</TableCell>
                  <TableCell>Next run</TableCell>
                  <TableCell>Status</TableCell>
                  <TableCell align="right">Amount</TableCell>
                  <TableCell align="right">Actions</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {list.data.map((s) => (
                  <TableRow key={s.id}>
                    <TableCell>{accounts.find((a) => a.id === s.to_account_id)?.account_number ?? s.to_account_id}</TableCell>
                    <TableCell>{s.frequency}</TableCell>
                    <TableCell>{formatDate(s.next_run_at)}</TableCell>
                    <TableCell>
                      <StatusChip status={s.status} />
                      {s.last_error && (
                        <Typography variant="caption" color="error" display="block">
                          Last run refused: {s.last_error}
                        </Typography>
                      )}
                    </TableCell>
                    <TableCell align="right">
                      <MoneyText amount={s.amount} currency={s.currency} />
                    </TableCell>
                    <TableCell align="right">
                      {s.status === 'ACTIVE' && (
                        <Button size="small" color="error" onClick={() => cancel(s.id)}>
                          Cancel
                        </Button>
                      )}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        )}
      </Paper>
    </>
  );
}
