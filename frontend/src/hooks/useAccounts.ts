import { useCallback, useEffect } from 'react';
import { fetchAccounts } from '../store/accountSlice';
import { useAppDispatch, useAppSelector } from './redux';

/** The signed-in customer's accounts from the store, fetched on first use. */
export function useAccounts() {
  const dispatch = useAppDispatch();
  const userId = useAppSelector((s) => s.auth.user?.id);
  const { items, status, error } = useAppSelector((s) => s.accounts);
  const reload = useCallback(() => {
    if (userId) void dispatch(fetchAccounts(userId));
  }, [dispatch, userId]);
  useEffect(() => {
    reload();
  }, [reload]);
  return { accounts: items, loading: status === 'loading' && items.length === 0, error, reload };
}
