import { Navigate, Outlet, useLocation } from 'react-router-dom';
import { useAppSelector } from '../../hooks/redux';
import { isAdmin } from '../../utils/format';

/** Renders children only for a signed-in user (and only for admins when `admin`). */
export function ProtectedRoute({ admin = false }: { admin?: boolean }) {
  const user = useAppSelector((s) => s.auth.user);
  const location = useLocation();
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (admin && !isAdmin(user.roles)) return <Navigate to="/" replace />;
  return <Outlet />;
}
