/** Types mirror the HTTP API contract (see ../../API_ENDPOINTS.md). Amounts are decimal strings. */

export type Uuid = string;
/** A decimal amount as sent by the server, e.g. "100.00". Never a float. */
export type Amount = string;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface User {
  id: Uuid;
  email: string;
  phone: string | null;
  roles: string[];
  customer_id: Uuid | null;
  is_verified: boolean;
  mfa_enabled: boolean;
}

export interface RegisteredUser {
  id: Uuid;
  email: string;
  phone: string | null;
  is_verified: boolean;
  roles: string[];
}

export interface Session {
  id: Uuid;
  created_at: string;
  expires_at: string;
  user_agent?: string | null;
  ip?: string | null;
  current?: boolean;
}

export type KycStatus = 'PENDING' | 'SUBMITTED' | 'APPROVED' | 'REJECTED';

export interface CustomerInput {
  first_name: string;
  last_name: string;
  date_of_birth: string;
  ssn?: string;
  address_line1: string;
  address_line2?: string;
  city: string;
  state: string;
  zip_code: string;
  country: string;
}

export interface Customer extends Omit<CustomerInput, 'ssn'> {
  id: Uuid;
  user_id: Uuid;
  email?: string | null;
  ssn_last4?: string | null;
  kyc_status: KycStatus;
  kyc_verified_at?: string | null;
  kyc_rejection_reason?: string | null;
  created_at?: string;
  updated_at?: string;
}

export interface KycStatusResponse {
  kyc_status: KycStatus;
  kyc_verified_at?: string | null;
  reason?: string | null;
}

export type DocumentType = 'PASSPORT' | 'DRIVERS_LICENSE' | 'NATIONAL_ID' | 'UTILITY_BILL' | 'BANK_STATEMENT';

export interface KycDocument {
  id: Uuid;
  document_type: DocumentType | string;
  status: string;
  uploaded_at: string;
  content_type?: string | null;
  file_name?: string | null;
}

export type AccountType = 'CHECKING' | 'SAVINGS';
export type AccountStatus = 'ACTIVE' | 'FROZEN' | 'CLOSED';

export interface Account {
  id: Uuid;
  account_number: string;
  customer_id: Uuid;
  account_type: AccountType;
  currency: string;
  balance: Amount;
  available_balance: Amount;
  status: AccountStatus;
  opened_at: string;
  closed_at?: string | null;
}

export interface Balance {
  account_id: Uuid;
  balance: Amount;
  available_balance: Amount;
  currency: string;
}

export interface StatementEntry {
  transaction_id: Uuid;
  posted_at: string;
  description: string | null;
  amount: Amount;
  balance_after: Amount;
}

export interface Statement {
  account_id: Uuid;
  from: string;
  to: string;
  opening_balance: Amount;
  closing_balance: Amount;
  entries: StatementEntry[];
}

export type TransactionType = 'DEPOSIT' | 'WITHDRAWAL' | 'TRANSFER' | 'PAYMENT' | 'REVERSAL' | 'FEE';
export type TransactionStatus = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'REVERSED' | 'REVIEW' | 'REJECTED';

export interface Transaction {
  id: Uuid;
  transaction_ref: string;
  from_account_id: Uuid | null;
  to_account_id: Uuid | null;
  amount: Amount;
  currency: string;
  transaction_type: TransactionType | string;
  status: TransactionStatus | string;
  description: string | null;
  created_at: string;
  processed_at: string | null;
  reversed_at?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface TransferRequest {
  from_account_id: Uuid;
  to_account_id?: Uuid;
  to_account_number?: string;
  amount: Amount;
  currency: string;
  description?: string;
}

/** How money leaves the bank: a bill payment, or an ACH transfer / wire (`/transactions/external`). */
export type PaymentRail = 'PAYMENT' | 'ACH' | 'WIRE';

export interface PaymentRequest {
  rail?: PaymentRail;
  from_account_id: Uuid;
  payee_name: string;
  payee_account_number: string;
  payee_reference?: string;
  amount: Amount;
  currency: string;
  description?: string;
}

export interface DepositRequest {
  account_id: Uuid;
  amount: Amount;
  currency: string;
  description?: string;
}

export type Frequency = 'ONCE' | 'DAILY' | 'WEEKLY' | 'MONTHLY';

export interface ScheduledTransferRequest {
  from_account_id: Uuid;
  to_account_id?: Uuid;
  to_account_number?: string;
  amount: Amount;
  currency: string;
  description?: string;
  frequency: Frequency;
  /** First run, RFC 3339. */
  start_at: string;
  /** No run after this instant, RFC 3339. */
  end_at?: string;
}

export interface ScheduledTransfer {
  id: Uuid;
  customer_id: Uuid;
  from_account_id: Uuid;
  to_account_id: Uuid;
  amount: Amount;
  currency: string;
  description: string | null;
  frequency: Frequency;
  start_at: string;
  end_at: string | null;
  next_run_at: string;
  occurrence: number;
  status: 'ACTIVE' | 'CANCELLED' | 'COMPLETED';
  last_transaction_id: Uuid | null;
  last_status: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface TransactionFilters {
  from?: string;
  to?: string;
  type?: string;
  status?: string;
  min_amount?: string;
  max_amount?: string;
  q?: string;
  account_id?: string;
  limit?: number;
  cursor?: string | null;
}

export interface AppNotification {
  id: Uuid;
  user_id: Uuid;
  type: string;
  channel: string;
  subject: string | null;
  body: string;
  status: string;
  read_at: string | null;
  created_at: string;
  metadata?: Record<string, unknown> | null;
}

export interface NotificationPreferences {
  email_enabled: boolean;
  sms_enabled: boolean;
  push_enabled: boolean;
  in_app_enabled: boolean;
}

export interface MfaSetup {
  secret: string;
  otpauth_url: string;
}

export type FraudCaseStatus = 'OPEN' | 'RELEASED' | 'REJECTED';

export interface FraudCase {
  id: Uuid;
  transaction_id: Uuid | null;
  account_id: Uuid | null;
  fraud_score: string;
  risk_level: string;
  flags: string[] | Record<string, unknown> | null;
  status: FraudCaseStatus | string;
  amount?: Amount | null;
  currency?: string | null;
  created_at: string;
  resolved_at: string | null;
}

export interface FraudRuleInput {
  rule_name: string;
  rule_type: string;
  conditions: Record<string, unknown>;
  action: 'ALLOW' | 'REVIEW' | 'BLOCK' | string;
  priority: number;
  is_active: boolean;
}

export interface FraudRule extends FraudRuleInput {
  id: Uuid;
  created_at: string;
}

export type ListKind = 'whitelist' | 'blacklist';

export interface FraudListEntry {
  id: Uuid;
  list_type: string;
  value: string;
  created_at: string;
}

/** `GET /admin/overview`: figures over capped scans (`truncated` says a cap was hit). */
export interface AdminOverview {
  accounts_total: number;
  accounts_frozen: number;
  totals: { currency: string; balance: Amount; accounts: number }[];
  pending_kyc: number;
  open_fraud_cases: number;
  volume_by_day: { date: string; currency: string; count: number; amount: Amount }[];
  transactions_by_status: { status: string; count: number }[];
  transactions_scanned: number;
  truncated: boolean;
  generated_at: string;
}

export interface AuditEntry {
  id: Uuid;
  seq: number;
  occurred_at: string;
  actor_id: Uuid | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  details?: Record<string, unknown> | null;
  hash: string;
  prev_hash: string | null;
}

export interface AuditVerification {
  valid: boolean;
  checked: number;
  first_invalid_seq: number | null;
}

export interface KycQueueItem extends Customer {
  submitted_at?: string | null;
  documents?: KycDocument[];
}
