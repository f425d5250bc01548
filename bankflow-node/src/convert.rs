//! JavaScript values ⇄ engine types. Amounts are decimal strings, ids UUID strings,
//! timestamps RFC 3339 strings (microsecond precision, always with an offset), statement
//! days `YYYY-MM-DD`. Parsing is the engine's (`Money::parse_positive`, `AccountId::parse`).

use bankflow_core::account::AccountNumber;
use bankflow_core::{
    AccountId, BankError, BankResult, Currency, CustomerId, Destination, IdempotencyKey, Money,
    TransactionId,
};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;

use crate::types::RequestContext as JsRequestContext;

/// Length of a hyphenated UUID: how a destination that is an account id is told apart from
/// an account number (12 digits).
const UUID_TEXT_LEN: usize = 36;

/// A strictly positive amount; `currency` defaults to USD.
pub(crate) fn money(amount: &str, currency: Option<&str>) -> BankResult<Money> {
    Money::parse_positive(amount, Currency::parse(currency.unwrap_or("USD"))?)
}

/// A decimal limit or filter (sign checked by the engine).
pub(crate) fn decimal(field: &str, s: &str) -> BankResult<Decimal> {
    Decimal::from_str_exact(s.trim())
        .map_err(|_| BankError::validation(field, format!("{s:?} is not a decimal amount")))
}

pub(crate) fn opt_decimal(field: &str, s: Option<&str>) -> BankResult<Option<Decimal>> {
    s.map(|s| decimal(field, s)).transpose()
}

pub(crate) fn account_id(s: &str) -> BankResult<AccountId> {
    AccountId::parse(s)
}

pub(crate) fn customer_id(s: &str) -> BankResult<CustomerId> {
    CustomerId::parse(s)
}

pub(crate) fn transaction_id(s: &str) -> BankResult<TransactionId> {
    TransactionId::parse(s)
}

pub(crate) fn key(s: &str) -> BankResult<IdempotencyKey> {
    IdempotencyKey::parse(s)
}

/// A destination: an account id (UUID text) or an account number.
pub(crate) fn destination(to: &str) -> BankResult<Destination> {
    let to = to.trim();
    if to.len() == UUID_TEXT_LEN {
        Ok(Destination::Account(account_id(to)?))
    } else {
        Ok(Destination::Number(AccountNumber::parse(to)?))
    }
}

/// An RFC 3339 timestamp with an explicit offset (`Z` or `±hh:mm`), converted to UTC.
pub(crate) fn utc(field: &str, s: &str) -> BankResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            BankError::validation(
                field,
                format!("{s:?} is not an RFC 3339 timestamp with an offset"),
            )
        })
}

pub(crate) fn opt_utc(field: &str, s: Option<&str>) -> BankResult<Option<DateTime<Utc>>> {
    s.map(|s| utc(field, s)).transpose()
}

/// A `YYYY-MM-DD` day.
pub(crate) fn date(field: &str, s: &str) -> BankResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| BankError::validation(field, format!("{s:?} is not a YYYY-MM-DD date")))
}

/// Timestamps out: RFC 3339, microseconds, `Z` (lossless: the engine keeps microseconds).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn context(c: Option<JsRequestContext>) -> bankflow_core::RequestContext {
    c.map(|c| bankflow_core::RequestContext {
        ip: c.ip,
        user_agent: c.user_agent,
        device_id: c.device_id,
        email: c.email,
        counterparty: c.counterparty,
    })
    .unwrap_or_default()
}
