//! # bankflow-store-sqlite
//!
//! BankFlow's embedded store: every repository port of `bankflow-core` over one SQLite file,
//! through sqlx. The default for `bankflow serve` and the language bindings: no setup.
//!
//! ## How it keeps the store contract
//!
//! * **Durability.** WAL journal with `synchronous=FULL` by default: a commit that returned
//!   survives a power cut. `NORMAL` (survives a process crash, not a power cut) only when
//!   [`SqliteOptions::synchronous`] asks for it explicitly.
//! * **One writer.** Every write unit runs on the single writer connection, serialised by a
//!   mutex, and starts with `BEGIN IMMEDIATE`: the database write lock is taken up front, so
//!   a unit never fails half-way with `SQLITE_BUSY` trying to upgrade a read lock. Other
//!   processes on the same file wait up to the busy timeout, then get `Transient` (retried).
//! * **Snapshot reads.** Read units use a separate pool of `query_only` connections, each in
//!   a deferred transaction: one consistent snapshot per unit, never blocked by the writer.
//! * **Rollback on drop.** A write unit dropped without commit rolls back on a spawned task
//!   while still holding the writer; should that task not run, the next `begin` rolls back
//!   first. No open transaction ever leaks into the next unit.
//! * **Group commit.** fsync per commit is the bottleneck, so [`Store::prefers_group_commit`]
//!   is true: the engine coalesces concurrent commands into one transaction, one savepoint
//!   each.
//!
//! Architecture invariant: each bounded context's tables are touched only by that context's
//! repository module (`account`, `ledger`, `txn`, `idem`, `events`, `identity`, `customer`,
//! `fraud`, `notify`, `audit`; `schedule` belongs to the transaction context), and no SQL joins tables of two contexts.

#![warn(missing_docs)]

mod account;
mod approvals;
mod audit;
mod clients;
mod codec;
mod customer;
mod devices;
mod events;
mod flush;
mod fraud;
mod idem;
mod identity;
mod ledger;
mod notify;
mod schedule;
mod txn;
mod uow;
mod webhook;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bankflow_core::ports::{Store, TxMode, UnitOfWork};
use bankflow_core::{BankError, BankResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, SqliteConnection};
use tokio::sync::Mutex;

pub use uow::SqliteUow;

/// The embedded migrations (`migrations/`), applied by [`SqliteStore::open`] and
/// [`SqliteStore::migrate`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How hard a commit is made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync on every commit: an acknowledged commit survives a power cut. The default.
    #[default]
    Full,
    /// WAL + NORMAL: survives a process crash; the last commits may be lost on power loss.
    /// Only for users who accept that explicitly.
    Normal,
}

/// Connection settings.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Commit durability (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long a statement waits for another process's lock before `Transient`.
    pub busy_timeout_ms: u64,
    /// Read connections (snapshot readers), at least 1.
    pub read_connections_max: u32,
    /// How long a unit waits for a free connection before `Transient`.
    pub acquire_timeout_ms: u64,
    /// How long a write unit of *this* store waits for the writer connection (held by
    /// another write unit of the same store) before `Transient` ("sqlite writer busy"), so a
    /// stuck unit never makes every later writer wait forever. At least 1.
    pub writer_wait_ms: u64,
    /// WAL pages after which a commit checkpoints the WAL into the database file. Larger
    /// means rarer checkpoints that copy each hot page once for many commits.
    pub wal_autocheckpoint_pages: u32,
    /// Page cache per connection, in KiB.
    pub cache_kib: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            busy_timeout_ms: 5_000,
            read_connections_max: 4,
            acquire_timeout_ms: 30_000,
            writer_wait_ms: 5_000,
            wal_autocheckpoint_pages: 10_000,
            cache_kib: 32 * 1024,
        }
    }
}

/// Most read connections one store opens (each is a thread in sqlx's SQLite driver).
pub const READ_CONNECTIONS_MAX: u32 = 64;

/// The writer connection and whether it may still be inside a transaction.
pub(crate) struct Writer {
    pub(crate) conn: SqliteConnection,
    /// True from `BEGIN IMMEDIATE` until COMMIT/ROLLBACK succeeded.
    pub(crate) in_transaction: bool,
    /// Rows the last committed unit left cached, for the next one (see `uow::Carried`).
    pub(crate) carried: uow::Carried,
}

/// The SQLite store. Cheap to clone (shares its connections).
#[derive(Clone)]
pub struct SqliteStore {
    writer: Arc<Mutex<Writer>>,
    writer_wait: Duration,
    readers: SqlitePool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn connect_options(path_or_url: &str, opts: &SqliteOptions) -> BankResult<SqliteConnectOptions> {
    let base = if path_or_url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(path_or_url)
            .map_err(|_| BankError::validation("database", "not a valid sqlite: URL"))?
    } else {
        SqliteConnectOptions::new().filename(Path::new(path_or_url))
    };
    let sync = match opts.synchronous {
        Synchronous::Full => SqliteSynchronous::Full,
        Synchronous::Normal => SqliteSynchronous::Normal,
    };
    Ok(base
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(sync)
        .busy_timeout(Duration::from_millis(opts.busy_timeout_ms))
        .foreign_keys(true)
        .pragma(
            "wal_autocheckpoint",
            opts.wal_autocheckpoint_pages.to_string(),
        )
        // Savepoints (one per command under group commit) copy each page they first touch
        // into a statement journal; in memory that costs a memcpy instead of file I/O.
        .pragma("temp_store", "MEMORY")
        // Negative: KiB. Keeps the hot index pages of a busy ledger in memory.
        .pragma("cache_size", format!("-{}", opts.cache_kib))
        // Statements are few and fixed; keep them all prepared.
        .statement_cache_capacity(256)
        .disable_statement_logging())
}

/// Creates a missing database file readable by its owner only (0600), before SQLite would
/// create it with the process umask (0644 typically: every local user could copy the
/// ledger). SQLite gives the `-wal` and `-shm` files the database file's mode, so they
/// follow. An existing file, or an in-memory database, is left as it is.
fn create_private(file: &Path) -> BankResult<()> {
    let name = file.to_string_lossy();
    if name.is_empty() || name == ":memory:" || name.starts_with("file::memory:") || file.exists() {
        return Ok(());
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(file) {
        Ok(_) => Ok(()),
        // Another opener created it first: theirs stands.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(BankError::internal(format!(
            "cannot create the database file: {}",
            e.kind()
        ))),
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path_or_url` (a file path or a
    /// `sqlite:` URL) and applies pending migrations.
    pub async fn open(path_or_url: &str, opts: SqliteOptions) -> BankResult<SqliteStore> {
        if opts.read_connections_max == 0 || opts.read_connections_max > READ_CONNECTIONS_MAX {
            return Err(BankError::validation(
                "read_connections_max",
                format!("must be 1..={READ_CONNECTIONS_MAX}"),
            ));
        }
        if opts.writer_wait_ms == 0 {
            return Err(BankError::validation(
                "writer_wait_ms",
                "must be at least 1",
            ));
        }
        let connect = connect_options(path_or_url, &opts)?;
        create_private(connect.get_filename())?;
        let conn = connect.connect().await.map_err(codec::open_err)?;
        let store_writer = Arc::new(Mutex::new(Writer {
            conn,
            in_transaction: false,
            carried: uow::Carried::default(),
        }));
        let readers = SqlitePoolOptions::new()
            .max_connections(opts.read_connections_max)
            .min_connections(0)
            .acquire_timeout(Duration::from_millis(opts.acquire_timeout_ms))
            // A ping per acquire would add a round trip to every read; broken connections
            // surface as errors on use and are replaced by the pool.
            .test_before_acquire(false)
            .connect_lazy_with(connect.pragma("query_only", "ON"));
        let store = SqliteStore {
            writer: store_writer,
            writer_wait: Duration::from_millis(opts.writer_wait_ms),
            readers,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations (idempotent). Runs on the writer connection, so it never
    /// races the store's own writes.
    pub async fn migrate(&self) -> BankResult<()> {
        let mut w = self.writer.lock().await;
        uow::settle(&mut w).await?;
        w.carried = uow::Carried::default();
        // `run_direct` on the connection itself: `run(&mut conn)` goes through `Acquire`, whose
        // higher-ranked bound makes this future non-`Send` (sqlx's documented workaround).
        MIGRATOR
            .run_direct(None, &mut w.conn, false)
            .await
            .map_err(|e| {
                BankError::internal(format!(
                    "sqlite migration failed: {}",
                    codec::migrate_err_kind(&e)
                ))
            })
    }

    /// `PRAGMA integrity_check` on the writer connection: `Ok` when SQLite reports `ok`.
    pub async fn integrity_check(&self) -> BankResult<()> {
        let mut w = self.writer.lock().await;
        uow::settle(&mut w).await?;
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut w.conn)
            .await
            .map_err(codec::err(None))?;
        if rows == ["ok"] {
            Ok(())
        } else {
            Err(BankError::Invariant(format!(
                "sqlite integrity_check reported {} problem(s)",
                rows.len()
            )))
        }
    }

    /// The writer, waited for at most `writer_wait_ms`: past it a typed, retryable error.
    async fn lock_writer(&self) -> BankResult<tokio::sync::OwnedMutexGuard<Writer>> {
        tokio::time::timeout(self.writer_wait, self.writer.clone().lock_owned())
            .await
            .map_err(|_| {
                BankError::Transient(format!(
                    "sqlite writer busy: not free within {} ms",
                    self.writer_wait.as_millis()
                ))
            })
    }

    /// Closes every connection (checkpoints the WAL). The store is unusable afterwards.
    pub async fn close(&self) {
        self.readers.close().await;
        let mut w = self.writer.lock().await;
        let _ = uow::settle(&mut w).await;
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut w.conn)
            .await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self, mode: TxMode) -> BankResult<Box<dyn UnitOfWork>> {
        match mode {
            TxMode::Write => {
                let mut w = self.lock_writer().await?;
                uow::settle(&mut w).await?;
                // Set first: should BEGIN succeed and the rest fail, the next unit rolls back.
                w.in_transaction = true;
                // One round trip: the write lock, and whether any other connection committed
                // since this one last looked (which makes carried rows stale).
                let data_version: i64 = sqlx::query_scalar("BEGIN IMMEDIATE; PRAGMA data_version")
                    .fetch_one(&mut w.conn)
                    .await
                    .map_err(codec::err(None))?;
                Ok(Box::new(SqliteUow::write(w, data_version)))
            }
            TxMode::Read => {
                // Deferred BEGIN: the snapshot starts at the unit's first read.
                let tx = self.readers.begin().await.map_err(codec::err(None))?;
                Ok(Box::new(SqliteUow::read(tx)))
            }
        }
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn prefers_group_commit(&self) -> bool {
        true
    }
}
