//! Ports: the traits adapters implement. The engine never does I/O itself.
//!
//! # The store contract
//!
//! A [`Store`] hands out [`UnitOfWork`]s. Everything a use case writes — state, postings, the
//! transaction read model, its events (the outbox) and its idempotency record — goes through
//! one unit of work and becomes visible atomically at [`UnitOfWork::commit`], or not at all.
//!
//! * Write units are serialisable with respect to each other *for the rows they lock*:
//!   [`AccountRepo::lock_accounts`] takes row locks (Postgres: `SELECT … FOR UPDATE` in the
//!   order given, which the engine always sorts by id, so two transfers can never deadlock;
//!   SQLite: the database write lock is taken up front by `BEGIN IMMEDIATE`; memory: one writer
//!   lock). Reads of a locked row inside the unit see the latest committed value.
//! * [`UnitOfWork::savepoint`] / [`UnitOfWork::rollback_to_savepoint`] let the engine run
//!   several independent commands in one store transaction (group commit): a refused command
//!   rolls back to its savepoint without failing its neighbours.
//! * A unit dropped without `commit` rolls back.
//! * Each bounded context has its own repository trait; only that context's code calls it,
//!   and stores keep each context's tables separate (no joins across contexts).
//! * Every list method takes a bounded `limit`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::account::{Account, AccountNumber, Hold};
use crate::error::BankResult;
use crate::events::{DomainEvent, StoredEvent};
use crate::idempotency::{IdempotencyKey, IdempotencyRecord};
use crate::ids::{AccountId, CustomerId, HoldId, TransactionId};
use crate::ledger::{JournalEntry, PostingLine};
use crate::money::Currency;
use crate::transaction::{Transaction, TransactionQuery};

/// Whether a unit of work may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    /// Reads only (a consistent snapshot where the store offers one).
    Read,
    /// Reads and writes; takes the store's write locks as described above.
    Write,
}

/// Port: a persistent (or in-memory) store.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Starts a unit of work.
    async fn begin(&self, mode: TxMode) -> BankResult<Box<dyn UnitOfWork>>;

    /// A short name for logs and test output ("memory", "sqlite", "postgres").
    fn kind(&self) -> &'static str;

    /// True when commits are expensive (fsync) and the engine should coalesce concurrent
    /// commands into one store transaction by default.
    fn prefers_group_commit(&self) -> bool {
        false
    }
}

/// One atomic unit of work over every context's repository.
#[async_trait]
pub trait UnitOfWork: AccountRepo + LedgerRepo + TransactionRepo + IdempotencyRepo + EventRepo + Send {
    /// Marks a point to roll back to. Savepoints nest.
    async fn savepoint(&mut self) -> BankResult<()>;
    /// Undoes everything since the innermost savepoint and removes it.
    async fn rollback_to_savepoint(&mut self) -> BankResult<()>;
    /// Keeps everything since the innermost savepoint and removes it.
    async fn release_savepoint(&mut self) -> BankResult<()>;
    /// Makes every write durable and visible. Only after this returns Ok may a caller be told
    /// that its command succeeded.
    async fn commit(self: Box<Self>) -> BankResult<()>;
    /// Discards every write.
    async fn rollback(self: Box<Self>) -> BankResult<()>;
}

/// Account context: accounts and holds.
#[async_trait]
pub trait AccountRepo: Send {
    /// Inserts a new account. `Duplicate("account")` if the id or number exists.
    async fn insert_account(&mut self, account: &Account) -> BankResult<()>;
    /// Reads an account without locking it.
    async fn account(&mut self, id: AccountId) -> BankResult<Option<Account>>;
    /// Finds an account by number.
    async fn account_by_number(&mut self, number: &AccountNumber) -> BankResult<Option<Account>>;
    /// Locks and reads accounts. `ids` are sorted ascending and distinct (the engine's lock
    /// order); the result is in the same order and omits unknown ids.
    async fn lock_accounts(&mut self, ids: &[AccountId]) -> BankResult<Vec<Account>>;
    /// Writes a locked account back (balance, held, daily counters, status...).
    async fn update_account(&mut self, account: &Account) -> BankResult<()>;
    /// A customer's accounts, oldest first.
    async fn accounts_of_customer(&mut self, customer: CustomerId) -> BankResult<Vec<Account>>;
    /// All accounts ordered by id, paged after `after`.
    async fn list_accounts(&mut self, after: Option<AccountId>, limit: u32) -> BankResult<Vec<Account>>;
    /// Inserts a hold.
    async fn insert_hold(&mut self, hold: &Hold) -> BankResult<()>;
    /// Reads a hold.
    async fn hold(&mut self, id: HoldId) -> BankResult<Option<Hold>>;
    /// Writes a hold back.
    async fn update_hold(&mut self, hold: &Hold) -> BankResult<()>;
    /// Active holds of an account.
    async fn active_holds(&mut self, account: AccountId) -> BankResult<Vec<Hold>>;
    /// Active holds whose `expires_at <= now`, oldest expiry first.
    async fn expired_holds(&mut self, now: DateTime<Utc>, limit: u32) -> BankResult<Vec<Hold>>;
}

/// Ledger context: journal entries and postings.
#[async_trait]
pub trait LedgerRepo: Send {
    /// Appends a balanced journal entry (validated by the engine before the call).
    async fn insert_journal(&mut self, journal: &JournalEntry) -> BankResult<()>;
    /// Journal entries booking a transaction, in insertion order.
    async fn journals_of_transaction(&mut self, txn: TransactionId) -> BankResult<Vec<JournalEntry>>;
    /// Sum of an account's postings booked strictly before `before` (all if `None`).
    async fn posting_sum(&mut self, account: AccountId, before: Option<DateTime<Utc>>) -> BankResult<Decimal>;
    /// An account's postings with `from <= posted_at < to`, in booking order, after `after_seq`.
    async fn postings(
        &mut self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<PostingLine>>;
    /// Sum of all postings per currency (zero for every currency in a healthy ledger).
    async fn ledger_totals(&mut self) -> BankResult<Vec<(Currency, Decimal)>>;
}

/// Transaction context: the transaction read model.
#[async_trait]
pub trait TransactionRepo: Send {
    /// Inserts a transaction row.
    async fn insert_transaction(&mut self, txn: &Transaction) -> BankResult<()>;
    /// Overwrites a transaction row (status changes).
    async fn update_transaction(&mut self, txn: &Transaction) -> BankResult<()>;
    /// Reads a transaction.
    async fn transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>>;
    /// Reads and locks a transaction (post/void/reverse run at most once).
    async fn lock_transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>>;
    /// Filtered history, newest first (created_at desc, id desc), `query.limit` rows at most.
    async fn list_transactions(&mut self, query: &TransactionQuery) -> BankResult<Vec<Transaction>>;
}

/// Idempotency records.
#[async_trait]
pub trait IdempotencyRepo: Send {
    /// Reads a record.
    async fn idempotency(&mut self, scope: &str, key: &IdempotencyKey) -> BankResult<Option<IdempotencyRecord>>;
    /// Inserts a record; `Duplicate("idempotency key")` if one exists.
    async fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> BankResult<()>;
}

/// The events table: event store and transactional outbox in one.
#[async_trait]
pub trait EventRepo: Send {
    /// Appends events in order.
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()>;
    /// Every event of one aggregate, in append order.
    async fn events_of_aggregate(&mut self, aggregate_id: Uuid) -> BankResult<Vec<StoredEvent>>;
    /// Claims up to `limit` unpublished events for a relay, oldest first, setting a lease
    /// until `lease_until`. An event is claimable only when its lease is free or expired and
    /// no earlier event of the same aggregate is still unpublished — so relays running in
    /// several processes at once never publish an aggregate's events out of order and never
    /// claim the same event twice while a lease holds (Postgres: `FOR UPDATE SKIP LOCKED`).
    async fn claim_events(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>>;
    /// Marks claimed events published.
    async fn mark_published(&mut self, seqs: &[i64], at: DateTime<Utc>) -> BankResult<()>;
}
