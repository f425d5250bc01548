import { Box, Button, Card, CardActions, CardContent, Dialog, DialogActions, DialogContent, DialogTitle, List, ListItem, ListItemText, Stack, Typography } from '@mui/material';
import { useEffect, useState } from 'react';
import { ReasonDialog } from '../../components/admin/ReasonDialog';
import { EmptyState, ErrorAlert, Loading, PageHeader } from '../../components/common/States';
import { useAppDispatch } from '../../hooks/redux';
import { useAsync } from '../../hooks/useAsync';
import { adminService } from '../../services/adminService';
import { customerService } from '../../services/customerService';
import { showToast } from '../../store/notificationSlice';
import type { KycDocument, KycQueueItem } from '../../types';
import { errorMessage } from '../../utils/errors';
import { formatDate, formatDateTime, humanize } from '../../utils/format';

function DocumentPreview({ customerId, doc, onClose }: { customerId: string; doc: KycDocument; onClose: () => void }) {
  const [url, setUrl] = useState<string | null>(null);
  const [type, setType] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let objectUrl: string | null = null;
    customerService
      .documentContent(customerId, doc.id)
      .then((blob) => {
        objectUrl = URL.createObjectURL(blob);
        setType(blob.type);
        setUrl(objectUrl);
      })
      .catch((e: unknown) => setError(errorMessage(e)));
    return () => {
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [customerId, doc.id]);
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="md" aria-labelledby="doc-title">
      <DialogTitle id="doc-title">{humanize(doc.document_type)}</DialogTitle>
      <DialogContent>
        <ErrorAlert error={error} />
        {!url && !error && <Loading label="Loading document" />}
        {url && type.startsWith('image/') && <img src={url} alt={`${humanize(doc.document_type)} document`} style={{ maxWidth: '100%' }} />}
        {url && !type.startsWith('image/') && <iframe src={url} title={`${humanize(doc.document_type)} document`} style={{ width: '100%', height: '70vh', border: 0 }} />}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}

function QueueItem({ item, onDone }: { item: KycQueueItem; onDone: () => void }) {
  const dispatch = useAppDispatch();
  const docs = useAsync(() => (item.documents ? Promise.resolve(item.documents) : customerService.documents(item.id)), [item.id]);
  const [preview, setPreview] = useState<KycDocument | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = `${item.first_name} ${item.last_name}`;

  const approve = async () => {
    setBusy(true);
    setError(null);
    try {
      await adminService.approveKyc(item.id);
      dispatch(showToast(`KYC approved for ${name}`));
      onDone();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const reject = async (reason: string) => {
    try {
      await adminService.rejectKyc(item.id, reason);
      setRejecting(false);
      dispatch(showToast(`KYC rejected for ${name}`, 'info'));
      onDone();
    } catch (e) {
      setError(errorMessage(e));
      setRejecting(false);
    }
  };

  return (
    <Card variant="outlined" component="article" aria-label={`KYC application of ${name}`}>
      <CardContent>
        <Typography variant="h6" component="h2">
          {name}
        </Typography>
        <Typography variant="body2" color="text.secondary">
          {item.email ? `${item.email} · ` : ''}born {formatDate(item.date_of_birth)} · {item.city}, {item.country} · submitted {formatDateTime(item.submitted_at ?? item.updated_at)}
        </Typography>
        {docs.loading && <Loading label="Loading documents" />}
        <ErrorAlert error={docs.error} />
        <List dense aria-label={`Documents of ${name}`}>
          {(docs.data ?? []).map((d) => (
            <ListItem
              key={d.id}
              secondaryAction={
                <Button size="small" onClick={() => setPreview(d)}>
                  Preview
                </Button>
              }
            >
              <ListItemText primary={humanize(d.document_type)} secondary={`uploaded ${formatDateTime(d.uploaded_at)}`} />
            </ListItem>
          ))}
        </List>
        <ErrorAlert error={error} />
      </CardContent>
      <CardActions>
        <Button variant="contained" color="success" onClick={approve} disabled={busy}>
          Approve
        </Button>
        <Button color="error" onClick={() => setRejecting(true)} disabled={busy}>
          Reject
        </Button>
      </CardActions>
      {preview && <DocumentPreview customerId={item.id} doc={preview} onClose={() => setPreview(null)} />}
      <ReasonDialog open={rejecting} title={`Reject KYC of ${name}`} confirmLabel="Reject" onCancel={() => setRejecting(false)} onConfirm={reject} />
    </Card>
  );
}

export default function AdminKycPage() {
  const queue = useAsync(() => adminService.kycQueue(), []);
  return (
    <>
      <PageHeader title="KYC review queue" actions={<Button onClick={queue.reload}>Refresh</Button>} />
      {queue.loading && <Loading />}
      <ErrorAlert error={queue.error} onRetry={queue.reload} />
      {queue.data && queue.data.length === 0 && <EmptyState title="No applications waiting for review." />}
      <Stack spacing={2}>
        {(queue.data ?? []).map((c) => (
          <QueueItem key={c.id} item={c} onDone={queue.reload} />
        ))}
      </Stack>
      <Box height={16} />
    </>
  );
}
