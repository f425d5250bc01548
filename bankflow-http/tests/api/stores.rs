//! The journeys on the SQL stores. PostgreSQL comes from `DATABASE_URL`; without it the test
//! fails (it is not skipped): CI sets it, and a silent skip would hide a broken adapter.

use std::sync::Arc;

use bankflow_store_postgres::{PgOptions, PgStore};
use bankflow_store_sqlite::{SqliteOptions, SqliteStore};
use sqlx::Connection;
use uuid::Uuid;

use crate::helpers::{relaxed_limits, TestApp};
use crate::journey::{money_journey, user_journey};

async fn sqlite_app() -> (TestApp, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("bankflow-http-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bankflow.db");
    let store = SqliteStore::open(path.to_str().unwrap(), SqliteOptions::default())
        .await
        .unwrap();
    (TestApp::with(Arc::new(store), relaxed_limits()), dir)
}

/// A fresh database on the server of `DATABASE_URL`, so runs never see each other's data;
/// returns the app, its store and a function of cleanup data (admin URL, database name).
async fn postgres_app() -> (TestApp, PgStore, String, String) {
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server for the HTTP journey (e.g. postgres://postgres@127.0.0.1:5432/test)");
    let name = format!("bankflow_http_{}", Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to DATABASE_URL");
    // The name is built from a UUID: nothing of the caller reaches the statement.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.ok();
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (url.clone(), String::new()),
    };
    let prefix = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('/') {
            Some((host, _db)) => format!("{scheme}://{host}"),
            None => format!("{scheme}://{rest}"),
        },
        None => panic!("DATABASE_URL is not a URL"),
    };
    let store = PgStore::connect(&format!("{prefix}/{name}{query}"), PgOptions::default())
        .await
        .unwrap();
    (
        TestApp::with(Arc::new(store.clone()), relaxed_limits()),
        store,
        url,
        name,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_on_sqlite() {
    let (app, dir) = sqlite_app().await;
    user_journey(&app).await;
    money_journey(&app).await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_on_postgres() {
    let (app, store, url, name) = postgres_app().await;
    user_journey(&app).await;
    money_journey(&app).await;
    drop(app);
    store.close().await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .ok();
}
