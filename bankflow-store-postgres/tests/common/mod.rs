//! Fresh PostgreSQL stores for the shared test kit: each `fresh()` is a new database on
//! the server of DATABASE_URL (`source scripts/pg-test-env.sh`), dropped with the factory.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::StoreFactory;
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};

/// Creates a database per store; drops them all (`TestDatabase`'s drop) when dropped.
#[derive(Default)]
pub struct PgFactory {
    databases: Mutex<Vec<TestDatabase>>,
    /// Drop the previous database in the background on each `fresh()` (for tests that make
    /// many stores one after another: a DROP DATABASE costs a checkpoint, about a second
    /// here, which then overlaps the next case instead of adding up at the end).
    rolling: bool,
}

impl PgFactory {
    /// A factory that keeps only its newest database (see `rolling`).
    #[allow(dead_code)] // Used by the model test, not by every test binary sharing this module.
    pub fn rolling() -> PgFactory {
        PgFactory {
            rolling: true,
            ..PgFactory::default()
        }
    }
}

#[async_trait]
impl StoreFactory for PgFactory {
    async fn fresh(&self) -> Arc<dyn Store> {
        if self.rolling {
            let previous = std::mem::take(&mut *self.databases.lock().expect("lock"));
            for db in previous {
                // Cancelled at the runtime's end, the task drops `db`, whose Drop drops it.
                tokio::spawn(db.drop_database());
            }
        }
        let db = TestDatabase::create(&database_url()).await;
        let store = PgStore::connect(
            db.url(),
            PgOptions {
                max_connections: 4,
                ..PgOptions::default()
            },
        )
        .await
        .expect("connect and migrate a fresh database");
        self.databases.lock().expect("lock").push(db);
        Arc::new(store)
    }
}
