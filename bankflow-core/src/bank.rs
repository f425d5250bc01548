//! The composition root: [`Bank`] wires the ports into the bounded contexts and hands out
//! one service per context. Every write of every context runs through the one executor
//! (`crate::executor`).
//!
//! | accessor | context | module |
//! |---|---|---|
//! | [`Bank::money`] | accounts, ledger, transfers, statements | `banking/` |
//! | [`Bank::identity`] | users, sessions, MFA | `identity/` |
//! | [`Bank::customers`] | customers, KYC, documents | `customer/` |
//! | [`Bank::fraud`] | fraud rules, lists, cases | `fraud/` |
//! | [`Bank::notifications`] | notifications and preferences | `notify/` |
//! | [`Bank::audit`] | the hash-chained audit log | `audit/` |
//! | [`Bank::schedules`] | scheduled transfers | `schedule.rs` |
//! | [`Bank::reporting`] | the admin overview | `overview.rs` |
//! | [`Bank::maintenance`] | retention, hold expiry, outbox relay | `maintenance.rs` |

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::audit::{AuditAnchor, AuditService, AuditState, MemoryAuditAnchor};
use crate::banking::MoneyService;
use crate::clock::{Clock, InlineRuntime, Runtime, SystemClock};
use crate::crypto::{KeyProvider, StaticKeyRing};
use crate::customer::{CustomerService, DocumentStore, EncryptedDocuments, MemoryDocumentStore};
use crate::events::{EventSink, NoopSink};
use crate::executor::Executor;
use crate::fraud::{FraudService, RulesFraudCheck};
use crate::fraud_port::FraudCheck;
use crate::group::GroupCommitter;
use crate::identity::IdentityService;
use crate::ids::{IdGenerator, RandomIds, SplitMix};
use crate::maintenance::MaintenanceService;
use crate::notify::{MemoryNotifier, NotificationService, Notifier};
use crate::overview::ReportingService;
use crate::ports::Store;
use crate::schedule::ScheduleService;

/// Engine settings.
#[derive(Clone, Debug)]
pub struct BankConfig {
    /// Lifetime of a pending transfer's hold when the caller gives none, and of a review hold.
    pub hold_ttl: Duration,
    /// After each write, re-sum every touched account's postings and compare with the cached
    /// balance. O(history) per write on SQL stores: on in tests and audits, off by default.
    pub verify_balances_on_write: bool,
    /// Coalesce concurrent commands into one store transaction (group commit). `None` asks
    /// the store ([`Store::prefers_group_commit`]).
    pub group_commit: Option<bool>,
    /// Commands per group-commit transaction, at most.
    pub group_size_max: usize,
    /// Accounts open only for customers whose KYC is APPROVED (see
    /// `check_customer_may_open` for who is exempt).
    pub require_kyc: bool,
    /// Commands waiting for a commit group, at most. A caller finding the queue full is
    /// answered `overloaded` after the retry policy's bounded backoff, instead of queueing
    /// without bound.
    pub group_queue_max: usize,
    /// How long published outbox events, expired idempotency records and notifications are
    /// kept before the retention job (`bank.maintenance().purge`) removes them.
    pub retention: chrono::Duration,
    /// How long an idempotency key replays its first response. Records younger than this
    /// are never purged.
    pub idempotency_replay_window: chrono::Duration,
    /// Staff (admin, support) must enrol TOTP before any staff function works through a
    /// session (PCI DSS v4 req. 8); until then their sessions may only enrol MFA. On by
    /// default; turn off only for embedded or development use.
    pub staff_mfa_required: bool,
    /// KYC submission needs the customer's verified email (finding 12). On by default; an
    /// embedding program that verifies contacts itself (the Python and Node bindings expose
    /// no verification call yet) turns it off.
    pub require_verified_email: bool,
    /// Maker-checker: a staff person's transfer, payment, booking, reversal or limit of more than
    /// this amount (compared in the movement's own currency) waits for a second admin's
    /// approval. `None` turns the control off. The embedding program (`Actor::system`) is
    /// never held.
    pub staff_approval_threshold: Option<rust_decimal::Decimal>,
}

impl Default for BankConfig {
    fn default() -> Self {
        BankConfig {
            hold_ttl: Duration::days(7),
            verify_balances_on_write: false,
            group_commit: None,
            group_size_max: 256,
            require_kyc: true,
            group_queue_max: 4_096,
            retention: Duration::days(90),
            idempotency_replay_window: Duration::days(30),
            staff_approval_threshold: Some(rust_decimal::Decimal::from(10_000)),
            staff_mfa_required: true,
            require_verified_email: true,
        }
    }
}

/// The engine's ports and executor, shared by every context service. Internal: embedders
/// reach it only through the services.
#[doc(hidden)]
pub struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) fraud: Arc<dyn FraudCheck>,
    pub(crate) sink: Arc<dyn EventSink>,
    pub(crate) config: BankConfig,
    pub(crate) keys: Arc<dyn KeyProvider>,
    pub(crate) documents: Arc<dyn DocumentStore>,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) exec: Executor,
    /// The audit anchor port, derived audit keys, and where the anchor stands.
    pub(crate) audit_state: AuditState,
    /// Randomness that needs no secrecy: account-number bodies, backoff jitter.
    pub(crate) rng: SplitMix,
}

/// The engine. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Bank {
    pub(crate) inner: Arc<Inner>,
}

/// Builds a [`Bank`] over a store, with optional ports.
pub struct BankBuilder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    fraud: Option<Arc<dyn FraudCheck>>,
    sink: Arc<dyn EventSink>,
    config: BankConfig,
    keys: Option<Arc<dyn KeyProvider>>,
    documents: Arc<dyn DocumentStore>,
    notifier: Arc<dyn Notifier>,
    runtime: Arc<dyn Runtime>,
    audit_anchor: Arc<dyn AuditAnchor>,
}

impl BankBuilder {
    /// Where the signed checkpoint of the audit chain head is kept, outside the database
    /// (default: [`MemoryAuditAnchor`], which detects truncation only while the process lives).
    pub fn audit_anchor(mut self, anchor: Arc<dyn AuditAnchor>) -> Self {
        self.audit_anchor = anchor;
        self
    }
    /// Clock port (default: system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Id generator port (default: UUIDv7).
    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }
    /// Fraud-check port (default: [`RulesFraudCheck`], which allows everything until fraud
    /// rules are installed).
    pub fn fraud(mut self, fraud: Arc<dyn FraudCheck>) -> Self {
        self.fraud = Some(fraud);
        self
    }
    /// Encryption keys for sensitive fields (default: one ephemeral random key — data sealed
    /// with it is unreadable after a restart, so real deployments configure keys).
    pub fn keys(mut self, keys: Arc<dyn KeyProvider>) -> Self {
        self.keys = Some(keys);
        self
    }
    /// Where KYC document bytes go (default: in memory). Whichever store it is, the engine
    /// puts it behind [`EncryptedDocuments`] under [`BankBuilder::keys`]: the store only ever
    /// holds envelope-encrypted objects, and reads are authenticated.
    pub fn documents(mut self, documents: Arc<dyn DocumentStore>) -> Self {
        self.documents = documents;
        self
    }
    /// Email/SMS/push delivery (default: an in-memory outbox, see [`MemoryNotifier`]).
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
        self
    }
    /// Event sink port (default: none; the outbox keeps every event).
    pub fn sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = sink;
        self
    }
    /// Sleep port for the retry policy's backoff (default: [`InlineRuntime`], which only
    /// yields; an embedder on a runtime passes a real timer, as every edge of BankFlow does).
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = runtime;
        self
    }
    /// Engine settings.
    pub fn config(mut self, config: BankConfig) -> Self {
        self.config = config;
        self
    }
    /// The engine. Panics only if the OS random source fails while making the default
    /// ephemeral key (configure [`BankBuilder::keys`] to avoid even that).
    pub fn build(self) -> Bank {
        let fraud = self.fraud.unwrap_or_else(|| {
            Arc::new(RulesFraudCheck::new(self.clock.clone(), self.ids.clone()))
        });
        // No input reaches this: without an OS random source at start-up nothing is safe to run.
        #[allow(clippy::expect_used)]
        let keys = self.keys.unwrap_or_else(|| {
            Arc::new(
                StaticKeyRing::ephemeral().expect("OS random source for the ephemeral data key"),
            )
        });
        let seed = self.ids.next_uuid().as_u64_pair();
        let group = self
            .config
            .group_commit
            .unwrap_or_else(|| self.store.prefers_group_commit())
            .then(|| GroupCommitter::new(self.config.group_size_max, self.config.group_queue_max));
        Bank {
            inner: Arc::new(Inner {
                store: self.store,
                clock: self.clock,
                ids: self.ids,
                fraud,
                sink: self.sink,
                config: self.config,
                // Every store, every edge: no document reaches a store unencrypted.
                documents: Arc::new(EncryptedDocuments::new(self.documents, keys.clone())),
                keys,
                notifier: self.notifier,
                exec: Executor::new(group, self.runtime),
                audit_state: AuditState::new(self.audit_anchor),
                rng: SplitMix::new(seed.0 ^ seed.1),
            }),
        }
    }
}

/// Declares a context service: a borrowed view of the engine that carries one context's
/// use cases (`bank.money().transfer(..)`).
macro_rules! context_service {
    ($(#[$doc:meta])* $name:ident, $accessor:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a> {
            pub(crate) k: &'a $crate::bank::Inner,
        }

        impl std::ops::Deref for $name<'_> {
            type Target = $crate::bank::Inner;
            fn deref(&self) -> &$crate::bank::Inner {
                self.k
            }
        }

        impl $crate::bank::Inner {
            /// This context's service.
            pub(crate) fn $accessor(&self) -> $name<'_> {
                $name { k: self }
            }
        }
    };
}
pub(crate) use context_service;

impl Bank {
    /// Starts building an engine over `store`.
    pub fn builder(store: Arc<dyn Store>) -> BankBuilder {
        BankBuilder {
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
            fraud: None,
            sink: Arc::new(NoopSink),
            config: BankConfig::default(),
            keys: None,
            documents: Arc::new(MemoryDocumentStore::default()),
            notifier: Arc::new(MemoryNotifier::default()),
            runtime: Arc::new(InlineRuntime),
            audit_anchor: Arc::new(MemoryAuditAnchor::default()),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The engine's settings.
    pub fn config(&self) -> &BankConfig {
        &self.inner.config
    }

    /// Accounts, ledger, transfers, bookings, reversals, statements.
    pub fn money(&self) -> MoneyService<'_> {
        self.inner.money()
    }

    /// Users, sessions, passwords, MFA.
    pub fn identity(&self) -> IdentityService<'_> {
        self.inner.identity()
    }

    /// Customers, KYC and documents.
    pub fn customers(&self) -> CustomerService<'_> {
        self.inner.customers()
    }

    /// Fraud rules, lists, scores and cases.
    pub fn fraud(&self) -> FraudService<'_> {
        self.inner.fraud_service()
    }

    /// Notifications, the in-app feed and preferences.
    pub fn notifications(&self) -> NotificationService<'_> {
        self.inner.notifications()
    }

    /// The audit log.
    pub fn audit(&self) -> AuditService<'_> {
        self.inner.audit_service()
    }

    /// Scheduled (standing) transfers.
    pub fn schedules(&self) -> ScheduleService<'_> {
        self.inner.schedules()
    }

    /// The admin dashboard's figures.
    pub fn reporting(&self) -> ReportingService<'_> {
        self.inner.reporting()
    }

    /// Housekeeping: retention, hold expiry, outbox relay.
    pub fn maintenance(&self) -> MaintenanceService<'_> {
        self.inner.maintenance()
    }

    /// Outgoing webhooks: subscriptions, enqueueing, delivery.
    pub fn webhooks(&self) -> crate::webhook::WebhookService<'_> {
        self.inner.webhooks()
    }
}

impl Inner {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn new_uuid(&self) -> uuid::Uuid {
        self.ids.next_uuid()
    }
}
