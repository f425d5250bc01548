import { Alert, Box, Button, LinearProgress, MenuItem, Stack, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { customerService } from '../../services/customerService';
import type { KycDocument } from '../../types';
import { errorMessage } from '../../utils/errors';

export const DOCUMENT_TYPES = [
  { value: 'PASSPORT', label: 'Passport' },
  { value: 'DRIVERS_LICENSE', label: "Driver's license" },
  { value: 'NATIONAL_ID', label: 'National ID card' },
  { value: 'UTILITY_BILL', label: 'Utility bill' },
  { value: 'BANK_STATEMENT', label: 'Bank statement' },
];

const MAX_BYTES = 10 * 1024 * 1024;
const ACCEPT = ['image/jpeg', 'image/png', 'application/pdf'];

export function KycUpload({ customerId, onUploaded }: { customerId: string; onUploaded: (d: KycDocument) => void }) {
  const [docType, setDocType] = useState('PASSPORT');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [success, setSuccess] = useState<string | null>(null);

  const pick = (f: File | null) => {
    setError(null);
    setSuccess(null);
    if (f && f.size > MAX_BYTES) {
      setError('The file is larger than 10 MB.');
      setFile(null);
      return;
    }
    if (f && f.type && !ACCEPT.includes(f.type)) {
      setError('Use a JPEG, PNG or PDF file.');
      setFile(null);
      return;
    }
    setFile(f);
  };

  const upload = async () => {
    if (!file) return;
    setError(null);
    setProgress(0);
    try {
      const doc = await customerService.uploadDocument(customerId, docType, file, setProgress);
      setSuccess(`Uploaded ${file.name}`);
      setFile(null);
      onUploaded(doc);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setProgress(null);
    }
  };

  return (
    <Box>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} alignItems={{ sm: 'center' }}>
        <TextField select label="Document type" value={docType} onChange={(e) => setDocType(e.target.value)} sx={{ minWidth: 220 }}>
          {DOCUMENT_TYPES.map((d) => (
            <MenuItem key={d.value} value={d.value}>
              {d.label}
            </MenuItem>
          ))}
        </TextField>
        <Box>
          <Typography component="label" htmlFor="kyc-file" variant="body2" display="block" mb={0.5}>
            Document file (JPEG, PNG or PDF, max 10 MB)
          </Typography>
          <input id="kyc-file" type="file" accept={ACCEPT.join(',')} onChange={(e) => pick(e.target.files?.[0] ?? null)} />
        </Box>
        <Button variant="contained" onClick={upload} disabled={!file || progress !== null}>
          Upload document
        </Button>
      </Stack>
      {progress !== null && (
        <Box mt={2}>
          <LinearProgress variant="determinate" value={progress} aria-label="Upload progress" />
          <Typography variant="caption">{progress}%</Typography>
        </Box>
      )}
      {error && (
        <Alert severity="error" role="alert" sx={{ mt: 2 }}>
          {error}
        </Alert>
      )}
      {success && (
        <Alert severity="success" role="status" sx={{ mt: 2 }}>
          {success}
        </Alert>
      )}
    </Box>
  );
}
