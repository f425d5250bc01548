//! The shared conformance suite (the same cases the memory and SQLite stores run) against
//! PostgreSQL: one test per case, each on a fresh database.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::StoreFactory;
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};

#[derive(Default)]
struct PgFactory {
    databases: Mutex<Vec<TestDatabase>>,
}

#[async_trait]
impl StoreFactory for PgFactory {
    async fn fresh(&self) -> Arc<dyn Store> {
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

// Each test gets its own factory, so its own fresh database, dropped with the factory
// (`TestDatabase`'s drop) when the test ends, passed or failed.
bankflow_core::conformance_tests!(PgFactory::default());
