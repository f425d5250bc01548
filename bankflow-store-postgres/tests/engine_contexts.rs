//! The identity, customer, fraud, notification and audit engine cases
//! (`bankflow_core::testkit::engine_cases`) against PostgreSQL: one test per case, each on a
//! fresh database (dropped with the test's factory). The at-rest checks also search every
//! row of every table as text, so "no plain-text secret" covers rows no port lists.

use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::ports::Store;
use bankflow_core::testkit::{register_audit_tamper, register_raw_dump, AuditTamper, StoreFactory};
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

/// An insider's SQL: a truncation also moves the chain head back, so new entries continue
/// without a gap.
async fn tamper(url: String, t: AuditTamper) {
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    match t {
        AuditTamper::TruncateFrom(n) => {
            sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
                .bind(n)
                .execute(&mut conn)
                .await
                .expect("delete");
            sqlx::query(
                "UPDATE audit_head SET seq = coalesce((SELECT max(seq) FROM audit_log), 0), \
                 hash = coalesce((SELECT doc::jsonb->>'hash' FROM audit_log ORDER BY seq DESC LIMIT 1), \
                 '0000000000000000000000000000000000000000000000000000000000000000')",
            )
            .execute(&mut conn)
            .await
            .expect("head");
        }
        AuditTamper::SetDetail(seq, d) => {
            sqlx::query("UPDATE audit_log SET doc = jsonb_set(doc::jsonb, '{detail}', $1::jsonb)::text WHERE seq = $2")
                .bind(d.to_string())
                .bind(seq)
                .execute(&mut conn)
                .await
                .expect("set detail");
        }
    }
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
        let dumped = url.clone();
        register_raw_dump(&store, Box::new(move || Box::pin(all_rows(dumped.clone()))));
        register_audit_tamper(&store, Box::new(move |t| Box::pin(tamper(url.clone(), t))));
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
