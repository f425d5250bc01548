import { Alert, Button, Stack, TextField } from '@mui/material';
import { useForm } from 'react-hook-form';

export interface RegisterValues {
  email: string;
  phone: string;
  password: string;
  confirm: string;
}

/** Mirrors the server's password policy: at least 12 characters with a letter and a digit. */
export function passwordProblem(p: string): string | true {
  if (p.length < 12) return 'At least 12 characters';
  if (!/[A-Za-z]/.test(p) || !/\d/.test(p)) return 'Use letters and at least one digit';
  return true;
}

export function RegisterForm({ onSubmit, error, loading }: { onSubmit: (v: RegisterValues) => void | Promise<void>; error: string | null; loading: boolean }) {
  const {
    register,
    handleSubmit,
    watch,
    formState: { errors },
  } = useForm<RegisterValues>({ defaultValues: { email: '', phone: '', password: '', confirm: '' } });
  const pw = watch('password');
  return (
    <form onSubmit={handleSubmit(onSubmit)} noValidate aria-label="Create account">
      <Stack spacing={2}>
        {error && (
          <Alert severity="error" role="alert">
            {error}
          </Alert>
        )}
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          {...register('email', { required: 'Email is required', pattern: { value: /^\S+@\S+\.\S+$/, message: 'Enter a valid email' } })}
          error={!!errors.email}
          helperText={errors.email?.message}
        />
        <TextField
          label="Phone (optional)"
          type="tel"
          autoComplete="tel"
          {...register('phone', { pattern: { value: /^\+?[0-9 ()-]{7,20}$/, message: 'Enter a valid phone number' } })}
          error={!!errors.phone}
          helperText={errors.phone?.message}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          {...register('password', { required: 'Password is required', validate: passwordProblem })}
          error={!!errors.password}
          helperText={errors.password?.message ?? 'At least 12 characters, letters and digits'}
        />
        <TextField
          label="Confirm password"
          type="password"
          autoComplete="new-password"
          {...register('confirm', { validate: (v) => v === pw || 'Passwords do not match' })}
          error={!!errors.confirm}
          helperText={errors.confirm?.message}
        />
        <Button type="submit" variant="contained" size="large" disabled={loading}>
          {loading ? 'Creating account…' : 'Create account'}
        </Button>
      </Stack>
    </form>
  );
}
