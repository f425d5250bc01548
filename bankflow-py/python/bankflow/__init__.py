"""BankFlow: an embeddable banking engine (double-entry ledger, accounts, transfers).

Open an engine with :meth:`Bank.open` (in memory, a SQLite path, or a ``postgres://`` URL)
and call its use cases. Conventions, the same everywhere:

* ids are ``str`` (UUID text);
* amounts are :class:`decimal.Decimal` in and out (``int`` and decimal ``str`` are accepted
  too); a ``float`` raises :class:`TypeError`;
* timestamps are timezone-aware :class:`datetime.datetime` (naive ones raise ``TypeError``);
  statement days are :class:`datetime.date`;
* every money-moving call takes an ``idempotency_key``: repeating a call with the same key
  and the same arguments returns the first result; with other arguments it raises
  :class:`IdempotencyConflict`;
* engine errors are :class:`BankflowError` subclasses carrying the engine's stable ``code``.

The handle returned by :meth:`Bank.open` acts as the embedding program itself (trusted, like
an admin); :meth:`Bank.acting_as` returns a handle on the same engine that acts as a user,
with the engine's authorisation rules.
"""

from bankflow._bankflow import (
    ERROR_CODES,
    Account,
    AccountClosed,
    AccountFrozen,
    AccountLocked,
    AccountNotEmpty,
    AlreadyReversed,
    ApprovalRequired,
    AuditEntry,
    AuditReport,
    Balance,
    Bank,
    BankflowError,
    Conflict,
    CurrencyMismatch,
    Customer,
    DailyLimitExceeded,
    EmailUnverified,
    Document,
    Forbidden,
    FraudBlocked,
    FraudCase,
    FraudRule,
    IdempotencyConflict,
    InsufficientFunds,
    InternalError,
    InvalidState,
    KafkaRelay,
    Kyc,
    KycRequired,
    LedgerReport,
    LimitExceeded,
    ListEntry,
    Login,
    MfaEnrolmentRequired,
    MfaRequired,
    MfaSetup,
    NotFound,
    Notification,
    NotificationPreference,
    Overloaded,
    RateLimited,
    Statement,
    StatementLine,
    Transaction,
    TransientError,
    Unauthorized,
    User,
    ValidationError,
)

__all__ = [
    "ERROR_CODES",
    "Account",
    "AccountClosed",
    "AccountFrozen",
    "AccountLocked",
    "AccountNotEmpty",
    "AlreadyReversed",
    "ApprovalRequired",
    "AuditEntry",
    "AuditReport",
    "Balance",
    "Bank",
    "BankflowError",
    "Conflict",
    "CurrencyMismatch",
    "Customer",
    "DailyLimitExceeded",
    "EmailUnverified",
    "Document",
    "Forbidden",
    "FraudBlocked",
    "FraudCase",
    "FraudRule",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InternalError",
    "InvalidState",
    "KafkaRelay",
    "Kyc",
    "KycRequired",
    "LedgerReport",
    "LimitExceeded",
    "ListEntry",
    "Login",
    "MfaEnrolmentRequired",
    "MfaRequired",
    "MfaSetup",
    "NotFound",
    "Notification",
    "NotificationPreference",
    "Overloaded",
    "RateLimited",
    "Statement",
    "StatementLine",
    "Transaction",
    "TransientError",
    "Unauthorized",
    "User",
    "ValidationError",
]
