//! The JSON shapes that cross the JS boundary. They mirror the HTTP server's DTOs field for
//! field (snake_case names, amounts as decimal strings next to their ISO 4217 code), so a
//! frontend can swap the sandbox for the real server without touching its models.
//!
//! Inputs are parsed here into engine types (parse, don't validate): every rule lives in
//! bankflow-core, this module only translates.

use bankflow_core::account::AccountNumber;
use bankflow_core::idempotency::IdempotencyKey;
use bankflow_core::ids::{AccountId, CustomerId, TransactionId};
use bankflow_core::transaction::PAGE_LIMIT_MAX;
use bankflow_core::{
    Account, AccountType, Balance, BankError, BankResult, BookingRequest, Currency, Destination,
    Money, OpenAccountRequest, Transaction, TransactionQuery, TransactionStatus, TransactionType,
    TransferItem,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// History page size when the caller gives none (the server's default).
pub const PAGE_LIMIT_DEFAULT: u32 = 20;

pub(crate) fn money_str(m: &Money) -> String {
    m.amount().to_string()
}

pub(crate) fn positive_money(amount: &str, currency: &str) -> BankResult<Money> {
    Money::parse_positive(amount, Currency::parse(currency)?)
}

pub(crate) fn parse_decimal(field: &str, s: &str) -> BankResult<Decimal> {
    Decimal::from_str_exact(s.trim())
        .map_err(|_| BankError::validation(field, format!("{s:?} is not a decimal")))
}

pub(crate) fn key(s: &str) -> BankResult<IdempotencyKey> {
    IdempotencyKey::parse(s)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(field: &str, s: &str) -> BankResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| BankError::validation(field, "expected YYYY-MM-DD"))
}

/// Parses an RFC 3339 instant, or `YYYY-MM-DD` as the start of that day (or, with
/// `end_of_day`, the start of the next day: the server's inclusive-day convention).
pub fn parse_instant(field: &str, s: &str, end_of_day: bool) -> BankResult<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = if end_of_day {
            d.succ_opt()
                .ok_or_else(|| BankError::validation(field, "out of range"))?
        } else {
            d
        };
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| BankError::validation(field, "expected YYYY-MM-DD or an RFC 3339 time"))
}

/// Parses a JSON document into `T`, reporting shape errors (unknown field, a number where
/// a decimal string is expected...) as validation errors on `what`.
pub fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> BankResult<T> {
    serde_json::from_str(json).map_err(|e| BankError::validation(what, e.to_string()))
}

// ------------------------------------------------------------------------- sandbox options

/// `new SandboxBank(options)`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxOptions {
    /// Seed of the id generator: the same seed and the same script give the same ids and
    /// account numbers. Default: 64 bits from `crypto.getRandomValues`.
    pub seed: Option<u64>,
    /// Freezes the clock at this RFC 3339 instant; it then moves only by `advanceTime`.
    /// Default: the live clock (`Date.now()`).
    pub start_time: Option<String>,
}

// ------------------------------------------------------------------------- accounts

/// A customer account (the server's `AccountDto`).
#[derive(Debug, Clone, Serialize)]
pub struct AccountDto {
    /// Account id.
    pub id: Uuid,
    /// 12-digit account number (the last digit is a Luhn check digit).
    pub account_number: String,
    /// Owner.
    pub customer_id: Uuid,
    /// CHECKING or SAVINGS.
    pub account_type: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Ledger balance (sum of postings).
    pub balance: String,
    /// Balance minus active holds.
    pub available_balance: String,
    /// Overdraft allowed below zero.
    pub overdraft_limit: String,
    /// Daily outgoing limit, if any.
    pub daily_limit: Option<String>,
    /// ACTIVE, FROZEN or CLOSED.
    pub status: String,
    /// Opening time.
    pub opened_at: DateTime<Utc>,
    /// Closing time.
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<Account> for AccountDto {
    fn from(a: Account) -> AccountDto {
        AccountDto {
            id: a.id.0,
            account_number: a.account_number.to_string(),
            customer_id: a.customer_id.0,
            account_type: a.account_type.as_str().to_string(),
            currency: a.currency.code().to_string(),
            balance: money_str(&a.balance_money()),
            available_balance: money_str(&a.available_money()),
            overdraft_limit: a.overdraft_limit.to_string(),
            daily_limit: a.daily_limit.map(|d| d.to_string()),
            status: a.status.as_str().to_string(),
            opened_at: a.opened_at,
            closed_at: a.closed_at,
        }
    }
}

/// `openAccount(body)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAccountBody {
    /// CHECKING or SAVINGS.
    pub account_type: String,
    /// ISO 4217 code (default USD, as on the server).
    pub currency: Option<String>,
    /// Owner; default a fresh customer id (the sandbox has no KYC).
    pub customer_id: Option<String>,
    /// Overdraft (checking only).
    pub overdraft_limit: Option<String>,
    /// Daily outgoing limit.
    pub daily_limit: Option<String>,
}

impl OpenAccountBody {
    /// The engine request; `fresh_customer` names the owner when the body does not.
    pub fn into_domain(self, fresh_customer: CustomerId) -> BankResult<OpenAccountRequest> {
        Ok(OpenAccountRequest {
            customer_id: match self.customer_id.as_deref() {
                Some(c) => CustomerId::parse(c)?,
                None => fresh_customer,
            },
            account_type: AccountType::parse(&self.account_type)?,
            currency: match self.currency.as_deref() {
                Some(c) => Currency::parse(c)?,
                None => Currency::USD,
            },
            overdraft_limit: self
                .overdraft_limit
                .as_deref()
                .map(|s| parse_decimal("overdraft_limit", s))
                .transpose()?,
            daily_limit: self
                .daily_limit
                .as_deref()
                .map(|s| parse_decimal("daily_limit", s))
                .transpose()?,
        })
    }
}

/// Ledger and available balance read together (the server's `BalanceDto`).
#[derive(Debug, Clone, Serialize)]
pub struct BalanceDto {
    /// Account.
    pub account_id: Uuid,
    /// Ledger balance.
    pub balance: String,
    /// Balance minus holds.
    pub available_balance: String,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<Balance> for BalanceDto {
    fn from(b: Balance) -> BalanceDto {
        BalanceDto {
            account_id: b.account_id.0,
            balance: money_str(&b.balance),
            available_balance: money_str(&b.available_balance),
            currency: b.balance.currency().code().to_string(),
        }
    }
}

// ------------------------------------------------------------------------- transactions

/// A transaction (the server's `TransactionDto`).
#[derive(Debug, Clone, Serialize)]
pub struct TransactionDto {
    /// Id.
    pub id: Uuid,
    /// Human-facing reference.
    pub transaction_ref: String,
    /// Debited account.
    pub from_account_id: Option<Uuid>,
    /// Credited account.
    pub to_account_id: Option<Uuid>,
    /// Amount.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// DEPOSIT, WITHDRAWAL, TRANSFER, ...
    pub transaction_type: String,
    /// PENDING, REVIEW, COMPLETED, FAILED, REVERSED, VOIDED, EXPIRED.
    pub status: String,
    /// Free text.
    pub description: Option<String>,
    /// Stable error code when FAILED.
    pub failure_code: Option<String>,
    /// Failure, void or reversal reason.
    pub reason: Option<String>,
    /// Reversal ↔ reversed transaction link.
    pub parent_id: Option<Uuid>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// When money moved or the refusal was decided.
    pub processed_at: Option<DateTime<Utc>>,
    /// When it was reversed.
    pub reversed_at: Option<DateTime<Utc>>,
}

impl From<Transaction> for TransactionDto {
    fn from(t: Transaction) -> TransactionDto {
        TransactionDto {
            id: t.id.0,
            transaction_ref: t.transaction_ref.to_string(),
            from_account_id: t.from_account_id.map(|a| a.0),
            to_account_id: t.to_account_id.map(|a| a.0),
            amount: money_str(&t.amount),
            currency: t.amount.currency().code().to_string(),
            transaction_type: t.transaction_type.as_str().to_string(),
            status: t.status.as_str().to_string(),
            description: t.description,
            failure_code: t.failure_code,
            reason: t.reason,
            parent_id: t.parent_id.map(|p| p.0),
            created_at: t.created_at,
            processed_at: t.processed_at,
            reversed_at: t.reversed_at,
        }
    }
}

/// `deposit(body)` / `withdraw(body)`: a teller booking against the cash account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    /// Customer account.
    pub account_id: String,
    /// Positive decimal string.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Free text.
    pub description: Option<String>,
    /// Idempotency key (the server takes it from the `Idempotency-Key` header).
    pub idempotency_key: String,
}

impl BookingBody {
    /// The engine request.
    pub fn into_domain(self) -> BankResult<BookingRequest> {
        Ok(BookingRequest {
            account_id: AccountId::parse(&self.account_id)?,
            amount: positive_money(&self.amount, &self.currency)?,
            description: self.description,
            idempotency_key: key(&self.idempotency_key)?,
        })
    }
}

/// `transfer(body)` / `transferPending(body)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// Debited account.
    pub from_account_id: String,
    /// Credited account by id …
    pub to_account_id: Option<String>,
    /// … or by account number (exactly one of the two).
    pub to_account_number: Option<String>,
    /// Positive decimal string.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Free text.
    pub description: Option<String>,
    /// Idempotency key.
    pub idempotency_key: String,
    /// Pending transfers only: when the reservation lapses (RFC 3339; default: the
    /// engine's hold TTL).
    pub expires_at: Option<String>,
}

/// One outcome of `submitTransfers`: exactly one of the two fields is set.
#[derive(Debug, Serialize)]
pub struct SubmitOutcomeDto {
    /// The transaction, when the item was executed (a COMPLETED transaction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionDto>,
    /// Why the item was refused (nothing of it moved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDto>,
}

/// A refusal as a value: the stable code, the message, and the field for validation errors.
#[derive(Debug, Serialize)]
pub struct ErrorDto {
    /// Stable machine code (`BankError::code`).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// The offending input field, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<BankResult<Transaction>> for SubmitOutcomeDto {
    fn from(r: BankResult<Transaction>) -> Self {
        match r {
            Ok(t) => SubmitOutcomeDto {
                transaction: Some(t.into()),
                error: None,
            },
            Err(e) => SubmitOutcomeDto {
                transaction: None,
                error: Some(ErrorDto {
                    code: e.code(),
                    message: e.to_string(),
                    field: match &e {
                        BankError::Validation { field, .. } => Some(field.clone()),
                        _ => None,
                    },
                }),
            },
        }
    }
}

impl TransferBody {
    /// The transfer, its key, and the optional hold expiry.
    pub fn into_domain(self) -> BankResult<(TransferItem, IdempotencyKey, Option<DateTime<Utc>>)> {
        let to = match (
            self.to_account_id.as_deref(),
            self.to_account_number.as_deref(),
        ) {
            (Some(id), None) => Destination::Account(AccountId::parse(id)?),
            (None, Some(n)) => Destination::Number(AccountNumber::parse(n)?),
            _ => {
                return Err(BankError::validation(
                    "to_account_id",
                    "give exactly one of to_account_id and to_account_number",
                ))
            }
        };
        let item = TransferItem {
            from_account_id: AccountId::parse(&self.from_account_id)?,
            to,
            amount: positive_money(&self.amount, &self.currency)?,
            description: self.description,
        };
        let expires_at = self
            .expires_at
            .as_deref()
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| BankError::validation("expires_at", "expected an RFC 3339 time"))
            })
            .transpose()?;
        Ok((item, key(&self.idempotency_key)?, expires_at))
    }
}

/// `postPending(body)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPendingBody {
    /// The PENDING transaction.
    pub transaction_id: String,
    /// Amount to post (≤ reserved); default all of it.
    pub amount: Option<String>,
    /// ISO 4217 code of `amount`.
    pub currency: Option<String>,
    /// Idempotency key.
    pub idempotency_key: String,
}

impl PostPendingBody {
    /// (transaction, optional partial amount, key).
    pub fn into_domain(self) -> BankResult<(TransactionId, Option<Money>, IdempotencyKey)> {
        let amount = match (self.amount.as_deref(), self.currency.as_deref()) {
            (None, None) => None,
            (Some(a), Some(c)) => Some(positive_money(a, c)?),
            _ => {
                return Err(BankError::validation(
                    "amount",
                    "give amount and currency together",
                ))
            }
        };
        Ok((
            TransactionId::parse(&self.transaction_id)?,
            amount,
            key(&self.idempotency_key)?,
        ))
    }
}

/// `voidPending(body)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoidPendingBody {
    /// The PENDING transaction.
    pub transaction_id: String,
    /// Idempotency key.
    pub idempotency_key: String,
}

impl VoidPendingBody {
    /// (transaction, key).
    pub fn into_domain(self) -> BankResult<(TransactionId, IdempotencyKey)> {
        Ok((
            TransactionId::parse(&self.transaction_id)?,
            key(&self.idempotency_key)?,
        ))
    }
}

/// `reverse(body)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    /// The COMPLETED transaction.
    pub transaction_id: String,
    /// Why (kept on the reversal).
    pub reason: String,
    /// Idempotency key.
    pub idempotency_key: String,
}

impl ReverseBody {
    /// (transaction, reason, key).
    pub fn into_domain(self) -> BankResult<(TransactionId, String, IdempotencyKey)> {
        Ok((
            TransactionId::parse(&self.transaction_id)?,
            self.reason,
            key(&self.idempotency_key)?,
        ))
    }
}

/// `history(params)`: the server's history filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Only transactions of this account.
    pub account_id: Option<String>,
    /// Created on or after (YYYY-MM-DD or RFC 3339).
    pub from: Option<String>,
    /// Created before (YYYY-MM-DD: through the end of that day; or RFC 3339, exclusive).
    pub to: Option<String>,
    /// Transaction type.
    #[serde(rename = "type")]
    pub transaction_type: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Amount at least.
    pub min_amount: Option<String>,
    /// Amount at most.
    pub max_amount: Option<String>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl HistoryParams {
    /// The engine query.
    pub fn into_domain(self) -> BankResult<TransactionQuery> {
        let limit = match self.limit.unwrap_or(PAGE_LIMIT_DEFAULT) {
            n @ 1..=PAGE_LIMIT_MAX => n,
            _ => {
                return Err(BankError::validation(
                    "limit",
                    format!("limit must be 1..={PAGE_LIMIT_MAX}"),
                ))
            }
        };
        Ok(TransactionQuery {
            account_id: self
                .account_id
                .as_deref()
                .map(AccountId::parse)
                .transpose()?,
            from: self
                .from
                .as_deref()
                .map(|s| parse_instant("from", s, false))
                .transpose()?,
            to: self
                .to
                .as_deref()
                .map(|s| parse_instant("to", s, true))
                .transpose()?,
            transaction_type: self
                .transaction_type
                .as_deref()
                .map(TransactionType::parse)
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(TransactionStatus::parse)
                .transpose()?,
            min_amount: self
                .min_amount
                .as_deref()
                .map(|s| parse_decimal("min_amount", s))
                .transpose()?,
            max_amount: self
                .max_amount
                .as_deref()
                .map(|s| parse_decimal("max_amount", s))
                .transpose()?,
            after: self
                .cursor
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(decode_cursor)
                .transpose()?,
            limit,
        })
    }
}

/// The server's cursor format: hex of `"<rfc3339>|<id>"`, opaque to clients.
pub(crate) fn encode_cursor(t: &Transaction) -> String {
    hex::encode(format!("{}|{}", t.created_at.to_rfc3339(), t.id))
}

pub(crate) fn decode_cursor(c: &str) -> BankResult<(DateTime<Utc>, TransactionId)> {
    let malformed = || BankError::validation("cursor", "malformed cursor");
    let bytes = hex::decode(c).map_err(|_| malformed())?;
    let pos = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (at, id) = pos.split_once('|').ok_or_else(malformed)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| malformed())?
        .with_timezone(&Utc);
    Ok((at, TransactionId::parse(id).map_err(|_| malformed())?))
}

/// A page of history with the cursor of the next page (null on the last page).
#[derive(Debug, Clone, Serialize)]
pub struct TransactionPage {
    /// This page, newest first.
    pub items: Vec<TransactionDto>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

impl TransactionPage {
    /// Builds the page; a full page may have a successor, a short one cannot.
    pub fn new(items: Vec<Transaction>, limit: u32) -> TransactionPage {
        let next_cursor = if items.len() == limit as usize {
            items.last().map(encode_cursor)
        } else {
            None
        };
        TransactionPage {
            items: items.into_iter().map(TransactionDto::from).collect(),
            next_cursor,
        }
    }
}

pub use crate::dto_reports::*;
