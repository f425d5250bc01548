import { configureStore } from '@reduxjs/toolkit';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../services/api';
import { tokenStore } from '../services/tokenStore';
import { mockAdapter } from '../test/mockAdapter';
import type { Account, AppNotification, Transaction } from '../types';
import accountReducer, { accountUpdated, fetchAccounts, initialAccountState } from './accountSlice';
import authReducer, { initialAuthState, login, logout, sessionExpired } from './authSlice';
import notificationReducer, { dismissToast, initialNotificationState, notificationReceived, selectUnreadCount, showToast } from './notificationSlice';
import { makeStore } from './store';
import transactionReducer, { fetchTransactions, initialTransactionState } from './transactionSlice';

const original = api.defaults.adapter;
afterEach(() => {
  api.defaults.adapter = original;
  tokenStore.clear();
});

const acc = (id: string, balance = '0.00', status: Account['status'] = 'ACTIVE'): Account => ({
  id,
  account_number: `10000000${id}`,
  customer_id: 'c1',
  account_type: 'CHECKING',
  currency: 'USD',
  balance,
  available_balance: balance,
  status,
  opened_at: '2024-01-01T00:00:00Z',
});

const me = { id: 'u1', email: 'a@b.c', phone: null, roles: ['CUSTOMER'], customer_id: null, is_verified: false, mfa_enabled: false };

describe('authSlice', () => {
  it('logs in: stores tokens in memory and the user from /auth/me', async () => {
    api.defaults.adapter = mockAdapter((c) =>
      c.url === '/auth/login' ? { status: 200, data: { access_token: 'A', refresh_token: 'R', token_type: 'Bearer', expires_in: 900 } } : { status: 200, data: me },
    );
    const store = makeStore();
    await store.dispatch(login({ email: 'a@b.c', password: 'pw' }));
    expect(store.getState().auth.status).toBe('authenticated');
    expect(store.getState().auth.user?.id).toBe('u1');
    expect(tokenStore.getAccessToken()).toBe('A');
    expect(localStorage.length).toBe(0);
  });

  it('asks for the MFA code when the server answers mfa_required', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 401, data: { code: 'mfa_required', title: 'MFA required' } }));
    const store = makeStore();
    await store.dispatch(login({ email: 'a@b.c', password: 'pw' }));
    expect(store.getState().auth.mfaRequired).toBe(true);
    expect(store.getState().auth.error).toBeNull();
    expect(store.getState().auth.user).toBeNull();
  });

  it('reports wrong credentials', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 401, data: { code: 'unauthorized' } }));
    const store = makeStore();
    await store.dispatch(login({ email: 'a@b.c', password: 'bad' }));
    expect(store.getState().auth.error).toMatch(/incorrect/);
    expect(store.getState().auth.mfaRequired).toBe(false);
  });

  it('sessionExpired drops the user; logout resets everything and clears tokens', async () => {
    const s = authReducer({ ...initialAuthState, user: me, status: 'authenticated' }, sessionExpired());
    expect(s.user).toBeNull();
    expect(s.error).toMatch(/expired/);
    tokenStore.set({ access_token: 'A', refresh_token: 'R' });
    api.defaults.adapter = mockAdapter(() => ({ status: 204 }));
    const store = makeStore({ auth: { ...initialAuthState, user: me, status: 'authenticated' }, accounts: { ...initialAccountState, items: [acc('1')] } });
    await store.dispatch(logout());
    expect(store.getState().auth).toEqual(initialAuthState);
    expect(store.getState().accounts.items).toEqual([]);
    expect(tokenStore.getAccessToken()).toBeNull();
  });
});

describe('accountSlice', () => {
  it('fetches accounts from /accounts/user/{id} (page or array)', async () => {
    api.defaults.adapter = mockAdapter((c) => {
      expect(c.url).toBe('/accounts/user/u1');
      return { status: 200, data: { items: [acc('1', '10.00'), acc('2')], next_cursor: null } };
    });
    const store = configureStore({ reducer: { accounts: accountReducer } });
    await store.dispatch(fetchAccounts('u1'));
    expect(store.getState().accounts.status).toBe('succeeded');
    expect(store.getState().accounts.items.map((a) => a.id)).toEqual(['1', '2']);
  });

  it('records a failure message', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 500, data: { title: 'boom', detail: 'database down' } }));
    const store = configureStore({ reducer: { accounts: accountReducer } });
    await store.dispatch(fetchAccounts('u1'));
    expect(store.getState().accounts.status).toBe('failed');
    expect(store.getState().accounts.error).toBe('database down');
  });

  it('replaces an updated account in place', () => {
    const s = accountReducer({ ...initialAccountState, items: [acc('1'), acc('2')] }, accountUpdated(acc('2', '0.00', 'FROZEN')));
    expect(s.items.map((a) => a.status)).toEqual(['ACTIVE', 'FROZEN']);
  });
});

describe('transactionSlice', () => {
  it('replaces then appends pages with the cursor', async () => {
    const t = (id: string) => ({ id, created_at: '2024-01-01' }) as Transaction;
    let page = 0;
    api.defaults.adapter = mockAdapter((c) => {
      page += 1;
      if (page === 2) expect(c.params.cursor).toBe('next1');
      return { status: 200, data: page === 1 ? { items: [t('a'), t('b')], next_cursor: 'next1' } : { items: [t('c')], next_cursor: null } };
    });
    const store = configureStore({ reducer: { transactions: transactionReducer } });
    await store.dispatch(fetchTransactions({ accountId: 'acc', filters: {} }));
    expect(store.getState().transactions.nextCursor).toBe('next1');
    await store.dispatch(fetchTransactions({ accountId: 'acc', filters: { cursor: 'next1' }, append: true }));
    expect(store.getState().transactions.items.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(store.getState().transactions.nextCursor).toBeNull();
    expect(initialTransactionState.items).toEqual([]);
  });
});

describe('notificationSlice', () => {
  const n = (id: string, read = false): AppNotification => ({
    id,
    user_id: 'u1',
    type: 'transaction.completed',
    channel: 'IN_APP',
    subject: 'Transfer completed',
    body: 'You sent $10.00',
    status: 'SENT',
    read_at: read ? '2024-01-01' : null,
    created_at: `2024-01-0${id}T00:00:00Z`,
  });

  it('adds live notifications once, newest first, and counts unread', () => {
    let s = notificationReducer(initialNotificationState, notificationReceived(n('1')));
    s = notificationReducer(s, notificationReceived(n('2')));
    s = notificationReducer(s, notificationReceived(n('2')));
    s = notificationReducer(s, notificationReceived(n('3', true)));
    expect(s.items.map((x) => x.id)).toEqual(['3', '2', '1']);
    expect(selectUnreadCount({ notifications: s })).toBe(2);
  });

  it('queues and dismisses toasts', () => {
    let s = notificationReducer(initialNotificationState, showToast('hello'));
    expect(s.toasts).toHaveLength(1);
    expect(s.toasts[0]).toMatchObject({ message: 'hello', severity: 'success' });
    s = notificationReducer(s, dismissToast(s.toasts[0].id));
    expect(s.toasts).toHaveLength(0);
  });
});
