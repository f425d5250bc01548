import type {
  AdminOverview,
  AuditEntry,
  AuditVerification,
  Customer,
  FraudCase,
  FraudListEntry,
  FraudRule,
  FraudRuleInput,
  KycQueueItem,
  ListKind,
  Page,
} from '../types';
import { api, cleanParams } from './api';

export const adminService = {
  async overview(): Promise<AdminOverview> {
    return (await api.get<AdminOverview>('/admin/overview')).data;
  },
  async audit(cursor?: string | null): Promise<Page<AuditEntry>> {
    return (await api.get<Page<AuditEntry>>('/admin/audit', { params: cleanParams({ limit: 50, cursor }) })).data;
  },
  async verifyAudit(): Promise<AuditVerification> {
    return (await api.get<AuditVerification>('/admin/audit/verify')).data;
  },
  async kycQueue(): Promise<KycQueueItem[]> {
    return (await api.get<Page<KycQueueItem>>('/admin/kyc/queue', { params: { limit: 100 } })).data.items;
  },
  async approveKyc(customerId: string): Promise<Customer> {
    return (await api.post<Customer>(`/admin/customers/${customerId}/kyc/approve`)).data;
  },
  async rejectKyc(customerId: string, reason: string): Promise<Customer> {
    return (await api.post<Customer>(`/admin/customers/${customerId}/kyc/reject`, { reason })).data;
  },
};

export const fraudService = {
  async cases(status = 'OPEN'): Promise<FraudCase[]> {
    return (await api.get<Page<FraudCase>>('/fraud/cases', { params: cleanParams({ status, limit: 100 }) })).data.items;
  },
  async resolve(id: string, decision: 'RELEASE' | 'REJECT', note: string): Promise<FraudCase> {
    return (await api.post<FraudCase>(`/fraud/cases/${id}/resolve`, { decision, note })).data;
  },
  async rules(): Promise<FraudRule[]> {
    return (await api.get<Page<FraudRule>>('/fraud/rules', { params: { limit: 100 } })).data.items;
  },
  async createRule(body: FraudRuleInput): Promise<FraudRule> {
    return (await api.post<FraudRule>('/fraud/rules', body)).data;
  },
  async updateRule(id: string, body: FraudRuleInput): Promise<FraudRule> {
    return (await api.put<FraudRule>(`/fraud/rules/${id}`, body)).data;
  },
  async list(kind: ListKind): Promise<FraudListEntry[]> {
    return (await api.get<Page<FraudListEntry>>(`/fraud/${kind}`, { params: { limit: 100 } })).data.items;
  },
  async addToList(kind: ListKind, list_type: string, value: string): Promise<FraudListEntry> {
    return (await api.post<FraudListEntry>(`/fraud/${kind}`, { list_type, value })).data;
  },
};
