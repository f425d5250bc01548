import type { InternalAxiosRequestConfig } from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, header, mockAdapter } from '../test/mockAdapter';
import { api } from './api';
import { tokenStore } from './tokenStore';
import { transactionService } from './transactionService';

const original = api.defaults.adapter;
const tx = { id: 't1', transaction_ref: 'TX1', amount: '25.00', currency: 'USD', status: 'COMPLETED' };

describe('transactionService idempotency', () => {
  let calls: InternalAxiosRequestConfig[];
  beforeEach(() => {
    calls = [];
    tokenStore.set({ access_token: 'a1', refresh_token: 'r1' });
  });
  afterEach(() => {
    api.defaults.adapter = original;
    tokenStore.clear();
  });

  it('sends the Idempotency-Key header and the amount as a string', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 201, data: tx }), calls);
    await transactionService.transfer({ from_account_id: 'a', to_account_id: 'b', amount: '25.00', currency: 'USD' }, 'key-123');
    expect(calls[0].url).toBe('/transactions/transfer');
    expect(calls[0].method).toBe('post');
    expect(header(calls[0], 'Idempotency-Key')).toBe('key-123');
    expect(body(calls[0]).amount).toBe('25.00');
  });

  it('sends bill payments to /payment and ACH or wires to /external with their rail', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 201, data: tx }), calls);
    const payment = { from_account_id: 'a', payee_name: 'ACME', payee_account_number: '12345678', amount: '5.00', currency: 'USD' };
    await transactionService.payment({ ...payment, rail: 'PAYMENT' }, 'k1');
    await transactionService.payment({ ...payment, rail: 'WIRE' }, 'k2');
    expect(calls.map((c) => c.url)).toEqual(['/transactions/payment', '/transactions/external']);
    expect(body(calls[0]).rail).toBeUndefined();
    expect(body(calls[1]).rail).toBe('WIRE');
    expect(header(calls[1], 'Idempotency-Key')).toBe('k2');
  });

  it('keeps the same key when the request is retried after a token refresh', async () => {
    api.defaults.adapter = mockAdapter((c) => {
      if (c.url?.endsWith('/auth/refresh')) return { status: 200, data: { access_token: 'a2', refresh_token: 'r2' } };
      return header(c, 'Authorization') === 'Bearer a2' ? { status: 201, data: tx } : { status: 401 };
    }, calls);
    await transactionService.transfer({ from_account_id: 'a', to_account_id: 'b', amount: '1.00', currency: 'USD' }, 'key-xyz');
    const transfers = calls.filter((c) => c.url === '/transactions/transfer');
    expect(transfers).toHaveLength(2);
    expect(transfers.map((c) => header(c, 'Idempotency-Key'))).toEqual(['key-xyz', 'key-xyz']);
  });

  it('refuses to send a money-moving request without a key', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 201, data: tx }), calls);
    await expect(transactionService.deposit({ account_id: 'a', amount: '1.00', currency: 'USD' }, '')).rejects.toThrow(/Idempotency-Key/);
    expect(calls).toHaveLength(0);
  });

  it('passes filters as query parameters and drops empty ones', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 200, data: { items: [], next_cursor: null } }), calls);
    await transactionService.forAccount('acc1', { from: '2024-01-01', type: '', min_amount: '10.00', cursor: 'c1' });
    expect(calls[0].url).toBe('/transactions/account/acc1');
    expect(calls[0].params).toEqual({ from: '2024-01-01', min_amount: '10.00', cursor: 'c1' });
  });
});
