import { Alert, Box, Button, FormControlLabel, Paper, Radio, RadioGroup, Stack, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { useIdempotentSubmit } from '../../hooks/useIdempotentSubmit';
import { transactionService } from '../../services/transactionService';
import type { Account, Transaction, TransferRequest } from '../../types';
import { errorCode, errorMessage } from '../../utils/errors';
import { maskAccountNumber } from '../../utils/format';
import { compareAmounts, formatMoney, normalizeAmount, validateAmountInput } from '../../utils/money';
import { AccountSelect, accountLabel } from '../common/AccountSelect';

export interface TransferValues {
  from_account_id: string;
  destination: 'own' | 'other';
  to_account_id: string;
  to_account_number: string;
  amount: string;
  description: string;
}

interface Props {
  accounts: Account[];
  defaultFrom?: string;
  onCompleted?: (tx: Transaction) => void;
}

/** Transfer with a review step; the confirmation carries one idempotency key per submission. */
export function TransferForm({ accounts, defaultFrom, onCompleted }: Props) {
  const usable = accounts.filter((a) => a.status !== 'CLOSED');
  const [review, setReview] = useState<TransferRequest | null>(null);
  const [result, setResult] = useState<Transaction | null>(null);
  const [error, setError] = useState<{ message: string; code?: string } | null>(null);
  const { submit, submitting, reset } = useIdempotentSubmit((key: string, body: TransferRequest) => transactionService.transfer(body, key));

  const {
    control,
    register,
    handleSubmit,
    watch,
    reset: resetForm,
    formState: { errors },
  } = useForm<TransferValues>({
    defaultValues: {
      from_account_id: defaultFrom && usable.some((a) => a.id === defaultFrom) ? defaultFrom : (usable[0]?.id ?? ''),
      destination: 'own',
      to_account_id: '',
      to_account_number: '',
      amount: '',
      description: '',
    },
  });
  const fromId = watch('from_account_id');
  const destination = watch('destination');
  const from = usable.find((a) => a.id === fromId);
  const currency = from?.currency ?? 'USD';

  const toReview = (v: TransferValues) => {
    setError(null);
    setResult(null);
    const body: TransferRequest = {
      from_account_id: v.from_account_id,
      amount: normalizeAmount(v.amount, currency),
      currency,
      description: v.description.trim() || undefined,
    };
    if (v.destination === 'own') body.to_account_id = v.to_account_id;
    else body.to_account_number = v.to_account_number.replace(/\s/g, '');
    reset(); // a new logical submission → a new idempotency key
    setReview(body);
  };

  const confirm = async () => {
    if (!review) return;
    setError(null);
    try {
      const tx = await submit(review);
      if (!tx) return; // a second click while the first is in flight
      setResult(tx);
      setReview(null);
      reset();
      resetForm({ from_account_id: review.from_account_id, destination: 'own', to_account_id: '', to_account_number: '', amount: '', description: '' });
      onCompleted?.(tx);
    } catch (e) {
      // keep the same key: retrying this very submission is safe and can never execute twice
      setError({ message: errorMessage(e), code: errorCode(e) });
    }
  };

  const toAccount = review?.to_account_id ? usable.find((a) => a.id === review.to_account_id) : undefined;
  const overAvailable = review && from ? compareAmounts(review.amount, from.available_balance) > 0 : false;

  if (review) {
    return (
      <Paper variant="outlined" sx={{ p: 3 }} component="section" aria-labelledby="review-title">
        <Typography id="review-title" variant="h6" component="h2" gutterBottom>
          Review transfer
        </Typography>
        <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 2, rowGap: 1, m: 0 }}>
          <dt>From</dt>
          <dd style={{ margin: 0 }}>{from ? accountLabel(from) : review.from_account_id}</dd>
          <dt>To</dt>
          <dd style={{ margin: 0 }}>{toAccount ? accountLabel(toAccount) : `Account ${review.to_account_number}`}</dd>
          <dt>Amount</dt>
          <dd style={{ margin: 0 }}>
            <strong>{formatMoney(review.amount, review.currency)}</strong>
          </dd>
          {review.description && (
            <>
              <dt>Description</dt>
              <dd style={{ margin: 0 }}>{review.description}</dd>
            </>
          )}
        </Box>
        {overAvailable && (
          <Alert severity="warning" sx={{ mt: 2 }}>
            The amount is more than the available balance ({formatMoney(from!.available_balance, from!.currency)}).
          </Alert>
        )}
        {error && (
          <Alert severity="error" role="alert" sx={{ mt: 2 }} data-code={error.code}>
            {error.message}
          </Alert>
        )}
        <Stack direction="row" spacing={2} mt={3}>
          <Button
            onClick={() => {
              setReview(null);
              setError(null);
              reset();
            }}
            disabled={submitting}
          >
            Back
          </Button>
          <Button variant="contained" onClick={confirm} disabled={submitting}>
            {submitting ? 'Sending…' : 'Confirm transfer'}
          </Button>
        </Stack>
      </Paper>
    );
  }

  return (
    <Paper variant="outlined" sx={{ p: 3 }} component="section" aria-label="New transfer">
      {result && (
        <Alert severity={result.status === 'REVIEW' ? 'info' : 'success'} role="status" sx={{ mb: 2 }}>
          {result.status === 'REVIEW'
            ? `Transfer of ${formatMoney(result.amount, result.currency)} is held for a fraud review. You will be notified of the decision.`
            : `Transfer completed: ${formatMoney(result.amount, result.currency)} (ref ${result.transaction_ref}).`}
        </Alert>
      )}
      <form onSubmit={handleSubmit(toReview)} noValidate aria-label="Transfer form">
        <Stack spacing={2}>
          <Controller
            name="from_account_id"
            control={control}
            rules={{ required: 'Choose the account to send from' }}
            render={({ field }) => (
              <AccountSelect accounts={usable} label="From account" {...field} error={!!errors.from_account_id} helperText={errors.from_account_id?.message} />
            )}
          />
          <Controller
            name="destination"
            control={control}
            render={({ field }) => (
              <RadioGroup row aria-label="Destination" {...field}>
                <FormControlLabel value="own" control={<Radio />} label="One of my accounts" />
                <FormControlLabel value="other" control={<Radio />} label="Another customer's account" />
              </RadioGroup>
            )}
          />
          {destination === 'own' ? (
            <Controller
              name="to_account_id"
              control={control}
              rules={{
                validate: (v) => (destination !== 'own' ? true : !v ? 'Choose the destination account' : v === fromId ? 'Choose a different account' : true),
              }}
              render={({ field }) => (
                <AccountSelect
                  accounts={usable.filter((a) => a.id !== fromId)}
                  label="To account"
                  {...field}
                  error={!!errors.to_account_id}
                  helperText={errors.to_account_id?.message}
                />
              )}
            />
          ) : (
            <TextField
              label="Recipient account number"
              inputMode="numeric"
              {...register('to_account_number', {
                validate: (v) => (destination !== 'other' ? true : /^\d{6,20}$/.test(v.replace(/\s/g, '')) || 'Enter the 6–20 digit account number'),
              })}
              error={!!errors.to_account_number}
              helperText={errors.to_account_number?.message}
            />
          )}
          <TextField
            label={`Amount (${currency})`}
            inputMode="decimal"
            {...register('amount', { validate: (v) => validateAmountInput(v, currency) ?? true })}
            error={!!errors.amount}
            helperText={errors.amount?.message ?? (from ? `Available ${formatMoney(from.available_balance, from.currency)}` : undefined)}
          />
          <TextField label="Description (optional)" {...register('description', { maxLength: { value: 140, message: 'At most 140 characters' } })} error={!!errors.description} helperText={errors.description?.message} />
          <Box>
            <Button type="submit" variant="contained" disabled={usable.length === 0}>
              Review transfer
            </Button>
          </Box>
          {from && (
            <Typography variant="caption" color="text.secondary">
              Sending from {maskAccountNumber(from.account_number)}.
            </Typography>
          )}
        </Stack>
      </form>
    </Paper>
  );
}
