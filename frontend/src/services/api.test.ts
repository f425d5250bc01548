import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { body, header, mockAdapter } from '../test/mockAdapter';
import { ApiError } from '../utils/errors';
import { api, onAuthFailure } from './api';
import { tokenStore } from './tokenStore';
import type { InternalAxiosRequestConfig } from 'axios';

const original = api.defaults.adapter;

describe('api interceptors', () => {
  let calls: InternalAxiosRequestConfig[];
  beforeEach(() => {
    calls = [];
    tokenStore.set({ access_token: 'old-access', refresh_token: 'refresh-1' });
  });
  afterEach(() => {
    api.defaults.adapter = original;
    onAuthFailure(null);
    tokenStore.clear();
  });

  it('sends the access token as a Bearer header', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 200, data: { ok: true } }), calls);
    await api.get('/auth/me');
    expect(header(calls[0], 'Authorization')).toBe('Bearer old-access');
  });

  it('refreshes on 401, rotates both tokens and retries the request once', async () => {
    api.defaults.adapter = mockAdapter((c) => {
      if (c.url?.endsWith('/auth/refresh')) {
        expect(body(c)).toEqual({ refresh_token: 'refresh-1' });
        return { status: 200, data: { access_token: 'new-access', refresh_token: 'refresh-2', token_type: 'Bearer', expires_in: 900 } };
      }
      return header(c, 'Authorization') === 'Bearer new-access' ? { status: 200, data: { id: 'u1' } } : { status: 401, data: { code: 'unauthorized' } };
    }, calls);
    const res = await api.get('/auth/me');
    expect(res.data).toEqual({ id: 'u1' });
    expect(calls.map((c) => c.url)).toEqual(['/auth/me', '/api/v1/auth/refresh', '/auth/me']);
    expect(tokenStore.getAccessToken()).toBe('new-access');
    expect(tokenStore.getRefreshToken()).toBe('refresh-2');
  });

  it('shares one refresh between concurrent 401s (a rotated token is never presented twice)', async () => {
    let refreshes = 0;
    api.defaults.adapter = mockAdapter(async (c) => {
      if (c.url?.endsWith('/auth/refresh')) {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 10));
        return { status: 200, data: { access_token: 'new-access', refresh_token: 'refresh-2' } };
      }
      return header(c, 'Authorization') === 'Bearer new-access' ? { status: 200, data: c.url } : { status: 401 };
    }, calls);
    const results = await Promise.all([api.get('/a'), api.get('/b'), api.get('/c')]);
    expect(results.map((r) => r.data)).toEqual(['/a', '/b', '/c']);
    expect(refreshes).toBe(1);
  });

  it('goes back to login when the refresh token is rejected (reuse or expiry)', async () => {
    const failure = vi.fn();
    onAuthFailure(failure);
    api.defaults.adapter = mockAdapter((c) => (c.url?.endsWith('/auth/refresh') ? { status: 401, data: { code: 'unauthorized' } } : { status: 401 }), calls);
    await expect(api.get('/accounts/user/u1')).rejects.toBeInstanceOf(ApiError);
    expect(failure).toHaveBeenCalledTimes(1);
    expect(tokenStore.getAccessToken()).toBeNull();
    expect(tokenStore.getRefreshToken()).toBeNull();
    // the original request was not retried after the failed refresh
    expect(calls.filter((c) => c.url === '/accounts/user/u1')).toHaveLength(1);
  });

  it('does not try to refresh when login itself answers 401', async () => {
    api.defaults.adapter = mockAdapter(() => ({ status: 401, data: { code: 'unauthorized', title: 'Unauthorized' } }), calls);
    const err = await api.post('/auth/login', { email: 'a@b.c', password: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('unauthorized');
    expect(calls).toHaveLength(1);
  });

  it('retries only once when the refreshed token is refused too', async () => {
    api.defaults.adapter = mockAdapter((c) => (c.url?.endsWith('/auth/refresh') ? { status: 200, data: { access_token: 'a2', refresh_token: 'r2' } } : { status: 401 }), calls);
    await expect(api.get('/x')).rejects.toBeInstanceOf(ApiError);
    expect(calls.map((c) => c.url)).toEqual(['/x', '/api/v1/auth/refresh', '/x']);
  });
});
