//! The identity, customer, fraud, notification and audit engine cases
//! (`bankflow_core::testkit::engine_cases`) against SQLite files: one test per case, each on
//! its own database file. The at-rest checks also search the raw bytes of the database file
//! and its WAL, so "no plain-text secret" means on disk, not only through the ports.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::{register_audit_tamper, register_raw_dump, AuditTamper, StoreFactory};
use common::FileFactory;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

/// `FileFactory` stores whose files are dumped for the at-rest checks.
#[derive(Default)]
struct DumpedFiles(FileFactory);

/// The database file and its WAL as (lossy) text; a missing WAL reads as empty.
fn file_bytes(path: &Path) -> String {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut text = String::new();
    for p in [path.to_path_buf(), PathBuf::from(wal)] {
        let bytes = std::fs::read(&p).unwrap_or_default();
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    text
}

/// An insider's SQL against the database file, on a connection of its own.
async fn tamper(path: PathBuf, t: AuditTamper) {
    let opts = SqliteConnectOptions::new()
        .filename(&path)
        .busy_timeout(std::time::Duration::from_secs(10));
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .expect("connect");
    let q = match t {
        AuditTamper::TruncateFrom(n) => sqlx::query("DELETE FROM audit_log WHERE seq >= ?").bind(n),
        AuditTamper::SetDetail(seq, d) => sqlx::query(
            "UPDATE audit_log SET record = json_set(record, '$.detail', json(?)) WHERE seq = ?",
        )
        .bind(d.to_string())
        .bind(seq),
    };
    q.execute(&mut conn).await.expect("tamper");
}

#[async_trait]
impl StoreFactory for DumpedFiles {
    async fn fresh(&self) -> Arc<dyn Store> {
        let (store, path) = self.0.open().await;
        let store: Arc<dyn Store> = Arc::new(store);
        let dumped = path.clone();
        register_raw_dump(
            &store,
            Box::new(move || {
                let path = dumped.clone();
                Box::pin(async move { file_bytes(&path) })
            }),
        );
        register_audit_tamper(&store, Box::new(move |t| Box::pin(tamper(path.clone(), t))));
        store
    }
}

bankflow_core::engine_context_tests!(DumpedFiles::default());

#[tokio::test]
async fn at_rest_checks_search_the_database_file() {
    let factory = DumpedFiles::default();
    let store = factory.fresh().await;
    let dump = bankflow_core::testkit::raw_dump(&store).await;
    assert!(dump.expect("registered").starts_with("SQLite format 3"));
}
