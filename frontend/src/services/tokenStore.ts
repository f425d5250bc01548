import type { TokenPair } from '../types';

/**
 * Tokens live in memory only (never localStorage): a page reload signs the user out, which is the price of not
 * exposing tokens to persistent storage.
 */
let accessToken: string | null = null;
let refreshToken: string | null = null;
const listeners = new Set<() => void>();

export const tokenStore = {
  getAccessToken: (): string | null => accessToken,
  getRefreshToken: (): string | null => refreshToken,
  set(pair: Pick<TokenPair, 'access_token' | 'refresh_token'>): void {
    accessToken = pair.access_token;
    refreshToken = pair.refresh_token;
    listeners.forEach((l) => l());
  },
  clear(): void {
    accessToken = null;
    refreshToken = null;
    listeners.forEach((l) => l());
  },
  subscribe(l: () => void): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};
