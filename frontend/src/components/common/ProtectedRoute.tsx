import { Navigate, Outlet, useLocation } from 'react-router-dom';
import { useAppSelector } from '../../hooks/redux';
import { isAdmin } from '../../utils/format';

/**
 * Renders children only for a signed-in user (and only for admins when `admin`). An admin who has not turned on
 * two-factor authentication is sent to their profile to enrol first: the server refuses every staff function with
 * `mfa_enrolment_required` until they do (PCI DSS req. 8).
 */
export function ProtectedRoute({ admin = false }: { admin?: boolean }) {
  const user = useAppSelector((s) => s.auth.user);
  const location = useLocation();
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (admin && !isAdmin(user.roles)) return <Navigate to="/" replace />;
  if (admin && !user.mfa_enabled) return <Navigate to="/profile" replace state={{ mfaEnrolment: true }} />;
  return <Outlet />;
}
