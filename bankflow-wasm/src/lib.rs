//! # bankflow-wasm
//!
//! bankflow-core compiled to WebAssembly (`wasm32-unknown-unknown`) through wasm-bindgen: a
//! browser or an edge runtime validates money and account numbers with exactly the server's
//! rules, and can run a whole sandbox bank in memory ([`SandboxBank`]).
//!
//! Conventions, the same as the server and the other bindings:
//! - amounts cross as decimal strings (`"100.00"`), never as JS numbers;
//! - every failure is a JS `Error` whose `code` is the engine's stable error code
//!   (`validation_error`, `insufficient_funds`, ...) and, for validation errors, whose
//!   `field` names the offending input. [`js_error`] is the one place that mapping happens.
//!
//! Build with `scripts/build-wasm.sh` (see its header for the toolchain).

use bankflow_core::{BankError, BankResult};
use serde::Serialize;
use wasm_bindgen::prelude::*;

pub mod dto;
mod dto_reports;
pub mod ports;
pub mod rules;
mod sandbox;
pub mod ts;

pub use sandbox::SandboxBank;

/// The one mapping from engine errors to JS: an `Error` named `BankflowError` with the
/// stable `code` (and `field` for validation errors).
pub fn js_error(e: &BankError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("BankflowError");
    // Reflect::set only fails on frozen or proxied objects; a fresh Error is neither.
    let _ = js_sys::Reflect::set(
        &err,
        &JsValue::from_str("code"),
        &JsValue::from_str(e.code()),
    );
    if let BankError::Validation { field, .. } = e {
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str("field"), &JsValue::from_str(field));
    }
    err.into()
}

/// A serializable result as a plain JS value (through JSON, so the shape is exactly the
/// serde one the server emits).
pub(crate) fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let json = serde_json::to_string(v).map_err(|e| js_error(&BankError::internal(e)))?;
    js_sys::JSON::parse(&json)
        .map_err(|_| js_error(&BankError::internal("JSON.parse of an engine result")))
}

/// A JS argument as JSON text.
pub(crate) fn json_of(v: &JsValue) -> BankResult<String> {
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| BankError::validation("body", "expected a JSON-serializable object"))
}

fn js<T>(r: BankResult<T>) -> Result<T, JsValue> {
    r.map_err(|e| js_error(&e))
}

/// Parses a decimal amount with the engine's rules for `currency` and returns it normalized
/// to the currency's minor units (`parseMoney("5", "USD")` → `"5.00"`). Throws
/// `validation_error` for excess decimals (`"1.001"` USD), exponents, separators, unknown
/// currencies and amounts above 10^15.
#[wasm_bindgen(js_name = parseMoney)]
pub fn parse_money(amount: &str, currency: &str) -> Result<String, JsValue> {
    js(rules::parse_money(amount, currency))
}

/// Like `parseMoney`, and the amount must be greater than zero (deposits, transfers, holds).
#[wasm_bindgen(js_name = parsePositiveMoney)]
pub fn parse_positive_money(amount: &str, currency: &str) -> Result<String, JsValue> {
    js(rules::parse_positive_money(amount, currency))
}

/// The amount in integer minor units as a string (`"12.34"` USD → `"1234"`).
#[wasm_bindgen(js_name = toMinorUnits)]
pub fn to_minor_units(amount: &str, currency: &str) -> Result<String, JsValue> {
    js(rules::to_minor_units(amount, currency))
}

/// Integer minor units (a string) formatted as a decimal amount (`"1234"` USD → `"12.34"`).
#[wasm_bindgen(js_name = formatMinorUnits)]
pub fn format_minor_units(amount_minor: &str, currency: &str) -> Result<String, JsValue> {
    js(rules::format_minor_units(amount_minor, currency))
}

/// Decimal places of a currency's minor unit (USD 2, JPY 0, KWD 3).
#[wasm_bindgen(js_name = currencyMinorUnits)]
pub fn currency_minor_units(currency: &str) -> Result<u32, JsValue> {
    js(rules::currency_minor_units(currency))
}

/// Every currency the engine accepts: `[{ code, minor_units }]`.
#[wasm_bindgen(unchecked_return_type = "CurrencyInfo[]")]
pub fn currencies() -> Result<JsValue, JsValue> {
    to_js(&rules::currencies())
}

/// Validates an account number (12 digits with a Luhn check digit; spaces and dashes are
/// ignored) and returns its digits. Throws `validation_error` on a typo.
#[wasm_bindgen(js_name = validateAccountNumber)]
pub fn validate_account_number(account_number: &str) -> Result<String, JsValue> {
    js(rules::validate_account_number(account_number))
}

/// True when `account_number` passes `validateAccountNumber`.
#[wasm_bindgen(js_name = isValidAccountNumber)]
pub fn is_valid_account_number(account_number: &str) -> bool {
    rules::validate_account_number(account_number).is_ok()
}

/// Validates an idempotency key (1..=255 printable ASCII characters, no spaces).
#[wasm_bindgen(js_name = validateIdempotencyKey)]
pub fn validate_idempotency_key(key: &str) -> Result<String, JsValue> {
    js(rules::validate_idempotency_key(key))
}

/// Every stable error code the engine can put on an error.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    BankError::ALL_CODES.iter().map(|c| c.to_string()).collect()
}
