//! Column encodings and error mapping shared by every repository module.
//!
//! Errors that leave the store carry no SQL text and no row data: only the kind of failure
//! and SQLite's numeric result code, so nothing sensitive reaches logs or HTTP responses.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use bankflow_core::money::Currency;
use bankflow_core::{BankError, BankResult, Money};

/// SQLITE_BUSY and SQLITE_LOCKED (primary codes; extended codes keep them in the low byte).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

/// Maps a sqlx error. `duplicate` names the resource a unique violation stands for
/// (the same names as the reference memory store), `None` where none can happen.
pub(crate) fn err(duplicate: Option<&'static str>) -> impl Fn(sqlx::Error) -> BankError {
    move |e| map(e, duplicate)
}

fn map(e: sqlx::Error, duplicate: Option<&'static str>) -> BankError {
    match &e {
        sqlx::Error::Database(db) => {
            if let (Some(resource), sqlx::error::ErrorKind::UniqueViolation) =
                (duplicate, db.kind())
            {
                return BankError::Duplicate(resource);
            }
            let code = db.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(-1);
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED => {
                    BankError::Transient(format!("sqlite busy (code {code})"))
                }
                _ => BankError::Internal(format!("sqlite error (code {code})")),
            }
        }
        sqlx::Error::PoolTimedOut => {
            BankError::Transient("no free sqlite connection in time".into())
        }
        sqlx::Error::PoolClosed => BankError::internal("sqlite store closed"),
        sqlx::Error::Io(_) => BankError::internal("sqlite I/O error"),
        sqlx::Error::WorkerCrashed => BankError::internal("sqlite worker crashed"),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
            BankError::internal("sqlite row does not match the schema")
        }
        _ => BankError::internal("sqlite driver error"),
    }
}

/// Error while opening the database file.
pub(crate) fn open_err(e: sqlx::Error) -> BankError {
    match e {
        sqlx::Error::Database(db) => BankError::internal(format!(
            "cannot open sqlite database (code {})",
            db.code().unwrap_or_default()
        )),
        sqlx::Error::Io(io) => {
            BankError::internal(format!("cannot open sqlite database ({:?})", io.kind()))
        }
        other => map(other, None),
    }
}

/// A short, data-free description of a migration failure.
pub(crate) fn migrate_err_kind(e: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError as M;
    match e {
        M::VersionMissing(v) => format!("database has migration {v} that this build does not know"),
        M::VersionMismatch(v) => format!("migration {v} was changed after it was applied"),
        M::Dirty(v) => format!("migration {v} is partially applied"),
        M::Execute(_) | M::ExecuteMigration(..) => "a migration statement failed".into(),
        _ => "migration error".into(),
    }
}

/// A row that does not decode is a bug or a corrupted file, never user input.
pub(crate) fn corrupt(column: &str) -> BankError {
    BankError::Internal(format!("sqlite column {column} holds an unexpected value"))
}

// ---------------------------------------------------------------- encodings

/// Fixed-width RFC 3339 (nanoseconds, `Z`): text order is time order, round trips exact.
pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(crate) fn opt_ts(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(ts)
}

pub(crate) fn id(u: Uuid) -> String {
    u.as_hyphenated().to_string()
}

pub(crate) fn opt_id(u: Option<Uuid>) -> Option<String> {
    u.map(id)
}

/// Exact decimal text (scale kept: "100.00" stays "100.00").
pub(crate) fn dec(d: &Decimal) -> String {
    d.to_string()
}

/// Thousandths of the major unit: every currency has at most three decimals, so this is
/// exact and comparable across currencies.
pub(crate) fn milli(m: &Money) -> i64 {
    let mut d = m.amount();
    d.rescale(3);
    i64::try_from(d.mantissa()).expect("bounded by AMOUNT_ABS_MAX")
}

/// The smallest thousandths value `>= d` (for `amount >= d` filters), clamped to i64.
pub(crate) fn milli_ceil(d: Decimal) -> i64 {
    clamp_i64(
        d.checked_mul(Decimal::ONE_THOUSAND).map(|x| x.ceil()),
        d.is_sign_negative(),
    )
}

/// The largest thousandths value `<= d` (for `amount <= d` filters), clamped to i64.
pub(crate) fn milli_floor(d: Decimal) -> i64 {
    clamp_i64(
        d.checked_mul(Decimal::ONE_THOUSAND).map(|x| x.floor()),
        d.is_sign_negative(),
    )
}

fn clamp_i64(x: Option<Decimal>, negative: bool) -> i64 {
    match x.and_then(|x| i64::try_from(x).ok()) {
        Some(v) => v,
        None if negative => i64::MIN,
        None => i64::MAX,
    }
}

// ---------------------------------------------------------------- decoding

/// Typed column access with data-free errors.
pub(crate) trait Col {
    fn text(&self, c: &str) -> BankResult<String>;
    fn opt_text(&self, c: &str) -> BankResult<Option<String>>;
    fn int(&self, c: &str) -> BankResult<i64>;
    fn uuid(&self, c: &str) -> BankResult<Uuid> {
        Uuid::parse_str(&self.text(c)?).map_err(|_| corrupt(c))
    }
    fn opt_uuid(&self, c: &str) -> BankResult<Option<Uuid>> {
        self.opt_text(c)?
            .map(|s| Uuid::parse_str(&s).map_err(|_| corrupt(c)))
            .transpose()
    }
    fn time(&self, c: &str) -> BankResult<DateTime<Utc>> {
        parse_ts(&self.text(c)?).ok_or_else(|| corrupt(c))
    }
    fn opt_time(&self, c: &str) -> BankResult<Option<DateTime<Utc>>> {
        self.opt_text(c)?
            .map(|s| parse_ts(&s).ok_or_else(|| corrupt(c)))
            .transpose()
    }
    fn date(&self, c: &str) -> BankResult<NaiveDate> {
        NaiveDate::parse_from_str(&self.text(c)?, "%Y-%m-%d").map_err(|_| corrupt(c))
    }
    fn dec(&self, c: &str) -> BankResult<Decimal> {
        Decimal::from_str_exact(&self.text(c)?).map_err(|_| corrupt(c))
    }
    fn opt_dec(&self, c: &str) -> BankResult<Option<Decimal>> {
        self.opt_text(c)?
            .map(|s| Decimal::from_str_exact(&s).map_err(|_| corrupt(c)))
            .transpose()
    }
    fn currency(&self, c: &str) -> BankResult<Currency> {
        Currency::parse(&self.text(c)?).map_err(|_| corrupt(c))
    }
    /// Money from integer minor units and a currency column.
    fn money_minor(&self, amount: &str, currency: &str) -> BankResult<Money> {
        Money::from_minor(self.int(amount)?, self.currency(currency)?).map_err(|_| corrupt(amount))
    }
    /// Money from thousandths and a currency column.
    fn money_milli(&self, amount: &str, currency: &str) -> BankResult<Money> {
        Money::new(Decimal::new(self.int(amount)?, 3), self.currency(currency)?)
            .map_err(|_| corrupt(amount))
    }
    /// A string enum parsed by its own `parse`.
    fn parsed<T>(&self, c: &str, parse: fn(&str) -> BankResult<T>) -> BankResult<T> {
        parse(&self.text(c)?).map_err(|_| corrupt(c))
    }
}

/// The whole domain record as JSON (the context tables' `record` column).
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> BankResult<String> {
    serde_json::to_string(v).map_err(|_| BankError::internal("record does not serialise"))
}

/// Encodes a `record` column: a versioned document (see `bankflow_core::store_support`).
pub(crate) fn to_doc<T: serde::Serialize>(v: &T) -> BankResult<String> {
    bankflow_core::store_support::encode_doc(v)
}

/// Decodes a `record` column written by this version or an earlier one.
pub(crate) fn record<T: serde::de::DeserializeOwned>(r: &SqliteRow) -> BankResult<T> {
    bankflow_core::store_support::decode_doc(&r.text("record")?)
        .map_err(|e| e.unwrap_or_else(|| corrupt("record")))
}

/// Decodes every row's `record` column.
pub(crate) fn records<T: serde::de::DeserializeOwned>(rows: &[SqliteRow]) -> BankResult<Vec<T>> {
    rows.iter().map(record).collect()
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

impl Col for SqliteRow {
    fn text(&self, c: &str) -> BankResult<String> {
        self.try_get::<String, _>(c).map_err(|_| corrupt(c))
    }
    fn opt_text(&self, c: &str) -> BankResult<Option<String>> {
        self.try_get::<Option<String>, _>(c).map_err(|_| corrupt(c))
    }
    fn int(&self, c: &str) -> BankResult<i64> {
        self.try_get::<i64, _>(c).map_err(|_| corrupt(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_and_exact() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.000000007Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = ts(&t);
        assert_eq!(s, "2026-01-02T03:04:05.000000007Z");
        assert_eq!(parse_ts(&s), Some(t));
        let whole = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            ts(&whole).len(),
            s.len(),
            "whole seconds keep nine zeros, so text order is time order"
        );
        assert!(ts(&whole) < s);
    }

    #[test]
    fn milli_bounds_round_the_right_way() {
        assert_eq!(milli_ceil(Decimal::new(100_001, 4)), 10_001); // 10.0001 -> 10.001
        assert_eq!(milli_floor(Decimal::new(100_001, 4)), 10_000);
        assert_eq!(milli_ceil(Decimal::MAX), i64::MAX);
        assert_eq!(milli_floor(Decimal::MIN), i64::MIN);
        assert_eq!(
            milli(&Money::parse("12.34", Currency::USD).unwrap()),
            12_340
        );
        assert_eq!(milli(&Money::parse("7", Currency::JPY).unwrap()), 7_000);
    }
}
