//! The identity, customer, fraud, notification and audit engine cases
//! (`bankflow_core::testkit::engine_cases`) against PostgreSQL: one test per case, each on a
//! fresh database (dropped with the test's factory). The at-rest checks also search every
//! row of every table as text, so "no plain-text secret" covers rows no port lists.

use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::{register_raw_dump, StoreFactory};
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};
use sqlx::{Connection, PgConnection};

/// A fresh database per store (as `common::PgFactory` makes them, plus its URL for the dump),
/// dropped (`TestDatabase`'s drop) with the factory.
#[derive(Default)]
struct DumpedDatabases(std::sync::Mutex<Vec<TestDatabase>>);

/// Every row of every table of the database at `url`, as text (one static query: each
/// table rendered by `query_to_xml`).
async fn all_rows(url: String) -> String {
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    sqlx::query_scalar(
        "SELECT coalesce(string_agg(query_to_xml(format('SELECT * FROM %I', table_name::text), \
         true, false, '')::text, E'\\n'), '') FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("rows")
}

#[async_trait]
impl StoreFactory for DumpedDatabases {
    async fn fresh(&self) -> Arc<dyn Store> {
        let db = TestDatabase::create(&database_url()).await;
        let options = PgOptions {
            max_connections: 4,
            ..PgOptions::default()
        };
        let store = PgStore::connect(db.url(), options)
            .await
            .expect("connect and migrate");
        let store: Arc<dyn Store> = Arc::new(store);
        let url = db.url().to_string();
        register_raw_dump(&store, Box::new(move || Box::pin(all_rows(url.clone()))));
        self.0.lock().expect("lock").push(db);
        store
    }
}

bankflow_core::engine_context_tests!(DumpedDatabases::default());

#[tokio::test]
async fn at_rest_checks_search_every_table() {
    let factory = DumpedDatabases::default();
    let store = factory.fresh().await;
    let dump = bankflow_core::testkit::raw_dump(&store).await;
    assert!(dump.expect("registered").contains("<table"));
}
