//! Stored JSON documents across versions (the shared check in the test kit): a `doc` written
//! by the previous version (no schema version field) and one carrying a field this build
//! does not know both read back. Reached behind the store through its pool.

use async_trait::async_trait;
use bankflow_core::testkit::{documents_read_across_versions, RawNotificationDocs};
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};

struct PoolDocs<'a>(&'a PgStore);

#[async_trait]
impl RawNotificationDocs for PoolDocs<'_> {
    async fn read(&mut self) -> String {
        sqlx::query_scalar("SELECT doc FROM notifications")
            .fetch_one(self.0.pool())
            .await
            .unwrap()
    }

    async fn overwrite(&mut self, doc: &str) {
        sqlx::query("UPDATE notifications SET doc = $1")
            .bind(doc)
            .execute(self.0.pool())
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_of_the_previous_version_and_with_added_fields_read_back() {
    let db = TestDatabase::create(&database_url()).await;
    let store = PgStore::connect(db.url(), PgOptions::default())
        .await
        .unwrap();
    documents_read_across_versions(&store, &mut PoolDocs(&store)).await;
    store.close().await;
    db.drop_database().await;
}
