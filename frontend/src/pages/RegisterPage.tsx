import { Link, Typography } from '@mui/material';
import { useState } from 'react';
import { Link as RouterLink, useNavigate } from 'react-router-dom';
import { AuthCard } from '../components/auth/AuthCard';
import { RegisterForm, type RegisterValues } from '../components/auth/RegisterForm';
import { useAppDispatch } from '../hooks/redux';
import { authService } from '../services/authService';
import { login } from '../store/authSlice';
import { errorMessage } from '../utils/errors';

export default function RegisterPage() {
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const onSubmit = async (v: RegisterValues) => {
    setLoading(true);
    setError(null);
    try {
      await authService.register({ email: v.email.trim(), password: v.password, phone: v.phone.trim() || undefined });
      const res = await dispatch(login({ email: v.email.trim(), password: v.password }));
      if (login.fulfilled.match(res)) navigate('/onboarding', { replace: true });
      else navigate('/login', { replace: true });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  };

  return (
    <AuthCard title="Create your account">
      <RegisterForm onSubmit={onSubmit} error={error} loading={loading} />
      <Typography mt={2}>
        Already a customer?{' '}
        <Link component={RouterLink} to="/login">
          Sign in
        </Link>
      </Typography>
    </AuthCard>
  );
}
