import { createAsyncThunk, createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { accountService } from '../services/accountService';
import type { Account, AccountType } from '../types';
import { errorMessage } from '../utils/errors';
import { logout, sessionExpired } from './authSlice';

export interface AccountState {
  items: Account[];
  status: 'idle' | 'loading' | 'succeeded' | 'failed';
  error: string | null;
}

export const initialAccountState: AccountState = { items: [], status: 'idle', error: null };

export const fetchAccounts = createAsyncThunk<Account[], string, { rejectValue: string }>(
  'accounts/fetch',
  async (userId, { rejectWithValue }) => {
    try {
      return await accountService.listForUser(userId);
    } catch (e) {
      return rejectWithValue(errorMessage(e));
    }
  },
);

export const openAccount = createAsyncThunk<Account, { account_type: AccountType; currency?: string }, { rejectValue: string }>(
  'accounts/open',
  async (body, { rejectWithValue }) => {
    try {
      return await accountService.open(body);
    } catch (e) {
      return rejectWithValue(errorMessage(e));
    }
  },
);

const accountSlice = createSlice({
  name: 'accounts',
  initialState: initialAccountState,
  reducers: {
    /** Replaces one account (after freeze/unfreeze/close or a balance refresh). */
    accountUpdated(state, action: PayloadAction<Account>) {
      const i = state.items.findIndex((a) => a.id === action.payload.id);
      if (i >= 0) state.items[i] = action.payload;
      else state.items.push(action.payload);
    },
    balanceUpdated(state, action: PayloadAction<{ account_id: string; balance: string; available_balance: string }>) {
      const acc = state.items.find((a) => a.id === action.payload.account_id);
      if (acc) {
        acc.balance = action.payload.balance;
        acc.available_balance = action.payload.available_balance;
      }
    },
  },
  extraReducers: (b) => {
    b.addCase(fetchAccounts.pending, (s) => {
      s.status = 'loading';
      s.error = null;
    })
      .addCase(fetchAccounts.fulfilled, (s, a) => {
        s.status = 'succeeded';
        s.items = a.payload;
      })
      .addCase(fetchAccounts.rejected, (s, a) => {
        s.status = 'failed';
        s.error = a.payload ?? 'Could not load accounts';
      })
      .addCase(openAccount.fulfilled, (s, a) => {
        s.items.push(a.payload);
      })
      .addCase(logout.fulfilled, () => initialAccountState)
      .addCase(sessionExpired, () => initialAccountState);
  },
});

export const { accountUpdated, balanceUpdated } = accountSlice.actions;
export default accountSlice.reducer;
