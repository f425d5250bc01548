//! # bankflow-store-postgres
//!
//! BankFlow's PostgreSQL store: how users scale out. Several BankFlow processes on one database
//! stay exactly as correct as one.
//!
//! * Write units run at READ COMMITTED with row locks. Account rows are locked with
//!   `SELECT … ORDER BY id FOR UPDATE` in ascending id order (the engine's lock order); a unit
//!   that already holds locks (a group-commit transaction running its next command) never
//!   *waits* out of order: it takes free rows with `SKIP LOCKED`, waits unboundedly only for rows
//!   above everything it holds, and otherwise waits at most [`PgOptions::out_of_order_lock_wait`]
//!   before the command fails as `Transient` and is retried. A wait-for cycle would need some
//!   unit to wait, unbounded, for a row below one it holds — which never happens — so no
//!   deadlock outlives that bound.
//! * A unit that opens savepoints (a group commit: several commands in one transaction, each
//!   locking its own accounts) first takes a transaction-scoped advisory lock, so at most one
//!   such unit runs at a time on the database: commands of two groups can never interleave
//!   their lock orders across processes. Each group amortises one WAL flush over many
//!   commands; single-command units never take the advisory lock.
//! * Hot-path writes (balances, journal entries, transaction rows, idempotency records,
//!   events) are buffered in the unit and written at commit, each kind in one multi-row
//!   statement; reads of buffered data are answered from the unit, and a read whose answer
//!   depends on the buffer flushes it first. A group of 32 transfers costs a handful of round
//!   trips plus one WAL flush. Unique violations against *other* units' committed rows in
//!   buffered writes (an idempotency key raced from two processes) surface at commit; the
//!   engine retries the whole unit, which then replays the stored response.
//! * Read units run at REPEATABLE READ, READ ONLY: one consistent snapshot (an audit that sums
//!   every account sees one instant).
//! * Serialization failures, deadlocks and lock timeouts map to `BankError::Transient` (the
//!   engine re-runs the whole unit); unique violations to `BankError::Duplicate` with the memory
//!   store's resource names.
//! * The `events` table is the event store and the transactional outbox; relays claim with
//!   `FOR UPDATE SKIP LOCKED`, so relays in many processes never double-claim and never publish
//!   one aggregate's events out of order.
//! * Migrations are embedded and applied on [`PgStore::connect`]; sqlx serialises concurrent
//!   migrators with an advisory lock, so many processes may start at once.
//!
//! Architecture invariant: each bounded context's tables are touched only by that context's
//! repository module — the same module names as the SQLite store's (`account`, `ledger`,
//! `txn`, `idem`, `events`, `identity`, `customer`, `fraud`, `notify`, `audit`; `schedule`
//! belongs to the transaction context) — and no SQL joins tables of two contexts.
#![warn(missing_docs)]

mod account;
mod approvals;
mod audit;
mod clients;
mod customer;
mod devices;
mod error;
mod events;
mod flush;
mod fraud;
mod idem;
mod identity;
mod ledger;
pub mod load;
mod notify;
mod rows;
mod schedule;
pub mod testdb;
mod txn;
mod uow;
mod webhook;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bankflow_core::ports::{Store, TxMode, UnitOfWork};
use bankflow_core::{BankError, BankResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use uow::PgUow;

/// The embedded migrations (`migrations/`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection settings.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Pool size. Each open unit of work holds one connection.
    pub max_connections: u32,
    /// Connections kept open when idle.
    pub min_connections: u32,
    /// How long `begin` waits for a free connection before failing as `Transient`.
    pub acquire_timeout: Duration,
    /// Server-side bound on any one statement (`statement_timeout`).
    pub statement_timeout: Duration,
    /// A unit whose client stalls inside a transaction is ended by the server after this long,
    /// releasing its row locks (`idle_in_transaction_session_timeout`).
    pub idle_in_transaction_timeout: Duration,
    /// Longest wait for a row lock requested out of the global lock order (see the crate docs).
    pub out_of_order_lock_wait: Duration,
    /// Apply the embedded migrations on connect.
    pub migrate_on_connect: bool,
    /// `application_name` shown in `pg_stat_activity`.
    pub application_name: String,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(30),
            idle_in_transaction_timeout: Duration::from_secs(60),
            out_of_order_lock_wait: Duration::from_millis(250),
            migrate_on_connect: true,
            application_name: "bankflow".into(),
        }
    }
}

/// The PostgreSQL store. Cheap to clone (shares the pool).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    out_of_order_lock_wait_ms: u64,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) and, unless disabled, applies
    /// the embedded migrations.
    pub async fn connect(url: &str, opts: PgOptions) -> BankResult<PgStore> {
        if opts.max_connections == 0 {
            return Err(BankError::validation(
                "max_connections",
                "must be at least 1",
            ));
        }
        let connect = PgConnectOptions::from_str(url)
            .map_err(|_| BankError::validation("database_url", "not a valid postgres:// URL"))?
            .application_name(&opts.application_name)
            .options([
                (
                    "statement_timeout",
                    format!("{}", opts.statement_timeout.as_millis()),
                ),
                (
                    "idle_in_transaction_session_timeout",
                    format!("{}", opts.idle_in_transaction_timeout.as_millis()),
                ),
                ("timezone", "UTC".to_string()),
            ]);
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections)
            .min_connections(opts.min_connections.min(opts.max_connections))
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(_) => error::db_err(e),
                _ => BankError::Internal("postgres: cannot connect".into()),
            })?;
        let store = PgStore::from_pool(pool, &opts);
        if opts.migrate_on_connect {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Wraps an existing pool (migrations are not applied; call [`PgStore::migrate`]).
    pub fn from_pool(pool: PgPool, opts: &PgOptions) -> PgStore {
        let wait_ms = u64::try_from(opts.out_of_order_lock_wait.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        PgStore {
            pool,
            out_of_order_lock_wait_ms: wait_ms,
        }
    }

    /// Applies the embedded migrations (idempotent; safe from several processes at once).
    pub async fn migrate(&self) -> BankResult<()> {
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => error::db_err(inner),
            _ => BankError::Internal("postgres: migration failed".into()),
        })
    }

    /// The connection pool (for operational tooling and benchmarks' raw-SQL baselines).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self, mode: TxMode) -> BankResult<Box<dyn UnitOfWork>> {
        // Explicit isolation levels: a server whose default was changed must not silently
        // change the store's guarantees.
        let statement = match mode {
            TxMode::Write => "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE",
            TxMode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        };
        let tx = self
            .pool
            .begin_with(statement)
            .await
            .map_err(error::db_err)?;
        Ok(Box::new(PgUow::new(
            tx,
            mode,
            self.out_of_order_lock_wait_ms,
        )))
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }

    /// Each commit waits for a WAL flush; coalescing concurrent commands amortises it.
    fn prefers_group_commit(&self) -> bool {
        true
    }
}
