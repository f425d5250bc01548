//! Plain JavaScript objects in and out (camelCase fields). Amounts are decimal strings at
//! the currency's scale, ids UUID strings, timestamps RFC 3339 strings in UTC.

use std::collections::HashMap;

use bankflow_core as core;
use napi_derive::napi;

use crate::convert::ts;
use rust_decimal::Decimal;

/// A limit at its currency's scale ("500" → "500.00"), as every amount the engine returns.
fn at_scale(d: Decimal, currency: core::Currency) -> Decimal {
    core::Money::new(d, currency)
        .map(|m| m.amount())
        .unwrap_or(d)
}

/// A customer account.
#[napi(object)]
pub struct Account {
    pub id: String,
    pub account_number: String,
    pub customer_id: String,
    /// `CHECKING` or `SAVINGS`.
    pub account_type: String,
    pub currency: String,
    pub balance: String,
    pub available_balance: String,
    pub held: String,
    pub overdraft_limit: String,
    pub daily_limit: Option<String>,
    /// `ACTIVE`, `FROZEN` or `CLOSED`.
    pub status: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub version: i64,
}

impl From<core::Account> for Account {
    fn from(a: core::Account) -> Self {
        Account {
            id: a.id.to_string(),
            account_number: a.account_number.as_str().to_string(),
            customer_id: a.customer_id.to_string(),
            account_type: a.account_type.as_str().to_string(),
            currency: a.currency.code().to_string(),
            balance: a.balance_money().amount().to_string(),
            available_balance: a.available_money().amount().to_string(),
            held: at_scale(a.held, a.currency).to_string(),
            overdraft_limit: at_scale(a.overdraft_limit, a.currency).to_string(),
            daily_limit: a.daily_limit.map(|d| at_scale(d, a.currency).to_string()),
            status: a.status.as_str().to_string(),
            opened_at: ts(a.opened_at),
            closed_at: a.closed_at.map(ts),
            version: a.version,
        }
    }
}

/// A transaction (the read model folded from its events).
#[napi(object)]
pub struct Transaction {
    pub id: String,
    pub reference: String,
    pub from_account_id: Option<String>,
    pub to_account_id: Option<String>,
    pub amount: String,
    pub currency: String,
    pub transaction_type: String,
    pub status: String,
    pub description: Option<String>,
    pub failure_code: Option<String>,
    pub reason: Option<String>,
    pub hold_id: Option<String>,
    pub parent_id: Option<String>,
    pub created_at: String,
    pub processed_at: Option<String>,
    pub reversed_at: Option<String>,
}

impl From<core::Transaction> for Transaction {
    fn from(t: core::Transaction) -> Self {
        Transaction {
            id: t.id.to_string(),
            reference: t.transaction_ref.to_string(),
            from_account_id: t.from_account_id.map(|i| i.to_string()),
            to_account_id: t.to_account_id.map(|i| i.to_string()),
            amount: t.amount.amount().to_string(),
            currency: t.amount.currency().code().to_string(),
            transaction_type: t.transaction_type.as_str().to_string(),
            status: t.status.as_str().to_string(),
            description: t.description,
            failure_code: t.failure_code,
            reason: t.reason,
            hold_id: t.hold_id.map(|i| i.to_string()),
            parent_id: t.parent_id.map(|i| i.to_string()),
            created_at: ts(t.created_at),
            processed_at: t.processed_at.map(ts),
            reversed_at: t.reversed_at.map(ts),
        }
    }
}

/// Ledger and available balance read in one snapshot.
#[napi(object)]
pub struct Balance {
    pub account_id: String,
    pub balance: String,
    pub available_balance: String,
    pub currency: String,
}

impl From<core::Balance> for Balance {
    fn from(b: core::Balance) -> Self {
        Balance {
            account_id: b.account_id.to_string(),
            balance: b.balance.amount().to_string(),
            available_balance: b.available_balance.amount().to_string(),
            currency: b.balance.currency().code().to_string(),
        }
    }
}

/// One statement line; `amount` is signed from the account's point of view.
#[napi(object)]
pub struct StatementLine {
    pub transaction_id: String,
    pub posted_at: String,
    pub description: Option<String>,
    pub amount: String,
    pub balance_after: String,
}

/// An account statement for `fromDate <= day <= toDate` (UTC days).
#[napi(object)]
pub struct Statement {
    pub account_id: String,
    pub account_number: String,
    pub currency: String,
    pub from_date: String,
    pub to_date: String,
    pub opening_balance: String,
    pub closing_balance: String,
    pub lines: Vec<StatementLine>,
}

impl From<core::Statement> for Statement {
    fn from(s: core::Statement) -> Self {
        Statement {
            account_id: s.account_id.to_string(),
            account_number: s.account_number.as_str().to_string(),
            currency: s.opening_balance.currency().code().to_string(),
            from_date: s.from.to_string(),
            to_date: s.to.to_string(),
            opening_balance: s.opening_balance.amount().to_string(),
            closing_balance: s.closing_balance.amount().to_string(),
            lines: s
                .entries
                .into_iter()
                .map(|l| StatementLine {
                    transaction_id: l.transaction_id.to_string(),
                    posted_at: ts(l.posted_at),
                    description: l.description,
                    amount: l.amount.amount().to_string(),
                    balance_after: l.balance_after.amount().to_string(),
                })
                .collect(),
        }
    }
}

/// Result of a whole-ledger audit.
#[napi(object)]
pub struct LedgerReport {
    pub accounts_checked: u32,
    /// Sum of customer balances per currency code.
    pub customer_totals: HashMap<String, String>,
}

impl From<core::LedgerReport> for LedgerReport {
    fn from(r: core::LedgerReport) -> Self {
        LedgerReport {
            accounts_checked: u32::try_from(r.accounts_checked).unwrap_or(u32::MAX),
            customer_totals: r
                .customer_totals
                .into_iter()
                .map(|(c, d)| (c.code().to_string(), at_scale(d, c).to_string()))
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------- inputs

/// Options of `Bank.open`.
#[napi(object)]
pub struct OpenOptions {
    /// Accounts open only for KYC-approved customers (default true; the embedding program
    /// itself is exempt).
    pub require_kyc: Option<bool>,
    /// 64 hex digits sealing sensitive fields (SSNs) and KYC documents. Without one a random
    /// key is made per process, and what it sealed is unreadable after a restart.
    pub data_key: Option<String>,
    /// Deliver email over SMTP (other channels stay in memory).
    pub smtp: Option<crate::adapters::SmtpOptions>,
    /// Keep KYC documents in an S3 bucket, encrypted:
    /// `s3://BUCKET[/PREFIX]?endpoint=URL&region=R&allow_http=true` (credentials from
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`).
    pub documents_url: Option<String>,
}

/// Who a handle acts as (see `Bank.actingAs`).
#[napi(object)]
pub struct ActorOptions {
    pub user_id: Option<String>,
    pub customer_id: Option<String>,
    /// `customer` (default), `admin`, `support`.
    pub roles: Option<Vec<String>>,
}

/// Request context for fraud rules and the audit log.
#[napi(object)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub device_id: Option<String>,
    pub email: Option<String>,
    pub counterparty: Option<String>,
}

/// Options of `openAccount`.
#[napi(object)]
pub struct OpenAccountOptions {
    /// `CHECKING` (default) or `SAVINGS`.
    pub account_type: Option<String>,
    /// ISO 4217 code (default `USD`).
    pub currency: Option<String>,
    pub overdraft_limit: Option<String>,
    pub daily_limit: Option<String>,
}

/// Paging of `listAccounts`.
#[napi(object)]
pub struct ListOptions {
    pub after: Option<String>,
    /// 1..=100 (default 50).
    pub limit: Option<u32>,
}

/// Options of `setLimits`.
#[napi(object)]
pub struct LimitsOptions {
    pub overdraft_limit: String,
    pub daily_limit: Option<String>,
}

/// Options of `deposit` / `withdraw`.
#[napi(object)]
pub struct BookingOptions {
    pub idempotency_key: String,
    pub currency: Option<String>,
    pub description: Option<String>,
}

/// Options of `transfer` / `transferPending`.
#[napi(object)]
pub struct TransferOptions {
    pub idempotency_key: String,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub context: Option<RequestContext>,
    /// `transferPending` only: when the hold lapses (RFC 3339; default: the engine's TTL).
    pub expires_at: Option<String>,
}

/// Options of `postPending`.
#[napi(object)]
pub struct PostOptions {
    pub idempotency_key: String,
    /// Amount to post (≤ reserved; default all of it).
    pub amount: Option<String>,
    pub currency: Option<String>,
}

/// Options carrying only an idempotency key.
#[napi(object)]
pub struct KeyOptions {
    pub idempotency_key: String,
}

/// Options of `reverse`.
#[napi(object)]
pub struct ReverseOptions {
    pub reason: String,
    pub idempotency_key: String,
}

/// One transfer of a linked batch.
#[napi(object)]
pub struct BatchItem {
    pub from_account_id: String,
    /// Account id or account number.
    pub to: String,
    pub amount: String,
    pub currency: Option<String>,
    pub description: Option<String>,
}

/// One transfer of `submitTransfers`: a batch item with its own idempotency key.
#[napi(object)]
pub struct SubmitItem {
    pub from_account_id: String,
    /// Account id or account number.
    pub to: String,
    pub amount: String,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub idempotency_key: String,
}

/// The refusal of one submitted transfer, as a value (the others were not affected).
#[napi(object)]
pub struct TransferRefusal {
    /// The engine's stable error code, as on a rejected promise.
    pub code: String,
    pub message: String,
    /// The offending field of a validation error.
    pub field: Option<String>,
}

/// The outcome of one submitted transfer: exactly one of `transaction` and `error` is set.
#[napi(object)]
pub struct TransferOutcome {
    pub transaction: Option<Transaction>,
    pub error: Option<TransferRefusal>,
}

impl From<bankflow_core::BankResult<bankflow_core::Transaction>> for TransferOutcome {
    fn from(r: bankflow_core::BankResult<bankflow_core::Transaction>) -> Self {
        match r {
            Ok(t) => TransferOutcome {
                transaction: Some(t.into()),
                error: None,
            },
            Err(e) => TransferOutcome {
                transaction: None,
                error: Some(TransferRefusal {
                    code: e.code().to_string(),
                    message: e.to_string(),
                    field: match &e {
                        bankflow_core::BankError::Validation { field, .. } => Some(field.clone()),
                        _ => None,
                    },
                }),
            },
        }
    }
}

/// Options of `transferBatch`.
#[napi(object)]
pub struct BatchOptions {
    pub idempotency_key: String,
    pub context: Option<RequestContext>,
}

/// A history position: pass the last transaction of a page to get the next one.
#[napi(object)]
pub struct HistoryCursor {
    pub created_at: String,
    pub id: String,
}

/// Filters and paging of `history` (newest first).
#[napi(object)]
pub struct HistoryQuery {
    pub account_id: Option<String>,
    /// Created at or after (RFC 3339).
    pub since: Option<String>,
    /// Created before (RFC 3339).
    pub until: Option<String>,
    pub transaction_type: Option<String>,
    pub status: Option<String>,
    pub min_amount: Option<String>,
    pub max_amount: Option<String>,
    pub after: Option<HistoryCursor>,
    /// 1..=100 (default 50).
    pub limit: Option<u32>,
}
