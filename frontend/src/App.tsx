import { lazy, Suspense, useEffect } from 'react';
import { Navigate, Route, Routes, useNavigate } from 'react-router-dom';
import { ErrorBoundary } from './components/common/ErrorBoundary';
import { Layout } from './components/common/Layout';
import { ProtectedRoute } from './components/common/ProtectedRoute';
import { Loading } from './components/common/States';
import { useAppDispatch, useAppSelector } from './hooks/redux';
import AccountsPage from './pages/AccountsPage';
import DashboardPage from './pages/DashboardPage';
import ForgotPasswordPage from './pages/ForgotPasswordPage';
import LoginPage from './pages/LoginPage';
import NotFoundPage from './pages/NotFoundPage';
import OnboardingPage from './pages/OnboardingPage';
import PaymentsPage from './pages/PaymentsPage';
import ProfilePage from './pages/ProfilePage';
import RegisterPage from './pages/RegisterPage';
import ResetPasswordPage from './pages/ResetPasswordPage';
import ScheduledPage from './pages/ScheduledPage';
import TransactionsPage from './pages/TransactionsPage';
import TransfersPage from './pages/TransfersPage';
import VerifyEmailPage from './pages/VerifyEmailPage';
import { onAuthFailure } from './services/api';
import { sessionExpired } from './store/authSlice';
import { isAdmin } from './utils/format';

// The admin panel is a separate chunk: customers never download it.
const AdminOverviewPage = lazy(() => import('./pages/admin/AdminOverviewPage'));
const AdminKycPage = lazy(() => import('./pages/admin/AdminKycPage'));
const AdminCustomersPage = lazy(() => import('./pages/admin/AdminCustomersPage'));
const AdminTransactionsPage = lazy(() => import('./pages/admin/AdminTransactionsPage'));
const AdminFraudPage = lazy(() => import('./pages/admin/AdminFraudPage'));

function Home() {
  const user = useAppSelector((s) => s.auth.user);
  if (user && isAdmin(user.roles) && !user.customer_id) return <Navigate to="/admin" replace />;
  return <DashboardPage />;
}

export default function App() {
  const dispatch = useAppDispatch();
  const navigate = useNavigate();

  useEffect(() => {
    onAuthFailure(() => {
      dispatch(sessionExpired());
      navigate('/login', { replace: true });
    });
    return () => onAuthFailure(null);
  }, [dispatch, navigate]);

  return (
    <ErrorBoundary>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/register" element={<RegisterPage />} />
          <Route path="/forgot-password" element={<ForgotPasswordPage />} />
          <Route path="/reset-password" element={<ResetPasswordPage />} />
          <Route path="/verify-email" element={<VerifyEmailPage />} />
          <Route element={<ProtectedRoute />}>
            <Route element={<Layout />}>
              <Route index element={<Home />} />
              <Route path="onboarding" element={<OnboardingPage />} />
              <Route path="accounts" element={<AccountsPage />} />
              <Route path="transfers" element={<TransfersPage />} />
              <Route path="scheduled" element={<ScheduledPage />} />
              <Route path="payments" element={<PaymentsPage />} />
              <Route path="transactions" element={<TransactionsPage />} />
              <Route path="profile" element={<ProfilePage />} />
              <Route path="admin" element={<ProtectedRoute admin />}>
                <Route index element={<AdminOverviewPage />} />
                <Route path="kyc" element={<AdminKycPage />} />
                <Route path="customers" element={<AdminCustomersPage />} />
                <Route path="transactions" element={<AdminTransactionsPage />} />
                <Route path="fraud" element={<AdminFraudPage />} />
              </Route>
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Route>
        </Routes>
      </Suspense>
    </ErrorBoundary>
  );
}
