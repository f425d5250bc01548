import { Alert, Button, Stack, TextField } from '@mui/material';
import { useForm } from 'react-hook-form';

export interface LoginValues {
  email: string;
  password: string;
  mfa_code: string;
}

interface Props {
  onSubmit: (v: LoginValues) => void | Promise<void>;
  mfaRequired: boolean;
  error: string | null;
  loading: boolean;
}

export function LoginForm({ onSubmit, mfaRequired, error, loading }: Props) {
  const {
    register,
    handleSubmit,
    formState: { errors },
  } = useForm<LoginValues>({ defaultValues: { email: '', password: '', mfa_code: '' } });

  return (
    <form onSubmit={handleSubmit(onSubmit)} noValidate aria-label="Sign in">
      <Stack spacing={2}>
        {error && (
          <Alert severity="error" role="alert">
            {error}
          </Alert>
        )}
        <TextField
          label="Email"
          type="email"
          autoComplete="username"
          autoFocus
          {...register('email', { required: 'Email is required', pattern: { value: /^\S+@\S+\.\S+$/, message: 'Enter a valid email' } })}
          error={!!errors.email}
          helperText={errors.email?.message}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          {...register('password', { required: 'Password is required' })}
          error={!!errors.password}
          helperText={errors.password?.message}
        />
        {mfaRequired && (
          <TextField
            label="Authentication code"
            inputMode="numeric"
            autoComplete="one-time-code"
            {...register('mfa_code', {
              required: 'Enter the 6-digit code',
              pattern: {
                value: /^(\d{6}|[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3})$/,
                message: 'The code has 6 digits (or use a recovery code: XXXX-XXXX-XXXX-XXXX)',
              },
            })}
            error={!!errors.mfa_code}
            helperText={errors.mfa_code?.message ?? 'From your authenticator app, or one of your recovery codes'}
          />
        )}
        <Button type="submit" variant="contained" size="large" disabled={loading}>
          {loading ? 'Signing in…' : 'Sign in'}
        </Button>
      </Stack>
    </form>
  );
}
