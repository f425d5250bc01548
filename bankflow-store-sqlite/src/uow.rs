//! The unit of work: one SQLite transaction, savepoints, commit and rollback-on-drop.

use async_trait::async_trait;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use bankflow_core::ports::{TxMode, UnitOfWork};
use bankflow_core::{BankError, BankResult};

use crate::codec;
use crate::Writer;

/// Savepoints one unit may nest. The engine uses one level (group commit) or two (a linked
/// batch inside a group); the bound turns a runaway loop into an error.
pub const SAVEPOINT_DEPTH_MAX: usize = 16;

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
const ROLLBACK_TO: [&str; SAVEPOINT_DEPTH_MAX] = [
    "ROLLBACK TO sp_1",
    "ROLLBACK TO sp_2",
    "ROLLBACK TO sp_3",
    "ROLLBACK TO sp_4",
    "ROLLBACK TO sp_5",
    "ROLLBACK TO sp_6",
    "ROLLBACK TO sp_7",
    "ROLLBACK TO sp_8",
    "ROLLBACK TO sp_9",
    "ROLLBACK TO sp_10",
    "ROLLBACK TO sp_11",
    "ROLLBACK TO sp_12",
    "ROLLBACK TO sp_13",
    "ROLLBACK TO sp_14",
    "ROLLBACK TO sp_15",
    "ROLLBACK TO sp_16",
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

enum Conn {
    /// The writer, held for the unit's whole life; `None` only after commit/rollback/drop.
    Write(Option<OwnedMutexGuard<Writer>>),
    /// A pooled reader in a deferred transaction (sqlx rolls it back when dropped).
    Read(Transaction<'static, Sqlite>),
}

/// A unit of work over the SQLite store.
pub struct SqliteUow {
    conn: Conn,
    savepoints: usize,
}

impl SqliteUow {
    pub(crate) fn write(w: OwnedMutexGuard<Writer>) -> Self {
        debug_assert!(
            w.in_transaction,
            "BEGIN IMMEDIATE ran before the unit was made"
        );
        SqliteUow {
            conn: Conn::Write(Some(w)),
            savepoints: 0,
        }
    }

    pub(crate) fn read(tx: Transaction<'static, Sqlite>) -> Self {
        SqliteUow {
            conn: Conn::Read(tx),
            savepoints: 0,
        }
    }

    pub(crate) fn mode(&self) -> TxMode {
        match self.conn {
            Conn::Write(_) => TxMode::Write,
            Conn::Read(_) => TxMode::Read,
        }
    }

    /// The connection for a read.
    pub(crate) fn c(&mut self) -> BankResult<&mut SqliteConnection> {
        match &mut self.conn {
            Conn::Write(Some(w)) => Ok(&mut w.conn),
            Conn::Write(None) => Err(BankError::internal("unit of work already finished")),
            Conn::Read(tx) => Ok(&mut **tx),
        }
    }

    /// The connection for a write; refuses in a read unit, like the reference store.
    pub(crate) fn w(&mut self) -> BankResult<&mut SqliteConnection> {
        match &mut self.conn {
            Conn::Write(Some(w)) => Ok(&mut w.conn),
            Conn::Write(None) => Err(BankError::internal("unit of work already finished")),
            Conn::Read(_) => Err(BankError::internal("write in a read-only unit of work")),
        }
    }

    async fn exec(&mut self, sql: &'static str) -> BankResult<()> {
        sqlx::query(sql)
            .execute(self.c()?)
            .await
            .map_err(codec::err(None))?;
        Ok(())
    }

    async fn finish_write(&mut self, sql: &'static str) -> BankResult<()> {
        let Conn::Write(slot) = &mut self.conn else {
            unreachable!("checked by caller")
        };
        let mut w = slot
            .take()
            .ok_or_else(|| BankError::internal("unit of work already finished"))?;
        let r = sqlx::query(sql).execute(&mut w.conn).await;
        // On failure the flag stays set: the next unit rolls back whatever is left.
        if r.is_ok() {
            w.in_transaction = false;
        }
        r.map(|_| ()).map_err(codec::err(None))
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
        let sql = *SAVEPOINT.get(self.savepoints).ok_or_else(|| {
            BankError::LimitExceeded(format!("at most {SAVEPOINT_DEPTH_MAX} nested savepoints"))
        })?;
        self.exec(sql).await?;
        self.savepoints += 1;
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> BankResult<()> {
        let i = self
            .savepoints
            .checked_sub(1)
            .ok_or_else(|| BankError::internal("no savepoint"))?;
        // ROLLBACK TO keeps the savepoint open; RELEASE removes it, as the port requires.
        self.exec(ROLLBACK_TO[i]).await?;
        self.exec(RELEASE[i]).await?;
        self.savepoints = i;
        Ok(())
    }

    async fn release_savepoint(&mut self) -> BankResult<()> {
        let i = self
            .savepoints
            .checked_sub(1)
            .ok_or_else(|| BankError::internal("no savepoint"))?;
        self.exec(RELEASE[i]).await?;
        self.savepoints = i;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> BankResult<()> {
        match self.mode() {
            TxMode::Write => self.finish_write("COMMIT").await,
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
            TxMode::Write => self.finish_write("ROLLBACK").await,
            TxMode::Read => {
                let Conn::Read(tx) = std::mem::replace(&mut self.conn, Conn::Write(None)) else {
                    unreachable!()
                };
                tx.rollback().await.map_err(codec::err(None))
            }
        }
    }
}
