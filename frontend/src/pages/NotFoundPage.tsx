import { Button, Typography } from '@mui/material';
import { Link as RouterLink } from 'react-router-dom';
import { PageHeader } from '../components/common/States';

export default function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Typography gutterBottom>There is nothing at this address.</Typography>
      <Button component={RouterLink} to="/" variant="contained">
        Go to the dashboard
      </Button>
    </>
  );
}
