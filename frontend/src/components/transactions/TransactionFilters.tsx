import { Box, Button, MenuItem, TextField } from '@mui/material';
import { useForm } from 'react-hook-form';
import type { TransactionFilters as Filters } from '../../types';
import { isDecimalString } from '../../utils/money';

export const TX_TYPES = ['DEPOSIT', 'WITHDRAWAL', 'TRANSFER', 'PAYMENT', 'REVERSAL', 'FEE'];
export const TX_STATUSES = ['PENDING', 'COMPLETED', 'REVIEW', 'FAILED', 'REVERSED', 'REJECTED'];

type V = Required<Pick<Filters, 'from' | 'to' | 'type' | 'status' | 'min_amount' | 'max_amount' | 'q'>>;

const amountRule = { validate: (v: string) => !v || isDecimalString(v) || 'A number like 10.00' };

export function TransactionFilters({ onApply, showSearch = false }: { onApply: (f: Filters) => void; showSearch?: boolean }) {
  const { register, handleSubmit, reset, watch, formState } = useForm<V>({
    defaultValues: { from: '', to: '', type: '', status: '', min_amount: '', max_amount: '', q: '' },
  });
  const e = formState.errors;
  const apply = (v: V) => {
    const f: Filters = {};
    (Object.keys(v) as (keyof V)[]).forEach((k) => {
      if (v[k]) f[k] = v[k].trim();
    });
    onApply(f);
  };
  return (
    <Box component="form" onSubmit={handleSubmit(apply)} aria-label="Transaction filters" noValidate display="grid" gridTemplateColumns={{ xs: '1fr 1fr', md: 'repeat(4, 1fr)', lg: 'repeat(7, 1fr) auto' }} gap={2} mb={2}>
      {showSearch && <TextField label="Search" size="small" placeholder="Reference, description" {...register('q')} />}
      <TextField label="From date" type="date" size="small" slotProps={{ inputLabel: { shrink: true } }} {...register('from')} />
      <TextField
        label="To date"
        type="date"
        size="small"
        slotProps={{ inputLabel: { shrink: true } }}
        {...register('to', { validate: (v) => !v || !watch('from') || v >= watch('from') || 'Before start date' })}
        error={!!e.to}
        helperText={e.to?.message}
      />
      <TextField select label="Type" size="small" defaultValue="" {...register('type')}>
        <MenuItem value="">Any type</MenuItem>
        {TX_TYPES.map((t) => (
          <MenuItem key={t} value={t}>
            {t}
          </MenuItem>
        ))}
      </TextField>
      <TextField select label="Status" size="small" defaultValue="" {...register('status')}>
        <MenuItem value="">Any status</MenuItem>
        {TX_STATUSES.map((t) => (
          <MenuItem key={t} value={t}>
            {t}
          </MenuItem>
        ))}
      </TextField>
      <TextField label="Min amount" size="small" inputMode="decimal" {...register('min_amount', amountRule)} error={!!e.min_amount} helperText={e.min_amount?.message} />
      <TextField label="Max amount" size="small" inputMode="decimal" {...register('max_amount', amountRule)} error={!!e.max_amount} helperText={e.max_amount?.message} />
      <Box display="flex" gap={1} alignItems="flex-start">
        <Button type="submit" variant="contained">
          Apply
        </Button>
        <Button
          onClick={() => {
            reset();
            onApply({});
          }}
        >
          Clear
        </Button>
      </Box>
    </Box>
  );
}
