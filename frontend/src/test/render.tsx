import { ThemeProvider } from '@mui/material';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { Provider } from 'react-redux';
import { MemoryRouter } from 'react-router-dom';
import { makeStore, type RootState } from '../store/store';
import { theme } from '../theme';

export function renderWithProviders(ui: ReactElement, { state, route = '/' }: { state?: Partial<RootState>; route?: string } = {}) {
  const store = makeStore(state);
  const result = render(
    <Provider store={store}>
      <ThemeProvider theme={theme}>
        <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
      </ThemeProvider>
    </Provider>,
  );
  return { store, ...result };
}
