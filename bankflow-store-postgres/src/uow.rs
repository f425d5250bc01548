//! The PostgreSQL unit of work: one database transaction, savepoints, the lock discipline
//! described in the crate docs, and write-behind for the hot path.
//!
//! # Write-behind
//!
//! A transfer's writes — account balances, its journal entry, its transaction row, its
//! idempotency record and its events — are kept in an in-memory log and written at the next
//! point that needs them in the database: commit, or a read whose answer depends on them.
//! They are then written kind by kind, each kind in one multi-row statement, so a group commit
//! of 32 transfers costs a handful of round trips instead of hundreds. Reads of what the log
//! holds are answered from it (read-your-writes). Savepoints are in memory until the first
//! write after them reaches the database; only then is the SQL `SAVEPOINT` issued, at exactly
//! the point in the log where the engine asked for it. Writes that must fail on the spot
//! (inserting an account, or updating a row the unit does not hold) go straight to the
//! database after flushing the log.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use bankflow_core::account::Account;
use bankflow_core::idempotency::IdempotencyRecord;
use bankflow_core::ids::AccountId;
use bankflow_core::ports::{TxMode, UnitOfWork};
use bankflow_core::store_support::RulesCache;
use bankflow_core::{BankError, BankResult};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Postgres};
use uuid::Uuid;

use crate::error::db_err;
use crate::rows::get;

/// Advisory-lock key serialising multi-command (group-commit) units across processes:
/// "BFGROUP1" in ASCII, so it is recognisable in `pg_locks` and unlikely to collide.
pub(crate) const GROUP_LOCK_KEY: i64 = 0x4246_4752_4F55_5031;

/// Savepoints per unit of work, at most (a group commit opens one per command).
pub(crate) const SAVEPOINTS_MAX: usize = 4096;

/// Buffered writes per unit, at most; past it the log is flushed early (bounds memory and the
/// size of one flush statement).
pub(crate) const LOG_OPS_MAX: usize = 20_000;

/// The global lock order: scheduled transfers, then transaction rows, then account rows, then
/// the audit head; within a kind by id. The engine locks a schedule or a transaction before
/// the accounts it moves money between, so one command always climbs this order.
pub(crate) type LockKey = (u8, Uuid);
pub(crate) const RANK_SCHEDULE: u8 = 0;
pub(crate) const RANK_TRANSACTION: u8 = 1;
pub(crate) const RANK_ACCOUNT: u8 = 2;
/// The audit chain's head row comes last: an audited command appends after its other work.
pub(crate) const RANK_AUDIT_HEAD: u8 = 3;

/// A buffered write: the write-behind log's op, shared with the SQLite store.
pub(crate) use bankflow_core::store_support::WriteOp as Op;

struct Frame {
    /// Suffix of the SQL savepoint name.
    name: u64,
    /// Whether `SAVEPOINT` has been sent (it is sent lazily; see the module docs).
    materialized: bool,
    /// Log length when the savepoint was taken.
    log_mark: usize,
    /// Held accounts when the savepoint was taken.
    held_mark: usize,
    /// The highest lock held when the savepoint was taken: locks taken after it are released
    /// by a rollback to it (PostgreSQL ends the subtransaction that owned them).
    held_max: Option<LockKey>,
    /// Open SQL savepoints below this one once it is sent (see `PgUow::sql_depth`).
    sql_depth_at: usize,
}

/// A SQL savepoint that is done with but not yet released: its `RELEASE` rides along with
/// the next statement `simple` sends, so releasing costs no round trip of its own.
#[derive(Clone, Debug)]
struct PendingRelease {
    name: String,
    /// Open SQL savepoints below it: the depth once it is released.
    depth_at: usize,
}

/// A unit of work over one pooled connection. Dropping it without `commit` rolls back (sqlx
/// queues the ROLLBACK when the transaction is dropped).
pub struct PgUow {
    pub(crate) tx: sqlx::Transaction<'static, Postgres>,
    mode: TxMode,
    frames: Vec<Frame>,
    next_savepoint: u64,
    held_max: Option<LockKey>,
    lock_wait_ms: u64,
    group_locked: bool,
    /// Buffered writes; `log[..flushed]` are already in the database.
    pub(crate) log: Vec<Op>,
    flushed: usize,
    /// Accounts this unit holds (row-locked, or inserted by it) as last read from the
    /// database; their current state is the latest `UpdateAccount` in the log, else this.
    pub(crate) held: HashMap<AccountId, Account>,
    held_order: Vec<AccountId>,
    /// Active fraud rules read once per unit: a group's commands are concurrent, so they may
    /// share one read of the rules (writes to rules in this unit clear it).
    pub(crate) rules_cache: RulesCache,
    /// Idempotency records (or their absence) fetched in one round trip for a group commit
    /// (`prefetch_idempotency`), by (scope, key): the database's answer when the unit began
    /// its group. The unit's own inserts are in `log` and take precedence.
    pub(crate) idem_prefetched: HashMap<(String, String), Option<IdempotencyRecord>>,
    /// SQL savepoints open in the transaction right now (engine frames, a guarded statement's,
    /// the lock wait's). Every one is released or rolled back when done, so this stays at the
    /// engine's nesting plus one however many statements a unit runs; it used to grow by one
    /// per guarded statement and per command of a group commit.
    sql_depth: usize,
    pending_release: Option<PendingRelease>,
}

impl PgUow {
    pub(crate) fn new(
        tx: sqlx::Transaction<'static, Postgres>,
        mode: TxMode,
        lock_wait_ms: u64,
    ) -> Self {
        PgUow {
            tx,
            mode,
            frames: Vec::new(),
            next_savepoint: 1,
            held_max: None,
            lock_wait_ms,
            group_locked: false,
            log: Vec::new(),
            flushed: 0,
            held: HashMap::new(),
            held_order: Vec::new(),
            rules_cache: RulesCache::default(),
            idem_prefetched: HashMap::new(),
            sql_depth: 0,
            pending_release: None,
        }
    }

    /// SQL savepoints open right now, counting one whose release is still pending (tests
    /// assert the bound on it).
    pub fn sql_savepoint_depth(&self) -> usize {
        self.sql_depth
    }

    /// Marks the SQL savepoint `name` (opened with `depth_at` below it) done: released along
    /// with the next statement. A pending outer one covers an inner one (RELEASE releases
    /// every savepoint opened after it), so the outermost is kept.
    fn release_later(&mut self, name: String, depth_at: usize) {
        let keep_pending = self
            .pending_release
            .as_ref()
            .is_some_and(|p| p.depth_at <= depth_at);
        if !keep_pending {
            self.pending_release = Some(PendingRelease { name, depth_at });
        }
    }

    /// Refuses writes in a read unit before the server would (same message as the memory store).
    pub(crate) fn writable(&self) -> BankResult<()> {
        match self.mode {
            TxMode::Write => Ok(()),
            TxMode::Read => Err(BankError::internal("write in a read-only unit of work")),
        }
    }

    pub(crate) fn is_write(&self) -> bool {
        self.mode == TxMode::Write
    }

    /// Before a write that goes straight to the database: the log first, in order.
    pub(crate) async fn before_write(&mut self) -> BankResult<()> {
        self.writable()?;
        self.materialize().await
    }

    /// Runs a write that may be refused (a unique violation, a missing row) inside a private
    /// savepoint, so that a refusal leaves the unit usable, as in the memory store. On
    /// success the savepoint is released lazily (with the next statement: one round trip,
    /// not two), on failure rolled back and released at once; either way it never stays open.
    pub(crate) async fn exec_guarded(
        &mut self,
        q: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    ) -> BankResult<sqlx::postgres::PgQueryResult> {
        let n = self.next_savepoint;
        self.next_savepoint += 1;
        self.simple(format!("SAVEPOINT bf_stmt_{n}")).await?;
        let depth_at = self.sql_depth;
        self.sql_depth += 1;
        match q.execute(&mut *self.tx).await {
            Ok(done) => {
                self.release_later(format!("bf_stmt_{n}"), depth_at);
                Ok(done)
            }
            Err(e) => {
                self.simple(format!(
                    "ROLLBACK TO SAVEPOINT bf_stmt_{n}; RELEASE SAVEPOINT bf_stmt_{n}"
                ))
                .await?;
                self.sql_depth = depth_at;
                Err(db_err(e))
            }
        }
    }

    /// Before a read the log may change the answer of.
    pub(crate) async fn before_read(&mut self) -> BankResult<()> {
        self.flush().await
    }

    /// Sends a simple-protocol statement, preceded by the pending savepoint release if any.
    async fn simple(&mut self, sql: String) -> BankResult<()> {
        let sql = match self.pending_release.take() {
            Some(p) => {
                self.sql_depth = p.depth_at;
                format!("RELEASE SAVEPOINT {}; {sql}", p.name)
            }
            None => sql,
        };
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut *self.tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Appends a buffered write, flushing early when the log reaches its bound.
    pub(crate) async fn push(&mut self, op: Op) -> BankResult<()> {
        self.log.push(op);
        if self.log.len() - self.flushed >= LOG_OPS_MAX {
            self.flush().await?;
        }
        Ok(())
    }

    /// Records an account as held (locked or inserted by this unit).
    pub(crate) fn hold_account(&mut self, a: Account) {
        if self.held.insert(a.id, a.clone()).is_none() {
            self.held_order.push(a.id);
        }
    }

    /// A held account's current state (buffered writes applied), or `None` if not held.
    pub(crate) fn held_account(&self, id: AccountId) -> Option<Account> {
        let base = self.held.get(&id)?;
        let latest = self.log.iter().rev().find_map(|op| match op {
            Op::UpdateAccount(a) if a.id == id => Some(a),
            _ => None,
        });
        Some(latest.unwrap_or(base).clone())
    }

    /// Writes every buffered write to the database, sending the SQL `SAVEPOINT` of each open
    /// savepoint at its place in the log first.
    pub(crate) async fn flush(&mut self) -> BankResult<()> {
        if self.flushed == self.log.len() {
            return Ok(());
        }
        self.materialize().await
    }

    /// Flushes the log and sends every pending `SAVEPOINT`, so that a write sent straight to
    /// the database lands inside the savepoints the engine opened.
    pub(crate) async fn materialize(&mut self) -> BankResult<()> {
        for i in 0..self.frames.len() {
            if self.frames[i].materialized {
                continue;
            }
            let mark = self.frames[i].log_mark;
            self.flush_upto(mark).await?;
            let name = self.frames[i].name;
            self.simple(format!("SAVEPOINT bf_sp_{name}")).await?;
            self.frames[i].sql_depth_at = self.sql_depth;
            self.sql_depth += 1;
            self.frames[i].materialized = true;
        }
        self.flush_upto(self.log.len()).await
    }

    async fn flush_upto(&mut self, end: usize) -> BankResult<()> {
        if self.flushed >= end {
            return Ok(());
        }
        let ops: Vec<Op> = self.log[self.flushed..end].to_vec();
        crate::flush::write_ops(&mut self.tx, &ops).await?;
        self.flushed = end;
        Ok(())
    }

    fn note_locked(&mut self, rank: u8, rows: &[PgRow]) -> BankResult<()> {
        for r in rows {
            let key = (rank, get::<Uuid>(r, 0)?);
            if self.held_max.is_none_or(|h| key > h) {
                self.held_max = Some(key);
            }
        }
        Ok(())
    }

    /// Locks the rows with `ids` (sorted, distinct) following the global lock order.
    ///
    /// `wait_sql`, `skip_sql` and `read_sql` select by `id = ANY($1)` ordered by id, with
    /// `FOR UPDATE`, `FOR UPDATE SKIP LOCKED` and no lock respectively, and return the id as
    /// column 0. A read unit (a READ ONLY snapshot, where PostgreSQL refuses row locks) reads
    /// without locking, as the memory store's read units do.
    pub(crate) async fn lock_rows(
        &mut self,
        rank: u8,
        ids: &[Uuid],
        wait_sql: &'static str,
        skip_sql: &'static str,
        read_sql: &'static str,
    ) -> BankResult<Vec<PgRow>> {
        debug_assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "lock order: sorted, distinct ids"
        );
        if self.mode == TxMode::Read {
            return sqlx::query(read_sql)
                .bind(ids)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_err);
        }
        let Some(first) = ids.first() else {
            return Ok(Vec::new());
        };
        if self.held_max.is_none_or(|h| (rank, *first) > h) {
            // In order: every row asked for is above every row held, so waiting cannot close
            // a cycle.
            let rows = sqlx::query(wait_sql)
                .bind(ids)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_err)?;
            self.note_locked(rank, &rows)?;
            return Ok(rows);
        }
        // Out of order (the next command of a group commit): take what is free right away.
        let mut rows = sqlx::query(skip_sql)
            .bind(ids)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        self.note_locked(rank, &rows)?;
        if rows.len() == ids.len() {
            return Ok(rows);
        }
        let got: HashSet<Uuid> = rows
            .iter()
            .map(|r| get::<Uuid>(r, 0))
            .collect::<BankResult<_>>()?;
        let missing: Vec<Uuid> = ids.iter().copied().filter(|id| !got.contains(id)).collect();
        let in_order = self.held_max.is_none_or(|h| (rank, missing[0]) > h);
        let more = if in_order {
            sqlx::query(wait_sql)
                .bind(&missing)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_err)?
        } else {
            self.bounded_wait(wait_sql, &missing).await?
        };
        self.note_locked(rank, &more)?;
        rows.extend(more);
        let mut keyed: Vec<(Uuid, PgRow)> = rows
            .into_iter()
            .map(|r| Ok((get::<Uuid>(&r, 0)?, r)))
            .collect::<BankResult<_>>()?;
        keyed.sort_by_key(|(id, _)| *id);
        Ok(keyed.into_iter().map(|(_, r)| r).collect())
    }

    /// Waits at most `lock_wait_ms` for rows held by another unit, inside a private savepoint
    /// so that a timeout fails only this command (as `Transient`), not the whole transaction.
    async fn bounded_wait(
        &mut self,
        wait_sql: &'static str,
        ids: &[Uuid],
    ) -> BankResult<Vec<PgRow>> {
        self.simple(format!(
            "SAVEPOINT bf_lock_wait; SET LOCAL lock_timeout = '{}ms'",
            self.lock_wait_ms
        ))
        .await?;
        match sqlx::query(wait_sql)
            .bind(ids)
            .fetch_all(&mut *self.tx)
            .await
        {
            Ok(rows) => {
                self.simple("RESET lock_timeout; RELEASE SAVEPOINT bf_lock_wait".into())
                    .await?;
                Ok(rows)
            }
            Err(e) => {
                self.simple(
                    "ROLLBACK TO SAVEPOINT bf_lock_wait; RELEASE SAVEPOINT bf_lock_wait".into(),
                )
                .await?;
                Err(db_err(e))
            }
        }
    }
}

#[async_trait]
impl UnitOfWork for PgUow {
    async fn savepoint(&mut self) -> BankResult<()> {
        if self.frames.len() >= SAVEPOINTS_MAX {
            return Err(BankError::LimitExceeded(format!(
                "at most {SAVEPOINTS_MAX} nested savepoints"
            )));
        }
        if self.mode == TxMode::Write && !self.group_locked {
            // A unit that opens savepoints runs several commands (group commit), each locking
            // its own accounts: their lock orders interleave. One such unit at a time on the
            // whole database (a transaction-scoped advisory lock, taken before any row lock
            // and released by COMMIT/ROLLBACK) keeps two of them from ever waiting on each
            // other; single-command units never take it and still run in parallel.
            self.simple(format!("SELECT pg_advisory_xact_lock({GROUP_LOCK_KEY})"))
                .await?;
            self.group_locked = true;
        }
        let name = self.next_savepoint;
        self.next_savepoint += 1;
        self.frames.push(Frame {
            name,
            materialized: false,
            log_mark: self.log.len(),
            held_mark: self.held_order.len(),
            held_max: self.held_max,
            sql_depth_at: 0,
        });
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> BankResult<()> {
        let frame = self
            .frames
            .pop()
            .ok_or_else(|| BankError::internal("no savepoint"))?;
        if frame.materialized {
            // ROLLBACK TO keeps the savepoint open; RELEASE in the same round trip ends it.
            self.simple(format!(
                "ROLLBACK TO SAVEPOINT bf_sp_{0}; RELEASE SAVEPOINT bf_sp_{0}",
                frame.name
            ))
            .await?;
            self.sql_depth = frame.sql_depth_at;
        }
        // A frame that was never materialized had none of its writes flushed (flushing them
        // would have materialized it first), so dropping them from the log undoes them.
        self.log.truncate(frame.log_mark);
        self.flushed = self.flushed.min(frame.log_mark);
        if frame.materialized {
            // The database released the row locks taken since the savepoint.
            for id in self.held_order.drain(frame.held_mark..) {
                self.held.remove(&id);
            }
            self.held_max = frame.held_max;
        }
        // Otherwise the locks are still held: keep them known (and their rows, unchanged in
        // the database), so the lock order never under-estimates what this unit holds.
        self.rules_cache.clear();
        Ok(())
    }

    async fn release_savepoint(&mut self) -> BankResult<()> {
        // No RELEASE round trip of its own: the release rides along with the next statement
        // (see `release_later`), so SQL savepoints never pile up across a group's commands.
        let frame = self
            .frames
            .pop()
            .ok_or_else(|| BankError::internal("no savepoint"))?;
        if frame.materialized {
            self.release_later(format!("bf_sp_{}", frame.name), frame.sql_depth_at);
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> BankResult<()> {
        self.flush().await?;
        self.tx.commit().await.map_err(db_err)
    }

    async fn rollback(self: Box<Self>) -> BankResult<()> {
        self.tx.rollback().await.map_err(db_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb::{database_url, TestDatabase};

    /// 200 commands in one unit (a group commit's shape: a savepoint per command, a guarded
    /// statement in each, every tenth refused by a unique violation and rolled back): all work,
    /// and the SQL savepoints open at once stay bounded instead of growing by one or two per
    /// command (PostgreSQL keeps every unreleased one as a nested subtransaction).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn savepoints_stay_bounded_over_200_guarded_statements() {
        let db = TestDatabase::create(&database_url()).await;
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        sqlx::query("CREATE TABLE guard_t (n INT PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        let tx = pool.begin().await.unwrap();
        let mut uow = PgUow::new(tx, TxMode::Write, 250);
        let mut deepest = 0;
        for n in 0..200i32 {
            uow.savepoint().await.unwrap();
            uow.before_write().await.unwrap();
            let insert = |n: i32| sqlx::query("INSERT INTO guard_t (n) VALUES ($1)").bind(n);
            uow.exec_guarded(insert(n)).await.unwrap();
            deepest = deepest.max(uow.sql_savepoint_depth());
            if n % 10 == 9 {
                let refused = uow.exec_guarded(insert(n)).await.unwrap_err();
                assert!(matches!(refused, BankError::Duplicate(_)), "{refused:?}");
                uow.rollback_to_savepoint().await.unwrap();
            } else {
                uow.release_savepoint().await.unwrap();
            }
            deepest = deepest.max(uow.sql_savepoint_depth());
        }
        assert!(
            deepest <= 2,
            "at most the command's and the statement's: {deepest}"
        );
        Box::new(uow).commit().await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM guard_t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, 180, "refused commands rolled back, the others kept");
        pool.close().await;
        db.drop_database().await;
    }
}
