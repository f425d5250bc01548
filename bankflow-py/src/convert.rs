//! Python values ⇄ engine types. Parsing is the engine's (`Money::parse_positive`,
//! `AccountId::parse`, ...); this module only moves values across the language boundary.

use bankflow_core::account::AccountNumber;
use bankflow_core::{
    AccountId, BankResult, Currency, Destination, IdempotencyKey, Money, RequestContext,
    TransactionId,
};
use chrono::{DateTime, NaiveDate, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString, PyType};

use crate::error;

/// Length of a hyphenated UUID: how a destination that is an account id is told apart from
/// an account number (12 digits).
const UUID_TEXT_LEN: usize = 36;

fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")
}

/// The decimal text of an amount given as `decimal.Decimal`, `int` or `str`. Floats (and
/// bools) are refused: a binary float cannot hold most cent amounts exactly.
pub(crate) fn amount_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(
            "amounts are decimal.Decimal, int or str, never float (floats cannot hold cents exactly)",
        ));
    }
    if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyString>() {
        return obj.str()?.extract();
    }
    if obj.is_instance(decimal_type(obj.py())?)? {
        // Fixed-point formatting: str(Decimal("1E+2")) would be an exponent the engine refuses.
        return obj.call_method1("__format__", ("f",))?.extract();
    }
    Err(PyTypeError::new_err(format!(
        "amounts are decimal.Decimal, int or str, not {}",
        obj.get_type().name()?
    )))
}

/// Converts an engine result, mapping its error to the Python hierarchy.
pub(crate) fn ok<T>(py: Python<'_>, r: BankResult<T>) -> PyResult<T> {
    r.map_err(|e| error::to_py(py, e))
}

/// A strictly positive amount in `currency`.
pub(crate) fn money(py: Python<'_>, amount: &Bound<'_, PyAny>, currency: &str) -> PyResult<Money> {
    let text = amount_text(amount)?;
    ok(
        py,
        Currency::parse(currency).and_then(|c| Money::parse_positive(&text, c)),
    )
}

/// A decimal limit (overdraft, daily limit, filters): any sign, engine-checked later.
pub(crate) fn decimal(
    py: Python<'_>,
    amount: &Bound<'_, PyAny>,
    field: &str,
) -> PyResult<rust_decimal::Decimal> {
    let text = amount_text(amount)?;
    ok(
        py,
        rust_decimal::Decimal::from_str_exact(text.trim()).map_err(|_| {
            bankflow_core::BankError::validation(field, format!("{text:?} is not a decimal amount"))
        }),
    )
}

pub(crate) fn account_id(py: Python<'_>, s: &str) -> PyResult<AccountId> {
    ok(py, AccountId::parse(s))
}

pub(crate) fn transaction_id(py: Python<'_>, s: &str) -> PyResult<TransactionId> {
    ok(py, TransactionId::parse(s))
}

pub(crate) fn key(py: Python<'_>, s: &str) -> PyResult<IdempotencyKey> {
    ok(py, IdempotencyKey::parse(s))
}

/// A destination: an account id (UUID text) or an account number.
pub(crate) fn destination(py: Python<'_>, to: &str) -> PyResult<Destination> {
    let to = to.trim();
    if to.len() == UUID_TEXT_LEN {
        Ok(Destination::Account(account_id(py, to)?))
    } else {
        Ok(Destination::Number(ok(py, AccountNumber::parse(to))?))
    }
}

/// A timezone-aware `datetime`, converted to UTC. Naive datetimes are refused: the engine
/// cannot guess which zone they meant.
pub(crate) fn utc(dt: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let offset = dt
        .call_method0("utcoffset")
        .map_err(|_| PyTypeError::new_err("expected a datetime.datetime"))?;
    if offset.is_none() {
        return Err(PyTypeError::new_err(
            "datetimes must be timezone-aware (e.g. tzinfo=datetime.timezone.utc)",
        ));
    }
    let py = dt.py();
    let utc_tz = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
    dt.call_method1("astimezone", (utc_tz,))?.extract()
}

pub(crate) fn opt_utc(dt: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DateTime<Utc>>> {
    dt.map(utc).transpose()
}

/// A `datetime.date` (a `datetime` is refused: a statement covers whole days).
pub(crate) fn date(d: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    let py = d.py();
    let datetime_type = py.import("datetime")?.getattr("datetime")?;
    if d.is_instance(&datetime_type)? {
        return Err(PyTypeError::new_err(
            "expected a datetime.date, not a datetime",
        ));
    }
    d.extract()
}

/// Request context for fraud rules: a mapping with keys among `ip`, `user_agent`,
/// `device_id`, `email`, `counterparty`.
pub(crate) fn context(py: Python<'_>, ctx: Option<&Bound<'_, PyDict>>) -> PyResult<RequestContext> {
    let mut out = RequestContext::default();
    let Some(ctx) = ctx else { return Ok(out) };
    for (k, v) in ctx.iter() {
        let k: String = k.extract()?;
        let v: Option<String> = v.extract()?;
        let slot = match k.as_str() {
            "ip" => &mut out.ip,
            "user_agent" => &mut out.user_agent,
            "device_id" => &mut out.device_id,
            "email" => &mut out.email,
            "counterparty" => &mut out.counterparty,
            _ => {
                return Err(error::to_py(
                    py,
                    bankflow_core::BankError::validation(
                        "context",
                        format!("unknown key {k:?} (expected ip, user_agent, device_id, email, counterparty)"),
                    ),
                ))
            }
        };
        *slot = v;
    }
    Ok(out)
}
