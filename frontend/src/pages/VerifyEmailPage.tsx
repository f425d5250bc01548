import { Alert, Button, Link, Stack, TextField } from '@mui/material';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import { AuthCard } from '../components/auth/AuthCard';
import { useAppDispatch, useAppSelector } from '../hooks/redux';
import { authService } from '../services/authService';
import { fetchMe } from '../store/authSlice';
import { errorMessage } from '../utils/errors';

export default function VerifyEmailPage() {
  const [params] = useSearchParams();
  const dispatch = useAppDispatch();
  const user = useAppSelector((s) => s.auth.user);
  const { register, handleSubmit, formState } = useForm<{ code: string }>({ defaultValues: { code: params.get('code') ?? '' } });
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async ({ code }: { code: string }) => {
    setError(null);
    try {
      await authService.verify(code.trim());
      setDone(true);
      if (user) void dispatch(fetchMe());
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <AuthCard title="Verify your email">
      {done ? (
        <Alert severity="success" role="status">
          Your email is verified.{' '}
          <Link component={RouterLink} to={user ? '/' : '/login'}>
            Continue
          </Link>
        </Alert>
      ) : (
        <form onSubmit={handleSubmit(onSubmit)} noValidate aria-label="Verify email">
          <Stack spacing={2}>
            {error && <Alert severity="error">{error}</Alert>}
            <TextField label="Verification code" {...register('code', { required: 'Enter the code we emailed you' })} error={!!formState.errors.code} helperText={formState.errors.code?.message} />
            <Button type="submit" variant="contained" disabled={formState.isSubmitting}>
              Verify
            </Button>
          </Stack>
        </form>
      )}
    </AuthCard>
  );
}
