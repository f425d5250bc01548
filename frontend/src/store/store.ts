import { combineReducers, configureStore } from '@reduxjs/toolkit';
import accounts from './accountSlice';
import auth from './authSlice';
import notifications from './notificationSlice';
import transactions from './transactionSlice';

export const rootReducer = combineReducers({ auth, accounts, transactions, notifications });

export type RootState = ReturnType<typeof rootReducer>;

export function makeStore(preloadedState?: Partial<RootState>) {
  return configureStore({ reducer: rootReducer, preloadedState });
}

export const store = makeStore();
export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
