//! One typed error family for the whole engine. Every variant has a stable machine `code()`
//! that the HTTP adapter puts in problem+json and the bindings put on their exceptions.
//! Codes are part of the public contract: never rename one.

use crate::money::Currency;

/// Result alias used across the engine.
pub type BankResult<T> = Result<T, BankError>;

/// Every error the engine can return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    /// Input failed validation; nothing changed.
    #[error("invalid {field}: {message}")]
    Validation {
        /// The offending field.
        field: String,
        /// Human-readable explanation.
        message: String,
    },
    /// No such resource, or the caller may not see it (never reveal which).
    #[error("{resource} not found")]
    NotFound {
        /// Kind of resource ("account", "transaction", ...).
        resource: &'static str,
    },
    /// Caller is not authenticated, or its credentials are invalid.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Caller is authenticated but lacks the role for this action.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Amounts in different currencies were combined.
    #[error("currency mismatch: expected {expected}, got {got}")]
    CurrencyMismatch {
        /// Currency of the account or first operand.
        expected: Currency,
        /// Currency that was supplied.
        got: Currency,
    },
    /// Available balance (plus overdraft) does not cover the amount.
    #[error("insufficient funds")]
    InsufficientFunds,
    /// The account is frozen and refuses debits and credits. Carries the whole message.
    #[error("{0}")]
    AccountFrozen(String),
    /// The account is closed. Carries the whole message.
    #[error("{0}")]
    AccountClosed(String),
    /// The account's per-day outgoing limit would be exceeded.
    #[error("daily outgoing limit exceeded")]
    DailyLimitExceeded,
    /// An account can only close at zero balance with no open holds.
    #[error("account not empty: {0}")]
    AccountNotEmpty(String),
    /// The idempotency key was already used with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyConflict,
    /// A state machine refused a transition (e.g. KYC, transaction or hold status).
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// The transaction was already reversed.
    #[error("transaction already reversed")]
    AlreadyReversed,
    /// Unique constraint: the resource already exists.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// The customer's KYC is not approved.
    #[error("KYC approval required")]
    KycRequired,
    /// Fraud rules blocked the transaction. Carries the whole message.
    #[error("{0}")]
    FraudBlocked(String),
    /// Login refused because the account is temporarily locked.
    #[error("account locked until {0}")]
    AccountLocked(String),
    /// A multi-factor code is required to complete login.
    #[error("multi-factor code required")]
    MfaRequired,
    /// A staff user must enrol TOTP before any staff function works (PCI DSS v4 req. 8).
    #[error("enrol multi-factor authentication before using staff functions")]
    MfaEnrolmentRequired,
    /// The customer's login email is not verified yet (KYC submission needs it).
    #[error("verify your email address first")]
    EmailUnverified,
    /// Too many requests.
    #[error("rate limited")]
    RateLimited,
    /// A limit the engine puts on everything (page size, batch size, body size) was exceeded.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The store failed in a way that may succeed on retry (serialization failure, busy).
    #[error("transient store failure: {0}")]
    Transient(String),
    /// The engine is at capacity (the commit queue stayed full for the retry policy's whole
    /// backoff): nothing was done; try again later.
    #[error("engine overloaded: {0}")]
    Overloaded(String),
    /// A staff money movement above the approval threshold was parked, not run: it waits for
    /// a second staff member (maker-checker). Carries the approval request's id.
    #[error("approval required: request {0} waits for a second staff member")]
    ApprovalRequired(crate::ids::ApprovalId),
    /// Unexpected failure in a port (store, notifier...). Details are for logs, not users.
    #[error("internal error: {0}")]
    Internal(String),
    /// An engine invariant did not hold. Always a bug; the unit of work is rolled back.
    #[error("invariant violated: {0}")]
    Invariant(String),
}

impl BankError {
    /// Shorthand for a validation error.
    pub fn validation(field: &str, message: impl Into<String>) -> BankError {
        BankError::Validation {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for an internal (port) error.
    pub fn internal(message: impl std::fmt::Display) -> BankError {
        BankError::Internal(message.to_string())
    }

    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            BankError::Validation { .. } => "validation_error",
            BankError::NotFound { .. } => "not_found",
            BankError::Unauthorized(_) => "unauthorized",
            BankError::Forbidden(_) => "forbidden",
            BankError::CurrencyMismatch { .. } => "currency_mismatch",
            BankError::InsufficientFunds => "insufficient_funds",
            BankError::AccountFrozen(_) => "account_frozen",
            BankError::AccountClosed(_) => "account_closed",
            BankError::DailyLimitExceeded => "daily_limit_exceeded",
            BankError::AccountNotEmpty(_) => "account_not_empty",
            BankError::IdempotencyConflict => "idempotency_conflict",
            BankError::InvalidState(_) => "invalid_state",
            BankError::AlreadyReversed => "already_reversed",
            BankError::Duplicate(_) => "conflict",
            BankError::KycRequired => "kyc_required",
            BankError::FraudBlocked(_) => "fraud_blocked",
            BankError::AccountLocked(_) => "account_locked",
            BankError::MfaRequired => "mfa_required",
            BankError::MfaEnrolmentRequired => "mfa_enrolment_required",
            BankError::EmailUnverified => "email_unverified",
            BankError::RateLimited => "rate_limited",
            BankError::LimitExceeded(_) => "limit_exceeded",
            BankError::Transient(_) => "transient",
            BankError::Overloaded(_) => "overloaded",
            BankError::ApprovalRequired(_) => "approval_required",
            BankError::Internal(_) => "internal_error",
            BankError::Invariant(_) => "invariant_violated",
        }
    }

    /// True for business-rule refusals that are recorded as a FAILED transaction
    /// (the request was well-formed; the bank said no).
    pub fn is_business_refusal(&self) -> bool {
        matches!(
            self,
            BankError::InsufficientFunds
                | BankError::AccountFrozen(_)
                | BankError::AccountClosed(_)
                | BankError::DailyLimitExceeded
                | BankError::FraudBlocked(_)
        )
    }

    /// True when retrying the whole unit of work may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, BankError::Transient(_))
    }

    /// Every stable code, for documentation and the adapters' exhaustive mapping tests.
    pub const ALL_CODES: &'static [&'static str] = &[
        "validation_error",
        "not_found",
        "unauthorized",
        "forbidden",
        "currency_mismatch",
        "insufficient_funds",
        "account_frozen",
        "account_closed",
        "daily_limit_exceeded",
        "account_not_empty",
        "idempotency_conflict",
        "invalid_state",
        "already_reversed",
        "conflict",
        "kyc_required",
        "fraud_blocked",
        "account_locked",
        "mfa_required",
        "mfa_enrolment_required",
        "email_unverified",
        "rate_limited",
        "limit_exceeded",
        "transient",
        "overloaded",
        "approval_required",
        "internal_error",
        "invariant_violated",
    ];
}
