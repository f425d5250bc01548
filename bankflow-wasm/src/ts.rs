//! TypeScript declarations for the JSON shapes in [`crate::dto`], appended to the generated
//! `bankflow_wasm.d.ts`. wasm-bindgen types `JsValue` as `any`; these give the sandbox's
//! bodies and results real types. Field names and optionality follow the DTO structs; the
//! tests below keep the error-code union in step with the engine.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_SECTION: &str = TS_TYPES;

/// The declarations (a plain const too, so the tests can read them).
pub const TS_TYPES: &str = r#"
/** A decimal amount as a string ("100.00"); never a JS number. */
export type Decimal = string;
/** A UUID string. */
export type Id = string;
/** An RFC 3339 time ("2026-01-15T10:00:00Z"). */
export type Timestamp = string;

/** Every `code` an error from this package can carry (the engine's stable codes). */
export type BankflowErrorCode =
  | "validation_error" | "not_found" | "unauthorized" | "forbidden" | "currency_mismatch"
  | "insufficient_funds" | "account_frozen" | "account_closed" | "daily_limit_exceeded"
  | "account_not_empty" | "idempotency_conflict" | "invalid_state" | "already_reversed"
  | "conflict" | "kyc_required" | "fraud_blocked" | "account_locked" | "mfa_required"
  | "mfa_enrolment_required" | "email_unverified"
  | "rate_limited" | "limit_exceeded" | "transient" | "overloaded" | "approval_required"
  | "internal_error" | "invariant_violated";

/** What every function and rejected Promise of this package throws. */
export interface BankflowError extends Error {
  name: "BankflowError";
  code: BankflowErrorCode;
  /** The offending input, for `validation_error`. */
  field?: string;
}

export interface CurrencyInfo { code: string; minor_units: number }

export interface SandboxOptions {
  /** Non-negative integer: same seed and script, same ids and account numbers. */
  seed?: number;
  /** Freezes the clock at this RFC 3339 time; move it with `advanceTime`. */
  start_time?: Timestamp;
}

export interface Account {
  id: Id;
  account_number: string;
  customer_id: Id;
  account_type: "CHECKING" | "SAVINGS";
  currency: string;
  balance: Decimal;
  available_balance: Decimal;
  overdraft_limit: Decimal;
  daily_limit: Decimal | null;
  status: "ACTIVE" | "FROZEN" | "CLOSED";
  opened_at: Timestamp;
  closed_at: Timestamp | null;
}

export interface OpenAccountBody {
  account_type: "CHECKING" | "SAVINGS";
  /** Default USD. */
  currency?: string;
  /** Default: a fresh customer id. */
  customer_id?: Id;
  overdraft_limit?: Decimal;
  daily_limit?: Decimal;
}

export interface Balance { account_id: Id; balance: Decimal; available_balance: Decimal; currency: string }

export type TransactionStatus = "PENDING" | "REVIEW" | "COMPLETED" | "FAILED" | "REVERSED" | "VOIDED" | "EXPIRED";

export interface Transaction {
  id: Id;
  transaction_ref: string;
  from_account_id: Id | null;
  to_account_id: Id | null;
  amount: Decimal;
  currency: string;
  transaction_type: string;
  status: TransactionStatus;
  description: string | null;
  failure_code: BankflowErrorCode | null;
  reason: string | null;
  parent_id: Id | null;
  created_at: Timestamp;
  processed_at: Timestamp | null;
  reversed_at: Timestamp | null;
}

export interface TransactionPage { items: Transaction[]; next_cursor: string | null }

export interface BookingBody {
  account_id: Id;
  amount: Decimal;
  currency: string;
  description?: string;
  idempotency_key: string;
}

export interface TransferBody {
  from_account_id: Id;
  /** Exactly one of `to_account_id` and `to_account_number`. */
  to_account_id?: Id;
  to_account_number?: string;
  amount: Decimal;
  currency: string;
  description?: string;
  idempotency_key: string;
}

/** One outcome of `submitTransfers`: exactly one of the two is present. */
export type SubmitOutcome =
  | { transaction: Transaction; error?: undefined }
  | { transaction?: undefined; error: { code: string; message: string; field?: string } };

export interface PendingTransferBody extends TransferBody {
  /** Default: the engine's hold TTL (7 days). */
  expires_at?: Timestamp;
}

export interface PostPendingBody {
  transaction_id: Id;
  /** Post less than reserved: give amount and currency together. */
  amount?: Decimal;
  currency?: string;
  idempotency_key: string;
}

export interface VoidPendingBody { transaction_id: Id; idempotency_key: string }

export interface ReverseBody { transaction_id: Id; reason: string; idempotency_key: string }

export interface HistoryParams {
  account_id?: Id;
  /** YYYY-MM-DD or RFC 3339, inclusive. */
  from?: string;
  /** YYYY-MM-DD (through that day) or RFC 3339 (exclusive). */
  to?: string;
  type?: string;
  status?: TransactionStatus;
  min_amount?: Decimal;
  max_amount?: Decimal;
  /** 1..=100, default 20. */
  limit?: number;
  cursor?: string;
}

export interface StatementLine {
  transaction_id: Id;
  posted_at: Timestamp;
  description: string | null;
  amount: Decimal;
  balance_after: Decimal;
}

export interface Statement {
  account_id: Id;
  account_number: string;
  currency: string;
  from: string;
  to: string;
  opening_balance: Decimal;
  closing_balance: Decimal;
  entries: StatementLine[];
}

export interface LedgerReport {
  accounts_checked: number;
  customer_totals: { currency: string; total: Decimal }[];
}

export type FraudAction = "ALLOW" | "REVIEW" | "BLOCK";

export interface FraudDecision {
  score: number;
  risk_level: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
  action: FraudAction;
  flags: string[];
}

export interface AnalyzeBody {
  from_account_id: Id;
  to_account_id?: Id;
  to_account_number?: string;
  counterparty?: string;
  amount: Decimal;
  currency: string;
  ip?: string;
  device_id?: string;
  user_agent?: string;
  email?: string;
}

export type RuleType =
  | "AMOUNT_THRESHOLD" | "VELOCITY_COUNT" | "VELOCITY_AMOUNT" | "BLACKLIST_HIT"
  | "NEW_ACCOUNT_LARGE_TRANSFER" | "FIRST_TIME_PAYEE_LARGE_TRANSFER";

export interface FraudRule {
  id: Id;
  rule_name: string;
  rule_type: RuleType;
  conditions: Record<string, unknown>;
  action: FraudAction;
  priority: number;
  is_active: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NewFraudRule {
  rule_name: string;
  rule_type: RuleType;
  conditions: Record<string, unknown>;
  action: FraudAction;
  priority?: number;
  is_active?: boolean;
}

export type ListEntryType = "ACCOUNT" | "COUNTERPARTY" | "EMAIL" | "EMAIL_DOMAIN" | "IP" | "DEVICE";

export interface ListEntryBody { list: "BLACK" | "WHITE"; list_type: ListEntryType; value: string; reason?: string }

export interface ListEntry {
  id: Id;
  list: "BLACK" | "WHITE";
  list_type: ListEntryType;
  value: string;
  reason: string | null;
  created_at: Timestamp;
}
"#;

#[cfg(test)]
mod tests {
    use bankflow_core::fraud::{ListEntryType, RuleType};
    use bankflow_core::BankError;

    use super::TS_TYPES;

    fn union_of(name: &str) -> Vec<String> {
        let start = TS_TYPES
            .find(&format!("export type {name} ="))
            .expect("type declared");
        let body = &TS_TYPES[start..];
        let body = &body[..body.find(';').expect("type ends")];
        body.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn error_code_union_is_exactly_the_engines_codes() {
        let mut ts = union_of("BankflowErrorCode");
        let mut engine: Vec<String> = BankError::ALL_CODES.iter().map(|c| c.to_string()).collect();
        ts.sort();
        engine.sort();
        assert_eq!(ts, engine);
    }

    #[test]
    fn enum_unions_parse_in_the_engine() {
        let rule_types = union_of("RuleType");
        assert_eq!(rule_types.len(), 6);
        for t in rule_types {
            RuleType::parse(&t).unwrap();
        }
        for t in union_of("ListEntryType") {
            ListEntryType::parse(&t).unwrap();
        }
    }
}
