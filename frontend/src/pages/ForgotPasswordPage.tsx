import { Alert, Button, Link, Stack, TextField } from '@mui/material';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link as RouterLink } from 'react-router-dom';
import { AuthCard } from '../components/auth/AuthCard';
import { authService } from '../services/authService';
import { errorMessage } from '../utils/errors';

export default function ForgotPasswordPage() {
  const { register, handleSubmit, formState } = useForm<{ email: string }>();
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async ({ email }: { email: string }) => {
    setError(null);
    try {
      await authService.forgot(email.trim());
      setSent(true);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <AuthCard title="Reset your password">
      {sent ? (
        <Alert severity="success" role="status">
          If an account exists for that email, we sent a reset link. It contains a code to use on the{' '}
          <Link component={RouterLink} to="/reset-password">
            reset page
          </Link>
          .
        </Alert>
      ) : (
        <form onSubmit={handleSubmit(onSubmit)} noValidate aria-label="Forgot password">
          <Stack spacing={2}>
            {error && <Alert severity="error">{error}</Alert>}
            <TextField
              label="Email"
              type="email"
              autoComplete="email"
              {...register('email', { required: 'Email is required' })}
              error={!!formState.errors.email}
              helperText={formState.errors.email?.message}
            />
            <Button type="submit" variant="contained" disabled={formState.isSubmitting}>
              Send reset link
            </Button>
          </Stack>
        </form>
      )}
      <Link component={RouterLink} to="/login" display="block" mt={2}>
        Back to sign in
      </Link>
    </AuthCard>
  );
}
