//! # bankflow-core
//!
//! BankFlow's pure banking domain and engine. No I/O happens here: storage, time, ids,
//! fraud scoring and event delivery are ports (traits) that adapters implement.
//!
//! Start with [`Bank::builder`] over a [`Store`] (the in-memory [`MemoryStore`], or the
//! SQLite/PostgreSQL adapters in their own crates).
#![warn(missing_docs)]
// A panic on a stored value or an input is a bug in a bank: core returns typed errors, and an
// internal invariant gets `BankError::Invariant` or a commented allow.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod account;
pub mod audit;
pub mod auth;
mod bank;
pub mod banking;
pub mod clock;
pub mod crypto;
pub mod customer;
pub mod error;
pub mod events;
mod executor;
pub mod fraud;
pub mod fraud_port;
mod group;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod ledger;
mod maintenance;
pub mod memory;
pub mod money;
pub mod movement;
pub mod notify;
pub mod overview;
pub mod ports;
pub mod rekey;
pub mod schedule;
pub mod store_support;
pub mod telemetry;
#[cfg(feature = "testkit")]
#[allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed step fails the test
pub mod testkit;
pub mod transaction;
pub mod webhook;

pub use account::{Account, AccountNumber, AccountStatus, AccountType, Hold, HoldStatus};
pub use audit::{
    AuditAnchor, AuditCheckpoint, AuditFault, AuditOutcome, AuditRecord, AuditService,
    AuditVerification, MemoryAuditAnchor,
};
pub use auth::{Actor, Role};
pub use bank::{Bank, BankBuilder, BankConfig};
pub use banking::{
    ApprovalCommand, ApprovalQuery, ApprovalRequest, ApprovalStatus, MoneyMove, Submitted,
    APPROVALS_PAGE_MAX,
};
pub use banking::{
    Balance, BookingRequest, Destination, ExternalPayee, LedgerReport, MoneyService,
    OpenAccountRequest, PaymentRail, Statement, StatementLine, TransferItem, TransferRequest,
    BATCH_LEN_MAX, DESCRIPTION_LEN_MAX, PAYEE_TEXT_LEN_MAX, STATEMENT_LINES_MAX,
    SUBMIT_TRANSFERS_MAX,
};
#[cfg(feature = "tokio-runtime")]
pub use clock::TokioRuntime;
pub use clock::{Clock, InlineRuntime, ManualClock, Runtime, SystemClock};
pub use crypto::{DataKey, KeyProvider, StaticKeyRing};
pub use customer::{
    CustomerService, CustomerView, DocumentStore, DocumentType, KycStatus, MemoryDocumentStore,
    NewCustomer,
};
pub use error::{BankError, BankResult};
pub use events::{DomainEvent, EventSink, EventType, MemorySink, NoopSink, StoredEvent};
pub use executor::{RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_CAP_MS, WRITE_ATTEMPTS_MAX};
pub use fraud::{
    CaseDecision, CaseStatus, FraudCase, FraudRule, FraudService, ListEntryType, ListKind,
    RuleType, RulesFraudCheck,
};
pub use fraud_port::{
    AllowAll, FraudAction, FraudCheck, FraudDecision, FraudInput, RequestContext, RiskLevel,
};
pub use idempotency::IdempotencyKey;
pub use identity::{
    AuthTokens, Claims, Email, IdentityService, LoginRequest, RegisterRequest, UserView,
};
pub use ids::{
    AccountId, ApprovalId, CustomerId, EventId, HoldId, IdGenerator, RandomIds, SequentialIds,
    TransactionId, UserId,
};
pub use ledger::SystemAccount;
pub use maintenance::{MaintenanceService, PurgeReport};
pub use memory::MemoryStore;
pub use money::{Currency, Money};
pub use notify::{Channel, MemoryNotifier, NotificationService, Notifier, OutgoingMessage};
pub use overview::{CurrencyTotal, DayVolume, Overview, ReportingService};
pub use ports::{
    AuditRepo, CustomerRepo, FraudRepo, IdentityRepo, NotificationRepo, Store, TxMode, UnitOfWork,
};
pub use schedule::{
    CreateSchedule, Frequency, ScheduleRunReport, ScheduleService, ScheduleStatus,
    ScheduledTransfer,
};
pub use transaction::{
    Transaction, TransactionQuery, TransactionRef, TransactionStatus, TransactionType,
};
