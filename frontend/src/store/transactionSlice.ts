import { createAsyncThunk, createSlice } from '@reduxjs/toolkit';
import { transactionService } from '../services/transactionService';
import type { Transaction, TransactionFilters } from '../types';
import { errorMessage } from '../utils/errors';
import { logout, sessionExpired } from './authSlice';

export interface TransactionState {
  items: Transaction[];
  nextCursor: string | null;
  status: 'idle' | 'loading' | 'succeeded' | 'failed';
  error: string | null;
  /** The query the current list belongs to. */
  query: { accountId: string | null; filters: TransactionFilters };
}

export const initialTransactionState: TransactionState = {
  items: [],
  nextCursor: null,
  status: 'idle',
  error: null,
  query: { accountId: null, filters: {} },
};

interface FetchArgs {
  /** An account id for the customer view; null searches the whole bank (admin). */
  accountId: string | null;
  filters: TransactionFilters;
  /** Appends the next page instead of replacing. */
  append?: boolean;
}

export const fetchTransactions = createAsyncThunk<
  { items: Transaction[]; next_cursor: string | null; append: boolean },
  FetchArgs,
  { rejectValue: string }
>('transactions/fetch', async ({ accountId, filters, append = false }, { rejectWithValue }) => {
  try {
    const page = accountId
      ? await transactionService.forAccount(accountId, { limit: 25, ...filters })
      : await transactionService.search({ limit: 25, ...filters });
    return { ...page, append };
  } catch (e) {
    return rejectWithValue(errorMessage(e));
  }
});

const transactionSlice = createSlice({
  name: 'transactions',
  initialState: initialTransactionState,
  reducers: {
    transactionUpdated(state, action: { payload: Transaction }) {
      const i = state.items.findIndex((t) => t.id === action.payload.id);
      if (i >= 0) state.items[i] = action.payload;
    },
  },
  extraReducers: (b) => {
    b.addCase(fetchTransactions.pending, (s, a) => {
      s.status = 'loading';
      s.error = null;
      if (!a.meta.arg.append) {
        s.query = { accountId: a.meta.arg.accountId, filters: a.meta.arg.filters };
      }
    })
      .addCase(fetchTransactions.fulfilled, (s, a) => {
        s.status = 'succeeded';
        s.items = a.payload.append ? [...s.items, ...a.payload.items] : a.payload.items;
        s.nextCursor = a.payload.next_cursor;
      })
      .addCase(fetchTransactions.rejected, (s, a) => {
        s.status = 'failed';
        s.error = a.payload ?? 'Could not load transactions';
      })
      .addCase(logout.fulfilled, () => initialTransactionState)
      .addCase(sessionExpired, () => initialTransactionState);
  },
});

export const { transactionUpdated } = transactionSlice.actions;
export default transactionSlice.reducer;
