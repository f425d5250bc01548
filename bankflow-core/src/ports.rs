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
use crate::audit::AuditRecord;
use crate::auth::Role;
use crate::customer::{CustomerRecord, CustomerSearch, DocumentRecord};
use crate::error::BankResult;
use crate::events::{DomainEvent, StoredEvent};
use crate::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntry, ListEntryType, ListKind, VelocityStats,
};
use crate::idempotency::{IdempotencyKey, IdempotencyRecord};
use crate::identity::{CodePurpose, Email, OneTimeCode, Phone, SessionRecord, UserRecord};
use crate::ids::{AccountId, CustomerId, HoldId, TransactionId};
use crate::ids::{CaseId, DocumentId, ListEntryId, NotificationId, RuleId, SessionId, UserId};
use crate::ledger::{JournalEntry, PostingLine};
use crate::money::Currency;
use crate::notify::{NotificationRecord, Preference};
use crate::transaction::{Transaction, TransactionQuery};

/// Most accounts [`AccountRepo::accounts_of_customer`] returns, whatever its `limit`.
pub const ACCOUNTS_OF_CUSTOMER_MAX: u32 = 1_000;
/// Most holds [`AccountRepo::active_holds`] returns, whatever its `limit`.
pub const ACTIVE_HOLDS_MAX: u32 = 10_000;
/// Most journal entries [`LedgerRepo::journals_of_transaction`] returns, whatever its `limit`
/// (a transaction books one or two; a reversal books its own transaction).
pub const JOURNALS_OF_TRANSACTION_MAX: u32 = 1_000;
/// Most events [`EventRepo::events_of_aggregate`] returns, whatever its `limit`.
pub const EVENTS_OF_AGGREGATE_MAX: u32 = 10_000;
/// Most rows one retention call (`purge_*`) deletes, whatever its `limit`: one batch stays a
/// short transaction that does not hold the write lock for long.
pub const PURGE_BATCH_MAX: u32 = 10_000;

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
pub trait UnitOfWork:
    AccountRepo
    + LedgerRepo
    + TransactionRepo
    + IdempotencyRepo
    + EventRepo
    + IdentityRepo
    + CustomerRepo
    + FraudRepo
    + NotificationRepo
    + crate::notify::DeviceRepo
    + AuditRepo
    + crate::schedule::ScheduleRepo
    + crate::webhook::WebhookRepo
    + crate::banking::ApprovalRepo
    + crate::identity::ClientRepo
    + Send
{
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
    /// A customer's accounts, oldest first, at most `limit` (and at most
    /// [`ACCOUNTS_OF_CUSTOMER_MAX`]).
    async fn accounts_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<Account>>;
    /// All accounts ordered by id, paged after `after`.
    async fn list_accounts(
        &mut self,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>>;
    /// Inserts a hold.
    async fn insert_hold(&mut self, hold: &Hold) -> BankResult<()>;
    /// Reads a hold.
    async fn hold(&mut self, id: HoldId) -> BankResult<Option<Hold>>;
    /// Writes a hold back.
    async fn update_hold(&mut self, hold: &Hold) -> BankResult<()>;
    /// Active holds of an account, oldest `created_at` first (then id), at most `limit` (and
    /// at most [`ACTIVE_HOLDS_MAX`]).
    async fn active_holds(&mut self, account: AccountId, limit: u32) -> BankResult<Vec<Hold>>;
    /// Active holds whose `expires_at <= now`, oldest expiry first.
    async fn expired_holds(&mut self, now: DateTime<Utc>, limit: u32) -> BankResult<Vec<Hold>>;
}

/// Ledger context: journal entries and postings.
#[async_trait]
pub trait LedgerRepo: Send {
    /// Appends a balanced journal entry (validated by the engine before the call).
    async fn insert_journal(&mut self, journal: &JournalEntry) -> BankResult<()>;
    /// Journal entries booking a transaction, in insertion order, at most `limit` (and at most
    /// [`JOURNALS_OF_TRANSACTION_MAX`]).
    async fn journals_of_transaction(
        &mut self,
        txn: TransactionId,
        limit: u32,
    ) -> BankResult<Vec<JournalEntry>>;
    /// Sum of an account's postings booked strictly before `before` (all if `None`).
    async fn posting_sum(
        &mut self,
        account: AccountId,
        before: Option<DateTime<Utc>>,
    ) -> BankResult<Decimal>;
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
    async fn list_transactions(&mut self, query: &TransactionQuery)
        -> BankResult<Vec<Transaction>>;
}

/// Idempotency records.
#[async_trait]
pub trait IdempotencyRepo: Send {
    /// Reads a record.
    async fn idempotency(
        &mut self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> BankResult<Option<IdempotencyRecord>>;
    /// Inserts a record; `Duplicate("idempotency key")` if one exists.
    async fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> BankResult<()>;
    /// Hint: the records of these `(scope, key)` pairs are about to be read in this unit (a
    /// group commit reads one per command). A store may fetch them in one round trip and
    /// answer those reads from memory, misses included; reads must still see this unit's own
    /// inserts and savepoint rollbacks. Ignoring the hint is correct, just slower.
    async fn prefetch_idempotency(&mut self, keys: &[(String, IdempotencyKey)]) -> BankResult<()> {
        let _ = keys;
        Ok(())
    }
    /// Retention: deletes up to `limit` (at most [`PURGE_BATCH_MAX`]) records with
    /// `created_at < before`, oldest first; returns how many went. The caller passes
    /// `before = now - replay window`, so a record still inside its replay window is never
    /// purged (a retried command would otherwise run twice).
    async fn purge_idempotency(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64>;
}

/// The events table: event store and transactional outbox in one.
#[async_trait]
pub trait EventRepo: Send {
    /// Appends events in order.
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()>;
    /// One aggregate's events in append order, the oldest `limit` (at most
    /// [`EVENTS_OF_AGGREGATE_MAX`]).
    async fn events_of_aggregate(
        &mut self,
        aggregate_id: Uuid,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>>;
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
    /// The time of the oldest unpublished event (lowest seq), leased or not; `None` when the
    /// outbox is empty. The relay's lag: a leased batch whose sink is down still counts, so
    /// the lag keeps growing while a broker is away instead of reading zero during the lease.
    async fn oldest_unpublished_event_time(&mut self) -> BankResult<Option<DateTime<Utc>>>;
    /// Retention: deletes up to `limit` (at most [`PURGE_BATCH_MAX`]) *published* events with
    /// `time < before`, lowest seq first; returns how many went. An unpublished event is never
    /// purged, whatever its age: the outbox still owes it to a relay.
    async fn purge_published_events(
        &mut self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<u64>;
}

/// Identity context: users, sessions (refresh-token rotation chains) and single-use codes.
///
/// Secrets never reach the store in clear: passwords as Argon2id PHC strings, refresh tokens
/// and codes as hex SHA-256, the TOTP secret sealed with AES-256-GCM.
#[async_trait]
pub trait IdentityRepo: Send {
    /// Inserts a user. `Duplicate("email")` if the email is taken, `Duplicate("phone")` if
    /// the phone is, `Duplicate("user")` if the id is (checked in that order).
    async fn insert_user(&mut self, user: &UserRecord) -> BankResult<()>;
    /// Reads a user.
    async fn user(&mut self, id: UserId) -> BankResult<Option<UserRecord>>;
    /// Finds a user by (normalised) email.
    async fn user_by_email(&mut self, email: &Email) -> BankResult<Option<UserRecord>>;
    /// Finds a user by (E.164) phone: whom to tell when someone signs up with it.
    async fn user_by_phone(&mut self, phone: &Phone) -> BankResult<Option<UserRecord>>;
    /// Overwrites a user. `NotFound("user")` if absent; `Duplicate("phone")` if the new phone
    /// belongs to another user.
    async fn update_user(&mut self, user: &UserRecord) -> BankResult<()>;
    /// True when at least one user holds `role`.
    async fn any_user_with_role(&mut self, role: Role) -> BankResult<bool>;
    /// Users in id order with ids greater than `after` (all when `None`), at most `limit`
    /// (the data-key re-seal walk pages through them).
    async fn users_after(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> BankResult<Vec<UserRecord>>;

    /// Inserts a session row. `Duplicate("session")` if the id or token hash exists.
    async fn insert_session(&mut self, session: &SessionRecord) -> BankResult<()>;
    /// Finds a session row by token hash, whatever its state.
    async fn session_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> BankResult<Option<SessionRecord>>;
    /// Overwrites a session row. `NotFound("session")` if absent.
    async fn update_session(&mut self, session: &SessionRecord) -> BankResult<()>;
    /// Sets `revoked_at = at` on every not-yet-revoked row of `family` owned by `user`;
    /// returns how many rows changed.
    async fn revoke_session_family(
        &mut self,
        user: UserId,
        family: SessionId,
        at: DateTime<Utc>,
    ) -> BankResult<u32>;
    /// Sets `revoked_at = at` on every not-yet-revoked row of `user`; returns how many.
    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> BankResult<u32>;
    /// The user's live sessions — rows with `revoked_at` and `rotated_at` null and
    /// `expires_at > now` (one per family) — newest `created_at` first (then id descending),
    /// at most `limit`.
    async fn active_sessions(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<SessionRecord>>;
    /// True when `family` of `user` still has a row that is neither revoked nor expired at
    /// `now`: the session its access tokens belong to is live. (A refresh rotates rows but
    /// revokes none, so a live family always has one.) Checked on every authenticated
    /// request, so it is one indexed lookup, not a list.
    async fn session_family_live(
        &mut self,
        user: UserId,
        family: SessionId,
        now: DateTime<Utc>,
    ) -> BankResult<bool>;

    /// Inserts a single-use code. `Duplicate("one-time code")` if the id exists.
    async fn insert_code(&mut self, code: &OneTimeCode) -> BankResult<()>;
    /// The newest code (by `created_at`, then id) of `user` for `purpose`, whatever its state.
    async fn latest_code(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
    ) -> BankResult<Option<OneTimeCode>>;
    /// The newest code for `purpose` with this hash, whatever its state.
    async fn code_by_hash(
        &mut self,
        purpose: CodePurpose,
        code_hash: &str,
    ) -> BankResult<Option<OneTimeCode>>;
    /// Overwrites a code. `NotFound("one-time code")` if absent.
    async fn update_code(&mut self, code: &OneTimeCode) -> BankResult<()>;
    /// Sets `used_at = at` on every unused code of `user` for `purpose` (a new code
    /// supersedes the old ones); returns how many.
    async fn consume_codes(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
        at: DateTime<Utc>,
    ) -> BankResult<u32>;
}

/// Customer context: profiles and KYC document metadata (bytes live in a `DocumentStore`).
#[async_trait]
pub trait CustomerRepo: Send {
    /// Inserts a customer. `Duplicate("customer")` if the id or the user id exists.
    async fn insert_customer(&mut self, customer: &CustomerRecord) -> BankResult<()>;
    /// Reads a customer.
    async fn customer(&mut self, id: CustomerId) -> BankResult<Option<CustomerRecord>>;
    /// The customer of a user.
    async fn customer_by_user(&mut self, user: UserId) -> BankResult<Option<CustomerRecord>>;
    /// Overwrites a customer. `NotFound("customer")` if absent.
    async fn update_customer(&mut self, customer: &CustomerRecord) -> BankResult<()>;
    /// Deletes a customer and its document rows (the onboarding saga's compensation).
    /// `NotFound("customer")` if absent.
    async fn delete_customer(&mut self, id: CustomerId) -> BankResult<()>;
    /// Staff search: see [`CustomerSearch`] (filters ANDed, id ascending, ids > `after`,
    /// at most `limit`).
    async fn search_customers(
        &mut self,
        search: &CustomerSearch,
    ) -> BankResult<Vec<CustomerRecord>>;
    /// Inserts a document row. `Duplicate("document")` if the id exists.
    async fn insert_document(&mut self, doc: &DocumentRecord) -> BankResult<()>;
    /// Reads a document row.
    async fn document(&mut self, id: DocumentId) -> BankResult<Option<DocumentRecord>>;
    /// A customer's documents, oldest `uploaded_at` first (then id), at most `limit`.
    async fn documents_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<DocumentRecord>>;
    /// Overwrites a document row. `NotFound("document")` if absent.
    async fn update_document(&mut self, doc: &DocumentRecord) -> BankResult<()>;
}

/// Fraud context: rules, lists, assessments (velocity history) and cases. Called inside the
/// transfer's unit of work, so it must be fast: see the method notes for the indexes.
#[async_trait]
pub trait FraudRepo: Send {
    /// Inserts a rule. `Duplicate("fraud rule")` if the id or `rule_name` exists.
    async fn insert_rule(&mut self, rule: &FraudRule) -> BankResult<()>;
    /// Overwrites a rule. `NotFound("fraud rule")` if absent; `Duplicate("fraud rule")` if the
    /// new name belongs to another rule.
    async fn update_rule(&mut self, rule: &FraudRule) -> BankResult<()>;
    /// Reads a rule.
    async fn rule(&mut self, id: RuleId) -> BankResult<Option<FraudRule>>;
    /// Rules (only active ones when `active_only`), `priority` descending then id ascending,
    /// at most `limit`.
    async fn list_rules(&mut self, active_only: bool, limit: u32) -> BankResult<Vec<FraudRule>>;

    /// Inserts a list entry. `Duplicate("list entry")` if the id or `(list, entry_type,
    /// value)` exists.
    async fn insert_list_entry(&mut self, entry: &ListEntry) -> BankResult<()>;
    /// Deletes a list entry; false if it did not exist.
    async fn delete_list_entry(&mut self, id: ListEntryId) -> BankResult<bool>;
    /// Entries (of one list, or both), id ascending, ids > `after`, at most `limit`.
    async fn list_entries(
        &mut self,
        list: Option<ListKind>,
        after: Option<ListEntryId>,
        limit: u32,
    ) -> BankResult<Vec<ListEntry>>;
    /// Every entry of either list whose `(entry_type, value)` equals one of `keys` (exact,
    /// case-sensitive: values are normalised before they are stored and looked up), id
    /// ascending. `keys` has at most 16 items.
    async fn find_list_entries(
        &mut self,
        keys: &[(ListEntryType, String)],
    ) -> BankResult<Vec<ListEntry>>;

    /// Inserts an assessment. `Duplicate("fraud assessment")` if the transaction has one.
    async fn insert_assessment(&mut self, a: &Assessment) -> BankResult<()>;
    /// The assessment of a transaction.
    async fn assessment(&mut self, txn: TransactionId) -> BankResult<Option<Assessment>>;
    /// Count and amount sum of assessments with `from_account_id = account`,
    /// `created_at >= since` and `action != BLOCK` (index: from_account_id, created_at).
    async fn velocity(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<VelocityStats>;
    /// True when an assessment exists with `from_account_id = account`, this `payee`,
    /// `action != BLOCK` and `created_at < before`.
    async fn has_paid_before(
        &mut self,
        account: AccountId,
        payee: &str,
        before: DateTime<Utc>,
    ) -> BankResult<bool>;

    /// Inserts a case. `Duplicate("fraud case")` if the id or transaction id exists.
    async fn insert_case(&mut self, case: &FraudCase) -> BankResult<()>;
    /// Reads a case.
    async fn case(&mut self, id: CaseId) -> BankResult<Option<FraudCase>>;
    /// The case of a transaction.
    async fn case_by_transaction(&mut self, txn: TransactionId) -> BankResult<Option<FraudCase>>;
    /// Overwrites a case. `NotFound("fraud case")` if absent.
    async fn update_case(&mut self, case: &FraudCase) -> BankResult<()>;
    /// Cases (of one status, or all), id ascending, ids > `after`, at most `limit`.
    async fn list_cases(
        &mut self,
        status: Option<CaseStatus>,
        after: Option<CaseId>,
        limit: u32,
    ) -> BankResult<Vec<FraudCase>>;
    /// How many cases (any status) were opened on `account` with `created_at >= since`.
    async fn count_cases_of_account(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<u32>;
}

/// Notification context: history (with delivery state), the in-app feed and preferences.
#[async_trait]
pub trait NotificationRepo: Send {
    /// Inserts a notification. `Duplicate("notification")` if the id exists, or if
    /// `source_event_id` is set and `(source_event_id, user_id, channel)` exists.
    async fn insert_notification(&mut self, n: &NotificationRecord) -> BankResult<()>;
    /// Reads a notification.
    async fn notification(&mut self, id: NotificationId) -> BankResult<Option<NotificationRecord>>;
    /// Overwrites a notification. `NotFound("notification")` if absent.
    async fn update_notification(&mut self, n: &NotificationRecord) -> BankResult<()>;
    /// A user's notifications on every channel, newest first: ordered by `(created_at, id)`
    /// descending, only rows before the cursor row `before` in that order (an unknown cursor,
    /// or one of another user, gives an empty list), at most `limit`.
    async fn notifications_of_user(
        &mut self,
        user: UserId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>>;
    /// A user's in-app feed (channel `in_app`) oldest first: ordered by `(created_at, id)`
    /// ascending, only rows after the cursor row `after` in that order (an unknown cursor, or
    /// one of another user, gives an empty list), at most `limit`.
    async fn in_app_feed(
        &mut self,
        user: UserId,
        after: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>>;
    /// Pending notifications with `next_attempt_at <= now`, ordered by `next_attempt_at`
    /// then id, at most `limit`.
    async fn due_notifications(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>>;
    /// Inserts or replaces the preference for `(user_id, category, channel)`.
    async fn set_preference(&mut self, pref: &Preference) -> BankResult<()>;
    /// A user's preferences, ordered by category then channel (bounded by categories ×
    /// channels, so no limit).
    async fn preferences_of_user(&mut self, user: UserId) -> BankResult<Vec<Preference>>;
    /// Retention: deletes up to `limit` (at most [`PURGE_BATCH_MAX`]) notifications with
    /// `created_at < before` that are no longer pending (sent or failed: a pending one is
    /// still owed a delivery attempt), oldest first (then id); returns how many went.
    async fn purge_notifications(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64>;
}

/// The audit log: an append-only hash chain.
#[async_trait]
pub trait AuditRepo: Send {
    /// The last entry's `(seq, hash)`, or `None` when the log is empty. In a write unit this
    /// also serialises audit appenders until commit (Postgres: lock a one-row chain-head table
    /// or a transaction-scoped advisory lock; SQLite and memory: the write lock already does),
    /// so two units never both append `seq + 1`.
    async fn lock_audit_head(&mut self) -> BankResult<Option<(i64, String)>>;
    /// Appends an entry. `Duplicate("audit entry")` if the seq exists.
    async fn append_audit(&mut self, entry: &AuditRecord) -> BankResult<()>;
    /// Entries with `seq > after_seq` (all if `None`), seq ascending, at most `limit`.
    async fn audit_entries(
        &mut self,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<AuditRecord>>;
}
