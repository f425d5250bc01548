import type { Account, AccountType, Balance, Page, Statement } from '../types';
import { api } from './api';

export type StatementFormat = 'json' | 'csv' | 'pdf';

export const accountService = {
  async open(body: { account_type: AccountType; currency?: string }): Promise<Account> {
    return (await api.post<Account>('/accounts', body)).data;
  },
  async get(id: string): Promise<Account> {
    return (await api.get<Account>(`/accounts/${id}`)).data;
  },
  /** Accounts of a user (a customer passes their own user id; an admin any user's). */
  async listForUser(userId: string): Promise<Account[]> {
    const data = (await api.get<Page<Account> | Account[]>(`/accounts/user/${userId}`, { params: { limit: 100 } })).data;
    return Array.isArray(data) ? data : data.items;
  },
  async balance(id: string): Promise<Balance> {
    return (await api.get<Balance>(`/accounts/${id}/balance`)).data;
  },
  async statement(id: string, from: string, to: string): Promise<Statement> {
    return (await api.get<Statement>(`/accounts/${id}/statement`, { params: { from, to, format: 'json' } })).data;
  },
  async statementFile(id: string, from: string, to: string, format: Exclude<StatementFormat, 'json'>): Promise<Blob> {
    return (
      await api.get<Blob>(`/accounts/${id}/statement`, { params: { from, to, format }, responseType: 'blob' })
    ).data;
  },
  async freeze(id: string): Promise<Account> {
    return (await api.post<Account>(`/accounts/${id}/freeze`)).data;
  },
  async unfreeze(id: string): Promise<Account> {
    return (await api.post<Account>(`/accounts/${id}/unfreeze`)).data;
  },
  async close(id: string): Promise<Account> {
    return (await api.delete<Account>(`/accounts/${id}`)).data;
  },
};
