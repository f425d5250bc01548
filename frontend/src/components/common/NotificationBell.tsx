import NotificationsIcon from '@mui/icons-material/Notifications';
import { Badge, Box, Button, Divider, IconButton, Menu, MenuItem, Typography } from '@mui/material';
import { useState } from 'react';
import { useAppDispatch, useAppSelector } from '../../hooks/redux';
import { markNotificationRead, selectUnreadCount } from '../../store/notificationSlice';
import { formatDateTime } from '../../utils/format';

/** The bell in the app bar: unread count fed by the SSE stream, list of latest notifications. */
export function NotificationBell() {
  const dispatch = useAppDispatch();
  const items = useAppSelector((s) => s.notifications.items);
  const unread = useAppSelector(selectUnreadCount);
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const label = unread > 0 ? `Notifications, ${unread} unread` : 'Notifications, none unread';

  const markAll = () => {
    items.filter((n) => !n.read_at).forEach((n) => void dispatch(markNotificationRead(n.id)));
  };

  return (
    <>
      <IconButton color="inherit" aria-label={label} aria-haspopup="menu" onClick={(e) => setAnchor(e.currentTarget)}>
        <Badge badgeContent={unread} color="error" max={99}>
          <NotificationsIcon />
        </Badge>
      </IconButton>
      <Menu
        anchorEl={anchor}
        open={!!anchor}
        onClose={() => setAnchor(null)}
        slotProps={{ paper: { sx: { width: 360, maxWidth: '95vw', maxHeight: 480 } }, list: { 'aria-label': 'Notifications' } }}
      >
        <Box px={2} py={1} display="flex" justifyContent="space-between" alignItems="center">
          <Typography variant="subtitle1" component="h2">
            Notifications
          </Typography>
          <Button size="small" onClick={markAll} disabled={unread === 0}>
            Mark all read
          </Button>
        </Box>
        <Divider />
        {items.length === 0 && <MenuItem disabled>No notifications yet</MenuItem>}
        {items.slice(0, 20).map((n) => (
          <MenuItem
            key={n.id}
            onClick={() => !n.read_at && void dispatch(markNotificationRead(n.id))}
            sx={{ whiteSpace: 'normal', alignItems: 'flex-start', fontWeight: n.read_at ? 400 : 600 }}
          >
            <Box>
              <Typography variant="body2" fontWeight="inherit">
                {n.subject || n.type}
              </Typography>
              <Typography variant="body2" color="text.secondary">
                {n.body}
              </Typography>
              <Typography variant="caption" color="text.secondary">
                {formatDateTime(n.created_at)}
              </Typography>
            </Box>
          </MenuItem>
        ))}
      </Menu>
    </>
  );
}
