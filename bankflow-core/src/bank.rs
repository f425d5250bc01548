//! The `Bank` engine facade: every use case, run as one unit of work over the ports.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::{Account, AccountNumber, AccountStatus, AccountType, HoldStatus};
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::clock::{Clock, SystemClock};
use crate::crypto::{KeyProvider, StaticKeyRing};
use crate::customer::{DocumentStore, MemoryDocumentStore};
use crate::error::{BankError, BankResult};
use crate::events::{
    DomainEvent, EventData, EventSink, EventType, NoopSink, StoredEvent, TransactionEventData,
};
use crate::fraud::RulesFraudCheck;
use crate::fraud_port::{FraudAction, FraudCheck, FraudInput, RequestContext};
use crate::group::{self, GroupCommitter};
use crate::idempotency::{
    fingerprint, Fingerprinter, IdempotencyKey, IdempotencyRecord, IdempotentResponse,
};
use crate::ids::{
    AccountId, CustomerId, EventId, IdGenerator, JournalId, RandomIds, SplitMix, TransactionId,
};
use crate::ledger::{JournalEntry, Posting, SystemAccount};
use crate::money::{Currency, Money};
use crate::movement::{self, AccountSet, FraudOutcome, Movement, Planned, Reserve, Side, Stamp};
use crate::notify::{MemoryNotifier, Notifier};
use crate::ports::{Store, TxMode, UnitOfWork};
use crate::transaction::{Transaction, TransactionQuery, TransactionStatus, TransactionType};

/// Longest free-text description accepted.
pub const DESCRIPTION_LEN_MAX: usize = 500;
/// Longest payee name or payee reference of an external payment.
pub const PAYEE_TEXT_LEN_MAX: usize = 140;
/// Most transfers in one linked batch.
pub const BATCH_LEN_MAX: usize = 100;
/// Most transfers one [`Bank::submit_transfers`] call takes: a bound on one write unit's
/// size and on the memory a call holds (TigerBeetle's batch limit is of the same order).
pub const SUBMIT_TRANSFERS_MAX: usize = 8_190;
/// Most lines in one statement.
pub const STATEMENT_LINES_MAX: usize = 10_000;
/// Whole-unit retries on transient store failures (serialization, busy) or a lost
/// idempotency-key race.
pub const WRITE_RETRIES_MAX: u32 = 8;
/// Events a transfer emits (initiated, fraud passed, reserved, completed, balance x2...):
/// the capacity reserved for a command's event list.
pub(crate) const EVENTS_PER_COMMAND_TYPICAL: usize = 8;
/// Holds expired per call of [`Bank::expire_holds`].
pub const EXPIRE_BATCH_MAX: u32 = 500;

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
}

impl Default for BankConfig {
    fn default() -> Self {
        BankConfig {
            hold_ttl: Duration::days(7),
            verify_balances_on_write: false,
            group_commit: None,
            group_size_max: 256,
            require_kyc: true,
        }
    }
}

/// Where a transfer goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Destination {
    /// By account id.
    Account(AccountId),
    /// By account number (to another customer).
    Number(AccountNumber),
    /// Out of the bank (bill payment, ACH, wire), booked against the external clearing GL
    /// account until the payment rail settles it.
    External(ExternalPayee),
}

/// How money leaves the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentRail {
    /// A bill payment to a payee (seed: "Payment processing").
    Payment,
    /// An outgoing ACH transfer.
    Ach,
    /// An outgoing wire.
    Wire,
}

/// The beneficiary of money leaving the bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalPayee {
    /// Rail.
    pub rail: PaymentRail,
    /// Beneficiary name (1..=140 characters).
    pub name: String,
    /// Beneficiary account: IBAN, account number or routing/account (4..=34 letters, digits, `-`, `/`).
    pub account: String,
    /// Reference for the beneficiary (invoice number...), at most 140 characters.
    pub reference: Option<String>,
}

impl ExternalPayee {
    fn validate(&self) -> BankResult<()> {
        let name = self.name.trim();
        if name.is_empty()
            || name.chars().count() > PAYEE_TEXT_LEN_MAX
            || name.chars().any(char::is_control)
        {
            return Err(BankError::validation(
                "payee_name",
                "a payee name of 1 to 140 characters is required",
            ));
        }
        let acct = self.account.trim();
        if !(4..=34).contains(&acct.len())
            || !acct
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
        {
            return Err(BankError::validation(
                "payee_account",
                "4 to 34 letters, digits, '-' or '/'",
            ));
        }
        if self.reference.as_ref().is_some_and(|r| {
            r.chars().count() > PAYEE_TEXT_LEN_MAX || r.chars().any(char::is_control)
        }) {
            return Err(BankError::validation("reference", "at most 140 characters"));
        }
        Ok(())
    }

    fn kind(&self) -> TransactionType {
        match self.rail {
            PaymentRail::Payment => TransactionType::Payment,
            PaymentRail::Ach | PaymentRail::Wire => TransactionType::ExternalTransfer,
        }
    }

    fn fingerprint_text(&self) -> String {
        format!(
            "{:?}|{}|{}|{}",
            self.rail,
            self.name.trim(),
            self.account.trim(),
            self.reference.as_deref().unwrap_or("")
        )
    }
}

/// The credited side of a resolved destination.
struct Resolved {
    credit: Side,
    kind: TransactionType,
    counterparty: Option<String>,
    default_description: Option<String>,
}

/// One transfer between customer accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferItem {
    /// Debited account (must belong to the actor unless admin).
    pub from_account_id: AccountId,
    /// Credited account.
    pub to: Destination,
    /// Positive amount in the accounts' currency.
    pub amount: Money,
    /// Free text (≤ 500 characters).
    pub description: Option<String>,
}

impl TransferItem {
    /// Adds this item's fields to a request fingerprint. Ids and amounts go in as bytes (16
    /// each), not as formatted text: formatting them was the costliest step of a transfer's
    /// fingerprint. The destination's kind is tagged so an id can never read as a number.
    fn fingerprint_into(&self, fp: &mut Fingerprinter) {
        fp.bytes(self.from_account_id.0.as_bytes());
        match &self.to {
            Destination::Account(id) => fp.bytes(b"account").bytes(id.0.as_bytes()),
            Destination::Number(n) => fp.bytes(b"number").bytes(n.as_str().as_bytes()),
            Destination::External(p) => fp.bytes(b"external").part(p.fingerprint_text()),
        };
        fp.bytes(&self.amount.amount().serialize())
            .bytes(self.amount.currency().code().as_bytes())
            .bytes(self.description.as_deref().unwrap_or("").as_bytes());
    }
}

/// An internal transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferRequest {
    /// What moves.
    pub item: TransferItem,
    /// Idempotency key.
    pub idempotency_key: IdempotencyKey,
    /// Caller context for fraud rules.
    pub context: RequestContext,
}

/// A teller deposit or withdrawal (against the cash GL account), or a booking against
/// another GL account (external clearing, fees, interest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingRequest {
    /// Customer account.
    pub account_id: AccountId,
    /// Positive amount.
    pub amount: Money,
    /// Free text.
    pub description: Option<String>,
    /// Idempotency key.
    pub idempotency_key: IdempotencyKey,
}

/// Opens an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAccountRequest {
    /// Owner.
    pub customer_id: CustomerId,
    /// CHECKING or SAVINGS.
    pub account_type: AccountType,
    /// Currency (USD by default at the edges).
    pub currency: Currency,
    /// Overdraft (checking only; admin only).
    pub overdraft_limit: Option<Decimal>,
    /// Daily outgoing limit.
    pub daily_limit: Option<Decimal>,
}

/// Commands the engine executes inside a unit of work. Data, so that concurrent commands
/// can be queued and group-committed.
#[derive(Clone, Debug)]
pub(crate) enum Command {
    OpenAccount(OpenAccountRequest),
    Transfer(TransferRequest, Reserve),
    Booking(BookingRequest, TransactionType),
    PostPending {
        id: TransactionId,
        amount: Option<Money>,
        key: IdempotencyKey,
    },
    VoidPending {
        id: TransactionId,
        key: IdempotencyKey,
    },
    Reverse {
        id: TransactionId,
        reason: String,
        key: IdempotencyKey,
    },
    Batch {
        items: Vec<TransferItem>,
        key: IdempotencyKey,
        context: RequestContext,
    },
    SetStatus {
        id: AccountId,
        status: AccountStatus,
    },
    SetLimits {
        id: AccountId,
        overdraft_limit: Decimal,
        daily_limit: Option<Decimal>,
    },
    ExpireHolds,
}

impl Command {
    /// The idempotency key the command is recorded under, if it takes one (always in the
    /// actor's scope).
    pub(crate) fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        match self {
            Command::Transfer(r, _) => Some(&r.idempotency_key),
            Command::Booking(r, _) => Some(&r.idempotency_key),
            Command::PostPending { key, .. }
            | Command::VoidPending { key, .. }
            | Command::Reverse { key, .. }
            | Command::Batch { key, .. } => Some(key),
            Command::OpenAccount(_)
            | Command::SetStatus { .. }
            | Command::SetLimits { .. }
            | Command::ExpireHolds => None,
        }
    }
}

/// What a command produced.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Account(Account),
    Transaction(Transaction),
    Transactions(Vec<Transaction>),
    Count(usize),
}

impl Outcome {
    fn txn(self) -> BankResult<Transaction> {
        match self {
            Outcome::Transaction(t) => t.refusal().map_or(Ok(t), Err),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }
}

/// A statement line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    /// Transaction booked.
    pub transaction_id: TransactionId,
    /// Booking time.
    pub posted_at: DateTime<Utc>,
    /// Description.
    pub description: Option<String>,
    /// Signed from the account's view.
    pub amount: Money,
    /// Balance after this line.
    pub balance_after: Money,
}

/// An account statement for `from <= day <= to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Account.
    pub account_id: AccountId,
    /// Account number.
    pub account_number: AccountNumber,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Balance at the start of `from`.
    pub opening_balance: Money,
    /// Balance at the end of `to`.
    pub closing_balance: Money,
    /// Lines in booking order.
    pub entries: Vec<StatementLine>,
}

/// Balance snapshot: ledger and available balance read together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Account.
    pub account_id: AccountId,
    /// Sum of postings.
    pub balance: Money,
    /// Balance minus active holds.
    pub available_balance: Money,
}

/// Result of a whole-ledger audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReport {
    /// Customer accounts checked.
    pub accounts_checked: usize,
    /// Sum of all customer balances per currency.
    pub customer_totals: Vec<(Currency, Decimal)>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) fraud: Arc<dyn FraudCheck>,
    pub(crate) sink: Arc<dyn EventSink>,
    pub(crate) config: BankConfig,
    pub(crate) keys: Arc<dyn KeyProvider>,
    pub(crate) documents: Arc<dyn DocumentStore>,
    pub(crate) notifier: Arc<dyn Notifier>,
    rng: SplitMix,
    group: Option<GroupCommitter>,
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
}

impl BankBuilder {
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
    /// Where KYC document bytes go (default: in memory).
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
    /// Settings.
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
            .then(|| GroupCommitter::new(self.config.group_size_max));
        Bank {
            inner: Arc::new(Inner {
                store: self.store,
                clock: self.clock,
                ids: self.ids,
                fraud,
                sink: self.sink,
                config: self.config,
                keys,
                documents: self.documents,
                notifier: self.notifier,
                rng: SplitMix::new(seed.0 ^ seed.1),
                group,
            }),
        }
    }
}

fn validate_description(d: &Option<String>) -> BankResult<()> {
    match d {
        Some(s) if s.chars().count() > DESCRIPTION_LEN_MAX => Err(BankError::validation(
            "description",
            format!("at most {DESCRIPTION_LEN_MAX} characters"),
        )),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => Err(BankError::validation(
            "description",
            "control characters are not allowed",
        )),
        _ => Ok(()),
    }
}

fn sorted_ids(ids: impl IntoIterator<Item = AccountId>) -> Vec<AccountId> {
    let mut v: Vec<AccountId> = ids.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

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

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn new_uuid(&self) -> uuid::Uuid {
        self.inner.ids.next_uuid()
    }

    // ---------------------------------------------------------------- running commands

    /// Runs one command in its own unit of work (or through the group committer), retrying
    /// transient failures, then publishes its events.
    pub(crate) async fn run(&self, actor: &Actor, cmd: Command) -> BankResult<Outcome> {
        if let Some(group) = &self.inner.group {
            // Boxed: the group path's future (queue, leader loop, a whole group's unit) is
            // several times the direct path's, and would be copied on every direct call too.
            return Box::pin(group.submit(self, actor.clone(), cmd)).await;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut uow = self.inner.store.begin(TxMode::Write).await?;
            // A transfer emits about seven events; reserve once instead of growing 1-2-4-8.
            let mut events = Vec::with_capacity(EVENTS_PER_COMMAND_TYPICAL);
            let result = self.exec(&mut *uow, actor, &cmd, &mut events).await;
            let result = match result {
                Ok(out) => match self.finish(uow, &events).await {
                    Ok(()) => Ok(out),
                    Err(e) => Err(e),
                },
                Err(e) => {
                    uow.rollback().await.ok();
                    Err(e)
                }
            };
            match result {
                Err(e) if Self::retryable(&e) && attempt < WRITE_RETRIES_MAX => continue,
                Err(e) => return Err(e),
                Ok(out) => {
                    self.publish(&events).await;
                    return Ok(out);
                }
            }
        }
    }

    pub(crate) fn retryable(e: &BankError) -> bool {
        e.is_transient() || matches!(e, BankError::Duplicate("idempotency key"))
    }

    async fn finish(&self, mut uow: Box<dyn UnitOfWork>, events: &[DomainEvent]) -> BankResult<()> {
        if !events.is_empty() {
            uow.append_events(events).await?;
        }
        uow.commit().await
    }

    pub(crate) async fn publish(&self, events: &[DomainEvent]) {
        if !events.is_empty() {
            // The outbox holds every event; a failed push is re-delivered by the relay.
            let _ = self.inner.sink.publish(events).await;
        }
    }

    /// Executes a command inside `uow`. Pushes its events to `events` (appended by the caller
    /// in the same unit of work).
    ///
    /// A future is as large as its largest arm and is copied whole at every await boundary
    /// that builds it, so the commands off the hot path are boxed: the transfer and booking
    /// arms (the traffic) stay inline and small.
    pub(crate) async fn exec(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Outcome> {
        match cmd {
            Command::Transfer(req, reserve) => self
                .exec_transfer(uow, actor, req, *reserve, events)
                .await
                .map(Outcome::Transaction),
            Command::Booking(req, kind) => self
                .exec_booking(uow, actor, req, *kind, events)
                .await
                .map(Outcome::Transaction),
            _ => Box::pin(self.exec_cold(uow, actor, cmd, events)).await,
        }
    }

    /// The commands [`Bank::exec`] boxes.
    async fn exec_cold(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Outcome> {
        match cmd {
            Command::Transfer(..) | Command::Booking(..) => {
                Err(BankError::internal("hot command routed to the cold path"))
            }
            Command::OpenAccount(req) => self
                .exec_open(uow, actor, req, events)
                .await
                .map(Outcome::Account),
            Command::PostPending { id, amount, key } => self
                .exec_resolve(uow, actor, *id, Resolve::Post(*amount), key, events)
                .await
                .map(Outcome::Transaction),
            Command::VoidPending { id, key } => self
                .exec_resolve(uow, actor, *id, Resolve::Void, key, events)
                .await
                .map(Outcome::Transaction),
            Command::Reverse { id, reason, key } => self
                .exec_reverse(uow, actor, *id, reason, key, events)
                .await
                .map(Outcome::Transaction),
            Command::Batch {
                items,
                key,
                context,
            } => self
                .exec_batch(uow, actor, items, key, context, events)
                .await
                .map(Outcome::Transactions),
            Command::SetStatus { id, status } => self
                .exec_set_status(uow, actor, *id, *status, events)
                .await
                .map(Outcome::Account),
            Command::SetLimits {
                id,
                overdraft_limit,
                daily_limit,
            } => self
                .exec_set_limits(uow, actor, *id, *overdraft_limit, *daily_limit)
                .await
                .map(Outcome::Account),
            Command::ExpireHolds => self.exec_expire(uow, events).await.map(Outcome::Count),
        }
    }

    // ---------------------------------------------------------------- idempotency

    async fn idem_lookup(
        &self,
        uow: &mut dyn UnitOfWork,
        scope: &str,
        key: &IdempotencyKey,
        fp: &str,
    ) -> BankResult<Option<IdempotentResponse>> {
        match uow.idempotency(scope, key).await? {
            Some(rec) if rec.fingerprint == fp => Ok(Some(rec.response)),
            Some(_) => Err(BankError::IdempotencyConflict),
            None => Ok(None),
        }
    }

    async fn idem_save(
        &self,
        uow: &mut dyn UnitOfWork,
        scope: String,
        key: &IdempotencyKey,
        fp: String,
        response: IdempotentResponse,
    ) -> BankResult<()> {
        let rec = IdempotencyRecord {
            scope,
            key: key.clone(),
            fingerprint: fp,
            response,
            created_at: self.now(),
        };
        uow.insert_idempotency(&rec).await
    }

    fn replay_txn(resp: IdempotentResponse) -> BankResult<Transaction> {
        match resp {
            IdempotentResponse::Transaction(t) => Ok(t),
            _ => Err(BankError::IdempotencyConflict),
        }
    }

    // ---------------------------------------------------------------- persistence helpers

    async fn persist(
        &self,
        uow: &mut dyn UnitOfWork,
        set: AccountSet,
        planned: Vec<Planned>,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Vec<Transaction>> {
        let dirty = set.into_dirty()?;
        for a in &dirty {
            uow.update_account(a).await?;
        }
        let mut txns = Vec::with_capacity(planned.len());
        for p in planned {
            if let Some(h) = &p.hold {
                uow.insert_hold(h).await?;
            }
            if let Some(j) = &p.journal {
                uow.insert_journal(j).await?;
            }
            uow.insert_transaction(&p.txn).await?;
            events.extend(p.events);
            txns.push(p.txn);
        }
        if self.inner.config.verify_balances_on_write {
            for a in &dirty {
                let sum = uow.posting_sum(a.id, None).await?;
                if sum != a.balance {
                    return Err(BankError::Invariant(format!(
                        "account {} balance {} != postings {sum}",
                        a.id, a.balance
                    )));
                }
            }
        }
        Ok(txns)
    }

    async fn lock_set(
        &self,
        uow: &mut dyn UnitOfWork,
        ids: impl IntoIterator<Item = AccountId>,
    ) -> BankResult<AccountSet> {
        let ids = sorted_ids(ids);
        let locked = uow.lock_accounts(&ids).await?;
        for a in &locked {
            // Pair assertion: what the store hands back satisfies what the engine wrote.
            a.assert_invariants()?;
        }
        Ok(AccountSet::new(locked))
    }

    /// Time and ids for a new transaction: one clock read, and every id of the movement
    /// (the transaction's included) stamped with it.
    fn stamp(&self) -> Stamp<'_> {
        let now = self.now();
        let ids: &dyn IdGenerator = &*self.inner.ids;
        Stamp {
            txn_id: TransactionId(ids.next_uuid_at(now)),
            now,
            ids,
        }
    }

    /// Time and ids for a movement of an existing transaction.
    fn stamp_for(&self, txn_id: TransactionId, now: DateTime<Utc>) -> Stamp<'_> {
        Stamp {
            txn_id,
            now,
            ids: &*self.inner.ids,
        }
    }

    // ---------------------------------------------------------------- accounts

    async fn exec_open(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        req: &OpenAccountRequest,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Account> {
        if !actor.may_act_for_customer(req.customer_id) {
            return Err(BankError::NotFound {
                resource: "customer",
            });
        }
        let overdraft = req.overdraft_limit.unwrap_or(Decimal::ZERO);
        if overdraft != Decimal::ZERO && !actor.is_admin() {
            return Err(BankError::Forbidden(
                "only staff may grant an overdraft".into(),
            ));
        }
        Self::check_limits(req.account_type, req.currency, overdraft, req.daily_limit)?;
        self.check_customer_may_open(uow, actor, req.customer_id)
            .await?;
        let now = self.now();
        let mut last_err = BankError::internal("no attempt");
        // Random numbers collide rarely; a bounded number of retries settles it.
        for _ in 0..5 {
            let account = Account {
                id: AccountId(self.new_uuid()),
                account_number: AccountNumber::from_body(self.inner.rng.next_u64()),
                customer_id: req.customer_id,
                account_type: req.account_type,
                currency: req.currency,
                balance: Money::zero(req.currency).amount(),
                held: Money::zero(req.currency).amount(),
                overdraft_limit: overdraft,
                daily_limit: req.daily_limit,
                daily_out_date: now.date_naive(),
                daily_out_total: Decimal::ZERO,
                status: AccountStatus::Active,
                opened_at: now,
                closed_at: None,
                updated_at: now,
                version: 1,
            };
            account.assert_invariants()?;
            if uow
                .account_by_number(&account.account_number)
                .await?
                .is_some()
            {
                last_err = BankError::Duplicate("account");
                continue;
            }
            uow.insert_account(&account).await?;
            events.push(self.account_event(EventType::AccountCreated, &account));
            return Ok(account);
        }
        Err(last_err)
    }

    /// Hook for the customer context: refuses opening when the customer may not hold accounts.
    /// See [`Bank::customer_may_open`] for the rule.
    async fn check_customer_may_open(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        customer: CustomerId,
    ) -> BankResult<()> {
        self.customer_may_open(uow, actor, customer).await
    }

    fn check_limits(
        ty: AccountType,
        ccy: Currency,
        overdraft: Decimal,
        daily: Option<Decimal>,
    ) -> BankResult<()> {
        if overdraft < Decimal::ZERO {
            return Err(BankError::validation(
                "overdraft_limit",
                "must not be negative",
            ));
        }
        if ty == AccountType::Savings && overdraft > Decimal::ZERO {
            return Err(BankError::validation(
                "overdraft_limit",
                "savings accounts have no overdraft",
            ));
        }
        Money::new(overdraft, ccy)?;
        if let Some(d) = daily {
            if d < Decimal::ZERO {
                return Err(BankError::validation("daily_limit", "must not be negative"));
            }
            Money::new(d, ccy)?;
        }
        Ok(())
    }

    pub(crate) fn account_event(&self, ty: EventType, a: &Account) -> DomainEvent {
        DomainEvent {
            id: EventId(self.new_uuid()),
            event_type: ty,
            aggregate_id: a.id.0,
            time: self.now(),
            data: EventData::Json(serde_json::json!({
                "accountId": a.id.to_string(),
                "accountNumber": a.account_number.masked(),
                "customerId": a.customer_id.to_string(),
                "accountType": a.account_type.as_str(),
                "currency": a.currency.code(),
                "status": a.status.as_str(),
            })),
        }
    }

    async fn exec_set_status(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: AccountId,
        status: AccountStatus,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Account> {
        let set = self.lock_set(uow, [id]).await?;
        let mut a = set.get(id)?.clone();
        actor.check_act(&a)?;
        let ty = match (a.status, status) {
            (AccountStatus::Active, AccountStatus::Frozen) => {
                actor.require_admin()?;
                EventType::AccountFrozen
            }
            (AccountStatus::Frozen, AccountStatus::Active) => {
                actor.require_admin()?;
                EventType::AccountUnfrozen
            }
            (AccountStatus::Active | AccountStatus::Frozen, AccountStatus::Closed) => {
                if !a.balance.is_zero() || !a.held.is_zero() {
                    return Err(BankError::AccountNotEmpty(
                        "balance must be zero with no open holds".into(),
                    ));
                }
                a.closed_at = Some(self.now());
                EventType::AccountClosed
            }
            (from, to) => {
                return Err(BankError::InvalidState(format!(
                    "account cannot go from {from} to {to}"
                )))
            }
        };
        a.status = status;
        a.updated_at = self.now();
        a.version += 1;
        a.assert_invariants()?;
        uow.update_account(&a).await?;
        events.push(self.account_event(ty, &a));
        let action = match ty {
            EventType::AccountFrozen => "account.freeze",
            EventType::AccountUnfrozen => "account.unfreeze",
            _ => "account.close",
        };
        self.audit(uow, actor, AuditEvent::new(action, "account", a.id))
            .await?;
        Ok(a)
    }

    async fn exec_set_limits(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: AccountId,
        overdraft: Decimal,
        daily: Option<Decimal>,
    ) -> BankResult<Account> {
        actor.require_admin()?;
        let set = self.lock_set(uow, [id]).await?;
        let mut a = set.get(id)?.clone();
        Self::check_limits(a.account_type, a.currency, overdraft, daily)?;
        a.overdraft_limit = overdraft;
        a.daily_limit = daily;
        a.updated_at = self.now();
        a.version += 1;
        if a.available_balance() < -a.overdraft_limit {
            return Err(BankError::validation(
                "overdraft_limit",
                "the account already uses more overdraft",
            ));
        }
        a.assert_invariants()?;
        uow.update_account(&a).await?;
        let detail = serde_json::json!({"overdraft_limit": overdraft.to_string(), "daily_limit": daily.map(|d| d.to_string())});
        self.audit(
            uow,
            actor,
            AuditEvent::new("account.set_limits", "account", a.id).detail(detail),
        )
        .await?;
        Ok(a)
    }

    // ---------------------------------------------------------------- movements

    async fn exec_transfer(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        req: &TransferRequest,
        reserve: Reserve,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        let item = &req.item;
        validate_description(&item.description)?;
        let scope = actor.idempotency_scope();
        let mut fp = Fingerprinter::new();
        fp.bytes(b"transfer");
        item.fingerprint_into(&mut fp);
        match reserve {
            Reserve::No => fp.bytes(b""),
            Reserve::Until(t) => fp
                .bytes(&t.timestamp().to_be_bytes())
                .bytes(&t.timestamp_subsec_nanos().to_be_bytes()),
        };
        let fp = fp.finish();
        if let Some(resp) = self
            .idem_lookup(uow, &scope, &req.idempotency_key, &fp)
            .await?
        {
            return Self::replay_txn(resp);
        }
        if let Reserve::Until(t) = reserve {
            if t <= self.now() {
                return Err(BankError::validation("expires_at", "must be in the future"));
            }
        }
        let to = self.resolve_destination(uow, &item.to).await?;
        let mut set = self
            .lock_set(
                uow,
                [Some(item.from_account_id), to.credit.customer()]
                    .into_iter()
                    .flatten(),
            )
            .await?;
        actor.check_act(set.get(item.from_account_id)?)?;
        let m = Movement {
            kind: to.kind,
            debit: Side::Customer(item.from_account_id),
            credit: to.credit,
            amount: item.amount.positive()?,
            description: item.description.clone().or(to.default_description),
        };
        let context = match to.counterparty {
            Some(c) => RequestContext {
                counterparty: Some(c),
                ..req.context.clone()
            },
            None => req.context.clone(),
        };
        let stamp = self.stamp();
        let planned = self
            .decide(uow, &mut set, &m, &stamp, reserve, &context)
            .await?;
        let txn = self
            .persist(uow, set, vec![planned], events)
            .await?
            .remove(0);
        self.idem_save(
            uow,
            scope,
            &req.idempotency_key,
            fp,
            IdempotentResponse::Transaction(txn.clone()),
        )
        .await?;
        Ok(txn)
    }

    /// Fraud step, then checks, then plan: the seed's pipeline for one movement.
    async fn decide(
        &self,
        uow: &mut dyn UnitOfWork,
        set: &mut AccountSet,
        m: &Movement,
        stamp: &Stamp<'_>,
        reserve: Reserve,
        context: &RequestContext,
    ) -> BankResult<Planned> {
        movement::validate_shape(set, m)?;
        let decision = {
            let input = FraudInput {
                transaction_id: stamp.txn_id,
                transaction_type: m.kind,
                from: m.debit.customer().map(|id| set.get(id)).transpose()?,
                to: m.credit.customer().map(|id| set.get(id)).transpose()?,
                amount: m.amount,
                context,
            };
            self.inner.fraud.assess(uow, &input).await?
        };
        let fraud = match decision.action {
            FraudAction::Block => {
                let err = BankError::FraudBlocked(format!(
                    "blocked by fraud rules: {}",
                    decision.flags.join(", ")
                ));
                return movement::refused(stamp, m, false, &err);
            }
            FraudAction::Review => FraudOutcome::Review,
            FraudAction::Allow => FraudOutcome::Passed,
        };
        match movement::check(set, m, stamp.now.date_naive()) {
            Ok(()) => movement::plan(set, m, stamp, fraud, reserve, self.inner.config.hold_ttl),
            Err(e) if e.is_business_refusal() => {
                movement::refused(stamp, m, fraud == FraudOutcome::Passed, &e)
            }
            Err(e) => Err(e),
        }
    }

    /// Resolves where money goes. Any customer may send to any existing account (by id or
    /// number); the account itself is never revealed beyond its existence.
    async fn resolve_destination(
        &self,
        uow: &mut dyn UnitOfWork,
        to: &Destination,
    ) -> BankResult<Resolved> {
        let internal = |id: AccountId| Resolved {
            credit: Side::Customer(id),
            kind: TransactionType::Transfer,
            counterparty: None,
            default_description: None,
        };
        match to {
            // Existence is checked when the accounts are locked (a missing one is `not_found`
            // there): looking it up here too cost a read and a copy on every transfer.
            Destination::Account(id) => Ok(internal(*id)),
            Destination::Number(n) => {
                let a = uow.account_by_number(n).await?.ok_or(BankError::NotFound {
                    resource: "account",
                })?;
                Ok(internal(a.id))
            }
            Destination::External(p) => {
                p.validate()?;
                Ok(Resolved {
                    credit: Side::System(SystemAccount::ExternalClearing),
                    kind: p.kind(),
                    counterparty: Some(p.account.trim().to_string()),
                    default_description: Some(match &p.reference {
                        Some(r) => format!(
                            "{} to {} ({r})",
                            p.kind().as_str().to_ascii_lowercase().replace('_', " "),
                            p.name.trim()
                        ),
                        None => format!(
                            "{} to {}",
                            p.kind().as_str().to_ascii_lowercase().replace('_', " "),
                            p.name.trim()
                        ),
                    }),
                })
            }
        }
    }

    async fn exec_booking(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        req: &BookingRequest,
        kind: TransactionType,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        actor.require_admin()?;
        validate_description(&req.description)?;
        let (debit, credit) = match kind {
            TransactionType::Deposit => (
                Side::System(SystemAccount::Cash),
                Side::Customer(req.account_id),
            ),
            TransactionType::Withdrawal => (
                Side::Customer(req.account_id),
                Side::System(SystemAccount::Cash),
            ),
            TransactionType::ExternalDeposit => (
                Side::System(SystemAccount::ExternalClearing),
                Side::Customer(req.account_id),
            ),
            TransactionType::ExternalTransfer | TransactionType::Payment => (
                Side::Customer(req.account_id),
                Side::System(SystemAccount::ExternalClearing),
            ),
            TransactionType::Fee => (
                Side::Customer(req.account_id),
                Side::System(SystemAccount::FeesIncome),
            ),
            TransactionType::Interest => (
                Side::System(SystemAccount::InterestExpense),
                Side::Customer(req.account_id),
            ),
            other => {
                return Err(BankError::validation(
                    "transaction_type",
                    format!("{other} is not a booking"),
                ))
            }
        };
        let scope = actor.idempotency_scope();
        let fp = fingerprint(&[
            kind.as_str(),
            &req.account_id.to_string(),
            &req.amount.amount().to_string(),
            req.amount.currency().code(),
            req.description.as_deref().unwrap_or(""),
        ]);
        if let Some(resp) = self
            .idem_lookup(uow, &scope, &req.idempotency_key, &fp)
            .await?
        {
            return Self::replay_txn(resp);
        }
        let mut set = self.lock_set(uow, [req.account_id]).await?;
        set.get(req.account_id)?;
        let m = Movement {
            kind,
            debit,
            credit,
            amount: req.amount.positive()?,
            description: req.description.clone(),
        };
        let stamp = self.stamp();
        movement::validate_shape(&set, &m)?;
        let planned = match movement::check(&set, &m, stamp.now.date_naive()) {
            Ok(()) => movement::plan(
                &mut set,
                &m,
                &stamp,
                FraudOutcome::NotChecked,
                Reserve::No,
                self.inner.config.hold_ttl,
            )?,
            Err(e) if e.is_business_refusal() => movement::refused(&stamp, &m, false, &e)?,
            Err(e) => return Err(e),
        };
        let txn = self
            .persist(uow, set, vec![planned], events)
            .await?
            .remove(0);
        self.idem_save(
            uow,
            scope,
            &req.idempotency_key,
            fp,
            IdempotentResponse::Transaction(txn.clone()),
        )
        .await?;
        if !actor.system {
            // Teller bookings are admin actions; the embedding program's own are not audited.
            let detail = serde_json::json!({"kind": kind.as_str(), "amount": txn.amount.amount().to_string(),
                "currency": txn.amount.currency().code(), "status": txn.status.as_str()});
            let ev =
                AuditEvent::new("transaction.booking", "account", req.account_id).detail(detail);
            self.audit(uow, actor, ev).await?;
        }
        Ok(txn)
    }

    async fn exec_batch(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        items: &[TransferItem],
        key: &IdempotencyKey,
        context: &RequestContext,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Vec<Transaction>> {
        if items.is_empty() || items.len() > BATCH_LEN_MAX {
            return Err(BankError::validation(
                "transfers",
                format!("a batch has 1 to {BATCH_LEN_MAX} transfers"),
            ));
        }
        let scope = actor.idempotency_scope();
        let mut fp = Fingerprinter::new();
        fp.part("batch");
        for it in items {
            validate_description(&it.description)?;
            it.fingerprint_into(&mut fp);
        }
        let fp = fp.finish();
        match self.idem_lookup(uow, &scope, key, &fp).await? {
            Some(IdempotentResponse::Batch(txns)) => return Ok(txns),
            Some(IdempotentResponse::Refused { code, message }) => {
                return Err(if code == "invalid_state" {
                    BankError::InvalidState(message)
                } else {
                    BankError::InvalidState(format!("{code}: {message}"))
                })
            }
            Some(_) => return Err(BankError::IdempotencyConflict),
            None => {}
        }
        let mut dests = Vec::with_capacity(items.len());
        for it in items {
            dests.push(self.resolve_destination(uow, &it.to).await?);
        }
        let all_ids = items
            .iter()
            .map(|i| i.from_account_id)
            .chain(dests.iter().filter_map(|d| d.credit.customer()));
        let mut set = self.lock_set(uow, all_ids).await?;
        let mut planned = Vec::with_capacity(items.len());
        let mut refusal = None;
        // Fraud assessments of earlier items are undone too if a later item refuses.
        uow.savepoint().await?;
        for (i, (it, to)) in items.iter().zip(dests).enumerate() {
            actor.check_act(set.get(it.from_account_id)?)?;
            let m = Movement {
                kind: to.kind,
                debit: Side::Customer(it.from_account_id),
                credit: to.credit,
                amount: it.amount.positive()?,
                description: it.description.clone().or(to.default_description),
            };
            let context = match to.counterparty {
                Some(c) => RequestContext {
                    counterparty: Some(c),
                    ..context.clone()
                },
                None => context.clone(),
            };
            let stamp = self.stamp();
            let p = self
                .decide(uow, &mut set, &m, &stamp, Reserve::No, &context)
                .await?;
            if p.txn.status != TransactionStatus::Completed {
                let why = p
                    .txn
                    .refusal()
                    .unwrap_or_else(|| BankError::InvalidState("held for review".into()));
                refusal = Some(BankError::InvalidState(format!(
                    "batch item {i} refused: {why}"
                )));
                break;
            }
            planned.push(p);
        }
        if let Some(err) = refusal {
            // Linked: nothing of the batch is written (the locked copies are dropped).
            uow.rollback_to_savepoint().await?;
            // Stored so that a replay rebuilds the very same error (see the lookup above).
            let message = match &err {
                BankError::InvalidState(m) => m.clone(),
                other => other.to_string(),
            };
            let resp = IdempotentResponse::Refused {
                code: err.code().to_string(),
                message,
            };
            self.idem_save(uow, scope, key, fp, resp).await?;
            return Err(err);
        }
        uow.release_savepoint().await?;
        let txns = self.persist(uow, set, planned, events).await?;
        self.idem_save(uow, scope, key, fp, IdempotentResponse::Batch(txns.clone()))
            .await?;
        Ok(txns)
    }

    // ---------------------------------------------------------------- pending, review, reversal

    async fn exec_resolve(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: TransactionId,
        how: Resolve,
        key: &IdempotencyKey,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        let scope = actor.idempotency_scope();
        let fp = match how {
            Resolve::Post(a) => fingerprint(&[
                "post",
                &id.to_string(),
                &a.map(|m| m.to_string()).unwrap_or_default(),
            ]),
            Resolve::Void => fingerprint(&["void", &id.to_string()]),
            Resolve::Expire => fingerprint(&["expire", &id.to_string()]),
        };
        if let Some(resp) = self.idem_lookup(uow, &scope, key, &fp).await? {
            return Self::replay_txn(resp);
        }
        let txn = self.resolve_hold(uow, actor, id, how, events).await?;
        self.idem_save(
            uow,
            scope,
            key,
            fp,
            IdempotentResponse::Transaction(txn.clone()),
        )
        .await?;
        Ok(txn)
    }

    /// Posts, voids or expires the hold of a PENDING or REVIEW transaction.
    pub(crate) async fn resolve_hold(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: TransactionId,
        how: Resolve,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        let mut txn = uow.lock_transaction(id).await?.ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        let from = txn
            .from_account_id
            .ok_or(BankError::InvalidState("transaction has no hold".into()))?;
        let credit = match (txn.to_account_id, txn.transaction_type) {
            (Some(to), _) => Side::Customer(to),
            (None, TransactionType::Payment | TransactionType::ExternalTransfer) => {
                Side::System(SystemAccount::ExternalClearing)
            }
            (None, _) => return Err(BankError::InvalidState("transaction has no hold".into())),
        };
        let mut set = self
            .lock_set(uow, [Some(from), credit.customer()].into_iter().flatten())
            .await?;
        actor.check_act(set.get(from)?)?;
        let review = txn.status == TransactionStatus::Review;
        if !matches!(
            txn.status,
            TransactionStatus::Pending | TransactionStatus::Review
        ) {
            return Err(BankError::InvalidState(format!(
                "transaction is {}",
                txn.status
            )));
        }
        if review && !actor.is_admin() {
            // Only the fraud team releases or rejects a transfer under review.
            return Err(BankError::Forbidden(
                "transaction is under fraud review".into(),
            ));
        }
        let hold_id = txn
            .hold_id
            .ok_or(BankError::InvalidState("transaction has no hold".into()))?;
        let mut hold = uow
            .hold(hold_id)
            .await?
            .ok_or(BankError::NotFound { resource: "hold" })?;
        if hold.status != HoldStatus::Active {
            return Err(BankError::Invariant(format!(
                "hold {hold_id} of a {} transaction is {}",
                txn.status, hold.status
            )));
        }
        let post_amount = match how {
            Resolve::Post(Some(a)) => {
                let a = a.positive()?;
                if a.cmp_amount(&hold.amount)? == std::cmp::Ordering::Greater {
                    return Err(BankError::validation(
                        "amount",
                        "cannot post more than was reserved",
                    ));
                }
                Some(a)
            }
            Resolve::Post(None) => Some(hold.amount),
            Resolve::Void | Resolve::Expire => None,
        };
        let m = Movement {
            kind: txn.transaction_type,
            debit: Side::Customer(from),
            credit,
            amount: hold.amount,
            description: txn.description.clone(),
        };
        if post_amount.is_some() {
            set.get(from)?.ensure_open_for_movement()?;
            if let Some(to) = credit.customer() {
                set.get(to)?.ensure_open_for_movement()?;
            }
        }
        let now = self.now();
        let stamp = self.stamp_for(id, now);
        // Release the reservation (and its share of the daily limit if unused).
        {
            let acc = set_get_mut(&mut set, from)?;
            acc.held -= hold.amount.amount();
            let unused = hold.amount.amount() - post_amount.map(|p| p.amount()).unwrap_or_default();
            if acc.daily_out_date == hold.created_at.date_naive() {
                acc.daily_out_total = (acc.daily_out_total - unused).max(Decimal::ZERO);
            }
            acc.updated_at = now;
        }
        let mut new_events = Vec::new();
        let mut journal = None;
        hold.resolved_at = Some(now);
        match post_amount {
            Some(amount) => {
                hold.status = HoldStatus::Posted;
                journal = Some(movement::post(
                    &mut set,
                    &m,
                    amount,
                    &stamp,
                    &mut new_events,
                )?);
                let mut done = movement_event(
                    &stamp,
                    EventType::TransactionCompleted,
                    &m,
                    TransactionStatus::Completed,
                    amount,
                );
                set_reason(&mut done, None, None);
                new_events.push(done);
            }
            None => {
                let (status, reason, code) = match (how, review) {
                    (Resolve::Expire, _) => (TransactionStatus::Expired, "hold expired", "expired"),
                    (_, true) => (
                        TransactionStatus::Failed,
                        "rejected by fraud review",
                        "fraud_blocked",
                    ),
                    _ => (TransactionStatus::Voided, "voided", "voided"),
                };
                hold.status = if how == Resolve::Expire {
                    HoldStatus::Expired
                } else {
                    HoldStatus::Voided
                };
                let mut failed = movement_event(
                    &stamp,
                    EventType::TransactionFailed,
                    &m,
                    status,
                    hold.amount,
                );
                set_reason(&mut failed, Some(reason), Some(code));
                new_events.push(failed);
                let bal = balance_event_for(&stamp, set.get(from)?);
                new_events.push(bal);
            }
        }
        for e in new_events.iter().filter(|e| e.aggregate_id == id.0) {
            txn.apply(e)?;
        }
        for a in set.into_dirty()? {
            uow.update_account(&a).await?;
        }
        uow.update_hold(&hold).await?;
        if let Some(j) = &journal {
            uow.insert_journal(j).await?;
        }
        uow.update_transaction(&txn).await?;
        events.extend(new_events);
        Ok(txn)
    }

    async fn exec_reverse(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: TransactionId,
        reason: &str,
        key: &IdempotencyKey,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        actor.require_admin()?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > DESCRIPTION_LEN_MAX {
            return Err(BankError::validation(
                "reason",
                "a reason of 1 to 500 characters is required",
            ));
        }
        let scope = actor.idempotency_scope();
        let fp = fingerprint(&["reverse", &id.to_string(), reason]);
        if let Some(resp) = self.idem_lookup(uow, &scope, key, &fp).await? {
            return Self::replay_txn(resp);
        }
        let mut original = uow.lock_transaction(id).await?.ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        match original.status {
            TransactionStatus::Completed => {}
            TransactionStatus::Reversed => return Err(BankError::AlreadyReversed),
            s => {
                return Err(BankError::InvalidState(format!(
                    "only COMPLETED transactions can be reversed, this one is {s}"
                )))
            }
        }
        if original.transaction_type == TransactionType::Reversal {
            return Err(BankError::InvalidState(
                "a reversal cannot itself be reversed".into(),
            ));
        }
        let journals = uow
            .journals_of_transaction(id, crate::ports::JOURNALS_OF_TRANSACTION_MAX)
            .await?;
        if journals.is_empty() {
            return Err(BankError::Invariant(format!(
                "completed transaction {id} has no journal"
            )));
        }
        let rev_id = TransactionId(self.new_uuid());
        let now = self.now();
        let postings: Vec<Posting> = journals
            .iter()
            .flat_map(|j| {
                j.postings.iter().map(|p| Posting {
                    account_id: p.account_id,
                    amount: p.amount.negate(),
                })
            })
            .collect();
        let journal = JournalEntry {
            id: JournalId(self.new_uuid()),
            transaction_id: rev_id,
            postings,
            posted_at: now,
            description: Some(format!(
                "Reversal of {}: {reason}",
                original.transaction_ref
            )),
        };
        journal.validate()?;
        let customer_ids: Vec<AccountId> = journal
            .postings
            .iter()
            .map(|p| p.account_id)
            .filter(|a| SystemAccount::from_id(*a).is_none())
            .collect();
        let mut set = self.lock_set(uow, customer_ids.iter().copied()).await?;
        let m = Movement {
            kind: TransactionType::Reversal,
            debit: original
                .to_account_id
                .map(Side::Customer)
                .unwrap_or(Side::System(SystemAccount::Suspense)),
            credit: original
                .from_account_id
                .map(Side::Customer)
                .unwrap_or(Side::System(SystemAccount::Suspense)),
            amount: original.amount,
            description: journal.description.clone(),
        };
        let stamp = self.stamp_for(rev_id, now);
        let mut new_events = vec![movement_event(
            &stamp,
            EventType::TransactionInitiated,
            &m,
            TransactionStatus::Pending,
            original.amount,
        )];
        if let Some(EventData::Transaction(d)) = new_events.last_mut().map(|e| &mut e.data) {
            d.parent_id = Some(id);
        }
        new_events.push(movement_event(
            &stamp,
            EventType::TransactionProcessed,
            &m,
            TransactionStatus::Pending,
            original.amount,
        ));
        for p in &journal.postings {
            if SystemAccount::from_id(p.account_id).is_some() {
                continue;
            }
            let a = set_get_mut(&mut set, p.account_id)?;
            if a.status == AccountStatus::Closed {
                return Err(BankError::AccountClosed(format!(
                    "account {} is closed",
                    a.account_number.masked()
                )));
            }
            if p.amount.is_negative() && -p.amount.amount() > a.spendable() {
                return Err(BankError::InsufficientFunds);
            }
            a.balance += p.amount.amount();
            a.updated_at = now;
            new_events.push(balance_event_for(&stamp, a));
        }
        new_events.push(movement_event(
            &stamp,
            EventType::TransactionCompleted,
            &m,
            TransactionStatus::Completed,
            original.amount,
        ));
        let reversal =
            Transaction::from_events(new_events.iter().filter(|e| e.aggregate_id == rev_id.0))?;
        let mut reversed = movement_event(
            &self.stamp_for(id, now),
            EventType::TransactionReversed,
            &Movement {
                kind: original.transaction_type,
                debit: original
                    .from_account_id
                    .map(Side::Customer)
                    .unwrap_or(Side::System(SystemAccount::Suspense)),
                credit: original
                    .to_account_id
                    .map(Side::Customer)
                    .unwrap_or(Side::System(SystemAccount::Suspense)),
                amount: original.amount,
                description: None,
            },
            TransactionStatus::Reversed,
            original.amount,
        );
        if let EventData::Transaction(d) = &mut reversed.data {
            d.reason = Some(reason.to_string());
            d.parent_id = Some(rev_id);
        }
        original.apply(&reversed)?;
        new_events.push(reversed);
        for a in set.into_dirty()? {
            uow.update_account(&a).await?;
        }
        uow.insert_journal(&journal).await?;
        uow.insert_transaction(&reversal).await?;
        uow.update_transaction(&original).await?;
        events.extend(new_events);
        self.idem_save(
            uow,
            scope,
            key,
            fp,
            IdempotentResponse::Transaction(original.clone()),
        )
        .await?;
        let detail = serde_json::json!({"reason": reason, "reversal_id": rev_id.to_string()});
        self.audit(
            uow,
            actor,
            AuditEvent::new("transaction.reverse", "transaction", id).detail(detail),
        )
        .await?;
        Ok(original)
    }

    async fn exec_expire(
        &self,
        uow: &mut dyn UnitOfWork,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<usize> {
        let due = uow.expired_holds(self.now(), EXPIRE_BATCH_MAX).await?;
        let n = due.len();
        for h in due {
            self.resolve_hold(
                uow,
                &Actor::system(),
                h.transaction_id,
                Resolve::Expire,
                events,
            )
            .await?;
        }
        Ok(n)
    }

    // ---------------------------------------------------------------- public commands

    /// Opens a CHECKING or SAVINGS account for a customer.
    pub async fn open_account(
        &self,
        actor: &Actor,
        req: OpenAccountRequest,
    ) -> BankResult<Account> {
        match self.run(actor, Command::OpenAccount(req)).await? {
            Outcome::Account(a) => Ok(a),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Internal transfer. Ok with COMPLETED (or REVIEW when fraud holds it); business
    /// refusals are recorded as FAILED and returned as their error.
    pub async fn transfer(&self, actor: &Actor, req: TransferRequest) -> BankResult<Transaction> {
        self.run(actor, Command::Transfer(req, Reserve::No))
            .await?
            .txn()
    }

    /// Many independent transfers in one commit: each keeps its own idempotency key, its own
    /// checks and its own outcome (a refused one fails alone, as it would on its own), and
    /// none is acknowledged before the commit covering all of them. For bulk work (payroll,
    /// a payments file) and for embedders that buffer requests: one write unit and one
    /// publish per call instead of one per transfer. Unlike [`Bank::transfer_batch`] the
    /// transfers are not linked. 1 to [`SUBMIT_TRANSFERS_MAX`] requests.
    pub async fn submit_transfers(
        &self,
        actor: &Actor,
        reqs: Vec<TransferRequest>,
    ) -> BankResult<Vec<BankResult<Transaction>>> {
        if reqs.is_empty() || reqs.len() > SUBMIT_TRANSFERS_MAX {
            return Err(BankError::validation(
                "transfers",
                format!("submit 1 to {SUBMIT_TRANSFERS_MAX} transfers"),
            ));
        }
        let cmds: Vec<Command> = reqs
            .into_iter()
            .map(|r| Command::Transfer(r, Reserve::No))
            .collect();
        let mut results: Vec<Option<BankResult<Transaction>>> = vec![None; cmds.len()];
        // Indexes still to run: all at first; then only those that lost a transient race
        // (their whole unit is retried, bounded like every write).
        let mut todo: Vec<usize> = (0..cmds.len()).collect();
        let mut attempt = 0;
        while !todo.is_empty() {
            attempt += 1;
            let last = attempt >= WRITE_RETRIES_MAX;
            match group::exec_in_one_unit(self, todo.iter().map(|i| (actor, &cmds[*i]))).await {
                Ok((outcomes, events)) => {
                    self.publish(&events).await;
                    let mut again = Vec::new();
                    for (i, out) in todo.into_iter().zip(outcomes) {
                        match out {
                            Err(e) if Self::retryable(&e) && !last => again.push(i),
                            out => results[i] = Some(out.and_then(Outcome::txn)),
                        }
                    }
                    todo = again;
                }
                Err(e) if Self::retryable(&e) && !last => {}
                Err(e) => {
                    if results.iter().all(Option::is_none) {
                        return Err(e);
                    }
                    // Earlier rounds committed: report them, and this error for the rest.
                    for i in todo.drain(..) {
                        results[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(BankError::internal("transfer not run"))))
            .collect())
    }

    /// Two-phase transfer, phase one: reserves the funds with a hold until `expires_at`
    /// (default: the configured hold TTL). The transaction is PENDING.
    pub async fn transfer_pending(
        &self,
        actor: &Actor,
        req: TransferRequest,
        expires_at: Option<DateTime<Utc>>,
    ) -> BankResult<Transaction> {
        let until = expires_at.unwrap_or_else(|| self.now() + self.inner.config.hold_ttl);
        self.run(actor, Command::Transfer(req, Reserve::Until(until)))
            .await?
            .txn()
    }

    /// Posts a PENDING transfer, for its reserved amount or a smaller one.
    pub async fn post_pending(
        &self,
        actor: &Actor,
        id: TransactionId,
        amount: Option<Money>,
        key: IdempotencyKey,
    ) -> BankResult<Transaction> {
        self.run(actor, Command::PostPending { id, amount, key })
            .await?
            .txn()
    }

    /// Voids a PENDING transfer: the funds are released, nothing moves.
    pub async fn void_pending(
        &self,
        actor: &Actor,
        id: TransactionId,
        key: IdempotencyKey,
    ) -> BankResult<Transaction> {
        self.run(actor, Command::VoidPending { id, key })
            .await?
            .txn()
    }

    /// Teller deposit (cash → account). Admin only.
    pub async fn deposit(&self, actor: &Actor, req: BookingRequest) -> BankResult<Transaction> {
        self.run(actor, Command::Booking(req, TransactionType::Deposit))
            .await?
            .txn()
    }

    /// Teller withdrawal (account → cash). Admin only.
    pub async fn withdraw(&self, actor: &Actor, req: BookingRequest) -> BankResult<Transaction> {
        self.run(actor, Command::Booking(req, TransactionType::Withdrawal))
            .await?
            .txn()
    }

    /// A booking against another GL account: `ExternalDeposit`, `ExternalTransfer`,
    /// `Payment`, `Fee` or `Interest`. Admin only (payments by customers go through
    /// the payments use case, which adds the customer's own checks).
    pub async fn book(
        &self,
        actor: &Actor,
        kind: TransactionType,
        req: BookingRequest,
    ) -> BankResult<Transaction> {
        self.run(actor, Command::Booking(req, kind)).await?.txn()
    }

    /// Reverses a COMPLETED transaction with one compensating journal entry, at most once.
    /// Returns the original, now REVERSED. Admin only.
    pub async fn reverse(
        &self,
        actor: &Actor,
        id: TransactionId,
        reason: &str,
        key: IdempotencyKey,
    ) -> BankResult<Transaction> {
        self.run(
            actor,
            Command::Reverse {
                id,
                reason: reason.to_string(),
                key,
            },
        )
        .await?
        .txn()
    }

    /// A linked batch: every transfer succeeds or none does.
    pub async fn transfer_batch(
        &self,
        actor: &Actor,
        items: Vec<TransferItem>,
        key: IdempotencyKey,
        context: RequestContext,
    ) -> BankResult<Vec<Transaction>> {
        match self
            .run(
                actor,
                Command::Batch {
                    items,
                    key,
                    context,
                },
            )
            .await?
        {
            Outcome::Transactions(t) => Ok(t),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Freezes an account (admin).
    pub async fn freeze_account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        self.set_status(actor, id, AccountStatus::Frozen).await
    }

    /// Unfreezes an account (admin).
    pub async fn unfreeze_account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        self.set_status(actor, id, AccountStatus::Active).await
    }

    /// Closes an account (owner or admin); only at zero balance with no open holds.
    pub async fn close_account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        self.set_status(actor, id, AccountStatus::Closed).await
    }

    async fn set_status(
        &self,
        actor: &Actor,
        id: AccountId,
        status: AccountStatus,
    ) -> BankResult<Account> {
        match self.run(actor, Command::SetStatus { id, status }).await? {
            Outcome::Account(a) => Ok(a),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Sets overdraft and daily limits (admin).
    pub async fn set_limits(
        &self,
        actor: &Actor,
        id: AccountId,
        overdraft_limit: Decimal,
        daily_limit: Option<Decimal>,
    ) -> BankResult<Account> {
        match self
            .run(
                actor,
                Command::SetLimits {
                    id,
                    overdraft_limit,
                    daily_limit,
                },
            )
            .await?
        {
            Outcome::Account(a) => Ok(a),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Expires due holds (up to [`EXPIRE_BATCH_MAX`] per call); returns how many.
    pub async fn expire_holds(&self) -> BankResult<usize> {
        match self.run(&Actor::system(), Command::ExpireHolds).await? {
            Outcome::Count(n) => Ok(n),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    // ---------------------------------------------------------------- queries

    async fn read(&self) -> BankResult<Box<dyn UnitOfWork>> {
        self.inner.store.begin(TxMode::Read).await
    }

    /// An account the actor may see.
    pub async fn account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        let mut uow = self.read().await?;
        let a = uow.account(id).await?.ok_or(BankError::NotFound {
            resource: "account",
        })?;
        actor.check_read(&a)?;
        a.assert_invariants()?;
        Ok(a)
    }

    /// Ledger and available balance read in one snapshot.
    pub async fn balance(&self, actor: &Actor, id: AccountId) -> BankResult<Balance> {
        let a = self.account(actor, id).await?;
        Ok(Balance {
            account_id: a.id,
            balance: a.balance_money(),
            available_balance: a.available_money(),
        })
    }

    /// A customer's accounts.
    pub async fn accounts_of_customer(
        &self,
        actor: &Actor,
        customer: CustomerId,
    ) -> BankResult<Vec<Account>> {
        if !actor.may_read_customer(customer) {
            return Err(BankError::NotFound {
                resource: "customer",
            });
        }
        self.read()
            .await?
            .accounts_of_customer(customer, crate::ports::ACCOUNTS_OF_CUSTOMER_MAX)
            .await
    }

    /// All accounts by id (staff only), paged.
    pub async fn list_accounts(
        &self,
        actor: &Actor,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        actor.require_staff()?;
        if limit == 0 || limit > crate::transaction::PAGE_LIMIT_MAX {
            return Err(BankError::validation("limit", "limit must be 1..=100"));
        }
        self.read().await?.list_accounts(after, limit).await
    }

    /// A transaction the actor may see (as sender or receiver).
    pub async fn transaction(&self, actor: &Actor, id: TransactionId) -> BankResult<Transaction> {
        let mut uow = self.read().await?;
        let t = uow.transaction(id).await?.ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        self.check_txn_visible(&mut *uow, actor, &t).await?;
        Ok(t)
    }

    async fn check_txn_visible(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        t: &Transaction,
    ) -> BankResult<()> {
        if actor.is_staff() {
            return Ok(());
        }
        for id in [t.from_account_id, t.to_account_id].into_iter().flatten() {
            if let Some(a) = uow.account(id).await? {
                if actor.may_read_customer(a.customer_id) {
                    return Ok(());
                }
            }
        }
        Err(BankError::NotFound {
            resource: "transaction",
        })
    }

    /// Transaction history (the CQRS read model). Customers must filter by one of their own
    /// accounts; staff may search the whole bank.
    pub async fn history(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> BankResult<Vec<Transaction>> {
        query.validate()?;
        let mut uow = self.read().await?;
        match query.account_id {
            Some(id) => {
                let a = uow.account(id).await?.ok_or(BankError::NotFound {
                    resource: "account",
                })?;
                actor.check_read(&a)?;
            }
            None if !actor.is_staff() => {
                return Err(BankError::Forbidden(
                    "searching the whole bank is staff only".into(),
                ))
            }
            None => {}
        }
        uow.list_transactions(query).await
    }

    /// The events of one aggregate (a transaction's event-sourced history), staff or owner.
    pub async fn transaction_events(
        &self,
        actor: &Actor,
        id: TransactionId,
    ) -> BankResult<Vec<StoredEvent>> {
        self.transaction(actor, id).await?;
        self.read()
            .await?
            .events_of_aggregate(id.0, crate::ports::EVENTS_OF_AGGREGATE_MAX)
            .await
    }

    /// A statement for `from..=to` (UTC days).
    pub async fn statement(
        &self,
        actor: &Actor,
        id: AccountId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BankResult<Statement> {
        if from > to {
            return Err(BankError::validation("from", "from is after to"));
        }
        let mut uow = self.read().await?;
        let a = uow.account(id).await?.ok_or(BankError::NotFound {
            resource: "account",
        })?;
        actor.check_read(&a)?;
        let start = from.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let end = to
            .succ_opt()
            .ok_or_else(|| BankError::validation("to", "out of range"))?
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        let opening = uow.posting_sum(id, Some(start)).await?;
        let mut running = opening;
        let mut entries = Vec::new();
        let mut after = None;
        loop {
            let page = uow.postings(id, start, end, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            for p in page {
                running += p.amount.amount();
                entries.push(StatementLine {
                    transaction_id: p.transaction_id,
                    posted_at: p.posted_at,
                    description: p.description,
                    amount: p.amount,
                    balance_after: Money::new(running, a.currency)?,
                });
            }
            if entries.len() > STATEMENT_LINES_MAX {
                return Err(BankError::LimitExceeded(format!(
                    "a statement has at most {STATEMENT_LINES_MAX} lines; choose a shorter period"
                )));
            }
        }
        Ok(Statement {
            account_id: id,
            account_number: a.account_number,
            from,
            to,
            opening_balance: Money::new(opening, a.currency)?,
            closing_balance: Money::new(running, a.currency)?,
            entries,
        })
    }

    /// Audits the whole ledger: every account's cached balance equals the sum of its postings,
    /// every cached hold total equals its active holds, postings sum to zero per currency.
    pub async fn verify_ledger(&self) -> BankResult<LedgerReport> {
        let mut uow = self.read().await?;
        let mut after = None;
        let mut checked = 0;
        let mut totals: std::collections::BTreeMap<Currency, Decimal> = Default::default();
        loop {
            let page = uow.list_accounts(after, 100).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for a in page {
                a.assert_invariants()?;
                let sum = uow.posting_sum(a.id, None).await?;
                if sum != a.balance {
                    return Err(BankError::Invariant(format!(
                        "account {}: balance {} != postings {sum}",
                        a.id, a.balance
                    )));
                }
                let held: Decimal = uow
                    .active_holds(a.id, crate::ports::ACTIVE_HOLDS_MAX)
                    .await?
                    .iter()
                    .map(|h| h.amount.amount())
                    .sum();
                if held != a.held {
                    return Err(BankError::Invariant(format!(
                        "account {}: held {} != active holds {held}",
                        a.id, a.held
                    )));
                }
                *totals.entry(a.currency).or_default() += a.balance;
                checked += 1;
            }
        }
        for (c, s) in uow.ledger_totals().await? {
            if !s.is_zero() {
                return Err(BankError::Invariant(format!(
                    "ledger unbalanced in {c} by {s}"
                )));
            }
        }
        Ok(LedgerReport {
            accounts_checked: checked,
            customer_totals: totals.into_iter().collect(),
        })
    }

    /// Balance of a GL account, summed from postings.
    pub async fn system_balance(
        &self,
        account: SystemAccount,
        currency: Currency,
    ) -> BankResult<Money> {
        let sum = self
            .read()
            .await?
            .posting_sum(account.id(currency), None)
            .await?;
        Money::new(sum, currency)
    }

    /// Relay step: claims up to `limit` unpublished outbox events, hands them to the sink in
    /// order, marks them published. Safe to run from several processes at once.
    pub async fn relay_outbox(&self, limit: u32, lease: Duration) -> BankResult<usize> {
        let now = self.now();
        let mut uow = self.inner.store.begin(TxMode::Write).await?;
        let claimed = uow.claim_events(now, now + lease, limit).await?;
        uow.commit().await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let events: Vec<DomainEvent> = claimed.iter().map(|s| s.event.clone()).collect();
        self.inner.sink.publish(&events).await?;
        let seqs: Vec<i64> = claimed.iter().map(|s| s.seq).collect();
        let mut uow = self.inner.store.begin(TxMode::Write).await?;
        uow.mark_published(&seqs, self.now()).await?;
        uow.commit().await?;
        Ok(seqs.len())
    }
}

/// How a hold is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolve {
    Post(Option<Money>),
    Void,
    Expire,
}

fn set_get_mut(set: &mut AccountSet, id: AccountId) -> BankResult<&mut Account> {
    set.get_mut(id)
}

use movement::balance_event as balance_event_for;
use movement::txn_event as movement_event;

fn set_reason(e: &mut DomainEvent, reason: Option<&str>, code: Option<&str>) {
    if let EventData::Transaction(TransactionEventData {
        reason: r,
        failure_code: c,
        ..
    }) = &mut e.data
    {
        *r = reason.map(str::to_string);
        *c = code.map(str::to_string);
    }
}

#[cfg(test)]
mod future_size {
    use super::*;

    /// The transfer future is copied whole at await boundaries that build it (measured: the
    /// copies were the largest single cost of an in-memory transfer), so its size is bounded:
    /// a cold command or the group path growing must stay boxed out of it.
    #[test]
    fn the_transfer_future_stays_under_4_kib() {
        let bank = Bank::builder(Arc::new(crate::MemoryStore::new())).build();
        let req = TransferRequest {
            item: TransferItem {
                from_account_id: AccountId(uuid::Uuid::nil()),
                to: Destination::Account(AccountId(uuid::Uuid::nil())),
                amount: Money::parse("1", crate::Currency::USD).unwrap(),
                description: None,
            },
            idempotency_key: IdempotencyKey::parse("k").unwrap(),
            context: RequestContext::default(),
        };
        let actor = Actor::system();
        let size = std::mem::size_of_val(&bank.transfer(&actor, req));
        assert!(size <= 4096, "transfer future is {size} bytes");
    }
}
