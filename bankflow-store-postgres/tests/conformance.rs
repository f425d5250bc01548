//! The shared conformance suite (the same cases the memory and SQLite stores run) against
//! PostgreSQL, one fresh database per case.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::{self, StoreFactory};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_suite() {
    let factory = PgFactory::default();
    testkit::run_conformance(&factory).await;
    let dbs = std::mem::take(&mut *factory.databases.lock().expect("lock"));
    for db in dbs {
        db.drop_database().await;
    }
}
