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

/// Rows a committed unit leaves cached for the next one must never hide another writer's
/// commit (another process on the same file, here another store instance).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_rows_never_hide_another_writers_commit() {
    use bankflow_core::account::{Account, AccountNumber, AccountStatus, AccountType};
    use bankflow_core::{Currency, CustomerId};
    use rust_decimal::Decimal;

    let (_dir, a, b) = two_stores(2_000).await;
    let at = chrono::Utc::now();
    let mut acc = Account {
        id: AccountId(uuid::Uuid::from_u128(1)),
        account_number: AccountNumber::from_body(7919),
        customer_id: CustomerId(uuid::Uuid::from_u128(2)),
        account_type: AccountType::Checking,
        currency: Currency::USD,
        balance: Decimal::ZERO,
        held: Decimal::ZERO,
        overdraft_limit: Decimal::ZERO,
        daily_limit: None,
        daily_out_date: at.date_naive(),
        daily_out_total: Decimal::ZERO,
        status: AccountStatus::Active,
        opened_at: at,
        closed_at: None,
        updated_at: at,
        version: 1,
    };
    let mut u = a.begin(TxMode::Write).await.unwrap();
    u.insert_account(&acc).await.unwrap();
    u.commit().await.unwrap();
    // `a` reads (and caches) the account, then commits.
    let mut u = a.begin(TxMode::Write).await.unwrap();
    assert_eq!(u.lock_accounts(&[acc.id]).await.unwrap(), vec![acc.clone()]);
    u.commit().await.unwrap();
    // `b` changes it.
    acc.balance = Decimal::new(1_234, 2);
    acc.version = 2;
    let mut u = b.begin(TxMode::Write).await.unwrap();
    u.lock_accounts(&[acc.id]).await.unwrap();
    u.update_account(&acc).await.unwrap();
    u.commit().await.unwrap();
    // `a` sees `b`'s commit, not its cached copy.
    let mut u = a.begin(TxMode::Write).await.unwrap();
    assert_eq!(u.lock_accounts(&[acc.id]).await.unwrap(), vec![acc.clone()]);
    assert_eq!(u.account(acc.id).await.unwrap(), Some(acc.clone()));
    u.rollback().await.unwrap();
}

/// A write unit that holds the writer makes a second `begin` of the same store wait at most
/// `writer_wait_ms`, then fail with the typed, retryable busy error (it used to wait forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_times_out_with_a_transient_busy_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let store = SqliteStore::open(
        path.to_str().unwrap(),
        SqliteOptions {
            writer_wait_ms: 100,
            ..SqliteOptions::default()
        },
    )
    .await
    .unwrap();
    let held = store.begin(TxMode::Write).await.unwrap();
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        store.begin(TxMode::Write),
    )
    .await
    .expect("begin returns instead of waiting forever")
    .err()
    .expect("the writer is held");
    let waited = started.elapsed();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.code(), "transient");
    assert!(err.to_string().contains("writer busy"), "{err}");
    assert!(
        waited >= std::time::Duration::from_millis(100),
        "{waited:?}"
    );
    // Once the holder is done, the next writer gets in.
    drop(held);
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        store.begin(TxMode::Write),
    )
    .await
    .expect("the writer is free again");
    assert!(next.is_ok());
}

/// Finding 12 of the security review: a database created in an existing (shared) directory
/// was 0644, readable by every local user. It is created 0600, and so are its WAL and SHM.
#[cfg(unix)]
#[tokio::test]
async fn finding_12_a_new_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // A directory others may read, as a pre-existing data dir often is.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("bank.db");
    let store = SqliteStore::open(path.to_str().unwrap(), SqliteOptions::default())
        .await
        .unwrap();
    // A write makes SQLite create the WAL (and SHM) files.
    let uow = store.begin(TxMode::Write).await.unwrap();
    uow.commit().await.unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
        checked += 1;
    }
    assert!(checked >= 1, "the database file exists");
}
