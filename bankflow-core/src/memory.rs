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

/// An append-only sequence stored in fixed-size segments. The store's logs (events,
/// journals, postings) only grow; in one `Vec` every doubling copies the whole log (and
/// touches twice its memory), which dominated the transfer path once the log held a few
/// hundred thousand rows. Segments never move their elements.
#[derive(Debug)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

/// Removes `id` from an index whose newest entry it usually is (undo runs newest first).
fn remove_last<T: PartialEq>(v: &mut Vec<T>, id: T) {
    if v.last() == Some(&id) {
        v.pop();
    } else {
        v.retain(|x| *x != id);
    }
}

impl<T> Chunked<T> {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, v: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK_LEN => c.push(v),
            _ => {
                let mut c = Vec::with_capacity(CHUNK_LEN);
                c.push(v);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    fn pop(&mut self) -> Option<T> {
        let last = self.chunks.last_mut()?;
        let v = last.pop();
        if last.is_empty() {
            self.chunks.pop();
        }
        if v.is_some() {
            self.len -= 1;
        }
        v
    }

    fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK_LEN)?.get(i % CHUNK_LEN)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK_LEN)?.get_mut(i % CHUNK_LEN)
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        self.get(i).expect("index within the log")
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        self.get_mut(i).expect("index within the log")
    }
}

#[derive(Clone, Copy, Debug)]
struct PostingRow {
    seq: i64,
    journal: usize,
    account_id: AccountId,
    amount: Money,
}

/// No row index: a link value meaning "none" (indexes are positions in a [`Chunked`] log).
const NO_ROW: usize = usize::MAX;

/// Per-key chains through an append-only log: the map holds each key's newest row, and each
/// row holds its key's previous row (or [`NO_ROW`]). A new key costs one map entry, no list.
#[derive(Debug)]
struct Chains<K>(IdMap<K, usize>);

impl<K> Default for Chains<K> {
    fn default() -> Self {
        Chains(IdMap::default())
    }
}

impl<K: std::hash::Hash + Eq + Copy> Chains<K> {
    /// Makes `row` the newest of `key`; returns the row's link to store (the previous newest).
    fn link(&mut self, key: K, row: usize) -> usize {
        self.0.insert(key, row).unwrap_or(NO_ROW)
    }

    /// Undoes the newest [`Chains::link`] of `key`, given the link it returned.
    fn unlink(&mut self, key: K, prev: usize) {
        if prev == NO_ROW {
            self.0.remove(&key);
        } else {
            self.0.insert(key, prev);
        }
    }

    /// The rows of `key`, oldest first; `prev_of` reads a row's link.
    fn rows(&self, key: K, prev_of: impl Fn(usize) -> usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut i = self.0.get(&key).copied().unwrap_or(NO_ROW);
        while i != NO_ROW {
            out.push(i);
            i = prev_of(i);
        }
        out.reverse();
        out
    }
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

impl TxnState {
    fn get(&self, id: TransactionId) -> Option<&Transaction> {
        self.txns
            .get(&id)
            .and_then(|i| self.rows.get(*i))
            .map(|t| &**t)
    }

    /// The row's shared snapshot when it is exactly `t` (see `rows`).
    fn shared(&self, t: &Transaction) -> Option<Arc<Transaction>> {
        let row = self.rows.get(*self.txns.get(&t.id)?)?;
        (**row == *t).then(|| row.clone())
    }
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
    fn idem_hash(&self, scope: &str, key: &IdempotencyKey) -> u64 {
        use std::hash::BuildHasher;
        self.idem_hasher.hash_one((scope, key.as_str()))
    }

    fn idem_find(&self, scope: &str, key: &IdempotencyKey) -> Option<usize> {
        let scope = *self.idem_scope_ids.get(scope)?;
        let recs = &self.idem_records;
        let hash = self.idem_hash(&self.idem_scopes[scope as usize], key);
        self.idem
            .find(hash, |&i| recs[i].scope == scope && recs[i].key == *key)
            .copied()
    }

    fn idem_record(&self, i: usize) -> Option<IdempotencyRecord> {
        let r = &self.idem_records[i];
        Some(IdempotencyRecord {
            scope: self.idem_scopes[r.scope as usize].clone(),
            key: r.key.clone(),
            fingerprint: r.fingerprint.text(),
            response: match &r.response {
                StoredResponse::Transaction(t) => {
                    crate::idempotency::IdempotentResponse::Transaction((**t).clone())
                }
                StoredResponse::Other(o) => (**o).clone(),
                StoredResponse::Purged => return None,
            },
            created_at: r.created_at,
        })
    }

    /// Adds record `i` to the lookup table (an insert, or undoing its purge).
    fn idem_index(&mut self, i: usize) {
        let r = &self.idem_records[i];
        let hash = self.idem_hash(&self.idem_scopes[r.scope as usize], &r.key);
        let (recs, scopes, hasher) = (&self.idem_records, &self.idem_scopes, &self.idem_hasher);
        self.idem.insert_unique(hash, i, |&j| {
            use std::hash::BuildHasher;
            let r = &recs[j];
            hasher.hash_one((scopes[r.scope as usize].as_str(), r.key.as_str()))
        });
    }

    /// Removes record `i` from the lookup table (undoing its insert, or purging it).
    fn idem_unindex(&mut self, i: usize) {
        let r = &self.idem_records[i];
        let hash = self.idem_hash(&self.idem_scopes[r.scope as usize], &r.key);
        if let Ok(e) = self.idem.find_entry(hash, |&j| j == i) {
            e.remove();
        }
    }

    fn idem_scope_id(&mut self, scope: &str) -> u32 {
        if let Some(id) = self.idem_scope_ids.get(scope) {
            return *id;
        }
        let id = u32::try_from(self.idem_scopes.len()).expect("fewer than 2^32 callers");
        self.idem_scopes.push(scope.to_string());
        self.idem_scope_ids.insert(scope.to_string(), id);
        id
    }

    fn events_of(&self, aggregate: Uuid, limit: usize) -> Vec<StoredEvent> {
        self.events_by_aggregate
            .rows(aggregate, |i| self.events[i].prev_of_aggregate)
            .into_iter()
            .filter_map(|i| self.stored_event(i))
            .take(limit)
            .collect()
    }

    /// The event at log index `i`, decoded.
    fn stored_event(&self, i: usize) -> Option<StoredEvent> {
        use crate::events::{BalanceEventData, EventData, TransactionEventData};
        let row = &self.events[i];
        let data = match &row.data {
            StoredData::Transaction {
                base,
                status,
                hold_id,
                text,
            } => {
                let b = &self.txn_event_bases[*base];
                EventData::Transaction(TransactionEventData {
                    transaction_id: b.transaction_id,
                    transaction_type: b.transaction_type,
                    from_account_id: b.from_account_id,
                    to_account_id: b.to_account_id,
                    amount: b.amount,
                    status: *status,
                    reason: text.as_ref().and_then(|t| t.reason.clone()),
                    failure_code: text.as_ref().and_then(|t| t.failure_code.clone()),
                    description: text.as_ref().and_then(|t| t.description.clone()),
                    parent_id: b.parent_id,
                    hold_id: *hold_id,
                })
            }
            StoredData::Balance {
                balance,
                available,
                transaction_id,
            } => EventData::Balance(BalanceEventData {
                account_id: AccountId(row.aggregate_id),
                balance: *balance,
                available_balance: *available,
                transaction_id: *transaction_id,
            }),
            StoredData::Other(d) => (**d).clone(),
            StoredData::Purged => return None,
        };
        Some(StoredEvent {
            seq: i as i64 + 1,
            event: DomainEvent {
                id: row.id,
                event_type: row.event_type,
                aggregate_id: row.aggregate_id,
                time: row.time,
                data,
            },
            published_at: match row.relay {
                Relay::Published(at) => Some(at),
                Relay::Pending | Relay::Leased(_) => None,
            },
        })
    }

    /// Encodes an event for the log. `prev` is the aggregate's previous event, whose base a
    /// transaction event shares when nothing in it changed.
    fn compact(&mut self, e: &DomainEvent, prev: usize) -> StoredData {
        use crate::events::EventData;
        match &e.data {
            EventData::Transaction(d) => {
                let base = TxnEventBase {
                    transaction_id: d.transaction_id,
                    transaction_type: d.transaction_type,
                    from_account_id: d.from_account_id,
                    to_account_id: d.to_account_id,
                    amount: d.amount,
                    parent_id: d.parent_id,
                };
                let shared = match self.events.get(prev).map(|r| &r.data) {
                    Some(StoredData::Transaction { base: b, .. })
                        if self.txn_event_bases[*b] == base =>
                    {
                        Some(*b)
                    }
                    _ => None,
                };
                let base = shared.unwrap_or_else(|| {
                    self.txn_event_bases.push(base);
                    self.txn_event_bases.len() - 1
                });
                let text =
                    (d.reason.is_some() || d.failure_code.is_some() || d.description.is_some())
                        .then(|| {
                            Box::new(TxnEventText {
                                reason: d.reason.clone(),
                                failure_code: d.failure_code.clone(),
                                description: d.description.clone(),
                            })
                        });
                StoredData::Transaction {
                    base,
                    status: d.status,
                    hold_id: d.hold_id,
                    text,
                }
            }
            EventData::Balance(b) if b.account_id.0 == e.aggregate_id => StoredData::Balance {
                balance: b.balance,
                available: b.available_balance,
                transaction_id: b.transaction_id,
            },
            other => StoredData::Other(Box::new(other.clone())),
        }
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

#[async_trait]
impl AccountRepo for MemoryUow {
    async fn insert_account(&mut self, account: &Account) -> BankResult<()> {
        self.fault(FaultPoint::InsertAccount)?;
        let st = self.st_mut()?;
        if st.account.accounts.contains_key(&account.id)
            || st.account.by_number.contains_key(&account.account_number)
        {
            return Err(BankError::Duplicate("account"));
        }
        st.account.accounts.insert(account.id, account.clone());
        st.account
            .by_number
            .insert(account.account_number, account.id);
        st.account
            .by_customer
            .entry(account.customer_id)
            .or_default()
            .push(account.id);
        self.undo.push(Undo::Account(account.id, None));
        Ok(())
    }

    async fn account(&mut self, id: AccountId) -> BankResult<Option<Account>> {
        Ok(self.st().account.accounts.get(&id).cloned())
    }

    async fn account_by_number(&mut self, number: &AccountNumber) -> BankResult<Option<Account>> {
        let st = self.st();
        Ok(st
            .account
            .by_number
            .get(number)
            .and_then(|id| st.account.accounts.get(id))
            .cloned())
    }

    async fn lock_accounts(&mut self, ids: &[AccountId]) -> BankResult<Vec<Account>> {
        debug_assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "lock order: sorted, distinct ids"
        );
        let st = self.st();
        Ok(ids
            .iter()
            .filter_map(|id| st.account.accounts.get(id).cloned())
            .collect())
    }

    async fn update_account(&mut self, account: &Account) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st
            .account
            .accounts
            .get_mut(&account.id)
            .ok_or(BankError::NotFound {
                resource: "account",
            })?;
        let prev = std::mem::replace(slot, account.clone());
        self.undo.push(Undo::Account(account.id, Some(prev)));
        Ok(())
    }

    async fn accounts_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        let st = self.st();
        let limit = limit.min(crate::ports::ACCOUNTS_OF_CUSTOMER_MAX) as usize;
        Ok(st
            .account
            .by_customer
            .get(&customer)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| st.account.accounts.get(id).cloned())
                    .take(limit)
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn list_accounts(
        &mut self,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        let mut all: Vec<&Account> = self
            .st()
            .account
            .accounts
            .values()
            .filter(|a| after.is_none_or(|x| a.id > x))
            .collect();
        all.sort_by_key(|a| a.id);
        Ok(all.into_iter().take(limit as usize).cloned().collect())
    }

    async fn insert_hold(&mut self, hold: &Hold) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.account.holds.insert(hold.id, hold.clone()).is_some() {
            return Err(BankError::Duplicate("hold"));
        }
        self.undo.push(Undo::Hold(hold.id, None));
        Ok(())
    }

    async fn hold(&mut self, id: HoldId) -> BankResult<Option<Hold>> {
        Ok(self.st().account.holds.get(&id).cloned())
    }

    async fn update_hold(&mut self, hold: &Hold) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st
            .account
            .holds
            .get_mut(&hold.id)
            .ok_or(BankError::NotFound { resource: "hold" })?;
        let prev = std::mem::replace(slot, hold.clone());
        self.undo.push(Undo::Hold(hold.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn active_holds(&mut self, account: AccountId, limit: u32) -> BankResult<Vec<Hold>> {
        let mut v: Vec<Hold> = self
            .st()
            .account
            .holds
            .values()
            .filter(|h| h.account_id == account && h.status == HoldStatus::Active)
            .cloned()
            .collect();
        v.sort_by_key(|h| (h.created_at, h.id));
        v.truncate(limit.min(crate::ports::ACTIVE_HOLDS_MAX) as usize);
        Ok(v)
    }

    async fn expired_holds(&mut self, now: DateTime<Utc>, limit: u32) -> BankResult<Vec<Hold>> {
        let mut v: Vec<Hold> = self
            .st()
            .account
            .holds
            .values()
            .filter(|h| h.status == HoldStatus::Active && h.expires_at <= now)
            .cloned()
            .collect();
        v.sort_by_key(|h| (h.expires_at, h.id));
        v.truncate(limit as usize);
        Ok(v)
    }
}

#[async_trait]
impl LedgerRepo for MemoryUow {
    async fn insert_journal(&mut self, journal: &JournalEntry) -> BankResult<()> {
        journal.validate()?;
        let st = self.st_mut()?;
        let idx = st.ledger.journals.len();
        let first_posting = st.ledger.postings.len();
        for p in &journal.postings {
            let seq = st.ledger.postings.len() as i64 + 1;
            st.ledger
                .postings_by_account
                .entry(p.account_id)
                .or_default()
                .push(st.ledger.postings.len());
            st.ledger.postings.push(PostingRow {
                seq,
                journal: idx,
                account_id: p.account_id,
                amount: p.amount,
            });
        }
        let prev_of_transaction = st.ledger.journals_by_txn.link(journal.transaction_id, idx);
        st.ledger.journals.push(JournalRow {
            id: journal.id,
            transaction_id: journal.transaction_id,
            posted_at: journal.posted_at,
            description: journal.description.clone(),
            first_posting,
            postings_len: journal.postings.len(),
            prev_of_transaction,
        });
        self.undo.push(Undo::Journal);
        Ok(())
    }

    async fn journals_of_transaction(
        &mut self,
        txn: TransactionId,
        limit: u32,
    ) -> BankResult<Vec<JournalEntry>> {
        let st = self.st();
        let journals = &st.ledger.journals;
        let rows = st
            .ledger
            .journals_by_txn
            .rows(txn, |i| journals[i].prev_of_transaction);
        Ok(rows
            .into_iter()
            .take(limit.min(crate::ports::JOURNALS_OF_TRANSACTION_MAX) as usize)
            .map(|i| {
                let j = &journals[i];
                JournalEntry {
                    id: j.id,
                    transaction_id: j.transaction_id,
                    postings: (j.first_posting..j.first_posting + j.postings_len)
                        .map(|p| {
                            let p = &st.ledger.postings[p];
                            crate::ledger::Posting {
                                account_id: p.account_id,
                                amount: p.amount,
                            }
                        })
                        .collect(),
                    posted_at: j.posted_at,
                    description: j.description.clone(),
                }
            })
            .collect())
    }

    async fn posting_sum(
        &mut self,
        account: AccountId,
        before: Option<DateTime<Utc>>,
    ) -> BankResult<Decimal> {
        let st = self.st();
        let Some(idx) = st.ledger.postings_by_account.get(&account) else {
            return Ok(Decimal::ZERO);
        };
        Ok(idx
            .iter()
            .map(|i| &st.ledger.postings[*i])
            .filter(|p| before.is_none_or(|b| st.ledger.journals[p.journal].posted_at < b))
            .map(|p| p.amount.amount())
            .sum())
    }

    async fn postings(
        &mut self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<PostingLine>> {
        let st = self.st();
        let Some(idx) = st.ledger.postings_by_account.get(&account) else {
            return Ok(Vec::new());
        };
        Ok(idx
            .iter()
            .map(|i| &st.ledger.postings[*i])
            .filter(|p| after_seq.is_none_or(|s| p.seq > s))
            .filter(|p| {
                let at = st.ledger.journals[p.journal].posted_at;
                at >= from && at < to
            })
            .take(limit as usize)
            .map(|p| {
                let j = &st.ledger.journals[p.journal];
                PostingLine {
                    seq: p.seq,
                    journal_id: j.id,
                    transaction_id: j.transaction_id,
                    account_id: p.account_id,
                    amount: p.amount,
                    posted_at: j.posted_at,
                    description: j.description.clone(),
                }
            })
            .collect())
    }

    async fn ledger_totals(&mut self) -> BankResult<Vec<(Currency, Decimal)>> {
        let mut sums: std::collections::BTreeMap<Currency, Decimal> = Default::default();
        for p in self.st().ledger.postings.iter() {
            *sums.entry(p.amount.currency()).or_default() += p.amount.amount();
        }
        Ok(sums.into_iter().collect())
    }
}

#[async_trait]
impl TransactionRepo for MemoryUow {
    async fn insert_transaction(&mut self, txn: &Transaction) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.txn.txns.contains_key(&txn.id) {
            return Err(BankError::Duplicate("transaction"));
        }
        st.txn.txns.insert(txn.id, st.txn.rows.len());
        st.txn.rows.push(Arc::new(txn.clone()));
        for a in [txn.from_account_id, txn.to_account_id]
            .into_iter()
            .flatten()
        {
            st.txn.by_account.entry(a).or_default().push(txn.id);
        }
        st.txn.all.push(txn.id);
        self.undo.push(Undo::Txn(txn.id, None));
        Ok(())
    }

    async fn update_transaction(&mut self, txn: &Transaction) -> BankResult<()> {
        let st = self.st_mut()?;
        let i = *st.txn.txns.get(&txn.id).ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        let slot = &mut st.txn.rows[i];
        let prev = std::mem::replace(slot, Arc::new(txn.clone()));
        self.undo.push(Undo::Txn(txn.id, Some(prev)));
        Ok(())
    }

    async fn transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        Ok(self.st().txn.get(id).cloned())
    }

    async fn lock_transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        Ok(self.st().txn.get(id).cloned())
    }

    async fn list_transactions(
        &mut self,
        query: &TransactionQuery,
    ) -> BankResult<Vec<Transaction>> {
        query.validate()?;
        let st = self.st();
        let ids: &[TransactionId] = match query.account_id {
            Some(a) => st.txn.by_account.get(&a).map(Vec::as_slice).unwrap_or(&[]),
            None => &st.txn.all,
        };
        let mut v: Vec<&Transaction> = ids
            .iter()
            .filter_map(|id| st.txn.get(*id))
            .filter(|t| query.matches(t))
            .collect();
        v.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
        v.dedup_by_key(|t| t.id);
        Ok(v.into_iter().take(query.limit as usize).cloned().collect())
    }
}

#[async_trait]
impl IdempotencyRepo for MemoryUow {
    async fn idempotency(
        &mut self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> BankResult<Option<IdempotencyRecord>> {
        let st = self.st();
        Ok(st.idem_find(scope, key).and_then(|i| st.idem_record(i)))
    }

    async fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.idem_find(&record.scope, &record.key).is_some() {
            return Err(BankError::Duplicate("idempotency key"));
        }
        let response = match &record.response {
            crate::idempotency::IdempotentResponse::Transaction(t) => {
                StoredResponse::Transaction(st.txn.shared(t).unwrap_or_else(|| Arc::new(t.clone())))
            }
            other => StoredResponse::Other(Box::new(other.clone())),
        };
        let row = IdemRow {
            scope: st.idem_scope_id(&record.scope),
            key: record.key.clone(),
            fingerprint: StoredFingerprint::of(&record.fingerprint),
            response,
            created_at: record.created_at,
        };
        let i = st.idem_records.len();
        st.idem_records.push(row);
        st.idem_index(i);
        self.undo.push(Undo::Idem);
        Ok(())
    }

    async fn purge_idempotency(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        let limit = limit.min(crate::ports::PURGE_BATCH_MAX) as usize;
        let st = self.st_mut()?;
        let mut undo = Vec::new();
        for i in st.idem_purged_below..st.idem_records.len() {
            if undo.len() >= limit {
                break;
            }
            let r = &st.idem_records[i];
            if matches!(r.response, StoredResponse::Purged) || r.created_at >= before {
                continue;
            }
            st.idem_unindex(i);
            let response =
                std::mem::replace(&mut st.idem_records[i].response, StoredResponse::Purged);
            undo.push(Undo::IdemPurge(i, response));
        }
        while st.idem_purged_below < st.idem_records.len()
            && matches!(
                st.idem_records[st.idem_purged_below].response,
                StoredResponse::Purged
            )
        {
            st.idem_purged_below += 1;
        }
        let n = undo.len() as u64;
        self.undo.extend(undo);
        Ok(n)
    }
}

#[async_trait]
impl EventRepo for MemoryUow {
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()> {
        let st = self.st_mut()?;
        let len = st.events.len();
        let bases_len = st.txn_event_bases.len();
        for e in events {
            let i = st.events.len();
            let prev_of_aggregate = st.events_by_aggregate.link(e.aggregate_id, i);
            let data = st.compact(e, prev_of_aggregate);
            st.events.push(EventRow {
                id: e.id,
                event_type: e.event_type,
                aggregate_id: e.aggregate_id,
                time: e.time,
                data,
                relay: Relay::Pending,
                prev_of_aggregate,
            });
        }
        self.undo.push(Undo::Events {
            events_len: len,
            bases_len,
        });
        Ok(())
    }

    async fn events_of_aggregate(
        &mut self,
        aggregate_id: Uuid,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        let limit = limit.min(crate::ports::EVENTS_OF_AGGREGATE_MAX) as usize;
        Ok(self.st().events_of(aggregate_id, limit))
    }

    async fn claim_events(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        let st = self.st_mut()?;
        let mut blocked: std::collections::HashSet<Uuid> = Default::default();
        let mut claimed = Vec::new();
        let mut undo = Vec::new();
        for i in st.events_published_below..st.events.len() {
            if claimed.len() >= limit as usize {
                break;
            }
            let row = &mut st.events[i];
            if matches!(row.relay, Relay::Published(_)) {
                continue;
            }
            let agg = row.aggregate_id;
            // An earlier unpublished event of this aggregate blocks the later ones.
            if !blocked.insert(agg) {
                continue;
            }
            if matches!(row.relay, Relay::Leased(l) if l > now) {
                continue;
            }
            undo.push(Undo::EventRelay(i, row.relay));
            row.relay = Relay::Leased(lease_until);
            // Purged rows are published, so never reach here; skipping them keeps it so.
            claimed.extend(st.stored_event(i));
        }
        self.undo.extend(undo);
        Ok(claimed)
    }

    async fn mark_published(&mut self, seqs: &[i64], at: DateTime<Utc>) -> BankResult<()> {
        let st = self.st_mut()?;
        let mut undo = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let i =
                usize::try_from(*seq - 1).map_err(|_| BankError::NotFound { resource: "event" })?;
            let row = st
                .events
                .get_mut(i)
                .ok_or(BankError::NotFound { resource: "event" })?;
            undo.push(Undo::EventRelay(i, row.relay));
            row.relay = Relay::Published(at);
        }
        while st
            .events
            .get(st.events_published_below)
            .is_some_and(|r| matches!(r.relay, Relay::Published(_)))
        {
            st.events_published_below += 1;
        }
        self.undo.extend(undo);
        Ok(())
    }

    async fn purge_published_events(
        &mut self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<u64> {
        let limit = limit.min(crate::ports::PURGE_BATCH_MAX) as usize;
        let st = self.st_mut()?;
        let mut undo = Vec::new();
        for i in st.events_purged_below..st.events.len() {
            if undo.len() >= limit {
                break;
            }
            let row = &mut st.events[i];
            let purgeable = matches!(row.relay, Relay::Published(_))
                && row.time < before
                && !matches!(row.data, StoredData::Purged);
            if purgeable {
                undo.push(Undo::EventPurge(
                    i,
                    std::mem::replace(&mut row.data, StoredData::Purged),
                ));
            }
        }
        while st
            .events
            .get(st.events_purged_below)
            .is_some_and(|r| matches!(r.data, StoredData::Purged))
        {
            st.events_purged_below += 1;
        }
        let n = undo.len() as u64;
        self.undo.extend(undo);
        Ok(n)
    }
}

// ------------------------------------------------------------------ identity, customer, fraud,
// notification and audit contexts

/// Identity context state.
#[derive(Default, Debug)]
pub(crate) struct IdentityState {
    users: HashMap<UserId, UserRecord>,
    by_email: HashMap<Email, UserId>,
    by_phone: HashMap<Phone, UserId>,
    sessions: HashMap<SessionId, SessionRecord>,
    session_by_hash: HashMap<String, SessionId>,
    sessions_by_user: HashMap<UserId, Vec<SessionId>>,
    codes: HashMap<CodeId, OneTimeCode>,
    codes_by_user: HashMap<UserId, Vec<CodeId>>,
}

/// Customer context state.
#[derive(Default, Debug)]
pub(crate) struct CustomerState {
    customers: HashMap<CustomerId, CustomerRecord>,
    by_user: HashMap<UserId, CustomerId>,
    documents: HashMap<DocumentId, DocumentRecord>,
}

#[derive(Clone, Debug)]
struct VelocityRow {
    txn: TransactionId,
    at: DateTime<Utc>,
    amount: Decimal,
    counts: bool,
}

/// Fraud context state.
#[derive(Default, Debug)]
pub(crate) struct FraudState {
    rules: HashMap<RuleId, FraudRule>,
    lists: HashMap<ListEntryId, ListEntry>,
    assessments: IdMap<TransactionId, Assessment>,
    /// Per debited account, the facts velocity queries need, contiguous so a window scan
    /// touches no hash map (the fraud step runs on every transfer).
    assessments_by_account: IdMap<AccountId, Vec<VelocityRow>>,
    cases: HashMap<CaseId, FraudCase>,
    case_by_txn: HashMap<TransactionId, CaseId>,
}

/// Notification context state.
#[derive(Default, Debug)]
pub(crate) struct NotifyState {
    notifications: BTreeMap<NotificationId, NotificationRecord>,
    by_user: HashMap<UserId, BTreeSet<NotificationId>>,
    by_source: HashSet<(EventId, UserId, Channel)>,
    preferences: BTreeMap<(UserId, String, Channel), Preference>,
}

/// Undo records of the contexts above: each restores one row to its previous value
/// (`None` = the row did not exist), keeping the indexes in step.
pub(crate) enum CtxUndo {
    User(UserId, Option<Box<UserRecord>>),
    Session(SessionId, Option<Box<SessionRecord>>),
    Code(CodeId, Option<Box<OneTimeCode>>),
    Customer(CustomerId, Option<Box<CustomerRecord>>),
    Document(DocumentId, Option<Box<DocumentRecord>>),
    Rule(RuleId, Option<Box<FraudRule>>),
    List(ListEntryId, Option<Box<ListEntry>>),
    Assessment(TransactionId, Option<Box<Assessment>>),
    Case(CaseId, Option<Box<FraudCase>>),
    Notification(NotificationId, Option<Box<NotificationRecord>>),
    Preference((UserId, String, Channel), Option<Box<Preference>>),
    AuditPop,
}

impl CtxUndo {
    fn apply(self, st: &mut MemoryState) {
        match self {
            CtxUndo::User(id, prev) => {
                set_user(&mut st.identity, id, prev.map(|b| *b));
            }
            CtxUndo::Session(id, prev) => {
                set_session(&mut st.identity, id, prev.map(|b| *b));
            }
            CtxUndo::Code(id, prev) => {
                set_code(&mut st.identity, id, prev.map(|b| *b));
            }
            CtxUndo::Customer(id, prev) => {
                set_customer(&mut st.customer, id, prev.map(|b| *b));
            }
            CtxUndo::Document(id, prev) => {
                set_opt(&mut st.customer.documents, id, prev.map(|b| *b));
            }
            CtxUndo::Rule(id, prev) => {
                set_opt(&mut st.fraud.rules, id, prev.map(|b| *b));
            }
            CtxUndo::List(id, prev) => {
                set_opt(&mut st.fraud.lists, id, prev.map(|b| *b));
            }
            CtxUndo::Assessment(id, prev) => {
                set_assessment(&mut st.fraud, id, prev.map(|b| *b));
            }
            CtxUndo::Case(id, prev) => {
                set_case(&mut st.fraud, id, prev.map(|b| *b));
            }
            CtxUndo::Notification(id, prev) => {
                set_notification(&mut st.notify, id, prev.map(|b| *b));
            }
            CtxUndo::Preference(k, prev) => match prev {
                Some(p) => {
                    st.notify.preferences.insert(k, *p);
                }
                None => {
                    st.notify.preferences.remove(&k);
                }
            },
            CtxUndo::AuditPop => {
                st.audit.pop();
            }
        }
    }
}

fn set_opt<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, k: K, v: Option<V>) -> Option<V> {
    match v {
        Some(v) => map.insert(k, v),
        None => map.remove(&k),
    }
}

fn set_user(st: &mut IdentityState, id: UserId, new: Option<UserRecord>) -> Option<UserRecord> {
    let prev = st.users.remove(&id);
    if let Some(p) = &prev {
        st.by_email.remove(&p.email);
        if let Some(ph) = &p.phone {
            st.by_phone.remove(ph);
        }
    }
    if let Some(n) = new {
        st.by_email.insert(n.email.clone(), id);
        if let Some(ph) = &n.phone {
            st.by_phone.insert(ph.clone(), id);
        }
        st.users.insert(id, n);
    }
    prev
}

fn set_session(
    st: &mut IdentityState,
    id: SessionId,
    new: Option<SessionRecord>,
) -> Option<SessionRecord> {
    let prev = st.sessions.remove(&id);
    if let Some(p) = &prev {
        st.session_by_hash.remove(&p.token_hash);
        if let Some(v) = st.sessions_by_user.get_mut(&p.user_id) {
            v.retain(|x| *x != id);
        }
    }
    if let Some(n) = new {
        st.session_by_hash.insert(n.token_hash.clone(), id);
        st.sessions_by_user.entry(n.user_id).or_default().push(id);
        st.sessions.insert(id, n);
    }
    prev
}

fn set_code(st: &mut IdentityState, id: CodeId, new: Option<OneTimeCode>) -> Option<OneTimeCode> {
    let prev = st.codes.remove(&id);
    if let Some(p) = &prev {
        if let Some(v) = st.codes_by_user.get_mut(&p.user_id) {
            v.retain(|x| *x != id);
        }
    }
    if let Some(n) = new {
        st.codes_by_user.entry(n.user_id).or_default().push(id);
        st.codes.insert(id, n);
    }
    prev
}

fn set_customer(
    st: &mut CustomerState,
    id: CustomerId,
    new: Option<CustomerRecord>,
) -> Option<CustomerRecord> {
    let prev = st.customers.remove(&id);
    if let Some(p) = &prev {
        st.by_user.remove(&p.user_id);
    }
    if let Some(n) = new {
        st.by_user.insert(n.user_id, id);
        st.customers.insert(id, n);
    }
    prev
}

fn set_assessment(
    st: &mut FraudState,
    id: TransactionId,
    new: Option<Assessment>,
) -> Option<Assessment> {
    let prev = st.assessments.remove(&id);
    if let Some(a) = prev.as_ref().and_then(|p| p.from_account_id) {
        if let Some(v) = st.assessments_by_account.get_mut(&a) {
            v.retain(|r| r.txn != id);
        }
    }
    if let Some(n) = new {
        if let Some(a) = n.from_account_id {
            st.assessments_by_account
                .entry(a)
                .or_default()
                .push(VelocityRow {
                    txn: id,
                    at: n.created_at,
                    amount: n.amount.amount(),
                    counts: n.action != FraudAction::Block,
                });
        }
        st.assessments.insert(id, n);
    }
    prev
}

fn set_case(st: &mut FraudState, id: CaseId, new: Option<FraudCase>) -> Option<FraudCase> {
    let prev = st.cases.remove(&id);
    if let Some(p) = &prev {
        st.case_by_txn.remove(&p.transaction_id);
    }
    if let Some(n) = new {
        st.case_by_txn.insert(n.transaction_id, id);
        st.cases.insert(id, n);
    }
    prev
}

fn set_notification(
    st: &mut NotifyState,
    id: NotificationId,
    new: Option<NotificationRecord>,
) -> Option<NotificationRecord> {
    let prev = st.notifications.remove(&id);
    if let Some(p) = &prev {
        if let Some(v) = st.by_user.get_mut(&p.user_id) {
            v.remove(&id);
        }
        if let Some(e) = p.source_event_id {
            st.by_source.remove(&(e, p.user_id, p.channel));
        }
    }
    if let Some(n) = new {
        st.by_user.entry(n.user_id).or_default().insert(id);
        if let Some(e) = n.source_event_id {
            st.by_source.insert((e, n.user_id, n.channel));
        }
        st.notifications.insert(id, n);
    }
    prev
}

impl MemoryUow {
    fn push_undo(&mut self, u: CtxUndo) {
        self.undo.push(Undo::Ctx(u));
    }

    /// A user's notifications passing `keep`, ordered by (created_at, id).
    fn user_notifications(
        &self,
        user: UserId,
        _cursor: Option<NotificationId>,
        keep: impl Fn(&NotificationRecord) -> bool,
    ) -> BankResult<Vec<NotificationRecord>> {
        let st = &self.st().notify;
        let mut v: Vec<NotificationRecord> = st
            .by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| st.notifications.get(id))
            .filter(|n| keep(n))
            .cloned()
            .collect();
        v.sort_by_key(|n| (n.created_at, n.id));
        Ok(v)
    }
}

#[async_trait]
impl IdentityRepo for MemoryUow {
    async fn insert_user(&mut self, user: &UserRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if st.by_email.contains_key(&user.email) {
            return Err(BankError::Duplicate("email"));
        }
        if user
            .phone
            .as_ref()
            .is_some_and(|p| st.by_phone.contains_key(p))
        {
            return Err(BankError::Duplicate("phone"));
        }
        if st.users.contains_key(&user.id) {
            return Err(BankError::Duplicate("user"));
        }
        set_user(st, user.id, Some(user.clone()));
        self.push_undo(CtxUndo::User(user.id, None));
        Ok(())
    }

    async fn user(&mut self, id: UserId) -> BankResult<Option<UserRecord>> {
        Ok(self.st().identity.users.get(&id).cloned())
    }

    async fn user_by_email(&mut self, email: &Email) -> BankResult<Option<UserRecord>> {
        let st = &self.st().identity;
        Ok(st
            .by_email
            .get(email)
            .and_then(|id| st.users.get(id))
            .cloned())
    }

    async fn update_user(&mut self, user: &UserRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if !st.users.contains_key(&user.id) {
            return Err(BankError::NotFound { resource: "user" });
        }
        if let Some(p) = &user.phone {
            if st.by_phone.get(p).is_some_and(|owner| *owner != user.id) {
                return Err(BankError::Duplicate("phone"));
            }
        }
        if st
            .by_email
            .get(&user.email)
            .is_some_and(|owner| *owner != user.id)
        {
            return Err(BankError::Duplicate("email"));
        }
        let prev = set_user(st, user.id, Some(user.clone()));
        self.push_undo(CtxUndo::User(user.id, prev.map(Box::new)));
        Ok(())
    }

    async fn any_user_with_role(&mut self, role: Role) -> BankResult<bool> {
        Ok(self
            .st()
            .identity
            .users
            .values()
            .any(|u| u.roles.contains(&role)))
    }

    async fn insert_session(&mut self, session: &SessionRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if st.sessions.contains_key(&session.id)
            || st.session_by_hash.contains_key(&session.token_hash)
        {
            return Err(BankError::Duplicate("session"));
        }
        set_session(st, session.id, Some(session.clone()));
        self.push_undo(CtxUndo::Session(session.id, None));
        Ok(())
    }

    async fn session_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> BankResult<Option<SessionRecord>> {
        let st = &self.st().identity;
        Ok(st
            .session_by_hash
            .get(token_hash)
            .and_then(|id| st.sessions.get(id))
            .cloned())
    }

    async fn update_session(&mut self, session: &SessionRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if !st.sessions.contains_key(&session.id) {
            return Err(BankError::NotFound {
                resource: "session",
            });
        }
        let prev = set_session(st, session.id, Some(session.clone()));
        self.push_undo(CtxUndo::Session(session.id, prev.map(Box::new)));
        Ok(())
    }

    async fn revoke_session_family(
        &mut self,
        user: UserId,
        family: SessionId,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let ids: Vec<SessionId> = st
            .sessions_by_user
            .get(&user)
            .map(|v| {
                v.iter()
                    .filter(|id| {
                        st.sessions
                            .get(id)
                            .is_some_and(|s| s.family_id == family && s.revoked_at.is_none())
                    })
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        self.revoke_ids(&ids, at)
    }

    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let ids: Vec<SessionId> = st
            .sessions_by_user
            .get(&user)
            .map(|v| {
                v.iter()
                    .filter(|id| st.sessions.get(id).is_some_and(|s| s.revoked_at.is_none()))
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        self.revoke_ids(&ids, at)
    }

    async fn active_sessions(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<SessionRecord>> {
        let st = &self.st().identity;
        let mut v: Vec<SessionRecord> = st
            .sessions_by_user
            .get(&user)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| st.sessions.get(id))
                    .filter(|s| {
                        s.revoked_at.is_none() && s.rotated_at.is_none() && s.expires_at > now
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn insert_code(&mut self, code: &OneTimeCode) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if st.codes.contains_key(&code.id) {
            return Err(BankError::Duplicate("one-time code"));
        }
        set_code(st, code.id, Some(code.clone()));
        self.push_undo(CtxUndo::Code(code.id, None));
        Ok(())
    }

    async fn latest_code(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
    ) -> BankResult<Option<OneTimeCode>> {
        let st = &self.st().identity;
        Ok(st
            .codes_by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| st.codes.get(id))
            .filter(|c| c.purpose == purpose)
            .max_by_key(|c| (c.created_at, c.id))
            .cloned())
    }

    async fn code_by_hash(
        &mut self,
        purpose: CodePurpose,
        code_hash: &str,
    ) -> BankResult<Option<OneTimeCode>> {
        Ok(self
            .st()
            .identity
            .codes
            .values()
            .filter(|c| c.purpose == purpose && c.code_hash == code_hash)
            .max_by_key(|c| (c.created_at, c.id))
            .cloned())
    }

    async fn update_code(&mut self, code: &OneTimeCode) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if !st.codes.contains_key(&code.id) {
            return Err(BankError::NotFound {
                resource: "one-time code",
            });
        }
        let prev = set_code(st, code.id, Some(code.clone()));
        self.push_undo(CtxUndo::Code(code.id, prev.map(Box::new)));
        Ok(())
    }

    async fn consume_codes(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let ids: Vec<CodeId> = st
            .codes_by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter(|id| {
                st.codes
                    .get(id)
                    .is_some_and(|c| c.purpose == purpose && c.used_at.is_none())
            })
            .copied()
            .collect();
        let mut undo = Vec::with_capacity(ids.len());
        for id in &ids {
            let Some(mut c) = st.codes.get(id).cloned() else {
                continue;
            };
            c.used_at = Some(at);
            let prev = set_code(st, *id, Some(c));
            undo.push(CtxUndo::Code(*id, prev.map(Box::new)));
        }
        for u in undo {
            self.push_undo(u);
        }
        Ok(ids.len() as u32)
    }
}

impl MemoryUow {
    fn revoke_ids(&mut self, ids: &[SessionId], at: DateTime<Utc>) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let mut undo = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(mut s) = st.sessions.get(id).cloned() else {
                continue;
            };
            s.revoked_at = Some(at);
            let prev = set_session(st, *id, Some(s));
            undo.push(CtxUndo::Session(*id, prev.map(Box::new)));
        }
        for u in undo {
            self.push_undo(u);
        }
        Ok(ids.len() as u32)
    }
}

fn contains_ascii_ci(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[async_trait]
impl CustomerRepo for MemoryUow {
    async fn insert_customer(&mut self, customer: &CustomerRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if st.customers.contains_key(&customer.id) || st.by_user.contains_key(&customer.user_id) {
            return Err(BankError::Duplicate("customer"));
        }
        set_customer(st, customer.id, Some(customer.clone()));
        self.push_undo(CtxUndo::Customer(customer.id, None));
        Ok(())
    }

    async fn customer(&mut self, id: CustomerId) -> BankResult<Option<CustomerRecord>> {
        Ok(self.st().customer.customers.get(&id).cloned())
    }

    async fn customer_by_user(&mut self, user: UserId) -> BankResult<Option<CustomerRecord>> {
        let st = &self.st().customer;
        Ok(st
            .by_user
            .get(&user)
            .and_then(|id| st.customers.get(id))
            .cloned())
    }

    async fn update_customer(&mut self, customer: &CustomerRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if !st.customers.contains_key(&customer.id) {
            return Err(BankError::NotFound {
                resource: "customer",
            });
        }
        if st
            .by_user
            .get(&customer.user_id)
            .is_some_and(|c| *c != customer.id)
        {
            return Err(BankError::Duplicate("customer"));
        }
        let prev = set_customer(st, customer.id, Some(customer.clone()));
        self.push_undo(CtxUndo::Customer(customer.id, prev.map(Box::new)));
        Ok(())
    }

    async fn delete_customer(&mut self, id: CustomerId) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if !st.customers.contains_key(&id) {
            return Err(BankError::NotFound {
                resource: "customer",
            });
        }
        let docs: Vec<DocumentId> = st
            .documents
            .values()
            .filter(|d| d.customer_id == id)
            .map(|d| d.id)
            .collect();
        let mut undo = Vec::new();
        for d in docs {
            let prev = set_opt(&mut st.documents, d, None);
            undo.push(CtxUndo::Document(d, prev.map(Box::new)));
        }
        let prev = set_customer(st, id, None);
        undo.push(CtxUndo::Customer(id, prev.map(Box::new)));
        for u in undo {
            self.push_undo(u);
        }
        Ok(())
    }

    async fn search_customers(
        &mut self,
        search: &CustomerSearch,
    ) -> BankResult<Vec<CustomerRecord>> {
        let mut v: Vec<&CustomerRecord> = self
            .st()
            .customer
            .customers
            .values()
            .filter(|c| search.after.is_none_or(|a| c.id > a))
            .filter(|c| {
                search.name.as_deref().is_none_or(|n| {
                    contains_ascii_ci(&format!("{} {}", c.first_name, c.last_name), n)
                })
            })
            .filter(|c| {
                search
                    .email
                    .as_deref()
                    .is_none_or(|e| c.email.as_deref() == Some(e))
            })
            .filter(|c| {
                search
                    .phone
                    .as_deref()
                    .is_none_or(|p| c.phone.as_deref() == Some(p))
            })
            .filter(|c| search.kyc_status.is_none_or(|k| c.kyc_status == k))
            .collect();
        v.sort_by_key(|c| c.id);
        Ok(v.into_iter().take(search.limit as usize).cloned().collect())
    }

    async fn insert_document(&mut self, doc: &DocumentRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if st.documents.contains_key(&doc.id) {
            return Err(BankError::Duplicate("document"));
        }
        st.documents.insert(doc.id, doc.clone());
        self.push_undo(CtxUndo::Document(doc.id, None));
        Ok(())
    }

    async fn document(&mut self, id: DocumentId) -> BankResult<Option<DocumentRecord>> {
        Ok(self.st().customer.documents.get(&id).cloned())
    }

    async fn documents_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<DocumentRecord>> {
        let mut v: Vec<&DocumentRecord> = self
            .st()
            .customer
            .documents
            .values()
            .filter(|d| d.customer_id == customer)
            .collect();
        v.sort_by_key(|d| (d.uploaded_at, d.id));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn update_document(&mut self, doc: &DocumentRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if !st.documents.contains_key(&doc.id) {
            return Err(BankError::NotFound {
                resource: "document",
            });
        }
        let prev = set_opt(&mut st.documents, doc.id, Some(doc.clone()));
        self.push_undo(CtxUndo::Document(doc.id, prev.map(Box::new)));
        Ok(())
    }
}

#[async_trait]
impl FraudRepo for MemoryUow {
    async fn insert_rule(&mut self, rule: &FraudRule) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.rules.contains_key(&rule.id)
            || st.rules.values().any(|r| r.rule_name == rule.rule_name)
        {
            return Err(BankError::Duplicate("fraud rule"));
        }
        st.rules.insert(rule.id, rule.clone());
        self.push_undo(CtxUndo::Rule(rule.id, None));
        Ok(())
    }

    async fn update_rule(&mut self, rule: &FraudRule) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if !st.rules.contains_key(&rule.id) {
            return Err(BankError::NotFound {
                resource: "fraud rule",
            });
        }
        if st
            .rules
            .values()
            .any(|r| r.rule_name == rule.rule_name && r.id != rule.id)
        {
            return Err(BankError::Duplicate("fraud rule"));
        }
        let prev = st.rules.insert(rule.id, rule.clone());
        self.push_undo(CtxUndo::Rule(rule.id, prev.map(Box::new)));
        Ok(())
    }

    async fn rule(&mut self, id: RuleId) -> BankResult<Option<FraudRule>> {
        Ok(self.st().fraud.rules.get(&id).cloned())
    }

    async fn list_rules(&mut self, active_only: bool, limit: u32) -> BankResult<Vec<FraudRule>> {
        let mut v: Vec<&FraudRule> = self
            .st()
            .fraud
            .rules
            .values()
            .filter(|r| !active_only || r.is_active)
            .collect();
        v.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.id));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn insert_list_entry(&mut self, entry: &ListEntry) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.lists.contains_key(&entry.id)
            || st.lists.values().any(|e| {
                e.list == entry.list && e.entry_type == entry.entry_type && e.value == entry.value
            })
        {
            return Err(BankError::Duplicate("list entry"));
        }
        st.lists.insert(entry.id, entry.clone());
        self.push_undo(CtxUndo::List(entry.id, None));
        Ok(())
    }

    async fn delete_list_entry(&mut self, id: ListEntryId) -> BankResult<bool> {
        let st = &mut self.st_mut()?.fraud;
        let prev = st.lists.remove(&id);
        let found = prev.is_some();
        if found {
            self.push_undo(CtxUndo::List(id, prev.map(Box::new)));
        }
        Ok(found)
    }

    async fn list_entries(
        &mut self,
        list: Option<ListKind>,
        after: Option<ListEntryId>,
        limit: u32,
    ) -> BankResult<Vec<ListEntry>> {
        let mut v: Vec<&ListEntry> = self
            .st()
            .fraud
            .lists
            .values()
            .filter(|e| list.is_none_or(|l| e.list == l) && after.is_none_or(|a| e.id > a))
            .collect();
        v.sort_by_key(|e| e.id);
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn find_list_entries(
        &mut self,
        keys: &[(ListEntryType, String)],
    ) -> BankResult<Vec<ListEntry>> {
        let mut v: Vec<&ListEntry> = self
            .st()
            .fraud
            .lists
            .values()
            .filter(|e| {
                keys.iter()
                    .any(|(t, val)| e.entry_type == *t && e.value == *val)
            })
            .collect();
        v.sort_by_key(|e| e.id);
        Ok(v.into_iter().cloned().collect())
    }

    async fn insert_assessment(&mut self, a: &Assessment) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.assessments.contains_key(&a.transaction_id) {
            return Err(BankError::Duplicate("fraud assessment"));
        }
        set_assessment(st, a.transaction_id, Some(a.clone()));
        self.push_undo(CtxUndo::Assessment(a.transaction_id, None));
        Ok(())
    }

    async fn assessment(&mut self, txn: TransactionId) -> BankResult<Option<Assessment>> {
        Ok(self.st().fraud.assessments.get(&txn).cloned())
    }

    async fn velocity(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<VelocityStats> {
        let mut out = VelocityStats::default();
        for r in self
            .st()
            .fraud
            .assessments_by_account
            .get(&account)
            .into_iter()
            .flatten()
        {
            if r.counts && r.at >= since {
                out.count += 1;
                out.total += r.amount;
            }
        }
        Ok(out)
    }

    async fn has_paid_before(
        &mut self,
        account: AccountId,
        payee: &str,
        before: DateTime<Utc>,
    ) -> BankResult<bool> {
        let st = &self.st().fraud;
        Ok(st
            .assessments_by_account
            .get(&account)
            .into_iter()
            .flatten()
            .filter(|r| r.counts && r.at < before)
            .filter_map(|r| st.assessments.get(&r.txn))
            .any(|a| a.payee.as_deref() == Some(payee)))
    }

    async fn insert_case(&mut self, case: &FraudCase) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.cases.contains_key(&case.id) || st.case_by_txn.contains_key(&case.transaction_id) {
            return Err(BankError::Duplicate("fraud case"));
        }
        set_case(st, case.id, Some(case.clone()));
        self.push_undo(CtxUndo::Case(case.id, None));
        Ok(())
    }

    async fn case(&mut self, id: CaseId) -> BankResult<Option<FraudCase>> {
        Ok(self.st().fraud.cases.get(&id).cloned())
    }

    async fn case_by_transaction(&mut self, txn: TransactionId) -> BankResult<Option<FraudCase>> {
        let st = &self.st().fraud;
        Ok(st
            .case_by_txn
            .get(&txn)
            .and_then(|id| st.cases.get(id))
            .cloned())
    }

    async fn update_case(&mut self, case: &FraudCase) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if !st.cases.contains_key(&case.id) {
            return Err(BankError::NotFound {
                resource: "fraud case",
            });
        }
        let prev = set_case(st, case.id, Some(case.clone()));
        self.push_undo(CtxUndo::Case(case.id, prev.map(Box::new)));
        Ok(())
    }

    async fn list_cases(
        &mut self,
        status: Option<CaseStatus>,
        after: Option<CaseId>,
        limit: u32,
    ) -> BankResult<Vec<FraudCase>> {
        let mut v: Vec<&FraudCase> = self
            .st()
            .fraud
            .cases
            .values()
            .filter(|c| status.is_none_or(|s| c.status == s) && after.is_none_or(|a| c.id > a))
            .collect();
        v.sort_by_key(|c| c.id);
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn count_cases_of_account(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<u32> {
        Ok(self
            .st()
            .fraud
            .cases
            .values()
            .filter(|c| c.account_id == account && c.created_at >= since)
            .count() as u32)
    }
}

#[async_trait]
impl NotificationRepo for MemoryUow {
    async fn insert_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.notify;
        if st.notifications.contains_key(&n.id)
            || n.source_event_id
                .is_some_and(|e| st.by_source.contains(&(e, n.user_id, n.channel)))
        {
            return Err(BankError::Duplicate("notification"));
        }
        set_notification(st, n.id, Some(n.clone()));
        self.push_undo(CtxUndo::Notification(n.id, None));
        Ok(())
    }

    async fn notification(&mut self, id: NotificationId) -> BankResult<Option<NotificationRecord>> {
        Ok(self.st().notify.notifications.get(&id).cloned())
    }

    async fn update_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.notify;
        if !st.notifications.contains_key(&n.id) {
            return Err(BankError::NotFound {
                resource: "notification",
            });
        }
        let prev = set_notification(st, n.id, Some(n.clone()));
        self.push_undo(CtxUndo::Notification(n.id, prev.map(Box::new)));
        Ok(())
    }

    async fn notifications_of_user(
        &mut self,
        user: UserId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let mut v = self.user_notifications(user, before, |_| true)?;
        v.reverse();
        let cut = match before {
            Some(b) => match self
                .st()
                .notify
                .notifications
                .get(&b)
                .filter(|n| n.user_id == user)
            {
                Some(c) => (c.created_at, c.id),
                None => return Ok(Vec::new()),
            },
            None => return Ok(v.into_iter().take(limit as usize).collect()),
        };
        Ok(v.into_iter()
            .filter(|n| (n.created_at, n.id) < cut)
            .take(limit as usize)
            .collect())
    }

    async fn in_app_feed(
        &mut self,
        user: UserId,
        after: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let v = self.user_notifications(user, after, |n| n.channel == Channel::InApp)?;
        let cut = match after {
            Some(a) => match self
                .st()
                .notify
                .notifications
                .get(&a)
                .filter(|n| n.user_id == user)
            {
                Some(c) => Some((c.created_at, c.id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        Ok(v.into_iter()
            .filter(|n| cut.is_none_or(|c| (n.created_at, n.id) > c))
            .take(limit as usize)
            .collect())
    }

    async fn due_notifications(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let mut v: Vec<&NotificationRecord> = self
            .st()
            .notify
            .notifications
            .values()
            .filter(|n| {
                n.status == NotificationStatus::Pending
                    && n.next_attempt_at.is_some_and(|t| t <= now)
            })
            .collect();
        v.sort_by_key(|n| (n.next_attempt_at, n.id));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn set_preference(&mut self, pref: &Preference) -> BankResult<()> {
        let st = &mut self.st_mut()?.notify;
        let k = (pref.user_id, pref.category.clone(), pref.channel);
        let prev = st.preferences.insert(k.clone(), pref.clone());
        self.push_undo(CtxUndo::Preference(k, prev.map(Box::new)));
        Ok(())
    }

    async fn preferences_of_user(&mut self, user: UserId) -> BankResult<Vec<Preference>> {
        Ok(self
            .st()
            .notify
            .preferences
            .values()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect())
    }

    async fn purge_notifications(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        let limit = limit.min(crate::ports::PURGE_BATCH_MAX) as usize;
        let st = &mut self.st_mut()?.notify;
        let mut old: Vec<(DateTime<Utc>, NotificationId)> = st
            .notifications
            .values()
            .filter(|n| n.created_at < before && n.status != NotificationStatus::Pending)
            .map(|n| (n.created_at, n.id))
            .collect();
        old.sort();
        old.truncate(limit);
        let mut undo = Vec::with_capacity(old.len());
        for (_, id) in &old {
            let prev = set_notification(st, *id, None);
            undo.push(CtxUndo::Notification(*id, prev.map(Box::new)));
        }
        for u in undo {
            self.push_undo(u);
        }
        Ok(old.len() as u64)
    }
}

#[async_trait]
impl AuditRepo for MemoryUow {
    async fn lock_audit_head(&mut self) -> BankResult<Option<(i64, String)>> {
        Ok(self.st().audit.last().map(|e| (e.seq, e.hash.clone())))
    }

    async fn append_audit(&mut self, entry: &AuditRecord) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.audit.last().map_or(0, |e| e.seq) >= entry.seq {
            return Err(BankError::Duplicate("audit entry"));
        }
        st.audit.push(entry.clone());
        self.push_undo(CtxUndo::AuditPop);
        Ok(())
    }

    async fn audit_entries(
        &mut self,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<AuditRecord>> {
        let st = self.st();
        let start = st
            .audit
            .partition_point(|e| after_seq.is_some_and(|a| e.seq <= a));
        Ok(st.audit[start..]
            .iter()
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl crate::schedule::ScheduleRepo for MemoryUow {
    async fn insert_schedule(&mut self, s: &crate::schedule::ScheduledTransfer) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.schedules.contains_key(&s.id) {
            return Err(BankError::Duplicate("scheduled transfer"));
        }
        st.schedules.insert(s.id, s.clone());
        self.undo.push(Undo::Schedule(s.id, None));
        Ok(())
    }

    async fn schedule(
        &mut self,
        id: crate::ids::ScheduleId,
    ) -> BankResult<Option<crate::schedule::ScheduledTransfer>> {
        Ok(self.st().schedules.get(&id).cloned())
    }

    async fn lock_schedule(
        &mut self,
        id: crate::ids::ScheduleId,
    ) -> BankResult<Option<crate::schedule::ScheduledTransfer>> {
        Ok(self.st().schedules.get(&id).cloned())
    }

    async fn update_schedule(&mut self, s: &crate::schedule::ScheduledTransfer) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st.schedules.get_mut(&s.id).ok_or(BankError::NotFound {
            resource: "scheduled transfer",
        })?;
        let prev = std::mem::replace(slot, s.clone());
        self.undo.push(Undo::Schedule(s.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn schedules_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<crate::schedule::ScheduledTransfer>> {
        let mut v: Vec<_> = self
            .st()
            .schedules
            .values()
            .filter(|s| s.customer_id == customer)
            .cloned()
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn claim_due_schedules(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<crate::schedule::ScheduledTransfer>> {
        let mut due: Vec<_> = self
            .st()
            .schedules
            .values()
            .filter(|s| {
                s.status == crate::schedule::ScheduleStatus::Active
                    && s.next_run_at <= now
                    && s.lease_until.is_none_or(|l| l <= now)
            })
            .cloned()
            .collect();
        due.sort_by_key(|s| (s.next_run_at, s.id));
        due.truncate(limit as usize);
        for s in &mut due {
            s.lease_until = Some(lease_until);
            self.update_schedule(s).await?;
        }
        Ok(due)
    }
}

#[cfg(test)]
mod chunked_tests {
    use super::{Chunked, CHUNK_LEN};

    #[test]
    fn chunked_log_indexes_pops_and_iterates_across_segments() {
        let mut c = Chunked::default();
        let n = CHUNK_LEN * 2 + 3;
        for i in 0..n {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c[CHUNK_LEN], CHUNK_LEN);
        assert_eq!(c.get(n), None);
        assert!(c.iter().copied().eq(0..n));
        // Pop back over a segment boundary, then grow again: indexes stay dense.
        for i in (CHUNK_LEN - 1..n).rev() {
            assert_eq!(c.pop(), Some(i));
        }
        assert_eq!(c.len(), CHUNK_LEN - 1);
        c.push(7);
        c.push(8);
        assert_eq!(c[CHUNK_LEN - 1], 7);
        assert_eq!(c[CHUNK_LEN], 8);
        c[0] += 1;
        assert_eq!(c[0], 1);
        while c.pop().is_some() {}
        assert_eq!(c.len(), 0);
        assert_eq!(c.iter().count(), 0);
    }
}
