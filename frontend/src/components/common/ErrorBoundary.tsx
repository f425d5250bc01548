import { Alert, AlertTitle, Box, Button } from '@mui/material';
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
  fallback?: ReactNode;
}
interface State {
  error: Error | null;
}

/** Catches render errors below it and shows a recoverable message instead of a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('UI error', error, info.componentStack);
  }

  render(): ReactNode {
    if (this.state.error) {
      return (
        this.props.fallback ?? (
          <Box p={3}>
            <Alert severity="error" role="alert">
              <AlertTitle>Something went wrong on this page</AlertTitle>
              {this.state.error.message}
              <Box mt={2}>
                <Button variant="outlined" onClick={() => this.setState({ error: null })}>
                  Try again
                </Button>
              </Box>
            </Alert>
          </Box>
        )
      );
    }
    return this.props.children;
  }
}
