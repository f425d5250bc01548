//! SQLite-specific behaviour beyond the shared suite: locking across store instances (as
//! across processes), error mapping, read-only units and re-running migrations.

use bankflow_core::ports::{Store, TxMode};
use bankflow_core::{AccountId, BankError};
use bankflow_store_sqlite::{SqliteOptions, SqliteStore};

async fn two_stores(busy_timeout_ms: u64) -> (tempfile::TempDir, SqliteStore, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lock.db");
    let path = path.to_str().unwrap();
    let a = SqliteStore::open(path, SqliteOptions::default())
        .await
        .unwrap();
    let b = SqliteStore::open(
        path,
        SqliteOptions {
            busy_timeout_ms,
            ..SqliteOptions::default()
        },
    )
    .await
    .unwrap();
    (dir, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_is_transient_for_another_store() {
    let (_dir, a, b) = two_stores(100).await;
    let held = a.begin(TxMode::Write).await.unwrap();
    // BEGIN IMMEDIATE waits out the busy timeout, then reports SQLITE_BUSY: retryable.
    let err = b
        .begin(TxMode::Write)
        .await
        .err()
        .expect("write lock is held");
    assert!(matches!(err, BankError::Transient(_)), "{err:?}");
    assert!(
        !err.to_string().contains("BEGIN"),
        "no SQL text leaves the store: {err}"
    );
    // Readers are never blocked by the writer (WAL).
    let mut r = b.begin(TxMode::Read).await.unwrap();
    assert_eq!(
        r.account(AccountId(uuid::Uuid::from_u128(1)))
            .await
            .unwrap(),
        None
    );
    held.commit().await.unwrap();
    b.begin(TxMode::Write)
        .await
        .expect("free after commit")
        .commit()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_unit_releases_the_write_lock_promptly() {
    let (_dir, a, b) = two_stores(2_000).await;
    let unit = a.begin(TxMode::Write).await.unwrap();
    drop(unit);
    // The drop-time rollback frees the lock for other processes without waiting for `a`'s
    // next unit.
    let started = std::time::Instant::now();
    b.begin(TxMode::Write)
        .await
        .expect("lock released")
        .rollback()
        .await
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_millis(1_500));
    // And `a` itself starts clean.
    a.begin(TxMode::Write)
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_units_refuse_writes_and_migrations_rerun() {
    let (_dir, a, _b) = two_stores(100).await;
    let mut r = a.begin(TxMode::Read).await.unwrap();
    let err = r.append_events(&[]).await.unwrap_err();
    assert_eq!(
        err,
        BankError::internal("write in a read-only unit of work")
    );
    drop(r);
    a.migrate().await.expect("idempotent");
    a.integrity_check().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    let err = SqliteStore::open(
        path.to_str().unwrap(),
        SqliteOptions {
            read_connections_max: 0,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "validation_error");
    let err = SqliteStore::open("/nonexistent-dir/sub/x.db", SqliteOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "internal_error");
}
