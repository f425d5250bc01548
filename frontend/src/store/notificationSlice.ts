import { createAsyncThunk, createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { notificationService } from '../services/notificationService';
import type { AppNotification } from '../types';
import { logout, sessionExpired } from './authSlice';

export interface Toast {
  id: number;
  message: string;
  severity: 'success' | 'info' | 'warning' | 'error';
}

export interface NotificationState {
  items: AppNotification[];
  connected: boolean;
  toasts: Toast[];
}

export const initialNotificationState: NotificationState = { items: [], connected: false, toasts: [] };

let toastSeq = 1;

export const fetchNotifications = createAsyncThunk('notifications/fetch', async (userId: string) => {
  return (await notificationService.list(userId)).items;
});

export const markNotificationRead = createAsyncThunk('notifications/markRead', async (id: string) => {
  await notificationService.markRead(id);
  return id;
});

const notificationSlice = createSlice({
  name: 'notifications',
  initialState: initialNotificationState,
  reducers: {
    /** A notification pushed by the SSE stream (deduplicated by id, newest first). */
    notificationReceived(state, action: PayloadAction<AppNotification>) {
      if (state.items.some((n) => n.id === action.payload.id)) return;
      state.items.unshift(action.payload);
    },
    streamStatus(state, action: PayloadAction<boolean>) {
      state.connected = action.payload;
    },
    markAllReadLocally(state) {
      const now = new Date().toISOString();
      state.items.forEach((n) => {
        if (!n.read_at) n.read_at = now;
      });
    },
    showToast: {
      reducer(state, action: PayloadAction<Toast>) {
        state.toasts.push(action.payload);
      },
      prepare(message: string, severity: Toast['severity'] = 'success') {
        return { payload: { id: toastSeq++, message, severity } };
      },
    },
    dismissToast(state, action: PayloadAction<number>) {
      state.toasts = state.toasts.filter((t) => t.id !== action.payload);
    },
  },
  extraReducers: (b) => {
    b.addCase(fetchNotifications.fulfilled, (s, a) => {
      // keep live ones that the list does not have yet
      const ids = new Set(a.payload.map((n) => n.id));
      s.items = [...s.items.filter((n) => !ids.has(n.id)), ...a.payload].sort((x, y) =>
        y.created_at.localeCompare(x.created_at),
      );
    })
      .addCase(markNotificationRead.pending, (s, a) => {
        const n = s.items.find((x) => x.id === a.meta.arg);
        if (n && !n.read_at) n.read_at = new Date().toISOString();
      })
      .addCase(logout.fulfilled, () => initialNotificationState)
      .addCase(sessionExpired, (s) => ({ ...initialNotificationState, toasts: s.toasts }));
  },
});

export const selectUnreadCount = (s: { notifications: NotificationState }): number =>
  s.notifications.items.filter((n) => !n.read_at).length;

export const { notificationReceived, streamStatus, markAllReadLocally, showToast, dismissToast } = notificationSlice.actions;
export default notificationSlice.reducer;
