import type { AxiosProgressEvent } from 'axios';
import type { Customer, CustomerInput, KycDocument, KycStatusResponse, Page } from '../types';
import { api, cleanParams } from './api';

export const customerService = {
  async create(body: CustomerInput): Promise<Customer> {
    return (await api.post<Customer>('/customers', body)).data;
  },
  async get(id: string): Promise<Customer> {
    return (await api.get<Customer>(`/customers/${id}`)).data;
  },
  async update(id: string, body: Partial<CustomerInput>): Promise<Customer> {
    return (await api.put<Customer>(`/customers/${id}`, body)).data;
  },
  async search(params: { q?: string; kyc_status?: string; limit?: number; cursor?: string | null }): Promise<Page<Customer>> {
    return (await api.get<Page<Customer>>('/customers/search', { params: cleanParams(params) })).data;
  },
  async uploadDocument(
    id: string,
    documentType: string,
    file: File,
    onProgress?: (percent: number) => void,
  ): Promise<KycDocument> {
    const form = new FormData();
    form.append('document_type', documentType);
    form.append('file', file, file.name);
    const res = await api.post<KycDocument>(`/customers/${id}/documents`, form, {
      onUploadProgress: (e: AxiosProgressEvent) => {
        if (onProgress && e.total) onProgress(Math.round((e.loaded * 100) / e.total));
      },
    });
    return res.data;
  },
  async documents(id: string): Promise<KycDocument[]> {
    const data = (await api.get<Page<KycDocument> | KycDocument[]>(`/customers/${id}/documents`)).data;
    return Array.isArray(data) ? data : data.items;
  },
  async documentContent(id: string, docId: string): Promise<Blob> {
    return (await api.get<Blob>(`/customers/${id}/documents/${docId}/content`, { responseType: 'blob' })).data;
  },
  async submitKyc(id: string): Promise<KycStatusResponse> {
    return (await api.post<KycStatusResponse>(`/customers/${id}/kyc`)).data;
  },
  async kycStatus(id: string): Promise<KycStatusResponse> {
    return (await api.get<KycStatusResponse>(`/customers/${id}/kyc/status`)).data;
  },
};
