import { Button, List, ListItem, ListItemText } from '@mui/material';
import { useAsync } from '../../hooks/useAsync';
import { authService } from '../../services/authService';
import { formatDateTime } from '../../utils/format';
import { EmptyState, ErrorAlert, Loading } from '../common/States';

export function SessionsList() {
  const sessions = useAsync(() => authService.sessions(), []);
  if (sessions.loading) return <Loading label="Loading sessions" />;
  if (sessions.error) return <ErrorAlert error={sessions.error} onRetry={sessions.reload} />;
  if (!sessions.data?.length) return <EmptyState title="No active sessions." />;
  return (
    <List aria-label="Active sessions">
      {sessions.data.map((s) => (
        <ListItem
          key={s.id}
          divider
          secondaryAction={
            !s.current && (
              <Button size="small" color="error" onClick={() => authService.revokeSession(s.id).then(sessions.reload, sessions.reload)}>
                Sign out
              </Button>
            )
          }
        >
          <ListItemText
            primary={`${s.user_agent ?? 'Unknown device'}${s.current ? ' (this session)' : ''}`}
            secondary={`${s.ip ?? ''} · started ${formatDateTime(s.created_at)} · expires ${formatDateTime(s.expires_at)}`}
          />
        </ListItem>
      ))}
    </List>
  );
}
