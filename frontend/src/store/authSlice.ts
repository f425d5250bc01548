import { createAsyncThunk, createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { authService } from '../services/authService';
import type { User } from '../types';
import { ApiError, errorMessage } from '../utils/errors';

export type AuthStatus = 'anonymous' | 'loading' | 'authenticated';

export interface AuthState {
  user: User | null;
  status: AuthStatus;
  error: string | null;
  /** Set when the server answered `mfa_required`: the login form then asks for the code. */
  mfaRequired: boolean;
}

export const initialAuthState: AuthState = { user: null, status: 'anonymous', error: null, mfaRequired: false };

export const login = createAsyncThunk<User, { email: string; password: string; mfa_code?: string }, { rejectValue: { message: string; code?: string } }>(
  'auth/login',
  async (creds, { rejectWithValue }) => {
    try {
      await authService.login(creds);
      return await authService.me();
    } catch (e) {
      const code = e instanceof ApiError ? e.code : undefined;
      // The server answers a failed sign-in with the engine's generic `unauthorized`
      // (it never says whether the email or the password was wrong), so login has its own message.
      const message = code === 'unauthorized' ? LOGIN_FAILED : errorMessage(e);
      return rejectWithValue({ message, code });
    }
  },
);

export const LOGIN_FAILED = 'Email, password or authentication code is incorrect.';

export const fetchMe = createAsyncThunk<User, void, { rejectValue: string }>('auth/me', async (_, { rejectWithValue }) => {
  try {
    return await authService.me();
  } catch (e) {
    return rejectWithValue(errorMessage(e));
  }
});

export const logout = createAsyncThunk('auth/logout', async () => {
  try {
    await authService.logout();
  } catch {
    // the local session is dropped whatever the server says
  }
});

const authSlice = createSlice({
  name: 'auth',
  initialState: initialAuthState,
  reducers: {
    sessionExpired(state) {
      state.user = null;
      state.status = 'anonymous';
      state.mfaRequired = false;
      state.error = 'Your session has expired. Please sign in again.';
    },
    setCustomerId(state, action: PayloadAction<string>) {
      if (state.user) state.user.customer_id = action.payload;
    },
    clearAuthError(state) {
      state.error = null;
    },
  },
  extraReducers: (b) => {
    b.addCase(login.pending, (s) => {
      s.status = 'loading';
      s.error = null;
    })
      .addCase(login.fulfilled, (s, a) => {
        s.status = 'authenticated';
        s.user = a.payload;
        s.mfaRequired = false;
        s.error = null;
      })
      .addCase(login.rejected, (s, a) => {
        s.status = 'anonymous';
        s.user = null;
        const code = a.payload?.code;
        if (code === 'mfa_required') {
          s.mfaRequired = true;
          s.error = null;
        } else {
          s.error = a.payload?.message ?? 'Sign-in failed';
        }
      })
      .addCase(fetchMe.fulfilled, (s, a) => {
        s.user = a.payload;
        s.status = 'authenticated';
      })
      .addCase(logout.fulfilled, () => initialAuthState);
  },
});

export const { sessionExpired, setCustomerId, clearAuthError } = authSlice.actions;
export default authSlice.reducer;
