//! Row ⇄ domain conversions. Every stored value is re-parsed into its domain newtype on the way
//! out (parse, don't validate): a row the engine could not have written is an error, not a value.
//!
//! Decimals cross the wire as text (`$n::numeric` in, `col::text` out) so that their scale is
//! kept exactly: `0.00` comes back as `0.00`, as the memory store returns it.

use std::str::FromStr;

use bankflow_core::account::{
    Account, AccountNumber, AccountStatus, AccountType, Hold, HoldStatus,
};
use bankflow_core::events::{DomainEvent, EventData, EventType, StoredEvent};
use bankflow_core::idempotency::{IdempotencyKey, IdempotencyRecord, IdempotentResponse};
use bankflow_core::ids::{
    AccountId, CustomerId, EventId, HoldId, JournalId, TransactionId, UserId,
};
use bankflow_core::ledger::PostingLine;
use bankflow_core::transaction::{Transaction, TransactionRef, TransactionStatus, TransactionType};
use bankflow_core::{BankResult, Currency, Money};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use crate::error::{corrupt, db_err};

/// Columns of `accounts` in the order [`account`] reads them.
macro_rules! account_cols {
    () => {
        "id, account_number, customer_id, account_type, currency, balance::text, held::text, \
         overdraft_limit::text, daily_limit::text, daily_out_date, daily_out_total::text, status, \
         opened_at, closed_at, updated_at, version"
    };
}
pub(crate) use account_cols;

/// Columns of `holds` in the order [`hold`] reads them.
macro_rules! hold_cols {
    () => {
        "id, account_id, transaction_id, amount::text, currency, status, expires_at, created_at, resolved_at"
    };
}
pub(crate) use hold_cols;

/// Columns of `transactions` in the order [`transaction`] reads them.
macro_rules! txn_cols {
    () => {
        "id, transaction_ref, from_account_id, to_account_id, amount::text, currency, transaction_type, status, \
         description, failure_code, reason, hold_id, parent_id, created_at, processed_at, reversed_at, \
         initiated_by, approved_by"
    };
}
pub(crate) use txn_cols;

/// Columns of `events` in the order [`stored_event`] reads them.
macro_rules! event_cols {
    () => {
        "seq, event_id, aggregate_id, event_type, time, data, published_at"
    };
}
pub(crate) use event_cols;

/// Columns of `idempotency_keys` in the order [`idempotency_record`] reads them.
macro_rules! idem_cols {
    () => {
        "scope, key, fingerprint, response, created_at"
    };
}
pub(crate) use idem_cols;

/// Decodes an `idempotency_keys` row selected with [`idem_cols`].
pub(crate) fn idempotency_record(r: &PgRow) -> BankResult<IdempotencyRecord> {
    let key: String = get(r, 1)?;
    let response: serde_json::Value = get(r, 3)?;
    Ok(IdempotencyRecord {
        scope: get(r, 0)?,
        key: IdempotencyKey::parse(&key).map_err(|_| corrupt("idempotency key"))?,
        fingerprint: get(r, 2)?,
        response: serde_json::from_value::<IdempotentResponse>(response)
            .map_err(|_| corrupt("idempotent response"))?,
        created_at: get(r, 4)?,
    })
}

pub(crate) fn get<'r, T>(row: &'r PgRow, i: usize) -> BankResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(i).map_err(db_err)
}

pub(crate) fn decimal(text: &str) -> BankResult<Decimal> {
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_str(text))
        .map_err(|_| corrupt("decimal"))
}

fn dec_at(row: &PgRow, i: usize) -> BankResult<Decimal> {
    decimal(&get::<String>(row, i)?)
}

fn opt_dec_at(row: &PgRow, i: usize) -> BankResult<Option<Decimal>> {
    get::<Option<String>>(row, i)?
        .as_deref()
        .map(decimal)
        .transpose()
}

fn currency_at(row: &PgRow, i: usize) -> BankResult<Currency> {
    Currency::parse(&get::<String>(row, i)?).map_err(|_| corrupt("currency"))
}

fn money_at(row: &PgRow, amount: usize, currency: usize) -> BankResult<Money> {
    Money::new(dec_at(row, amount)?, currency_at(row, currency)?).map_err(|_| corrupt("amount"))
}

/// Decodes an `accounts` row selected with [`account_cols`].
pub(crate) fn account(row: &PgRow) -> BankResult<Account> {
    Ok(Account {
        id: AccountId(get(row, 0)?),
        account_number: AccountNumber::parse(&get::<String>(row, 1)?)
            .map_err(|_| corrupt("account number"))?,
        customer_id: CustomerId(get(row, 2)?),
        account_type: AccountType::parse(&get::<String>(row, 3)?)
            .map_err(|_| corrupt("account type"))?,
        currency: currency_at(row, 4)?,
        balance: dec_at(row, 5)?,
        held: dec_at(row, 6)?,
        overdraft_limit: dec_at(row, 7)?,
        daily_limit: opt_dec_at(row, 8)?,
        daily_out_date: get::<NaiveDate>(row, 9)?,
        daily_out_total: dec_at(row, 10)?,
        status: AccountStatus::parse(&get::<String>(row, 11)?)
            .map_err(|_| corrupt("account status"))?,
        opened_at: get(row, 12)?,
        closed_at: get(row, 13)?,
        updated_at: get(row, 14)?,
        version: get(row, 15)?,
    })
}

/// Decodes a `holds` row selected with [`hold_cols`].
pub(crate) fn hold(row: &PgRow) -> BankResult<Hold> {
    Ok(Hold {
        id: HoldId(get(row, 0)?),
        account_id: AccountId(get(row, 1)?),
        transaction_id: TransactionId(get(row, 2)?),
        amount: money_at(row, 3, 4)?,
        status: HoldStatus::parse(&get::<String>(row, 5)?).map_err(|_| corrupt("hold status"))?,
        expires_at: get(row, 6)?,
        created_at: get(row, 7)?,
        resolved_at: get(row, 8)?,
    })
}

/// Decodes a `transactions` row selected with [`txn_cols`].
pub(crate) fn transaction(row: &PgRow) -> BankResult<Transaction> {
    Ok(Transaction {
        id: TransactionId(get(row, 0)?),
        transaction_ref: TransactionRef::parse(&get::<String>(row, 1)?)
            .map_err(|_| corrupt("transaction reference"))?,
        from_account_id: get::<Option<Uuid>>(row, 2)?.map(AccountId),
        to_account_id: get::<Option<Uuid>>(row, 3)?.map(AccountId),
        amount: money_at(row, 4, 5)?,
        transaction_type: TransactionType::parse(&get::<String>(row, 6)?)
            .map_err(|_| corrupt("transaction type"))?,
        status: TransactionStatus::parse(&get::<String>(row, 7)?)
            .map_err(|_| corrupt("transaction status"))?,
        description: get(row, 8)?,
        failure_code: get(row, 9)?,
        reason: get(row, 10)?,
        hold_id: get::<Option<Uuid>>(row, 11)?.map(HoldId),
        parent_id: get::<Option<Uuid>>(row, 12)?.map(TransactionId),
        created_at: get(row, 13)?,
        processed_at: get(row, 14)?,
        reversed_at: get(row, 15)?,
        initiated_by: get::<Option<Uuid>>(row, 16)?.map(UserId),
        approved_by: get::<Option<Uuid>>(row, 17)?.map(UserId),
    })
}

/// Decodes a posting line: seq, journal_id, transaction_id, account_id, amount::text, currency,
/// posted_at, description.
pub(crate) fn posting_line(row: &PgRow) -> BankResult<PostingLine> {
    Ok(PostingLine {
        seq: get(row, 0)?,
        journal_id: JournalId(get(row, 1)?),
        transaction_id: TransactionId(get(row, 2)?),
        account_id: AccountId(get(row, 3)?),
        amount: money_at(row, 4, 5)?,
        posted_at: get::<DateTime<Utc>>(row, 6)?,
        description: get(row, 7)?,
    })
}

/// Decodes an `events` row selected with [`event_cols`].
pub(crate) fn stored_event(row: &PgRow) -> BankResult<StoredEvent> {
    let data: serde_json::Value = get(row, 5)?;
    Ok(StoredEvent {
        seq: get(row, 0)?,
        event: DomainEvent {
            id: EventId(get(row, 1)?),
            event_type: EventType::parse(&get::<String>(row, 3)?)
                .map_err(|_| corrupt("event type"))?,
            aggregate_id: get(row, 2)?,
            time: get(row, 4)?,
            data: serde_json::from_value::<EventData>(data).map_err(|_| corrupt("event data"))?,
        },
        published_at: get(row, 6)?,
    })
}

// ------------------------------------------------------------------ document rows

use bankflow_core::store_support;
use bankflow_core::BankError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A `doc` column: a versioned document (see `bankflow_core::store_support`).
pub(crate) fn to_doc<T: Serialize>(v: &T) -> BankResult<String> {
    store_support::encode_doc(v)
}

/// Decodes the document in column `col`, written by this version or an earlier one.
pub(crate) fn doc_at<T: DeserializeOwned>(row: &PgRow, col: usize) -> BankResult<T> {
    store_support::decode_doc(&get::<String>(row, col)?)
        .map_err(|e| e.unwrap_or_else(|| corrupt("record")))
}

pub(crate) fn from_doc<T: DeserializeOwned>(row: &PgRow) -> BankResult<T> {
    doc_at(row, 0)
}

pub(crate) fn docs<T: DeserializeOwned>(rows: &[PgRow]) -> BankResult<Vec<T>> {
    rows.iter().map(from_doc).collect()
}

/// The serde spelling of a unit enum variant (the form stored in the filter columns).
pub(crate) fn enum_str<T: Serialize>(v: &T) -> BankResult<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(BankError::internal("enum without a string form")),
    }
}

pub(crate) fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
