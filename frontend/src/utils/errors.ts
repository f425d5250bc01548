import { isAxiosError } from 'axios';
import type { Problem } from '../types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  constructor(problem: Problem, status: number) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code ?? (status === 0 ? 'network_error' : `http_${status}`);
    this.problem = problem;
  }
}

/** Shown for `mfa_enrolment_required`; `ErrorAlert` sends the user to enrol instead of showing it. */
export const MFA_ENROLMENT_MESSAGE = 'Staff accounts must turn on two-factor authentication (Profile) before using staff functions.';

const MESSAGES: Record<string, string> = {
  validation_error: 'Some fields are invalid. Please check and try again.',
  unauthorized: 'Your session has expired. Please sign in again.',
  mfa_required: 'Enter the 6-digit code from your authenticator app.',
  mfa_enrolment_required: MFA_ENROLMENT_MESSAGE,
  email_unverified: 'Verify your email address first: enter the code we emailed you.',
  forbidden: 'You do not have permission to do that.',
  not_found: 'Not found.',
  conflict: 'That conflicts with the current state. Refresh and try again.',
  insufficient_funds: 'Insufficient funds: the available balance is lower than the amount.',
  account_frozen: 'This account is frozen. Transfers from or to it are refused. Contact support.',
  account_closed: 'This account is closed.',
  idempotency_conflict: 'This request was already sent with different details. Start a new transfer.',
  kyc_required: 'Your identity verification (KYC) must be approved first.',
  rate_limited: 'Too many requests. Please wait a moment and try again.',
  fraud_blocked: 'This transfer was blocked by our fraud checks. Contact support if this is unexpected.',
  currency_mismatch: 'The accounts use different currencies.',
  same_account: 'Choose two different accounts.',
  network_error: 'Cannot reach the server. Check your connection and try again.',
};

/** A human message for an error, keeping the server's detail when it adds information. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    const base = MESSAGES[err.code];
    if (base && err.problem.detail && !base.includes(err.problem.detail) && err.code === 'validation_error') {
      return `${base} ${err.problem.detail}`;
    }
    return base ?? err.message;
  }
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export function errorCode(err: unknown): string | undefined {
  return err instanceof ApiError ? err.code : undefined;
}

/** Converts whatever axios throws into an ApiError carrying the problem+json body. */
export function toApiError(err: unknown): ApiError | unknown {
  if (err instanceof ApiError) return err;
  if (isAxiosError(err)) {
    if (!err.response) return new ApiError({ title: 'Network error', code: 'network_error' }, 0);
    const data = err.response.data as unknown;
    let problem: Problem = {};
    if (data && typeof data === 'object' && !(typeof Blob !== 'undefined' && data instanceof Blob)) {
      problem = data as Problem;
    } else if (typeof data === 'string' && data.trim().startsWith('{')) {
      try {
        problem = JSON.parse(data) as Problem;
      } catch {
        problem = {};
      }
    }
    return new ApiError({ status: err.response.status, ...problem }, err.response.status);
  }
  return err;
}
