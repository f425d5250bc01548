import type {
  DepositRequest,
  Page,
  PaymentRequest,
  ScheduledTransfer,
  ScheduledTransferRequest,
  Transaction,
  TransactionFilters,
  TransferRequest,
} from '../types';
import { api, cleanParams } from './api';

/** Every money-moving call takes the caller's idempotency key; the same key must be reused for a retry. */
function idem(key: string) {
  if (!key) throw new Error('an Idempotency-Key is required for money-moving requests');
  return { headers: { 'Idempotency-Key': key } };
}

export const transactionService = {
  async transfer(body: TransferRequest, idempotencyKey: string): Promise<Transaction> {
    return (await api.post<Transaction>('/transactions/transfer', body, idem(idempotencyKey))).data;
  },
  /** Bill payments go to `/transactions/payment`; ACH and wires to `/transactions/external` with their rail. */
  async payment(body: PaymentRequest, idempotencyKey: string): Promise<Transaction> {
    const { rail, ...rest } = body;
    if (rail === 'ACH' || rail === 'WIRE') {
      return (await api.post<Transaction>('/transactions/external', { ...rest, rail }, idem(idempotencyKey))).data;
    }
    return (await api.post<Transaction>('/transactions/payment', rest, idem(idempotencyKey))).data;
  },
  async deposit(body: DepositRequest, idempotencyKey: string): Promise<Transaction> {
    return (await api.post<Transaction>('/transactions/deposit', body, idem(idempotencyKey))).data;
  },
  async reverse(id: string, reason: string, idempotencyKey: string): Promise<Transaction> {
    return (await api.post<Transaction>(`/transactions/${id}/reverse`, { reason }, idem(idempotencyKey))).data;
  },
  async get(id: string): Promise<Transaction> {
    return (await api.get<Transaction>(`/transactions/${id}`)).data;
  },
  async forAccount(accountId: string, filters: TransactionFilters = {}): Promise<Page<Transaction>> {
    const { account_id: _ignored, q: _q, ...rest } = filters;
    return (await api.get<Page<Transaction>>(`/transactions/account/${accountId}`, { params: cleanParams(rest) })).data;
  },
  async search(filters: TransactionFilters = {}): Promise<Page<Transaction>> {
    return (await api.get<Page<Transaction>>('/transactions/search', { params: cleanParams(filters) })).data;
  },
  async createScheduled(body: ScheduledTransferRequest, idempotencyKey: string): Promise<ScheduledTransfer> {
    return (await api.post<ScheduledTransfer>('/transactions/scheduled', body, idem(idempotencyKey))).data;
  },
  async listScheduled(): Promise<ScheduledTransfer[]> {
    return (await api.get<Page<ScheduledTransfer>>('/transactions/scheduled', { params: { limit: 100 } })).data.items;
  },
  async cancelScheduled(id: string): Promise<void> {
    await api.delete(`/transactions/scheduled/${id}`);
  },
};
