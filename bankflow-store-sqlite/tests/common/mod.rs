//! Fresh SQLite stores on temporary files, for the shared test kit.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::StoreFactory;
use bankflow_store_sqlite::{SqliteOptions, SqliteStore};
use tempfile::TempDir;

/// Each `fresh()` is a new database file (default settings: WAL, synchronous=FULL) in its
/// own temporary directory, kept until the factory is dropped.
#[derive(Default)]
pub struct FileFactory {
    dirs: Mutex<Vec<TempDir>>,
}

impl FileFactory {
    /// A new store and the path of its file.
    pub async fn open(&self) -> (SqliteStore, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bankflow.db");
        let store = SqliteStore::open(path.to_str().expect("utf-8 path"), SqliteOptions::default())
            .await
            .expect("open");
        self.dirs.lock().expect("dirs").push(dir);
        (store, path)
    }
}

#[async_trait]
impl StoreFactory for FileFactory {
    async fn fresh(&self) -> Arc<dyn Store> {
        Arc::new(self.open().await.0)
    }
}
