//! The Python exception hierarchy and the one function that maps engine errors onto it.
//!
//! Every engine error becomes an instance of a `bankflow.BankflowError` subclass carrying the
//! engine's stable `code` (and `field` for validation errors). Binding-level type mistakes
//! (a float amount, a naive datetime) are plain `TypeError`s: the engine never saw them.

use bankflow_core::BankError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    bankflow,
    BankflowError,
    PyException,
    "Base of every error the engine raises; `.code` is its stable machine code."
);
create_exception!(
    bankflow,
    ValidationError,
    BankflowError,
    "Input failed validation; nothing changed (`.field` names it)."
);
create_exception!(
    bankflow,
    NotFound,
    BankflowError,
    "No such resource, or the caller may not see it."
);
create_exception!(
    bankflow,
    Unauthorized,
    BankflowError,
    "Not authenticated, or the credentials are invalid."
);
create_exception!(
    bankflow,
    Forbidden,
    BankflowError,
    "Authenticated, but lacking the role for this action."
);
create_exception!(
    bankflow,
    CurrencyMismatch,
    ValidationError,
    "Amounts in different currencies were combined."
);
create_exception!(
    bankflow,
    InsufficientFunds,
    BankflowError,
    "Available balance (plus overdraft) does not cover the amount."
);
create_exception!(
    bankflow,
    AccountFrozen,
    BankflowError,
    "The account is frozen."
);
create_exception!(
    bankflow,
    AccountClosed,
    BankflowError,
    "The account is closed."
);
create_exception!(
    bankflow,
    DailyLimitExceeded,
    BankflowError,
    "The account's daily outgoing limit would be exceeded."
);
create_exception!(
    bankflow,
    AccountNotEmpty,
    BankflowError,
    "An account closes only at zero balance with no open holds."
);
create_exception!(
    bankflow,
    IdempotencyConflict,
    BankflowError,
    "The idempotency key was already used with a different request."
);
create_exception!(
    bankflow,
    InvalidState,
    BankflowError,
    "A state machine refused the transition."
);
create_exception!(
    bankflow,
    AlreadyReversed,
    InvalidState,
    "The transaction was already reversed."
);
create_exception!(
    bankflow,
    Conflict,
    BankflowError,
    "The resource already exists."
);
create_exception!(
    bankflow,
    KycRequired,
    BankflowError,
    "The customer's KYC is not approved."
);
create_exception!(
    bankflow,
    FraudBlocked,
    BankflowError,
    "Fraud rules blocked the transaction."
);
create_exception!(
    bankflow,
    AccountLocked,
    Unauthorized,
    "Login refused: the user is temporarily locked."
);
create_exception!(
    bankflow,
    MfaRequired,
    Unauthorized,
    "A multi-factor code is required."
);
create_exception!(
    bankflow,
    MfaEnrolmentRequired,
    Forbidden,
    "A staff user must enrol TOTP before using staff functions."
);
create_exception!(
    bankflow,
    EmailUnverified,
    BankflowError,
    "The customer's email is not verified yet."
);
create_exception!(
    bankflow,
    ApprovalRequired,
    BankflowError,
    "A staff money movement above the threshold waits for a second staff member."
);
create_exception!(bankflow, RateLimited, BankflowError, "Too many requests.");
create_exception!(
    bankflow,
    LimitExceeded,
    ValidationError,
    "A page, batch or size limit was exceeded."
);
create_exception!(
    bankflow,
    TransientError,
    BankflowError,
    "The store failed in a way that may succeed on retry."
);
create_exception!(
    bankflow,
    Overloaded,
    TransientError,
    "The engine is at capacity (its commit queue stayed full): nothing was done; retry later."
);
create_exception!(
    bankflow,
    InternalError,
    BankflowError,
    "Unexpected failure in the engine or a port (details are logged, not shown)."
);

/// The one table of engine codes and their classes: `to_py` maps with it, `register` exposes
/// each class with its code as the class attribute `code`.
macro_rules! code_table {
    ($($class:ident = $code:literal),+ $(,)?) => {
        fn new_err(code: &str, message: String) -> PyErr {
            match code {
                $($code => $class::new_err(message),)+
                // invariant_violated, and any code a newer engine adds: a bug or a port
                // failure either way.
                _ => InternalError::new_err(message),
            }
        }

        /// Registers every exception class on the module.
        pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            let base = py.get_type::<BankflowError>();
            base.setattr("code", "error")?;
            base.setattr("field", py.None())?;
            m.add("BankflowError", base)?;
            $(
                let class = py.get_type::<$class>();
                class.setattr("code", $code)?;
                m.add(stringify!($class), class)?;
            )+
            m.add("ERROR_CODES", BankError::ALL_CODES.to_vec())?;
            Ok(())
        }
    };
}

code_table!(
    ValidationError = "validation_error",
    NotFound = "not_found",
    Unauthorized = "unauthorized",
    Forbidden = "forbidden",
    CurrencyMismatch = "currency_mismatch",
    InsufficientFunds = "insufficient_funds",
    AccountFrozen = "account_frozen",
    AccountClosed = "account_closed",
    DailyLimitExceeded = "daily_limit_exceeded",
    AccountNotEmpty = "account_not_empty",
    IdempotencyConflict = "idempotency_conflict",
    InvalidState = "invalid_state",
    AlreadyReversed = "already_reversed",
    Conflict = "conflict",
    KycRequired = "kyc_required",
    FraudBlocked = "fraud_blocked",
    AccountLocked = "account_locked",
    MfaRequired = "mfa_required",
    MfaEnrolmentRequired = "mfa_enrolment_required",
    EmailUnverified = "email_unverified",
    RateLimited = "rate_limited",
    LimitExceeded = "limit_exceeded",
    TransientError = "transient",
    Overloaded = "overloaded",
    ApprovalRequired = "approval_required",
    InternalError = "internal_error",
);

/// Maps one engine error to its Python exception, carrying the engine's `code` (which may
/// be more specific than the class's, e.g. `invariant_violated` on `InternalError`) and, for
/// validation errors, the offending `field`.
pub(crate) fn to_py(py: Python<'_>, e: BankError) -> PyErr {
    let code = e.code();
    let err = new_err(code, e.to_string());
    let value = err.value(py);
    // Setting an attribute on a fresh exception instance fails only on memory exhaustion;
    // the exception is raised (without the attribute) even then.
    let _ = value.setattr("code", code);
    if let BankError::Validation { field, .. } = &e {
        let _ = value.setattr("field", field.as_str());
    }
    err
}
