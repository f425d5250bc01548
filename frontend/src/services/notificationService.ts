import type { AppNotification, NotificationPreferences, Page } from '../types';
import { api, sseUrl } from './api';

export const notificationService = {
  async list(userId: string, cursor?: string | null): Promise<Page<AppNotification>> {
    const params: Record<string, string | number> = { limit: 50 };
    if (cursor) params.cursor = cursor;
    return (await api.get<Page<AppNotification>>(`/notifications/user/${userId}`, { params })).data;
  },
  async markRead(id: string): Promise<void> {
    await api.post(`/notifications/${id}/read`);
  },
  async getPreferences(): Promise<NotificationPreferences> {
    return (await api.get<NotificationPreferences>('/notifications/preferences')).data;
  },
  async updatePreferences(p: NotificationPreferences): Promise<NotificationPreferences> {
    return (await api.put<NotificationPreferences>('/notifications/preferences', p)).data;
  },
  streamUrl(): Promise<string> {
    return sseUrl('/notifications/stream');
  },
};
