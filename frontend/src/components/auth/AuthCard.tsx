import { Box, Paper, Typography } from '@mui/material';
import type { ReactNode } from 'react';

export function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Box component="main" minHeight="100vh" display="flex" alignItems="center" justifyContent="center" p={2} bgcolor="grey.100">
      <Paper sx={{ p: { xs: 3, sm: 4 }, width: '100%', maxWidth: 440 }} elevation={2}>
        <Typography variant="overline" component="p" color="primary" fontWeight={700}>
          BankFlow
        </Typography>
        <Typography variant="h5" component="h1" gutterBottom>
          {title}
        </Typography>
        {children}
      </Paper>
    </Box>
  );
}
