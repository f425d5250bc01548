//! The in-memory store: a real, thread-safe implementation of every port (not a mock).
//!
//! One writer at a time (like SQLite): a write unit holds the state's write lock from `begin`
//! to `commit`, applies changes in place and keeps an undo log, so `rollback`, a rollback to a
//! savepoint, or dropping the unit restores the exact previous state. Readers share a read
//! lock and see only committed state.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
use uuid::Uuid;

use crate::account::{Account, AccountNumber, Hold, HoldStatus};
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, StoredEvent};
use crate::idempotency::{IdempotencyKey, IdempotencyRecord};
use crate::ids::{AccountId, CustomerId, HoldId, TransactionId};
use crate::ledger::{JournalEntry, PostingLine};
use crate::money::{Currency, Money};
use crate::ports::{
    AccountRepo, EventRepo, IdempotencyRepo, LedgerRepo, Store, TransactionRepo, TxMode, UnitOfWork,
};
use crate::transaction::{Transaction, TransactionQuery};

#[derive(Clone, Copy, Debug)]
struct PostingRow {
    seq: i64,
    journal: usize,
    account_id: AccountId,
    amount: Money,
}

#[derive(Clone, Debug)]
struct EventRow {
    stored: StoredEvent,
    lease_until: Option<DateTime<Utc>>,
}

/// Account context state.
#[derive(Default, Debug)]
pub(crate) struct AccountState {
    accounts: HashMap<AccountId, Account>,
    by_number: HashMap<AccountNumber, AccountId>,
    by_customer: HashMap<CustomerId, Vec<AccountId>>,
    holds: HashMap<HoldId, Hold>,
}

/// Ledger context state.
#[derive(Default, Debug)]
pub(crate) struct LedgerState {
    journals: Vec<JournalEntry>,
    journals_by_txn: HashMap<TransactionId, Vec<usize>>,
    postings: Vec<PostingRow>,
    postings_by_account: HashMap<AccountId, Vec<usize>>,
}

/// Transaction context state.
#[derive(Default, Debug)]
pub(crate) struct TxnState {
    txns: HashMap<TransactionId, Transaction>,
    by_account: HashMap<AccountId, Vec<TransactionId>>,
    all: Vec<TransactionId>,
}

/// Everything the memory store holds, one struct per bounded context.
#[derive(Default, Debug)]
pub struct MemoryState {
    account: AccountState,
    ledger: LedgerState,
    txn: TxnState,
    idem: HashMap<(String, IdempotencyKey), IdempotencyRecord>,
    events: Vec<EventRow>,
    events_by_aggregate: HashMap<Uuid, Vec<usize>>,
}

impl MemoryState {
    /// Every idempotency record and event serialised, for tests that inspect raw state
    /// (e.g. proving no plaintext secret is stored).
    pub fn debug_dump(&self) -> String {
        format!("{self:?}")
    }
}

enum Undo {
    Account(AccountId, Option<Box<Account>>),
    Hold(HoldId, Option<Box<Hold>>),
    Journal,
    Txn(TransactionId, Option<Box<Transaction>>),
    Idem((String, IdempotencyKey)),
    Events(usize),
    EventRow(usize, Box<EventRow>),
}

/// The in-memory store. Cheap to clone (shares the state).
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<MemoryState>>,
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
}

enum Guard {
    Read(OwnedRwLockReadGuard<MemoryState>),
    Write(OwnedRwLockWriteGuard<MemoryState>),
}

/// A unit of work over the memory store.
pub struct MemoryUow {
    guard: Guard,
    undo: Vec<Undo>,
    savepoints: Vec<usize>,
    committed: bool,
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(&self, mode: TxMode) -> BankResult<Box<dyn UnitOfWork>> {
        let guard = match mode {
            TxMode::Read => Guard::Read(self.state.clone().read_owned().await),
            TxMode::Write => Guard::Write(self.state.clone().write_owned().await),
        };
        Ok(Box::new(MemoryUow { guard, undo: Vec::new(), savepoints: Vec::new(), committed: false }))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

impl MemoryUow {
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
            let Guard::Write(st) = &mut self.guard else { return };
            match u {
                Undo::Account(id, prev) => match prev {
                    Some(a) => {
                        st.account.accounts.insert(id, *a);
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
                    let idx = st.ledger.journals.len();
                    if let Some(v) = st.ledger.journals_by_txn.get_mut(&j.transaction_id) {
                        v.retain(|x| *x != idx);
                    }
                    for _ in &j.postings {
                        let p = st.ledger.postings.pop().expect("posting to undo");
                        if let Some(v) = st.ledger.postings_by_account.get_mut(&p.account_id) {
                            v.pop();
                        }
                    }
                }
                Undo::Txn(id, prev) => match prev {
                    Some(t) => {
                        st.txn.txns.insert(id, *t);
                    }
                    None => {
                        if let Some(t) = st.txn.txns.remove(&id) {
                            for a in [t.from_account_id, t.to_account_id].into_iter().flatten() {
                                if let Some(v) = st.txn.by_account.get_mut(&a) {
                                    v.retain(|x| *x != id);
                                }
                            }
                            st.txn.all.retain(|x| *x != id);
                        }
                    }
                },
                Undo::Idem(k) => {
                    st.idem.remove(&k);
                }
                Undo::Events(len) => {
                    while st.events.len() > len {
                        let row = st.events.pop().expect("event to undo");
                        if let Some(v) = st.events_by_aggregate.get_mut(&row.stored.event.aggregate_id) {
                            v.pop();
                        }
                    }
                }
                Undo::EventRow(i, row) => st.events[i] = *row,
            }
        }
    }
}

impl Drop for MemoryUow {
    fn drop(&mut self) {
        if !self.committed {
            self.undo_to(0);
        }
    }
}

#[async_trait]
impl UnitOfWork for MemoryUow {
    async fn savepoint(&mut self) -> BankResult<()> {
        self.savepoints.push(self.undo.len());
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> BankResult<()> {
        let mark = self.savepoints.pop().ok_or_else(|| BankError::internal("no savepoint"))?;
        self.undo_to(mark);
        Ok(())
    }

    async fn release_savepoint(&mut self) -> BankResult<()> {
        self.savepoints.pop().ok_or_else(|| BankError::internal("no savepoint"))?;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> BankResult<()> {
        self.committed = true;
        self.undo.clear();
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
        let st = self.st_mut()?;
        if st.account.accounts.contains_key(&account.id) || st.account.by_number.contains_key(&account.account_number) {
            return Err(BankError::Duplicate("account"));
        }
        st.account.accounts.insert(account.id, account.clone());
        st.account.by_number.insert(account.account_number.clone(), account.id);
        st.account.by_customer.entry(account.customer_id).or_default().push(account.id);
        self.undo.push(Undo::Account(account.id, None));
        Ok(())
    }

    async fn account(&mut self, id: AccountId) -> BankResult<Option<Account>> {
        Ok(self.st().account.accounts.get(&id).cloned())
    }

    async fn account_by_number(&mut self, number: &AccountNumber) -> BankResult<Option<Account>> {
        let st = self.st();
        Ok(st.account.by_number.get(number).and_then(|id| st.account.accounts.get(id)).cloned())
    }

    async fn lock_accounts(&mut self, ids: &[AccountId]) -> BankResult<Vec<Account>> {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "lock order: sorted, distinct ids");
        let st = self.st();
        Ok(ids.iter().filter_map(|id| st.account.accounts.get(id).cloned()).collect())
    }

    async fn update_account(&mut self, account: &Account) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st.account.accounts.get_mut(&account.id).ok_or(BankError::NotFound { resource: "account" })?;
        let prev = std::mem::replace(slot, account.clone());
        self.undo.push(Undo::Account(account.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn accounts_of_customer(&mut self, customer: CustomerId) -> BankResult<Vec<Account>> {
        let st = self.st();
        Ok(st
            .account
            .by_customer
            .get(&customer)
            .map(|ids| ids.iter().filter_map(|id| st.account.accounts.get(id).cloned()).collect())
            .unwrap_or_default())
    }

    async fn list_accounts(&mut self, after: Option<AccountId>, limit: u32) -> BankResult<Vec<Account>> {
        let mut all: Vec<&Account> =
            self.st().account.accounts.values().filter(|a| after.is_none_or(|x| a.id > x)).collect();
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
        let slot = st.account.holds.get_mut(&hold.id).ok_or(BankError::NotFound { resource: "hold" })?;
        let prev = std::mem::replace(slot, hold.clone());
        self.undo.push(Undo::Hold(hold.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn active_holds(&mut self, account: AccountId) -> BankResult<Vec<Hold>> {
        let mut v: Vec<Hold> = self
            .st()
            .account
            .holds
            .values()
            .filter(|h| h.account_id == account && h.status == HoldStatus::Active)
            .cloned()
            .collect();
        v.sort_by_key(|h| (h.created_at, h.id));
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
        for p in &journal.postings {
            let seq = st.ledger.postings.len() as i64 + 1;
            st.ledger.postings_by_account.entry(p.account_id).or_default().push(st.ledger.postings.len());
            st.ledger.postings.push(PostingRow { seq, journal: idx, account_id: p.account_id, amount: p.amount });
        }
        st.ledger.journals_by_txn.entry(journal.transaction_id).or_default().push(idx);
        st.ledger.journals.push(journal.clone());
        self.undo.push(Undo::Journal);
        Ok(())
    }

    async fn journals_of_transaction(&mut self, txn: TransactionId) -> BankResult<Vec<JournalEntry>> {
        let st = self.st();
        Ok(st
            .ledger
            .journals_by_txn
            .get(&txn)
            .map(|v| v.iter().map(|i| st.ledger.journals[*i].clone()).collect())
            .unwrap_or_default())
    }

    async fn posting_sum(&mut self, account: AccountId, before: Option<DateTime<Utc>>) -> BankResult<Decimal> {
        let st = self.st();
        let Some(idx) = st.ledger.postings_by_account.get(&account) else { return Ok(Decimal::ZERO) };
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
        let Some(idx) = st.ledger.postings_by_account.get(&account) else { return Ok(Vec::new()) };
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
        for p in &self.st().ledger.postings {
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
        st.txn.txns.insert(txn.id, txn.clone());
        for a in [txn.from_account_id, txn.to_account_id].into_iter().flatten() {
            st.txn.by_account.entry(a).or_default().push(txn.id);
        }
        st.txn.all.push(txn.id);
        self.undo.push(Undo::Txn(txn.id, None));
        Ok(())
    }

    async fn update_transaction(&mut self, txn: &Transaction) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st.txn.txns.get_mut(&txn.id).ok_or(BankError::NotFound { resource: "transaction" })?;
        let prev = std::mem::replace(slot, txn.clone());
        self.undo.push(Undo::Txn(txn.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        Ok(self.st().txn.txns.get(&id).cloned())
    }

    async fn lock_transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        Ok(self.st().txn.txns.get(&id).cloned())
    }

    async fn list_transactions(&mut self, query: &TransactionQuery) -> BankResult<Vec<Transaction>> {
        query.validate()?;
        let st = self.st();
        let ids: &[TransactionId] = match query.account_id {
            Some(a) => st.txn.by_account.get(&a).map(Vec::as_slice).unwrap_or(&[]),
            None => &st.txn.all,
        };
        let mut v: Vec<&Transaction> =
            ids.iter().filter_map(|id| st.txn.txns.get(id)).filter(|t| query.matches(t)).collect();
        v.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
        v.dedup_by_key(|t| t.id);
        Ok(v.into_iter().take(query.limit as usize).cloned().collect())
    }
}

#[async_trait]
impl IdempotencyRepo for MemoryUow {
    async fn idempotency(&mut self, scope: &str, key: &IdempotencyKey) -> BankResult<Option<IdempotencyRecord>> {
        Ok(self.st().idem.get(&(scope.to_string(), key.clone())).cloned())
    }

    async fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> BankResult<()> {
        let k = (record.scope.clone(), record.key.clone());
        let st = self.st_mut()?;
        if st.idem.contains_key(&k) {
            return Err(BankError::Duplicate("idempotency key"));
        }
        st.idem.insert(k.clone(), record.clone());
        self.undo.push(Undo::Idem(k));
        Ok(())
    }
}

#[async_trait]
impl EventRepo for MemoryUow {
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()> {
        let st = self.st_mut()?;
        let len = st.events.len();
        for e in events {
            let seq = st.events.len() as i64 + 1;
            st.events_by_aggregate.entry(e.aggregate_id).or_default().push(st.events.len());
            st.events.push(EventRow {
                stored: StoredEvent { seq, event: e.clone(), published_at: None },
                lease_until: None,
            });
        }
        self.undo.push(Undo::Events(len));
        Ok(())
    }

    async fn events_of_aggregate(&mut self, aggregate_id: Uuid) -> BankResult<Vec<StoredEvent>> {
        let st = self.st();
        Ok(st
            .events_by_aggregate
            .get(&aggregate_id)
            .map(|v| v.iter().map(|i| st.events[*i].stored.clone()).collect())
            .unwrap_or_default())
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
        for (i, row) in st.events.iter_mut().enumerate() {
            if claimed.len() >= limit as usize {
                break;
            }
            if row.stored.published_at.is_some() {
                continue;
            }
            let agg = row.stored.event.aggregate_id;
            // An earlier unpublished event of this aggregate blocks the later ones.
            if !blocked.insert(agg) {
                continue;
            }
            if row.lease_until.is_some_and(|l| l > now) {
                continue;
            }
            undo.push(Undo::EventRow(i, Box::new(row.clone())));
            row.lease_until = Some(lease_until);
            claimed.push(row.stored.clone());
        }
        self.undo.extend(undo);
        Ok(claimed)
    }

    async fn mark_published(&mut self, seqs: &[i64], at: DateTime<Utc>) -> BankResult<()> {
        let st = self.st_mut()?;
        let mut undo = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let i = usize::try_from(*seq - 1).map_err(|_| BankError::NotFound { resource: "event" })?;
            let row = st.events.get_mut(i).ok_or(BankError::NotFound { resource: "event" })?;
            undo.push(Undo::EventRow(i, Box::new(row.clone())));
            row.stored.published_at = Some(at);
            row.lease_until = None;
        }
        self.undo.extend(undo);
        Ok(())
    }
}
