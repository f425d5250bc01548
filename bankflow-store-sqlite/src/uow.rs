//! The unit of work: one SQLite transaction, savepoints, commit, rollback-on-drop, and
//! write-behind for the hot path.
//!
//! # Write-behind
//!
//! Every statement is a round trip through sqlx's SQLite worker thread, and a transfer used
//! to cost a dozen of them. Now a write unit keeps the hot writes — account balances, journal
//! entries and postings, transaction rows, idempotency records, events — in an in-memory log
//! and writes them at commit (or earlier, when something needs them in the database) with one
//! fixed multi-statement round trip of multi-row statements (see `flush`).
//!
//! * **Read-your-writes.** Rows the unit read or wrote are kept in a cache (`rows`), so reads
//!   by key are answered without a round trip. The cache is coherent: BEGIN IMMEDIATE holds
//!   the database write lock for the unit's whole life, so no one else changes a row under it.
//!   Every buffered write of a row is mirrored in the cache, so a row that is *not* cached has
//!   no buffered write and a point read of it may go to the database without a flush. Any
//!   other read (ranges, sums, joins) flushes the log first.
//! * **Lazy savepoints.** A savepoint is only a mark in memory until a write after it must
//!   reach the database; then the log is flushed up to the mark and the SQL `SAVEPOINT` sent,
//!   so the database sees exactly the nesting the engine asked for. Rolling back to a mark
//!   truncates the log and restores the cache from an undo log; the SQL `ROLLBACK TO` is sent
//!   only if the savepoint reached the database.
//! * **Direct writes** (everything off the hot path) flush the log and send pending
//!   savepoints first, so they land in order and inside the right savepoints.
//! * A failed flush leaves the database in an unknown state relative to the marks, so it
//!   poisons the unit: every later call returns the same error and nothing commits.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use bankflow_core::account::Account;
use bankflow_core::idempotency::IdempotencyRecord;
use bankflow_core::ids::{AccountId, TransactionId};
use bankflow_core::ports::{TxMode, UnitOfWork};
use bankflow_core::store_support::RulesCache;
use bankflow_core::transaction::Transaction as Txn;
use bankflow_core::{BankError, BankResult};

use crate::codec;
use crate::flush::{self, Op};
use crate::Writer;

/// Savepoints one unit may nest. The engine uses one level (group commit) or two (a linked
/// batch inside a group); the bound turns a runaway loop into an error.
pub const SAVEPOINT_DEPTH_MAX: usize = 16;

/// Buffered writes per unit before an early flush: bounds the log's memory (a submission of
/// 8,190 transfers buffers ~60,000 rows).
pub const LOG_OPS_MAX: usize = 20_000;

/// Cached rows per unit, at most: past it the cache is emptied at the next flush (always
/// safe: after a flush no cached row carries a buffered write).
pub const CACHED_ROWS_MAX: usize = 100_000;

// Static statements: sqlx prepares and caches them once per connection.
const SAVEPOINT: [&str; SAVEPOINT_DEPTH_MAX] = [
    "SAVEPOINT sp_1",
    "SAVEPOINT sp_2",
    "SAVEPOINT sp_3",
    "SAVEPOINT sp_4",
    "SAVEPOINT sp_5",
    "SAVEPOINT sp_6",
    "SAVEPOINT sp_7",
    "SAVEPOINT sp_8",
    "SAVEPOINT sp_9",
    "SAVEPOINT sp_10",
    "SAVEPOINT sp_11",
    "SAVEPOINT sp_12",
    "SAVEPOINT sp_13",
    "SAVEPOINT sp_14",
    "SAVEPOINT sp_15",
    "SAVEPOINT sp_16",
];
// ROLLBACK TO keeps the savepoint open; RELEASE removes it, as the port requires.
const ROLLBACK_TO: [&str; SAVEPOINT_DEPTH_MAX] = [
    "ROLLBACK TO sp_1; RELEASE sp_1",
    "ROLLBACK TO sp_2; RELEASE sp_2",
    "ROLLBACK TO sp_3; RELEASE sp_3",
    "ROLLBACK TO sp_4; RELEASE sp_4",
    "ROLLBACK TO sp_5; RELEASE sp_5",
    "ROLLBACK TO sp_6; RELEASE sp_6",
    "ROLLBACK TO sp_7; RELEASE sp_7",
    "ROLLBACK TO sp_8; RELEASE sp_8",
    "ROLLBACK TO sp_9; RELEASE sp_9",
    "ROLLBACK TO sp_10; RELEASE sp_10",
    "ROLLBACK TO sp_11; RELEASE sp_11",
    "ROLLBACK TO sp_12; RELEASE sp_12",
    "ROLLBACK TO sp_13; RELEASE sp_13",
    "ROLLBACK TO sp_14; RELEASE sp_14",
    "ROLLBACK TO sp_15; RELEASE sp_15",
    "ROLLBACK TO sp_16; RELEASE sp_16",
];
const RELEASE: [&str; SAVEPOINT_DEPTH_MAX] = [
    "RELEASE sp_1",
    "RELEASE sp_2",
    "RELEASE sp_3",
    "RELEASE sp_4",
    "RELEASE sp_5",
    "RELEASE sp_6",
    "RELEASE sp_7",
    "RELEASE sp_8",
    "RELEASE sp_9",
    "RELEASE sp_10",
    "RELEASE sp_11",
    "RELEASE sp_12",
    "RELEASE sp_13",
    "RELEASE sp_14",
    "RELEASE sp_15",
    "RELEASE sp_16",
];

/// Rolls back a transaction a previous unit left open (its drop-time rollback did not run),
/// so every unit starts clean.
pub(crate) async fn settle(w: &mut Writer) -> BankResult<()> {
    if w.in_transaction {
        // "no transaction is active" is fine here: the goal is a clean connection.
        let _ = sqlx::query("ROLLBACK").execute(&mut w.conn).await;
        w.in_transaction = false;
    }
    Ok(())
}

/// The key of a cached row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Account(AccountId),
    Txn(TransactionId),
    /// (scope, key)
    Idem(String, String),
}

/// A cached row: its state in the database plus this unit's buffered writes.
#[derive(Clone, Debug)]
pub(crate) enum Row {
    Account(Account),
    Txn(Txn),
    /// `None`: known absent (looked up and not found), so an insert needs no check.
    Idem(Option<IdempotencyRecord>),
}

/// What a committed unit hands the next one: the accounts it read or wrote and the fraud
/// rules, as committed. Valid only while no other connection commits: `PRAGMA data_version`
/// (read with BEGIN IMMEDIATE) changes exactly when one did, and then they are dropped. Units
/// that do not commit hand nothing over. Transaction and idempotency rows are not carried:
/// each is read about once, so carrying them would only grow the cache.
#[derive(Default)]
pub(crate) struct Carried {
    rows: HashMap<Key, Row>,
    rules: RulesCache,
    data_version: Option<i64>,
}

/// Rows carried from one unit to the next, at most (past it nothing is carried).
pub const CARRIED_ROWS_MAX: usize = 10_000;

struct Frame {
    /// Whether the SQL `SAVEPOINT` has been sent.
    materialized: bool,
    /// Absolute log position when the savepoint was taken.
    log_mark: usize,
    /// Undo-log length when the savepoint was taken.
    undo_mark: usize,
}

/// The write-behind state of a write unit (empty and unused in read units).
#[derive(Default)]
struct Behind {
    /// Buffered writes not yet in the database; `log[0]` is absolute position `log_base`.
    log: Vec<Op>,
    log_base: usize,
    frames: Vec<Frame>,
    rows: HashMap<Key, Row>,
    /// (key, previous cache entry) for every cache change made while a savepoint is open.
    undo: Vec<(Key, Option<Row>)>,
    /// Rules read once per unit: a group's commands are concurrent and may share one read
    /// (cleared by rule writes and by any rollback to a savepoint).
    rules: RulesCache,
    /// The error of a failed flush: the unit is unusable.
    poisoned: Option<BankError>,
    /// `PRAGMA data_version` when the unit began.
    data_version: i64,
}

impl Behind {
    fn log_end(&self) -> usize {
        self.log_base + self.log.len()
    }
}

enum Conn {
    /// The writer, held for the unit's whole life; `None` only after commit/rollback/drop.
    Write(Option<OwnedMutexGuard<Writer>>),
    /// A pooled reader in a deferred transaction (sqlx rolls it back when dropped).
    Read(Transaction<'static, Sqlite>),
}

/// A unit of work over the SQLite store.
pub struct SqliteUow {
    conn: Conn,
    /// Open savepoints of a read unit (nothing to undo there: it cannot write).
    read_savepoints: usize,
    behind: Behind,
}

impl SqliteUow {
    /// Ends the innermost savepoint's bookkeeping for a rollback or a release: a read unit
    /// only counts its savepoints (`None`); a write unit gets the frame and its depth.
    fn pop_savepoint(&mut self) -> BankResult<Option<(usize, Frame)>> {
        if self.mode() == TxMode::Read {
            self.read_savepoints = self
                .read_savepoints
                .checked_sub(1)
                .ok_or_else(|| BankError::internal("no savepoint"))?;
            return Ok(None);
        }
        let depth = self.behind.frames.len();
        let frame = self
            .behind
            .frames
            .pop()
            .ok_or_else(|| BankError::internal("no savepoint"))?;
        Ok(Some((depth, frame)))
    }

    pub(crate) fn write(mut w: OwnedMutexGuard<Writer>, data_version: i64) -> Self {
        debug_assert!(
            w.in_transaction,
            "BEGIN IMMEDIATE ran before the unit was made"
        );
        let carried = std::mem::take(&mut w.carried);
        let mut behind = Behind {
            data_version,
            ..Behind::default()
        };
        if carried.data_version == Some(data_version) {
            behind.rows = carried.rows;
            behind.rules = carried.rules;
        }
        SqliteUow {
            conn: Conn::Write(Some(w)),
            read_savepoints: 0,
            behind,
        }
    }

    pub(crate) fn read(tx: Transaction<'static, Sqlite>) -> Self {
        SqliteUow {
            conn: Conn::Read(tx),
            read_savepoints: 0,
            behind: Behind::default(),
        }
    }

    pub(crate) fn mode(&self) -> TxMode {
        match self.conn {
            Conn::Write(_) => TxMode::Write,
            Conn::Read(_) => TxMode::Read,
        }
    }

    fn conn(&mut self) -> BankResult<&mut SqliteConnection> {
        if let Some(e) = &self.behind.poisoned {
            return Err(e.clone());
        }
        match &mut self.conn {
            Conn::Write(Some(w)) => Ok(&mut w.conn),
            Conn::Write(None) => Err(BankError::internal("unit of work already finished")),
            Conn::Read(tx) => Ok(&mut **tx),
        }
    }

    /// The connection for a read the cache cannot answer: buffered writes first, so the
    /// database's answer includes them.
    pub(crate) async fn c(&mut self) -> BankResult<&mut SqliteConnection> {
        self.flush().await?;
        self.conn()
    }

    /// The connection for a read the log cannot change, without a flush: a read of a table
    /// that is never buffered, or a point read of an uncached row (which has no buffered
    /// write; see the module docs).
    pub(crate) fn unbuffered(&mut self) -> BankResult<&mut SqliteConnection> {
        self.conn()
    }

    /// The connection for a write that goes straight to the database; refuses in a read
    /// unit, like the reference store.
    pub(crate) async fn w(&mut self) -> BankResult<&mut SqliteConnection> {
        self.writable()?;
        self.materialize().await?;
        self.conn()
    }

    /// Refuses writes in a read unit.
    pub(crate) fn writable(&self) -> BankResult<()> {
        match self.conn {
            Conn::Write(_) => Ok(()),
            Conn::Read(_) => Err(BankError::internal("write in a read-only unit of work")),
        }
    }

    /// A cached row (always `None` in read units, which cache nothing).
    pub(crate) fn cached(&self, key: &Key) -> Option<&Row> {
        self.behind.rows.get(key)
    }

    /// Caches a row (write units only), recording what it replaces while a savepoint is open.
    pub(crate) fn remember(&mut self, key: Key, row: Row) {
        if self.mode() != TxMode::Write {
            return;
        }
        let b = &mut self.behind;
        let previous = b.rows.insert(key.clone(), row);
        if !b.frames.is_empty() {
            b.undo.push((key, previous));
        }
    }

    /// Buffers a write, whose row (if it has one) the caller has just cached.
    pub(crate) async fn push(&mut self, op: Op) -> BankResult<()> {
        self.writable()?;
        if let Some(e) = &self.behind.poisoned {
            return Err(e.clone());
        }
        self.behind.log.push(op);
        if self.behind.log.len() >= LOG_OPS_MAX {
            self.materialize().await?;
        }
        Ok(())
    }

    /// After a retention delete: cached idempotency records created before `before` may no
    /// longer exist, so they are remembered as absent (undoable like any cache change).
    pub(crate) fn forget_idempotency_before(&mut self, before: chrono::DateTime<chrono::Utc>) {
        let stale: Vec<Key> = self
            .behind
            .rows
            .iter()
            .filter_map(|(k, r)| match r {
                Row::Idem(Some(rec)) if rec.created_at < before => Some(k.clone()),
                _ => None,
            })
            .collect();
        for k in stale {
            self.remember(k, Row::Idem(None));
        }
    }

    /// The fraud rules this unit read (a read unit reads one snapshot, so it may keep them
    /// too; only a committed write unit's are carried to the next).
    pub(crate) fn rules_cache(&mut self) -> &mut RulesCache {
        &mut self.behind.rules
    }

    /// Writes the log to the database (a no-op when it is empty).
    async fn flush(&mut self) -> BankResult<()> {
        if self.behind.log.is_empty() {
            return Ok(());
        }
        self.materialize().await
    }

    /// Sends every pending `SAVEPOINT` at its place in the log, then the rest of the log, so a
    /// direct write that follows lands inside the savepoints the engine opened.
    async fn materialize(&mut self) -> BankResult<()> {
        let depth = self.behind.frames.len();
        for (i, sql) in SAVEPOINT.iter().enumerate().take(depth) {
            if self.behind.frames[i].materialized {
                continue;
            }
            debug_assert!(
                self.behind.frames[i + 1..].iter().all(|f| !f.materialized),
                "materialized savepoints are a prefix of the open ones"
            );
            let mark = self.behind.frames[i].log_mark;
            self.flush_upto(mark).await?;
            sqlx::query(*sql)
                .execute(self.conn()?)
                .await
                .map_err(codec::err(None))?;
            self.behind.frames[i].materialized = true;
        }
        let end = self.behind.log_end();
        self.flush_upto(end).await
    }

    /// Writes the log up to absolute position `end`.
    async fn flush_upto(&mut self, end: usize) -> BankResult<()> {
        let b = &mut self.behind;
        assert!(
            b.log_base <= end && end <= b.log_end(),
            "flush inside the log"
        );
        let ops: Vec<Op> = b.log.drain(..end - b.log_base).collect();
        b.log_base = end;
        if ops.is_empty() {
            return Ok(());
        }
        let conn = self.conn()?;
        let result = flush::write(conn, &ops).await;
        if let Err(e) = &result {
            self.behind.poisoned = Some(e.clone());
        } else if self.behind.rows.len() > CACHED_ROWS_MAX && self.behind.log.is_empty() {
            // Nothing cached carries a buffered write now, so forgetting is safe; undo
            // entries would restore forgotten rows as they were, which is also safe, but
            // they are no longer needed by anything cached: drop them too.
            self.behind.rows.clear();
            self.behind.undo.clear();
            for f in &mut self.behind.frames {
                f.undo_mark = 0;
            }
        }
        result
    }

    async fn exec(&mut self, sql: &'static str) -> BankResult<()> {
        sqlx::query(sql)
            .execute(self.conn()?)
            .await
            .map_err(codec::err(None))?;
        Ok(())
    }

    async fn finish_write(&mut self, commit: bool) -> BankResult<()> {
        let Conn::Write(slot) = &mut self.conn else {
            unreachable!("checked by caller")
        };
        let mut w = slot
            .take()
            .ok_or_else(|| BankError::internal("unit of work already finished"))?;
        let b = &mut self.behind;
        let r = match (&b.poisoned, commit) {
            (Some(e), true) => Err(e.clone()),
            // Open savepoints do not matter at commit: COMMIT keeps their work.
            (None, true) => {
                let ops: Vec<Op> = std::mem::take(&mut b.log);
                match flush::write(&mut w.conn, &ops).await {
                    Ok(()) => sqlx::query("COMMIT")
                        .execute(&mut w.conn)
                        .await
                        .map(|_| ())
                        .map_err(codec::err(None)),
                    Err(e) => Err(e),
                }
            }
            (_, false) => sqlx::query("ROLLBACK")
                .execute(&mut w.conn)
                .await
                .map(|_| ())
                .map_err(codec::err(None)),
        };
        // On failure the flag stays set: the next unit (or the drop-time task) rolls back
        // whatever is left.
        if r.is_ok() {
            w.in_transaction = false;
            if commit {
                let mut rows = std::mem::take(&mut b.rows);
                rows.retain(|k, _| matches!(k, Key::Account(_)));
                if rows.len() > CARRIED_ROWS_MAX {
                    rows.clear();
                }
                w.carried = Carried {
                    rows,
                    rules: std::mem::take(&mut b.rules),
                    data_version: Some(b.data_version),
                };
            }
        } else if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = settle(&mut w).await;
            });
        }
        r
    }
}

impl Drop for SqliteUow {
    fn drop(&mut self) {
        let Conn::Write(slot) = &mut self.conn else {
            return;
        };
        let Some(mut w) = slot.take() else { return };
        // Roll back now, still holding the writer, so the next unit (or another process)
        // gets the write lock at once. Without a runtime the next `begin` settles it.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = settle(&mut w).await;
            });
        }
    }
}

#[async_trait]
impl UnitOfWork for SqliteUow {
    async fn savepoint(&mut self) -> BankResult<()> {
        let depth = self.read_savepoints + self.behind.frames.len();
        if depth >= SAVEPOINT_DEPTH_MAX {
            return Err(BankError::LimitExceeded(format!(
                "at most {SAVEPOINT_DEPTH_MAX} nested savepoints"
            )));
        }
        if self.mode() == TxMode::Read {
            self.read_savepoints += 1;
            return Ok(());
        }
        let b = &mut self.behind;
        b.frames.push(Frame {
            materialized: false,
            log_mark: b.log_end(),
            undo_mark: b.undo.len(),
        });
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> BankResult<()> {
        let Some((depth, frame)) = self.pop_savepoint()? else {
            return Ok(());
        };
        if frame.materialized {
            // Everything after the mark that reached the database is undone there.
            self.exec(ROLLBACK_TO[depth - 1]).await?;
        }
        let b = &mut self.behind;
        if frame.log_mark >= b.log_base {
            b.log.truncate(frame.log_mark - b.log_base);
        } else {
            assert!(
                frame.materialized,
                "only a sent savepoint has flushed writes"
            );
            b.log.clear();
            b.log_base = frame.log_mark;
        }
        while b.undo.len() > frame.undo_mark {
            let (key, previous) = b.undo.pop().expect("len checked");
            match previous {
                Some(row) => b.rows.insert(key, row),
                None => b.rows.remove(&key),
            };
        }
        b.rules.clear();
        Ok(())
    }

    async fn release_savepoint(&mut self) -> BankResult<()> {
        let Some((depth, frame)) = self.pop_savepoint()? else {
            return Ok(());
        };
        // Its undo entries now belong to the enclosing savepoint; with none left, nothing
        // can be undone any more.
        if self.behind.frames.is_empty() {
            self.behind.undo.clear();
        }
        if frame.materialized {
            self.exec(RELEASE[depth - 1]).await?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> BankResult<()> {
        match self.mode() {
            TxMode::Write => self.finish_write(true).await,
            TxMode::Read => {
                let Conn::Read(tx) = std::mem::replace(&mut self.conn, Conn::Write(None)) else {
                    unreachable!()
                };
                tx.commit().await.map_err(codec::err(None))
            }
        }
    }

    async fn rollback(mut self: Box<Self>) -> BankResult<()> {
        match self.mode() {
            TxMode::Write => self.finish_write(false).await,
            TxMode::Read => {
                let Conn::Read(tx) = std::mem::replace(&mut self.conn, Conn::Write(None)) else {
                    unreachable!()
                };
                tx.rollback().await.map_err(codec::err(None))
            }
        }
    }
}
