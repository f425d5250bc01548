import { Alert, Card, CardContent, Stack, Typography } from '@mui/material';
import { useState } from 'react';
import { ErrorAlert, Loading, PageHeader } from '../components/common/States';
import { MfaSetup } from '../components/profile/MfaSetup';
import { NotificationPreferencesForm } from '../components/profile/NotificationPreferencesForm';
import { ProfileForm } from '../components/profile/ProfileForm';
import { SessionsList } from '../components/profile/SessionsList';
import { useLocation } from 'react-router-dom';
import { useAppSelector } from '../hooks/redux';
import { useAsync } from '../hooks/useAsync';
import { customerService } from '../services/customerService';
import type { CustomerInput } from '../types';
import { errorMessage } from '../utils/errors';

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card variant="outlined" component="section" aria-label={title}>
      <CardContent>
        <Typography variant="h6" component="h2" gutterBottom>
          {title}
        </Typography>
        {children}
      </CardContent>
    </Card>
  );
}

export default function ProfilePage() {
  const user = useAppSelector((s) => s.auth.user);
  const customerId = user?.customer_id;
  const location = useLocation();
  // Sent here by an admin page the server refused with `mfa_enrolment_required`: enrol first.
  const redirected = (location.state as { mfaEnrolment?: boolean } | null)?.mfaEnrolment;
  const mustEnrol = !user?.mfa_enabled && !!redirected;
  const customer = useAsync(() => (customerId ? customerService.get(customerId) : Promise.resolve(null)), [customerId]);
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const save = async (v: CustomerInput) => {
    if (!customerId) return;
    setMsg(null);
    setError(null);
    try {
      const { ssn: _ssn, ...rest } = v;
      customer.setData(await customerService.update(customerId, rest));
      setMsg('Profile saved.');
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <>
      <PageHeader title="Profile & security" />
      <Stack spacing={3}>
        <Section title="Account">
          <Typography>Email: {user?.email}</Typography>
          <Typography>Phone: {user?.phone ?? '—'}</Typography>
          {!user?.is_verified && (
            <Alert severity="warning" sx={{ mt: 1 }}>
              Your email is not verified yet. Use the code we emailed you on the <a href="/verify-email">verification page</a>.
            </Alert>
          )}
        </Section>
        {customerId && (
          <Section title="Personal details">
            {customer.loading && <Loading />}
            <ErrorAlert error={customer.error} onRetry={customer.reload} />
            {customer.data && <ProfileForm key={customer.data.id} initial={{ ...customer.data, address_line2: customer.data.address_line2 ?? '' }} onSubmit={save} submitLabel="Save changes" showSsn={false} />}
            {msg && (
              <Alert severity="success" role="status" sx={{ mt: 2 }}>
                {msg}
              </Alert>
            )}
            <ErrorAlert error={error} />
          </Section>
        )}
        <Section title="Two-factor authentication">
          {mustEnrol && (
            <Alert severity="warning" role="alert" sx={{ mb: 2 }}>
              Staff accounts must turn on two-factor authentication before using staff functions.
            </Alert>
          )}
          <MfaSetup enabled={!!user?.mfa_enabled} />
        </Section>
        <Section title="Notification preferences">
          <NotificationPreferencesForm />
        </Section>
        <Section title="Active sessions">
          <SessionsList />
        </Section>
      </Stack>
    </>
  );
}
