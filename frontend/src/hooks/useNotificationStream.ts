import { useEffect } from 'react';
import { notificationService } from '../services/notificationService';
import { tokenStore } from '../services/tokenStore';
import { fetchAccounts } from '../store/accountSlice';
import { fetchNotifications, notificationReceived, showToast, streamStatus } from '../store/notificationSlice';
import type { AppNotification } from '../types';
import { useAppDispatch } from './redux';

/** Subscribes to the server's SSE stream of in-app notifications while signed in. */
export function useNotificationStream(userId: string | null | undefined, accountsOwner: boolean): void {
  const dispatch = useAppDispatch();
  useEffect(() => {
    if (!userId || typeof EventSource === 'undefined') return;
    void dispatch(fetchNotifications(userId));
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let closed = false;
    let attempts = 0;

    const handle = (ev: MessageEvent<string>) => {
      let n: AppNotification;
      try {
        n = JSON.parse(ev.data) as AppNotification;
      } catch {
        return;
      }
      if (!n || !n.id) return;
      dispatch(notificationReceived(n));
      const kind = `${n.type}`.toLowerCase();
      if (kind.includes('transaction') || kind.includes('transfer') || kind.includes('deposit')) {
        dispatch(showToast(n.subject || n.body, kind.includes('fail') ? 'error' : 'success'));
        if (accountsOwner) void dispatch(fetchAccounts(userId));
      }
    };

    const retryLater = () => {
      // reconnect with backoff; a fresh ticket is asked for each time
      attempts += 1;
      retry = setTimeout(() => void connect(), Math.min(30_000, 1000 * 2 ** Math.min(attempts, 5)));
    };

    const connect = async () => {
      if (closed || !tokenStore.getAccessToken()) return;
      let url: string;
      try {
        url = await notificationService.streamUrl();
      } catch {
        if (!closed) retryLater();
        return;
      }
      if (closed) return;
      es?.close();
      es = new EventSource(url);
      es.onopen = () => {
        attempts = 0;
        dispatch(streamStatus(true));
      };
      es.onmessage = handle;
      es.addEventListener('notification', handle as EventListener);
      es.onerror = () => {
        dispatch(streamStatus(false));
        es?.close();
        retryLater();
      };
    };
    void connect();
    const unsub = tokenStore.subscribe(() => {
      // token rotated: reconnect with the new token
      if (closed) return;
      es?.close();
      if (retry) clearTimeout(retry);
      void connect();
    });
    return () => {
      closed = true;
      unsub();
      if (retry) clearTimeout(retry);
      es?.close();
      dispatch(streamStatus(false));
    };
  }, [userId, accountsOwner, dispatch]);
}
