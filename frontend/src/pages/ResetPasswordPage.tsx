import { Alert, Button, Link, Stack, TextField } from '@mui/material';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import { AuthCard } from '../components/auth/AuthCard';
import { passwordProblem } from '../components/auth/RegisterForm';
import { authService } from '../services/authService';
import { errorMessage } from '../utils/errors';

interface V {
  token: string;
  password: string;
  confirm: string;
}

export default function ResetPasswordPage() {
  const [params] = useSearchParams();
  const { register, handleSubmit, watch, formState } = useForm<V>({ defaultValues: { token: params.get('token') ?? '', password: '', confirm: '' } });
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async (v: V) => {
    setError(null);
    try {
      await authService.reset(v.token.trim(), v.password);
      setDone(true);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const e = formState.errors;
  return (
    <AuthCard title="Choose a new password">
      {done ? (
        <Alert severity="success" role="status">
          Your password was changed. You can now{' '}
          <Link component={RouterLink} to="/login">
            sign in
          </Link>
          .
        </Alert>
      ) : (
        <form onSubmit={handleSubmit(onSubmit)} noValidate aria-label="Reset password">
          <Stack spacing={2}>
            {error && <Alert severity="error">{error}</Alert>}
            <TextField label="Reset code" {...register('token', { required: 'The code from the email is required' })} error={!!e.token} helperText={e.token?.message} />
            <TextField label="New password" type="password" autoComplete="new-password" {...register('password', { validate: passwordProblem })} error={!!e.password} helperText={e.password?.message} />
            <TextField
              label="Confirm new password"
              type="password"
              autoComplete="new-password"
              {...register('confirm', { validate: (v) => v === watch('password') || 'Passwords do not match' })}
              error={!!e.confirm}
              helperText={e.confirm?.message}
            />
            <Button type="submit" variant="contained" disabled={formState.isSubmitting}>
              Change password
            </Button>
          </Stack>
        </form>
      )}
    </AuthCard>
  );
}
