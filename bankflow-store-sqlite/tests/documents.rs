//! Stored JSON documents across versions (the shared check in the test kit): a `record`
//! written by the previous version (no schema version field) and one carrying a field this
//! build does not know both read back. Reached behind the store by a second connection.

mod common;

use async_trait::async_trait;
use bankflow_core::testkit::{documents_read_across_versions, RawNotificationDocs};
use sqlx::{Connection, SqliteConnection};

struct RawDocs(SqliteConnection);

#[async_trait]
impl RawNotificationDocs for RawDocs {
    async fn read(&mut self) -> String {
        sqlx::query_scalar("SELECT record FROM notifications")
            .fetch_one(&mut self.0)
            .await
            .unwrap()
    }

    async fn overwrite(&mut self, doc: &str) {
        sqlx::query("UPDATE notifications SET record = ?")
            .bind(doc)
            .execute(&mut self.0)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_of_the_previous_version_and_with_added_fields_read_back() {
    let factory = common::FileFactory::default();
    let (store, path) = factory.open().await;
    let conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mut raw = RawDocs(conn);
    documents_read_across_versions(&store, &mut raw).await;
    raw.0.close().await.unwrap();
}
