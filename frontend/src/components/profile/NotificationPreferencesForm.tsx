import { Alert, Button, FormControlLabel, FormGroup, Switch } from '@mui/material';
import { useEffect, useState } from 'react';
import { useAsync } from '../../hooks/useAsync';
import { notificationService } from '../../services/notificationService';
import type { NotificationPreferences } from '../../types';
import { errorMessage } from '../../utils/errors';
import { ErrorAlert, Loading } from '../common/States';

const LABELS: [keyof NotificationPreferences, string][] = [
  ['in_app_enabled', 'In-app notifications'],
  ['email_enabled', 'Email'],
  ['sms_enabled', 'SMS'],
  ['push_enabled', 'Push notifications'],
];

export function NotificationPreferencesForm() {
  const prefs = useAsync(() => notificationService.getPreferences(), []);
  const [value, setValue] = useState<NotificationPreferences | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (prefs.data) setValue(prefs.data);
  }, [prefs.data]);
  if (prefs.loading) return <Loading />;
  if (prefs.error) return <ErrorAlert error={prefs.error} onRetry={prefs.reload} />;
  if (!value) return null;
  const save = async () => {
    setMsg(null);
    setError(null);
    try {
      setValue(await notificationService.updatePreferences(value));
      setMsg('Preferences saved.');
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <>
      <FormGroup>
        {LABELS.map(([k, label]) => (
          <FormControlLabel key={k} control={<Switch checked={value[k]} onChange={(e) => setValue({ ...value, [k]: e.target.checked })} />} label={label} />
        ))}
      </FormGroup>
      <Button variant="contained" onClick={save} sx={{ mt: 1 }}>
        Save preferences
      </Button>
      {msg && (
        <Alert severity="success" role="status" sx={{ mt: 2 }}>
          {msg}
        </Alert>
      )}
      <ErrorAlert error={error} />
    </>
  );
}
