import axios, { type AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import type { TokenPair } from '../types';
import { toApiError } from '../utils/errors';
import { tokenStore } from './tokenStore';

export const API_BASE = '/api/v1';

/** The one Axios instance of the app. */
export const api: AxiosInstance = axios.create({
  baseURL: API_BASE,
  headers: { Accept: 'application/json, application/problem+json' },
  timeout: 30_000,
});

type RetriableConfig = InternalAxiosRequestConfig & { _retried?: boolean; _skipAuthRefresh?: boolean };

/** Paths that must never trigger a refresh (their 401 means what it says). */
const NO_REFRESH = ['/auth/login', '/auth/refresh', '/auth/register', '/auth/forgot', '/auth/reset'];

let authFailureHandler: (() => void) | null = null;
/** Called once refresh is impossible (no refresh token, expired, reused): the app goes back to login. */
export function onAuthFailure(handler: (() => void) | null): void {
  authFailureHandler = handler;
}

let refreshing: Promise<string> | null = null;

/**
 * Exchanges the refresh token for a new pair (rotation). Concurrent 401s share one refresh call, so a rotated
 * refresh token is never presented twice (which the server would treat as reuse and revoke the family).
 */
export function refreshAccessToken(): Promise<string> {
  if (!refreshing) {
    const rt = tokenStore.getRefreshToken();
    refreshing = (async () => {
      if (!rt) throw new Error('no refresh token');
      const res = await axios.post<TokenPair>(
        `${api.defaults.baseURL ?? API_BASE}/auth/refresh`,
        { refresh_token: rt },
        { adapter: api.defaults.adapter, headers: { 'Content-Type': 'application/json' } },
      );
      tokenStore.set(res.data);
      return res.data.access_token;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

api.interceptors.request.use((config) => {
  const token = tokenStore.getAccessToken();
  if (token && !config.headers.has('Authorization')) {
    config.headers.set('Authorization', `Bearer ${token}`);
  }
  return config;
});

api.interceptors.response.use(
  (res) => res,
  async (error: AxiosError) => {
    const config = error.config as RetriableConfig | undefined;
    const status = error.response?.status;
    const url = config?.url ?? '';
    if (
      status === 401 &&
      config &&
      !config._retried &&
      !config._skipAuthRefresh &&
      !NO_REFRESH.some((p) => url.startsWith(p)) &&
      tokenStore.getRefreshToken()
    ) {
      config._retried = true;
      let token: string;
      try {
        token = await refreshAccessToken();
      } catch (refreshErr) {
        tokenStore.clear();
        authFailureHandler?.();
        return Promise.reject(toApiError(refreshErr));
      }
      config.headers.set('Authorization', `Bearer ${token}`);
      // Same config → same Idempotency-Key header: a retried money-moving POST cannot execute twice.
      return api.request(config);
    }
    if (status === 401 && config && !NO_REFRESH.some((p) => url.startsWith(p)) && tokenStore.getAccessToken()) {
      tokenStore.clear();
      authFailureHandler?.();
    }
    return Promise.reject(toApiError(error));
  },
);

/**
 * Builds the SSE URL. EventSource cannot send headers, and an access token must never sit in a
 * URL (proxy logs, history), so the URL carries a short-lived stream ticket the server issues
 * for this session (`POST /notifications/stream/ticket`); it opens the stream and nothing else.
 */
export async function sseUrl(path: string): Promise<string> {
  const { ticket } = (await api.post<{ ticket: string; expires_in: number }>(`${path}/ticket`)).data;
  return `${API_BASE}${path}?ticket=${encodeURIComponent(ticket)}`;
}

/** Drops undefined/empty values from query params. */
export function cleanParams<T extends object>(params: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as Partial<T>;
}
