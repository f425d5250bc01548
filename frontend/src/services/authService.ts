import type { MfaSetup, RegisteredUser, Session, TokenPair, User } from '../types';
import { api } from './api';
import { tokenStore } from './tokenStore';

export const authService = {
  async register(body: { email: string; password: string; phone?: string }): Promise<RegisteredUser> {
    return (await api.post<RegisteredUser>('/auth/register', body)).data;
  },
  async login(body: { email: string; password: string; mfa_code?: string }): Promise<TokenPair> {
    const { data } = await api.post<TokenPair>('/auth/login', body);
    tokenStore.set(data);
    return data;
  },
  async me(): Promise<User> {
    return (await api.get<User>('/auth/me')).data;
  },
  async logout(): Promise<void> {
    const refresh_token = tokenStore.getRefreshToken();
    try {
      if (tokenStore.getAccessToken()) await api.post('/auth/logout', { refresh_token });
    } finally {
      tokenStore.clear();
    }
  },
  async forgot(email: string): Promise<void> {
    await api.post('/auth/forgot', { email });
  },
  async reset(token: string, password: string): Promise<void> {
    await api.post('/auth/reset', { token, password });
  },
  async verify(code: string): Promise<void> {
    await api.post('/auth/verify', { code });
  },
  /** MFA changes need the current password as well as the session (re-authentication). */
  async mfaSetup(password: string): Promise<MfaSetup> {
    return (await api.post<MfaSetup>('/auth/mfa/setup', { password })).data;
  },
  /** Turns MFA on; answers the recovery codes (shown once). */
  async mfaEnable(password: string, code: string): Promise<string[]> {
    return (await api.post<{ recovery_codes: string[] }>('/auth/mfa/enable', { password, code })).data.recovery_codes;
  },
  async mfaDisable(password: string, code: string): Promise<void> {
    await api.post('/auth/mfa/disable', { password, code });
  },
  async sessions(): Promise<Session[]> {
    return (await api.get<{ items: Session[] }>('/auth/sessions')).data.items;
  },
  async revokeSession(id: string): Promise<void> {
    await api.delete(`/auth/sessions/${encodeURIComponent(id)}`);
  },
};
