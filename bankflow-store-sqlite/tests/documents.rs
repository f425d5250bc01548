//! Stored JSON documents across versions: a `record` written by the previous version (no
//! schema version field) and one carrying a field this build does not know both read back.

mod common;

use bankflow_core::notify::Channel;
use bankflow_core::ports::{Store, TxMode};
use bankflow_core::testkit::notification;
use chrono::{TimeZone, Utc};
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_of_the_previous_version_and_with_added_fields_read_back() {
    let factory = common::FileFactory::default();
    let (store, path) = factory.open().await;
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 9, 30, 0).unwrap();
    let n = notification(1, 10, Channel::Email, at);
    let mut u = store.begin(TxMode::Write).await.unwrap();
    u.insert_notification(&n).await.unwrap();
    u.commit().await.unwrap();

    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let stored: String = sqlx::query_scalar("SELECT record FROM notifications")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert!(
        stored.contains(r#""_v":1"#),
        "written with its version: {stored}"
    );

    let previous = serde_json::to_string(&n).unwrap();
    let mut added: serde_json::Value = serde_json::from_str(&stored).unwrap();
    added["addedByALaterVersion"] = serde_json::json!({"nested": [1, 2]});
    for record in [previous, added.to_string()] {
        sqlx::query("UPDATE notifications SET record = ?")
            .bind(&record)
            .execute(&mut raw)
            .await
            .unwrap();
        let mut r = store.begin(TxMode::Read).await.unwrap();
        assert_eq!(
            r.notification(n.id).await.unwrap(),
            Some(n.clone()),
            "{record}"
        );
    }
    raw.close().await.unwrap();
}
