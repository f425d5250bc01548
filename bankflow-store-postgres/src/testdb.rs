//! Throwaway databases for tests and benchmarks: each gets `bf_test_<uuid>`, created on the
//! server named by `DATABASE_URL` and dropped afterwards (best effort).
//!
//! The PostgreSQL suite never skips: [`database_url`] panics with instructions when
//! `DATABASE_URL` is unset, and [`TestDatabase::create`] panics when the server is unreachable.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

/// `DATABASE_URL`, or a panic explaining how to get one.
pub fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "DATABASE_URL is not set. The PostgreSQL tests need a server and never skip: \
             run `source scripts/pg-test-env.sh` (it finds or starts one) and retry."
        ),
    }
}

/// Replaces the database name in a `postgres://` URL (keeps user, host, port and parameters).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// A database created for one test; dropped by [`TestDatabase::drop_database`] or, failing
/// that, when the value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl TestDatabase {
    /// Creates an empty database on the server of `admin_url` (normally [`database_url`]).
    pub async fn create(admin_url: &str) -> TestDatabase {
        let name = format!("bf_test_{}", uuid::Uuid::new_v4().simple());
        let opts = PgConnectOptions::from_str(admin_url)
            .unwrap_or_else(|e| panic!("DATABASE_URL is not a valid postgres URL: {e}"));
        let mut conn = opts.connect().await.unwrap_or_else(|e| {
            panic!(
                "cannot reach PostgreSQL at DATABASE_URL ({e}). The PostgreSQL tests never skip: \
                 run `source scripts/pg-test-env.sh` to start a server."
            )
        });
        // The name is generated above (hex digits only), never user input.
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE failed: {e}"));
        conn.close().await.ok();
        let url = with_database(admin_url, &name);
        TestDatabase {
            admin_url: admin_url.to_string(),
            name,
            url,
            dropped: false,
        }
    }

    /// URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, disconnecting anyone still connected (best effort).
    pub async fn drop_database(mut self) {
        drop_db(&self.admin_url, &self.name).await;
        self.dropped = true;
    }
}

async fn drop_db(admin_url: &str, name: &str) {
    let Ok(opts) = PgConnectOptions::from_str(admin_url) else {
        return;
    };
    if let Ok(mut conn) = opts.connect().await {
        let _ = sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
        conn.close().await.ok();
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Possibly inside a runtime (a panicking test): drop from a thread with its own.
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_db(&admin, &name));
            }
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
