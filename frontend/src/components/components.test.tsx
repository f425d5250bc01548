import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { InternalAxiosRequestConfig } from 'axios';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api } from '../services/api';
import { tokenStore } from '../services/tokenStore';
import { initialNotificationState } from '../store/notificationSlice';
import { body, header, mockAdapter } from '../test/mockAdapter';
import { renderWithProviders } from '../test/render';
import type { Account, AppNotification } from '../types';
import { AccountCard } from './accounts/AccountCard';
import { LoginForm } from './auth/LoginForm';
import { ErrorBoundary } from './common/ErrorBoundary';
import { NotificationBell } from './common/NotificationBell';
import { TransferForm } from './transactions/TransferForm';

const original = api.defaults.adapter;
afterEach(() => {
  api.defaults.adapter = original;
  tokenStore.clear();
});

const checking: Account = {
  id: 'acc-chk',
  account_number: '100000001234',
  customer_id: 'c1',
  account_type: 'CHECKING',
  currency: 'USD',
  balance: '500.00',
  available_balance: '450.00',
  status: 'ACTIVE',
  opened_at: '2024-01-01T00:00:00Z',
};
const savings: Account = { ...checking, id: 'acc-sav', account_number: '200000005678', account_type: 'SAVINGS', balance: '0.00', available_balance: '0.00' };

async function pickOption(user: ReturnType<typeof userEvent.setup>, label: string, option: RegExp) {
  await user.click(screen.getByRole('combobox', { name: label }));
  await user.click(await screen.findByRole('option', { name: option }));
}

describe('AccountCard', () => {
  it('masks the account number until revealed', async () => {
    const user = userEvent.setup();
    renderWithProviders(<AccountCard account={checking} />);
    expect(screen.getByTestId('account-number')).toHaveTextContent('•••• 1234');
    expect(screen.queryByText('100000001234')).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Show account number' }));
    expect(screen.getByTestId('account-number')).toHaveTextContent('100000001234');
    expect(screen.getByText('$500.00')).toBeInTheDocument();
    expect(screen.getByText('$450.00')).toBeInTheDocument();
  });
});

describe('TransferForm', () => {
  it('reviews, then sends exactly one request on a double click, with one idempotency key', async () => {
    const calls: InternalAxiosRequestConfig[] = [];
    let release: () => void = () => {};
    api.defaults.adapter = mockAdapter(
      () =>
        new Promise((resolve) => {
          release = () => resolve({ status: 201, data: { id: 't1', transaction_ref: 'TX-1', amount: '25.00', currency: 'USD', status: 'COMPLETED', transaction_type: 'TRANSFER' } });
        }),
      calls,
    );
    const onCompleted = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<TransferForm accounts={[checking, savings]} onCompleted={onCompleted} />);

    await pickOption(user, 'To account', /Savings/);
    await user.type(screen.getByLabelText(/Amount/), '25');
    await user.click(screen.getByRole('button', { name: 'Review transfer' }));
    expect(await screen.findByRole('heading', { name: 'Review transfer' })).toBeInTheDocument();
    expect(screen.getByText('$25.00')).toBeInTheDocument();

    const confirm = screen.getByRole('button', { name: 'Confirm transfer' });
    await user.dblClick(confirm);
    fireEvent.click(confirm);
    expect(confirm).toBeDisabled();
    release();
    await waitFor(() => expect(onCompleted).toHaveBeenCalledTimes(1));

    const transfers = calls.filter((c) => c.url === '/transactions/transfer');
    expect(transfers).toHaveLength(1);
    const key = header(transfers[0], 'Idempotency-Key');
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body(transfers[0])).toEqual({ from_account_id: 'acc-chk', to_account_id: 'acc-sav', amount: '25.00', currency: 'USD' });
    expect(await screen.findByText(/Transfer completed/)).toBeInTheDocument();

    // a second, new submission gets a new key
    await pickOption(user, 'To account', /Savings/);
    await user.type(screen.getByLabelText(/Amount/), '5');
    await user.click(screen.getByRole('button', { name: 'Review transfer' }));
    await user.click(await screen.findByRole('button', { name: 'Confirm transfer' }));
    release();
    await waitFor(() => expect(onCompleted).toHaveBeenCalledTimes(2));
    const second = calls.filter((c) => c.url === '/transactions/transfer')[1];
    expect(header(second, 'Idempotency-Key')).not.toBe(key);
  });

  it('shows the account_frozen refusal and retries the same submission with the same key', async () => {
    const calls: InternalAxiosRequestConfig[] = [];
    let n = 0;
    api.defaults.adapter = mockAdapter(() => {
      n += 1;
      return n === 1
        ? { status: 409, data: { title: 'Account frozen', status: 409, code: 'account_frozen', detail: 'account is frozen' } }
        : { status: 201, data: { id: 't1', transaction_ref: 'TX-1', amount: '25.00', currency: 'USD', status: 'COMPLETED' } };
    }, calls);
    const user = userEvent.setup();
    renderWithProviders(<TransferForm accounts={[checking, savings]} />);
    await pickOption(user, 'To account', /Savings/);
    await user.type(screen.getByLabelText(/Amount/), '25');
    await user.click(screen.getByRole('button', { name: 'Review transfer' }));
    await user.click(await screen.findByRole('button', { name: 'Confirm transfer' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(/frozen/i);
    expect(alert).toHaveAttribute('data-code', 'account_frozen');
    await user.click(screen.getByRole('button', { name: 'Confirm transfer' }));
    await screen.findByText(/Transfer completed/);
    expect(header(calls[0], 'Idempotency-Key')).toBe(header(calls[1], 'Idempotency-Key'));
  });

  it('validates the amount before review', async () => {
    const user = userEvent.setup();
    renderWithProviders(<TransferForm accounts={[checking, savings]} />);
    await pickOption(user, 'To account', /Savings/);
    await user.type(screen.getByLabelText(/Amount/), '1.999');
    await user.click(screen.getByRole('button', { name: 'Review transfer' }));
    expect(await screen.findByText(/At most 2 decimal places/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Confirm transfer' })).not.toBeInTheDocument();
  });
});

describe('NotificationBell', () => {
  it('shows the unread count in its accessible name and lists notifications', async () => {
    const n = (id: string, read: boolean): AppNotification => ({
      id,
      user_id: 'u1',
      type: 'transaction.completed',
      channel: 'IN_APP',
      subject: `Subject ${id}`,
      body: `Body ${id}`,
      status: 'SENT',
      read_at: read ? '2024-01-01' : null,
      created_at: '2024-01-01T00:00:00Z',
    });
    api.defaults.adapter = mockAdapter(() => ({ status: 204 }));
    const user = userEvent.setup();
    renderWithProviders(<NotificationBell />, { state: { notifications: { ...initialNotificationState, items: [n('1', false), n('2', false), n('3', true)] } } });
    const bell = screen.getByRole('button', { name: 'Notifications, 2 unread' });
    await user.click(bell);
    const menu = await screen.findByRole('menu', { name: 'Notifications' });
    expect(within(menu).getByText('Subject 1')).toBeInTheDocument();
    await user.click(within(menu).getByText('Subject 1'));
    expect(await screen.findByRole('button', { name: 'Notifications, 1 unread', hidden: true })).toBeInTheDocument();
  });
});

describe('LoginForm', () => {
  it('asks for the authentication code only when MFA is required', async () => {
    const onSubmit = vi.fn();
    const user = userEvent.setup();
    const { rerender } = renderWithProviders(<LoginForm onSubmit={onSubmit} mfaRequired={false} error={null} loading={false} />);
    expect(screen.queryByLabelText(/Authentication code/)).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Email is required')).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
    rerender(<LoginForm onSubmit={onSubmit} mfaRequired error={null} loading={false} />);
    expect(screen.getByLabelText(/Authentication code/)).toBeInTheDocument();
  });
});

describe('ErrorBoundary', () => {
  it('renders a recoverable message instead of crashing', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const Boom = () => {
      throw new Error('kaboom');
    };
    renderWithProviders(
      <ErrorBoundary>
        <Boom />
      </ErrorBoundary>,
    );
    expect(screen.getByRole('alert')).toHaveTextContent(/Something went wrong.*kaboom/);
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
    spy.mockRestore();
  });
});
