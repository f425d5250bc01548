//! The in-memory store: a real, thread-safe implementation of every port (not a mock).
//!
//! One writer at a time (like SQLite): a write unit holds the state's write lock from `begin`
//! to `commit`, applies changes in place and keeps an undo log, so `rollback`, a rollback to a
//! savepoint, or dropping the unit restores the exact previous state. Readers share a read
//! lock and see only committed state.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
use uuid::Uuid;

use crate::account::{Account, AccountNumber, Hold, HoldStatus};
use crate::audit::AuditRecord;
use crate::auth::Role;
use crate::customer::{CustomerRecord, CustomerSearch, DocumentRecord};
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, StoredEvent};
use crate::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntry, ListEntryType, ListKind, VelocityStats,
};
use crate::fraud_port::FraudAction;
use crate::idempotency::{IdempotencyKey, IdempotencyRecord};
use crate::identity::{CodePurpose, Email, OneTimeCode, Phone, SessionRecord, UserRecord};
use crate::ids::{AccountId, CustomerId, HoldId, TransactionId};
use crate::ids::{
    CaseId, CodeId, DocumentId, EventId, ListEntryId, NotificationId, RuleId, SessionId, UserId,
};
use crate::ledger::{JournalEntry, PostingLine};
use crate::money::{Currency, Money};
use crate::notify::{Channel, NotificationRecord, NotificationStatus, Preference};
use crate::ports::{
    AccountRepo, EventRepo, IdempotencyRepo, LedgerRepo, Store, TransactionRepo, TxMode, UnitOfWork,
};
use crate::ports::{AuditRepo, CustomerRepo, FraudRepo, IdentityRepo, NotificationRepo};
use crate::transaction::{Transaction, TransactionQuery};

/// A map keyed by engine-generated ids (UUIDs): the maps every transfer touches, where
/// SipHash showed up in profiles. foldhash is several times faster but makes no strong
/// hash-flooding promise, so it is only used where keys are ids the engine minted; maps keyed
/// by client-chosen text (idempotency keys, emails, phones, token hashes) keep std's SipHash.
type IdMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Undo entries reserved per write unit (a transfer records about six).
const UNDO_CAPACITY_INITIAL: usize = 8;

/// Elements per [`Chunked`] segment: large enough that the outer vector barely grows,
/// small enough (a few hundred KiB at most) that a new segment is a cheap allocation.
const CHUNK_LEN: usize = 4096;

mod account;
mod approvals;
mod audit;
mod clients;
mod ctx;
mod customer;
mod devices;
mod events;
mod fraud;
mod idem;
mod identity;
mod ledger;
mod log;
mod notify;
mod schedule;
mod txn;
mod webhook;

use ctx::*;
use log::*;

/// Retention: the keys of the at most `limit` (capped at `PURGE_BATCH_MAX`) oldest of `rows`,
/// ordered by `(created_at, key)`: the order of the SQL stores' `ORDER BY created_at, id LIMIT`.
fn oldest_first<K: Ord + Copy>(
    rows: impl Iterator<Item = (DateTime<Utc>, K)>,
    limit: u32,
) -> Vec<K> {
    let mut old: Vec<(DateTime<Utc>, K)> = rows.collect();
    old.sort_unstable();
    old.truncate(limit.min(crate::ports::PURGE_BATCH_MAX) as usize);
    old.into_iter().map(|(_, k)| k).collect()
}

#[derive(Clone, Copy, Debug)]
struct PostingRow {
    seq: i64,
    journal: usize,
    account_id: AccountId,
    amount: Money,
}

/// An event in the log, in a compact form: about half the bytes of a [`DomainEvent`] plus
/// its relay state. The log only grows, so its bytes per transfer (seven events) are what
/// an in-memory engine's throughput is bound by once first-touch page faults dominate.
#[derive(Clone, Debug)]
struct EventRow {
    id: EventId,
    event_type: crate::events::EventType,
    aggregate_id: Uuid,
    time: DateTime<Utc>,
    data: StoredData,
    relay: Relay,
    /// The previous event of the same aggregate (or [`NO_ROW`]): an aggregate's events are a
    /// linked list through the log, so a new aggregate (every transaction is one) costs no
    /// index allocation.
    prev_of_aggregate: usize,
}

/// Where the outbox relay is with one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relay {
    /// Not published, not leased.
    Pending,
    /// Claimed by a relay until then.
    Leased(DateTime<Utc>),
    /// Published then.
    Published(DateTime<Utc>),
}

/// What the lifecycle events of one transaction have in common, stored once: the events
/// that follow `transaction.initiated` point at the same base.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TxnEventBase {
    transaction_id: TransactionId,
    transaction_type: crate::transaction::TransactionType,
    from_account_id: Option<AccountId>,
    to_account_id: Option<AccountId>,
    amount: Money,
    parent_id: Option<TransactionId>,
}

/// The free-text fields of a transaction event, rare enough to box.
#[derive(Clone, Debug)]
struct TxnEventText {
    reason: Option<String>,
    failure_code: Option<String>,
    description: Option<String>,
    initiated_by: Option<crate::ids::UserId>,
    approved_by: Option<crate::ids::UserId>,
}

/// An event payload as the memory store keeps it.
#[derive(Clone, Debug)]
enum StoredData {
    /// A transaction lifecycle payload: a shared base plus what changes per event.
    Transaction {
        base: usize,
        status: crate::transaction::TransactionStatus,
        hold_id: Option<HoldId>,
        text: Option<Box<TxnEventText>>,
    },
    /// `account.balance.updated` of the event's own aggregate (the account).
    Balance {
        balance: Money,
        available: Money,
        transaction_id: TransactionId,
    },
    /// Anything else, as given.
    Other(Box<crate::events::EventData>),
    /// Deleted by retention: the row keeps its place (its index is its seq) and its
    /// aggregate link, but no payload; reads skip it.
    Purged,
}

/// A journal entry without its postings (those are rows of the postings log, contiguous
/// from `first_posting`): the entry's lines are stored once, not twice.
#[derive(Clone, Debug)]
struct JournalRow {
    id: crate::ids::JournalId,
    transaction_id: TransactionId,
    posted_at: DateTime<Utc>,
    description: Option<String>,
    first_posting: usize,
    postings_len: usize,
    /// The previous journal of the same transaction (or [`NO_ROW`]).
    prev_of_transaction: usize,
}

/// Account context state.
#[derive(Default, Debug)]
pub(crate) struct AccountState {
    accounts: IdMap<AccountId, Account>,
    by_number: HashMap<AccountNumber, AccountId>,
    by_customer: IdMap<CustomerId, Vec<AccountId>>,
    holds: IdMap<HoldId, Hold>,
}

/// Ledger context state.
#[derive(Default, Debug)]
pub(crate) struct LedgerState {
    journals: Chunked<JournalRow>,
    /// Each transaction's journals, linked through `journals`.
    journals_by_txn: Chains<TransactionId>,
    postings: Chunked<PostingRow>,
    postings_by_account: IdMap<AccountId, Vec<usize>>,
}

/// Transaction context state.
#[derive(Default, Debug)]
pub(crate) struct TxnState {
    /// Row index in `rows` by id: growing the map moves indexes, not whole transactions.
    txns: IdMap<TransactionId, usize>,
    /// Transactions in insertion order (removed only by undo, newest first). Shared: the
    /// idempotency record of the command that created a transaction holds the same snapshot
    /// (an update replaces the row's `Arc`, leaving the record's snapshot as it was).
    rows: Chunked<Arc<Transaction>>,
    by_account: IdMap<AccountId, Vec<TransactionId>>,
    all: Vec<TransactionId>,
}

/// Everything the memory store holds, one struct per bounded context.
#[derive(Default, Debug)]
pub struct MemoryState {
    account: AccountState,
    ledger: LedgerState,
    txn: TxnState,
    /// The index in `idem_records` of each record, hashed by (scope, key) and compared
    /// against the record itself: the key text is stored once, a lookup borrows it (no
    /// allocation on the command path), and growing the table moves indexes, not records.
    idem: hashbrown::HashTable<usize>,
    /// SipHash with a random key: idempotency keys are client-chosen text.
    idem_hasher: std::hash::RandomState,
    /// Idempotency records in insertion order (never removed except by undo, newest first).
    idem_records: Chunked<IdemRow>,
    /// Scopes (one per caller) held once; records refer to them by index. Never shrinks: an
    /// interned scope is invisible through the ports, so undo need not remove it.
    idem_scopes: Vec<String>,
    idem_scope_ids: HashMap<String, u32>,
    events: Chunked<EventRow>,
    /// Shared parts of transaction events (see [`TxnEventBase`]).
    txn_event_bases: Chunked<TxnEventBase>,
    /// Every event before this index is published: the relay's scan starts here instead of
    /// at the first event ever appended (which made each relay pass O(history)). A hint that
    /// only errs low: undo moves it back, publishing moves it forward.
    events_published_below: usize,
    /// Every event before this index is purged (retention): the purge scan starts here.
    events_purged_below: usize,
    /// Every idempotency record before this index is purged: the purge scan starts here.
    idem_purged_below: usize,
    /// Each aggregate's events, linked through `events`.
    events_by_aggregate: Chains<Uuid>,
    identity: IdentityState,
    customer: CustomerState,
    fraud: FraudState,
    notify: NotifyState,
    audit: Vec<AuditRecord>,
    schedules: HashMap<crate::ids::ScheduleId, crate::schedule::ScheduledTransfer>,
    webhooks: webhook::WebhookState,
    devices: devices::DeviceState,
    approvals: HashMap<crate::ids::ApprovalId, crate::banking::ApprovalRequest>,
    clients: HashMap<crate::ids::ClientId, crate::identity::ServiceClient>,
    /// The undo log's buffer, handed from one write unit to the next (units are serial).
    undo_spare: UndoSpare,
}

/// An idempotency record as the memory store keeps it: about a fifth of an
/// [`IdempotencyRecord`]'s bytes (scope interned, fingerprint as its digest, a transaction
/// response shared with the transaction's row).
#[derive(Clone, Debug)]
struct IdemRow {
    scope: u32,
    key: IdempotencyKey,
    fingerprint: StoredFingerprint,
    response: StoredResponse,
    created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
enum StoredFingerprint {
    /// The engine's fingerprints: 64 lowercase hex digits, kept as their 32 bytes.
    Sha256([u8; 32]),
    /// Anything else, as given.
    Text(Box<str>),
}

impl StoredFingerprint {
    fn of(text: &str) -> StoredFingerprint {
        let mut digest = [0u8; 32];
        let is_lower_hex = text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if is_lower_hex && hex::decode_to_slice(text, &mut digest).is_ok() {
            StoredFingerprint::Sha256(digest)
        } else {
            StoredFingerprint::Text(text.into())
        }
    }

    fn text(&self) -> String {
        match self {
            StoredFingerprint::Sha256(d) => hex::encode(d),
            StoredFingerprint::Text(t) => t.to_string(),
        }
    }
}

#[derive(Clone, Debug)]
enum StoredResponse {
    Transaction(Arc<Transaction>),
    Other(Box<crate::idempotency::IdempotentResponse>),
    /// Deleted by retention: the row keeps its place (indexes are positions) but is no
    /// longer in the lookup table and holds no response.
    Purged,
}

/// An empty undo log kept between write units, so a unit starts without allocating.
#[derive(Default)]
struct UndoSpare(Vec<Undo>);

impl std::fmt::Debug for UndoSpare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UndoSpare")
    }
}

impl MemoryState {
    /// Every idempotency record and event serialised, for tests that inspect raw state
    /// (e.g. proving no plaintext secret is stored).
    pub fn debug_dump(&self) -> String {
        format!("{self:?}")
    }

    /// The audit log, mutable: for tests that prove tampering is detected.
    pub fn audit_log_mut(&mut self) -> &mut Vec<AuditRecord> {
        &mut self.audit
    }
}

/// One entry of a write unit's undo log. Accounts and transactions are kept inline, not
/// boxed: the log's buffer is reused from unit to unit, so a larger entry costs nothing, and
/// a box was an allocation on every transfer.
#[allow(clippy::large_enum_variant)]
enum Undo {
    Account(AccountId, Option<Account>),
    Hold(HoldId, Option<Box<Hold>>),
    Journal,
    Txn(TransactionId, Option<Arc<Transaction>>),
    /// The last idempotency record (undo runs newest first).
    Idem,
    /// Truncate the event log and the transaction event bases to these lengths.
    Events {
        events_len: usize,
        bases_len: usize,
    },
    EventRelay(usize, Relay),
    /// Restore a purged idempotency record's response and its place in the lookup table.
    IdemPurge(usize, StoredResponse),
    /// Restore a purged event's payload.
    EventPurge(usize, StoredData),
    Ctx(CtxUndo),
    Schedule(
        crate::ids::ScheduleId,
        Option<Box<crate::schedule::ScheduledTransfer>>,
    ),
    Webhook(webhook::WebhookUndo),
    Device(devices::DeviceUndo),
    Approval(approvals::ApprovalUndo),
    Client(clients::ClientUndo),
}

/// The in-memory store. Cheap to clone (shares the state).
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<MemoryState>>,
    faults: Arc<std::sync::Mutex<HashMap<FaultPoint, BankError>>>,
}

/// Store operations a test can make fail once (fault injection for sagas and simulations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// [`AccountRepo::insert_account`].
    InsertAccount,
    /// [`UnitOfWork::commit`].
    Commit,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` over the committed state (for tests that inspect raw storage).
    pub async fn inspect<R>(&self, f: impl FnOnce(&MemoryState) -> R) -> R {
        f(&*self.state.read().await)
    }

    /// Runs `f` over the committed state, mutably: for tests that simulate tampering or
    /// corruption of stored data. Never used by the engine.
    pub async fn tamper<R>(&self, f: impl FnOnce(&mut MemoryState) -> R) -> R {
        f(&mut *self.state.write().await)
    }

    /// Makes the next call at `point` fail with `error` (once).
    pub fn inject_fault(&self, point: FaultPoint, error: BankError) {
        if let Ok(mut f) = self.faults.lock() {
            f.insert(point, error);
        }
    }
}

enum Guard {
    Read(OwnedRwLockReadGuard<MemoryState>),
    Write(OwnedRwLockWriteGuard<MemoryState>),
}

/// A unit of work over the memory store.
pub struct MemoryUow {
    guard: Guard,
    faults: Arc<std::sync::Mutex<HashMap<FaultPoint, BankError>>>,
    undo: Vec<Undo>,
    savepoints: Vec<usize>,
    committed: bool,
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(&self, mode: TxMode) -> BankResult<Box<dyn UnitOfWork>> {
        let (guard, undo) = match mode {
            TxMode::Read => (
                Guard::Read(self.state.clone().read_owned().await),
                Vec::new(),
            ),
            TxMode::Write => {
                let mut g = self.state.clone().write_owned().await;
                let mut undo = std::mem::take(&mut g.undo_spare.0);
                // A transfer leaves about half a dozen undo entries.
                undo.reserve(UNDO_CAPACITY_INITIAL);
                (Guard::Write(g), undo)
            }
        };
        Ok(Box::new(MemoryUow {
            guard,
            faults: self.faults.clone(),
            undo,
            savepoints: Vec::new(),
            committed: false,
        }))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

impl MemoryUow {
    fn fault(&self, point: FaultPoint) -> BankResult<()> {
        match self.faults.lock().ok().and_then(|mut f| f.remove(&point)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn st(&self) -> &MemoryState {
        match &self.guard {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        }
    }

    fn st_mut(&mut self) -> BankResult<&mut MemoryState> {
        match &mut self.guard {
            Guard::Read(_) => Err(BankError::internal("write in a read-only unit of work")),
            Guard::Write(g) => Ok(g),
        }
    }

    // Each undo record names a row that its write pushed after `mark`: popping it cannot find
    // an empty log unless the undo log itself is corrupt, which no input can cause.
    #[allow(clippy::expect_used)]
    fn undo_to(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let u = self.undo.pop().expect("len > mark");
            let Guard::Write(st) = &mut self.guard else {
                return;
            };
            match u {
                Undo::Account(id, prev) => match prev {
                    Some(a) => {
                        st.account.accounts.insert(id, a);
                    }
                    None => {
                        if let Some(a) = st.account.accounts.remove(&id) {
                            st.account.by_number.remove(&a.account_number);
                            if let Some(v) = st.account.by_customer.get_mut(&a.customer_id) {
                                v.retain(|x| *x != id);
                            }
                        }
                    }
                },
                Undo::Hold(id, prev) => match prev {
                    Some(h) => {
                        st.account.holds.insert(id, *h);
                    }
                    None => {
                        st.account.holds.remove(&id);
                    }
                },
                Undo::Journal => {
                    let j = st.ledger.journals.pop().expect("journal to undo");
                    st.ledger
                        .journals_by_txn
                        .unlink(j.transaction_id, j.prev_of_transaction);
                    for _ in 0..j.postings_len {
                        let p = st.ledger.postings.pop().expect("posting to undo");
                        if let Some(v) = st.ledger.postings_by_account.get_mut(&p.account_id) {
                            v.pop();
                        }
                    }
                }
                Undo::Txn(id, prev) => match prev {
                    Some(t) => {
                        if let Some(i) = st.txn.txns.get(&id).copied() {
                            st.txn.rows[i] = t;
                        }
                    }
                    None => {
                        // Undo runs newest first, so this transaction is the last row and the
                        // last entry of every index (a scan would make undo O(history)).
                        if st.txn.txns.remove(&id).is_some() {
                            let t = st.txn.rows.pop().expect("transaction to undo");
                            for a in [t.from_account_id, t.to_account_id].into_iter().flatten() {
                                if let Some(v) = st.txn.by_account.get_mut(&a) {
                                    remove_last(v, id);
                                }
                            }
                            remove_last(&mut st.txn.all, id);
                        }
                    }
                },
                Undo::Idem => {
                    // Undo runs newest first, so the record to undo is the last one.
                    let last = st.idem_records.len() - 1;
                    st.idem_unindex(last);
                    st.idem_records.pop();
                    st.idem_purged_below = st.idem_purged_below.min(last);
                }
                Undo::IdemPurge(i, response) => {
                    st.idem_records[i].response = response;
                    st.idem_index(i);
                    st.idem_purged_below = st.idem_purged_below.min(i);
                }
                Undo::EventPurge(i, data) => {
                    st.events[i].data = data;
                    st.events_purged_below = st.events_purged_below.min(i);
                }
                Undo::Events {
                    events_len: len,
                    bases_len,
                } => {
                    st.events_published_below = st.events_published_below.min(len);
                    st.events_purged_below = st.events_purged_below.min(len);
                    while st.txn_event_bases.len() > bases_len {
                        st.txn_event_bases.pop();
                    }
                    while st.events.len() > len {
                        let row = st.events.pop().expect("event to undo");
                        st.events_by_aggregate
                            .unlink(row.aggregate_id, row.prev_of_aggregate);
                    }
                }
                Undo::EventRelay(i, relay) => {
                    st.events_published_below = st.events_published_below.min(i);
                    st.events[i].relay = relay;
                }
                Undo::Ctx(u) => u.apply(st),
                Undo::Schedule(id, prev) => match prev {
                    Some(s) => {
                        st.schedules.insert(id, *s);
                    }
                    None => {
                        st.schedules.remove(&id);
                    }
                },
                Undo::Webhook(u) => u.apply(st),
                Undo::Device(u) => u.apply(st),
                Undo::Approval(u) => u.apply(st),
                Undo::Client(u) => u.apply(st),
            }
        }
    }
}

impl MemoryUow {
    /// Hands the (empty) undo buffer back to the state for the next write unit.
    fn return_undo_buffer(&mut self) {
        let mut undo = std::mem::take(&mut self.undo);
        undo.clear();
        if let Guard::Write(st) = &mut self.guard {
            st.undo_spare.0 = undo;
        }
    }
}

impl Drop for MemoryUow {
    fn drop(&mut self) {
        if !self.committed {
            self.undo_to(0);
        }
        self.return_undo_buffer();
    }
}

#[async_trait]
impl UnitOfWork for MemoryUow {
    async fn savepoint(&mut self) -> BankResult<()> {
        self.savepoints.push(self.undo.len());
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> BankResult<()> {
        let mark = self
            .savepoints
            .pop()
            .ok_or_else(|| BankError::internal("no savepoint"))?;
        self.undo_to(mark);
        Ok(())
    }

    async fn release_savepoint(&mut self) -> BankResult<()> {
        self.savepoints
            .pop()
            .ok_or_else(|| BankError::internal("no savepoint"))?;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> BankResult<()> {
        self.fault(FaultPoint::Commit)?;
        self.committed = true;
        self.return_undo_buffer();
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> BankResult<()> {
        drop(self);
        Ok(())
    }
}
