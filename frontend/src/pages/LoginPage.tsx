import { Link, Stack } from '@mui/material';
import { Link as RouterLink, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { AuthCard } from '../components/auth/AuthCard';
import { LoginForm, type LoginValues } from '../components/auth/LoginForm';
import { useAppDispatch, useAppSelector } from '../hooks/redux';
import { login } from '../store/authSlice';
import { isAdmin } from '../utils/format';

export default function LoginPage() {
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const location = useLocation();
  const { user, status, error, mfaRequired } = useAppSelector((s) => s.auth);
  const from = (location.state as { from?: string } | null)?.from;

  if (user) return <Navigate to={isAdmin(user.roles) ? '/admin' : '/'} replace />;

  const onSubmit = async (v: LoginValues) => {
    const res = await dispatch(login({ email: v.email.trim(), password: v.password, mfa_code: mfaRequired ? v.mfa_code : undefined }));
    if (login.fulfilled.match(res)) {
      const u = res.payload;
      if (from && from !== '/login') navigate(from, { replace: true });
      else if (isAdmin(u.roles)) navigate('/admin', { replace: true });
      else if (!u.customer_id) navigate('/onboarding', { replace: true });
      else navigate('/', { replace: true });
    }
  };

  return (
    <AuthCard title="Sign in">
      <LoginForm onSubmit={onSubmit} mfaRequired={mfaRequired} error={error} loading={status === 'loading'} />
      <Stack direction="row" justifyContent="space-between" mt={2} flexWrap="wrap" gap={1}>
        <Link component={RouterLink} to="/register">
          Create an account
        </Link>
        <Link component={RouterLink} to="/forgot-password">
          Forgot password?
        </Link>
      </Stack>
    </AuthCard>
  );
}
