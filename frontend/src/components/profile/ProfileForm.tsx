import { Box, Button, Stack, TextField } from '@mui/material';
import { useForm } from 'react-hook-form';
import type { CustomerInput } from '../../types';

export const EMPTY_PROFILE: CustomerInput = {
  first_name: '',
  last_name: '',
  date_of_birth: '',
  ssn: '',
  address_line1: '',
  address_line2: '',
  city: '',
  state: '',
  zip_code: '',
  country: 'US',
};

/** Age in whole years on `today` for a YYYY-MM-DD birth date. */
export function ageOn(dob: string, today = new Date()): number {
  const [y, m, d] = dob.split('-').map(Number);
  let age = today.getFullYear() - y;
  const mm = today.getMonth() + 1;
  if (mm < m || (mm === m && today.getDate() < d)) age -= 1;
  return age;
}

/** Client-side checks mirror the server's validation so most errors show before the round trip. */
export const profileRules = {
  name: { required: 'Required', maxLength: { value: 100, message: 'At most 100 characters' } },
  date_of_birth: {
    required: 'Required',
    validate: (v: string) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(new Date(v).getTime())) return 'Use YYYY-MM-DD';
      const age = ageOn(v);
      if (age < 18) return 'You must be at least 18';
      if (age > 130) return 'Check the year';
      return true;
    },
  },
  ssn: { pattern: { value: /^(\d{3}-?\d{2}-?\d{4})?$/, message: 'Nine digits, e.g. 123-45-6789' } },
  address_line1: { required: 'Required', maxLength: { value: 255, message: 'Too long' } },
  city: { required: 'Required', maxLength: { value: 100, message: 'Too long' } },
  state: { required: 'Required', maxLength: { value: 50, message: 'Too long' } },
  zip_code: { required: 'Required', pattern: { value: /^[A-Za-z0-9 -]{3,20}$/, message: '3–20 letters or digits' } },
  country: { required: 'Required', maxLength: { value: 100, message: 'Too long' } },
};

interface Props {
  initial?: Partial<CustomerInput>;
  onSubmit: (v: CustomerInput) => Promise<void> | void;
  submitLabel: string;
  /** The SSN is set once at creation; edits do not send it. */
  showSsn?: boolean;
}

export function ProfileForm({ initial, onSubmit, submitLabel, showSsn = true }: Props) {
  const {
    register,
    handleSubmit,
    formState: { errors, isSubmitting },
  } = useForm<CustomerInput>({ defaultValues: { ...EMPTY_PROFILE, ...initial } });

  const submit = (v: CustomerInput) => {
    // only the profile's own fields (defaults may carry server fields such as id or kyc_status)
    const clean = Object.fromEntries(
      (Object.keys(EMPTY_PROFILE) as (keyof CustomerInput)[]).map((k) => [k, (v[k] ?? '').trim()]),
    ) as unknown as CustomerInput;
    if (!clean.ssn) delete clean.ssn;
    else clean.ssn = clean.ssn.replace(/-/g, '');
    if (!clean.address_line2) delete clean.address_line2;
    return onSubmit(clean);
  };

  return (
    <form onSubmit={handleSubmit(submit)} noValidate aria-label="Customer profile">
      <Box display="grid" gridTemplateColumns={{ xs: '1fr', sm: '1fr 1fr' }} gap={2}>
        <TextField label="First name" autoComplete="given-name" {...register('first_name', profileRules.name)} error={!!errors.first_name} helperText={errors.first_name?.message} />
        <TextField label="Last name" autoComplete="family-name" {...register('last_name', profileRules.name)} error={!!errors.last_name} helperText={errors.last_name?.message} />
        <TextField
          label="Date of birth"
          type="date"
          slotProps={{ inputLabel: { shrink: true } }}
          {...register('date_of_birth', profileRules.date_of_birth)}
          error={!!errors.date_of_birth}
          helperText={errors.date_of_birth?.message}
        />
        {showSsn && (
          <TextField label="SSN (optional)" autoComplete="off" {...register('ssn', profileRules.ssn)} error={!!errors.ssn} helperText={errors.ssn?.message ?? 'Stored encrypted; only the last 4 digits are shown'} />
        )}
        <TextField label="Address line 1" autoComplete="address-line1" sx={{ gridColumn: { sm: '1 / -1' } }} {...register('address_line1', profileRules.address_line1)} error={!!errors.address_line1} helperText={errors.address_line1?.message} />
        <TextField label="Address line 2 (optional)" autoComplete="address-line2" sx={{ gridColumn: { sm: '1 / -1' } }} {...register('address_line2')} />
        <TextField label="City" autoComplete="address-level2" {...register('city', profileRules.city)} error={!!errors.city} helperText={errors.city?.message} />
        <TextField label="State" autoComplete="address-level1" {...register('state', profileRules.state)} error={!!errors.state} helperText={errors.state?.message} />
        <TextField label="ZIP code" autoComplete="postal-code" {...register('zip_code', profileRules.zip_code)} error={!!errors.zip_code} helperText={errors.zip_code?.message} />
        <TextField label="Country" autoComplete="country" {...register('country', profileRules.country)} error={!!errors.country} helperText={errors.country?.message} />
      </Box>
      <Stack direction="row" mt={3}>
        <Button type="submit" variant="contained" disabled={isSubmitting}>
          {isSubmitting ? 'Saving…' : submitLabel}
        </Button>
      </Stack>
    </form>
  );
}
