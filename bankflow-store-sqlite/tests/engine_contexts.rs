//! The identity, customer, fraud, notification and audit engine cases
//! (`bankflow_core::testkit::engine_cases`) against SQLite files: one test per case, each on
//! its own database file. The at-rest checks also search the raw bytes of the database file
//! and its WAL, so "no plain-text secret" means on disk, not only through the ports.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::{register_raw_dump, StoreFactory};
use common::FileFactory;

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

#[async_trait]
impl StoreFactory for DumpedFiles {
    async fn fresh(&self) -> Arc<dyn Store> {
        let (store, path) = self.0.open().await;
        let store: Arc<dyn Store> = Arc::new(store);
        register_raw_dump(
            &store,
            Box::new(move || {
                let path = path.clone();
                Box::pin(async move { file_bytes(&path) })
            }),
        );
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
