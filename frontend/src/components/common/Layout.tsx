import AccountBalanceIcon from '@mui/icons-material/AccountBalance';
import AdminPanelSettingsIcon from '@mui/icons-material/AdminPanelSettings';
import AssignmentIndIcon from '@mui/icons-material/AssignmentInd';
import DashboardIcon from '@mui/icons-material/Dashboard';
import EventRepeatIcon from '@mui/icons-material/EventRepeat';
import GavelIcon from '@mui/icons-material/Gavel';
import LogoutIcon from '@mui/icons-material/Logout';
import MenuIcon from '@mui/icons-material/Menu';
import PaymentsIcon from '@mui/icons-material/Payments';
import PeopleIcon from '@mui/icons-material/People';
import PersonIcon from '@mui/icons-material/Person';
import ReceiptLongIcon from '@mui/icons-material/ReceiptLong';
import SwapHorizIcon from '@mui/icons-material/SwapHoriz';
import VerifiedUserIcon from '@mui/icons-material/VerifiedUser';
import {
  AppBar,
  Box,
  Divider,
  Drawer,
  IconButton,
  List,
  ListItemButton,
  ListItemIcon,
  ListItemText,
  ListSubheader,
  Toolbar,
  Tooltip,
  Typography,
  useMediaQuery,
  useTheme,
} from '@mui/material';
import { Suspense, useState, type ReactNode } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useAppDispatch, useAppSelector } from '../../hooks/redux';
import { useNotificationStream } from '../../hooks/useNotificationStream';
import { logout } from '../../store/authSlice';
import { isAdmin } from '../../utils/format';
import { ErrorBoundary } from './ErrorBoundary';
import { NotificationBell } from './NotificationBell';
import { Loading } from './States';
import { Toasts } from './Toasts';

const DRAWER = 248;

interface NavItem {
  to: string;
  label: string;
  icon: ReactNode;
}

export const CUSTOMER_NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', icon: <DashboardIcon /> },
  { to: '/accounts', label: 'Accounts', icon: <AccountBalanceIcon /> },
  { to: '/transfers', label: 'Transfers', icon: <SwapHorizIcon /> },
  { to: '/scheduled', label: 'Scheduled', icon: <EventRepeatIcon /> },
  { to: '/payments', label: 'Payments', icon: <PaymentsIcon /> },
  { to: '/transactions', label: 'Transactions', icon: <ReceiptLongIcon /> },
  { to: '/onboarding', label: 'Verification (KYC)', icon: <AssignmentIndIcon /> },
  { to: '/profile', label: 'Profile & security', icon: <PersonIcon /> },
];

export const ADMIN_NAV: NavItem[] = [
  { to: '/admin', label: 'Overview', icon: <AdminPanelSettingsIcon /> },
  { to: '/admin/kyc', label: 'KYC queue', icon: <VerifiedUserIcon /> },
  { to: '/admin/customers', label: 'Customers', icon: <PeopleIcon /> },
  { to: '/admin/transactions', label: 'All transactions', icon: <ReceiptLongIcon /> },
  { to: '/admin/fraud', label: 'Fraud', icon: <GavelIcon /> },
];

export function Layout() {
  const theme = useTheme();
  const desktop = useMediaQuery(theme.breakpoints.up('md'));
  const [open, setOpen] = useState(false);
  const user = useAppSelector((s) => s.auth.user);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const location = useLocation();
  const admin = isAdmin(user?.roles);
  const hasCustomer = !!user?.customer_id;
  useNotificationStream(user?.id, hasCustomer);

  const onLogout = async () => {
    await dispatch(logout());
    navigate('/login', { replace: true });
  };

  const renderItems = (items: NavItem[]) =>
    items.map((i) => (
      <ListItemButton
        key={i.to}
        component={NavLink}
        to={i.to}
        end={i.to === '/' || i.to === '/admin'}
        onClick={() => setOpen(false)}
        sx={{ '&.active': { bgcolor: 'action.selected', fontWeight: 600 } }}
      >
        <ListItemIcon sx={{ minWidth: 40 }}>{i.icon}</ListItemIcon>
        <ListItemText primary={i.label} />
      </ListItemButton>
    ));

  const drawer = (
    <Box component="nav" aria-label="Main navigation">
      <Toolbar />
      <List subheader={admin ? <ListSubheader>Banking</ListSubheader> : undefined}>{renderItems(CUSTOMER_NAV)}</List>
      {admin && (
        <>
          <Divider />
          <List subheader={<ListSubheader>Administration</ListSubheader>}>{renderItems(ADMIN_NAV)}</List>
        </>
      )}
    </Box>
  );

  return (
    <Box sx={{ display: 'flex', minHeight: '100vh' }}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppBar position="fixed" sx={{ zIndex: (t) => t.zIndex.drawer + 1 }}>
        <Toolbar>
          {!desktop && (
            <IconButton color="inherit" edge="start" aria-label="Open navigation" onClick={() => setOpen(true)} sx={{ mr: 1 }}>
              <MenuIcon />
            </IconButton>
          )}
          <Typography variant="h6" component="div" sx={{ flexGrow: 1 }} noWrap>
            BankFlow
          </Typography>
          <Typography variant="body2" sx={{ mr: 1, display: { xs: 'none', sm: 'block' } }} noWrap>
            {user?.email}
          </Typography>
          <NotificationBell />
          <Tooltip title="Sign out">
            <IconButton color="inherit" aria-label="Sign out" onClick={onLogout}>
              <LogoutIcon />
            </IconButton>
          </Tooltip>
        </Toolbar>
      </AppBar>
      {desktop ? (
        <Drawer variant="permanent" sx={{ width: DRAWER, flexShrink: 0, '& .MuiDrawer-paper': { width: DRAWER, boxSizing: 'border-box' } }}>
          {drawer}
        </Drawer>
      ) : (
        <Drawer variant="temporary" open={open} onClose={() => setOpen(false)} ModalProps={{ keepMounted: true }} sx={{ '& .MuiDrawer-paper': { width: DRAWER } }}>
          {drawer}
        </Drawer>
      )}
      <Box component="main" id="main" tabIndex={-1} sx={{ flexGrow: 1, p: { xs: 2, sm: 3 }, width: '100%', minWidth: 0 }}>
        <Toolbar />
        <ErrorBoundary key={location.pathname}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </ErrorBoundary>
      </Box>
      <Toasts />
    </Box>
  );
}
