import { Alert, Button, Card, CardContent, List, ListItem, ListItemText, Stack, Step, StepLabel, Stepper, Typography } from '@mui/material';
import { useState } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import { KycUpload } from '../components/profile/KycUpload';
import { ProfileForm } from '../components/profile/ProfileForm';
import { ErrorAlert, Loading, PageHeader } from '../components/common/States';
import { StatusChip } from '../components/common/StatusChip';
import { useAppDispatch, useAppSelector } from '../hooks/redux';
import { useAsync } from '../hooks/useAsync';
import { customerService } from '../services/customerService';
import { fetchMe, setCustomerId } from '../store/authSlice';
import type { CustomerInput, KycStatus } from '../types';
import { errorMessage } from '../utils/errors';
import { formatDateTime, humanize } from '../utils/format';

const STEPS = ['Profile', 'Documents', 'Review'];

export default function OnboardingPage() {
  const user = useAppSelector((s) => s.auth.user);
  const dispatch = useAppDispatch();
  const customerId = user?.customer_id ?? null;
  const [createError, setCreateError] = useState<string | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const customer = useAsync(() => (customerId ? customerService.get(customerId) : Promise.resolve(null)), [customerId]);
  const docs = useAsync(() => (customerId ? customerService.documents(customerId) : Promise.resolve([])), [customerId]);

  const create = async (v: CustomerInput) => {
    setCreateError(null);
    try {
      const c = await customerService.create(v);
      dispatch(setCustomerId(c.id));
      void dispatch(fetchMe());
    } catch (e) {
      setCreateError(errorMessage(e));
    }
  };

  const submitKyc = async () => {
    if (!customerId) return;
    setSubmitting(true);
    setSubmitError(null);
    try {
      const r = await customerService.submitKyc(customerId);
      if (customer.data) customer.setData({ ...customer.data, kyc_status: r.kyc_status });
    } catch (e) {
      setSubmitError(errorMessage(e));
    } finally {
      setSubmitting(false);
    }
  };

  const status: KycStatus | null = customer.data?.kyc_status ?? null;
  const docCount = docs.data?.length ?? 0;
  const active = !customerId ? 0 : status === 'PENDING' || status === 'REJECTED' ? 1 : 2;

  return (
    <>
      <PageHeader title="Verification (KYC)" actions={status && <StatusChip status={status} />} />
      <Stepper activeStep={active} alternativeLabel sx={{ mb: 3 }}>
        {STEPS.map((s) => (
          <Step key={s}>
            <StepLabel>{s}</StepLabel>
          </Step>
        ))}
      </Stepper>

      {!customerId && (
        <Card>
          <CardContent>
            <Typography variant="h6" component="h2" gutterBottom>
              Your details
            </Typography>
            <ErrorAlert error={createError} />
            <ProfileForm onSubmit={create} submitLabel="Save profile" />
          </CardContent>
        </Card>
      )}

      {customerId && customer.loading && <Loading label="Loading your profile" />}
      <ErrorAlert error={customer.error} onRetry={customer.reload} />

      {customerId && customer.data && (
        <Stack spacing={3}>
          <Card>
            <CardContent>
              <Typography variant="h6" component="h2" gutterBottom>
                Status
              </Typography>
              <Typography role="status" aria-live="polite">
                KYC status: <strong>{status}</strong>
              </Typography>
              {status === 'APPROVED' && (
                <Alert severity="success" sx={{ mt: 2 }}>
                  You are verified.{' '}
                  <Button component={RouterLink} to="/accounts" size="small">
                    Open an account
                  </Button>
                </Alert>
              )}
              {status === 'SUBMITTED' && (
                <Alert severity="info" sx={{ mt: 2 }}>
                  Your documents are being reviewed. You will get a notification when it is done.
                </Alert>
              )}
              {status === 'REJECTED' && (
                <Alert severity="warning" sx={{ mt: 2 }}>
                  Verification was rejected{customer.data.kyc_rejection_reason ? `: ${customer.data.kyc_rejection_reason}` : ''}. Upload new
                  documents and submit again.
                </Alert>
              )}
              <Button sx={{ mt: 2 }} onClick={customer.reload}>
                Refresh status
              </Button>
            </CardContent>
          </Card>

          {(status === 'PENDING' || status === 'REJECTED') && (
            <Card>
              <CardContent>
                <Typography variant="h6" component="h2" gutterBottom>
                  Identity documents
                </Typography>
                <KycUpload customerId={customerId} onUploaded={(d) => docs.setData([...(docs.data ?? []), d])} />
                <List aria-label="Uploaded documents">
                  {(docs.data ?? []).map((d) => (
                    <ListItem key={d.id} divider>
                      <ListItemText primary={humanize(d.document_type)} secondary={`${d.status} · uploaded ${formatDateTime(d.uploaded_at)}`} />
                    </ListItem>
                  ))}
                </List>
                {docCount === 0 && <Typography color="text.secondary">No documents uploaded yet.</Typography>}
                <ErrorAlert error={submitError} />
                <Button variant="contained" sx={{ mt: 2 }} disabled={docCount === 0 || submitting} onClick={submitKyc}>
                  Submit for review
                </Button>
              </CardContent>
            </Card>
          )}
        </Stack>
      )}
    </>
  );
}
