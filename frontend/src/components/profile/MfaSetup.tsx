import { Alert, Box, Button, Stack, TextField, Typography } from '@mui/material';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { useAppDispatch } from '../../hooks/redux';
import { authService } from '../../services/authService';
import { fetchMe } from '../../store/authSlice';
import type { MfaSetup as Setup } from '../../types';
import { errorMessage } from '../../utils/errors';

export function MfaSetup({ enabled }: { enabled: boolean }) {
  const dispatch = useAppDispatch();
  const [setup, setSetup] = useState<Setup | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const [recovery, setRecovery] = useState<string[] | null>(null);

  useEffect(() => {
    if (!setup) return;
    let alive = true;
    QRCode.toDataURL(setup.otpauth_url, { margin: 1, width: 200 })
      .then((url) => alive && setQr(url))
      .catch(() => alive && setQr(null));
    return () => {
      alive = false;
    };
  }, [setup]);

  const start = async () => {
    setError(null);
    if (!password) {
      setError('Enter your current password.');
      return;
    }
    try {
      setSetup(await authService.mfaSetup(password));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const confirm = async (enable: boolean) => {
    setError(null);
    if (!/^\d{6}$/.test(code)) {
      setError('Enter the 6-digit code from your authenticator app.');
      return;
    }
    if (!password) {
      setError('Enter your current password.');
      return;
    }
    try {
      if (enable) setRecovery(await authService.mfaEnable(password, code));
      else {
        await authService.mfaDisable(password, code);
        setRecovery(null);
      }
      setMsg(enable ? 'Two-factor authentication is on.' : 'Two-factor authentication is off.');
      setSetup(null);
      setCode('');
      setPassword('');
      void dispatch(fetchMe());
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <Box>
      <Typography gutterBottom>
        Two-factor authentication is <strong>{enabled ? 'on' : 'off'}</strong>.
      </Typography>
      {msg && (
        <Alert severity="success" role="status" sx={{ mb: 2 }}>
          {msg}
        </Alert>
      )}
      {recovery && (
        <Alert severity="info" sx={{ mb: 2 }}>
          Save these recovery codes somewhere safe: each signs you in once if you lose your authenticator. They are shown only now.
          <Box component="ul" sx={{ fontFamily: 'monospace', mt: 1, mb: 0 }}>
            {recovery.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </Box>
        </Alert>
      )}
      {error && (
        <Alert severity="error" role="alert" sx={{ mb: 2 }}>
          {error}
        </Alert>
      )}
      <TextField
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        size="small"
        sx={{ mb: 2, display: 'block' }}
      />
      {!enabled && !setup && (
        <Button variant="outlined" onClick={start}>
          Set up authenticator app
        </Button>
      )}
      {setup && (
        <Stack spacing={2} alignItems="flex-start">
          <Typography>Scan this QR code with your authenticator app, then enter the code it shows.</Typography>
          {qr && <img src={qr} alt="QR code for your authenticator app" width={200} height={200} />}
          <Typography variant="body2">
            Or enter this key manually: <code>{setup.secret}</code>
          </Typography>
        </Stack>
      )}
      {(setup || enabled) && (
        <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} mt={2} alignItems={{ sm: 'center' }}>
          <TextField label="6-digit code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value.trim())} size="small" />
          {setup ? (
            <Button variant="contained" onClick={() => confirm(true)}>
              Enable
            </Button>
          ) : (
            <Button color="error" variant="outlined" onClick={() => confirm(false)}>
              Disable two-factor
            </Button>
          )}
        </Stack>
      )}
    </Box>
  );
}
