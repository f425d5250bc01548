//! Opening the store a `Bank.open` target names.

use std::sync::Arc;

use bankflow_core::crypto::{DataKey, KeyProvider, StaticKeyRing};
use bankflow_core::{BankError, BankResult, MemoryStore, Store};

/// Id of a key given as `dataKey`: the one bankflow-http gives its key, so a database
/// written by the server reads back here with the same key.
const DATA_KEY_ID: &str = "k1";

/// The key ring for `dataKey` (64 hex digits), if one was given.
pub(crate) fn data_keys(hex: Option<&str>) -> BankResult<Option<Arc<dyn KeyProvider>>> {
    let Some(hex) = hex else { return Ok(None) };
    let ring = StaticKeyRing::new(DATA_KEY_ID, DataKey::from_hex(hex.trim())?)?;
    Ok(Some(Arc::new(ring)))
}

/// `None` or `":memory:"` is the in-memory store, a `postgres://` / `postgresql://` URL is
/// PostgreSQL, anything else a SQLite path or `sqlite:` URL.
pub(crate) async fn open(target: Option<String>) -> BankResult<Arc<dyn Store>> {
    match target.as_deref().map(str::trim) {
        None | Some(":memory:") => Ok(Arc::new(MemoryStore::new())),
        Some("") => Err(BankError::validation(
            "path",
            "give a SQLite path, a postgres:// URL or \":memory:\"",
        )),
        Some(url) => {
            // The SQL stores' opening futures are not provably `Send` (sqlx migrations); run
            // them to completion on a blocking thread of the same runtime instead.
            let url = url.to_string();
            let handle = napi::tokio::runtime::Handle::current();
            napi::tokio::task::spawn_blocking(move || handle.block_on(open_sql(&url)))
                .await
                .map_err(|e| BankError::internal(format!("store open task failed: {e}")))?
        }
    }
}

async fn open_sql(url: &str) -> BankResult<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        open_postgres(url).await
    } else {
        open_sqlite(url).await
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> BankResult<Arc<dyn Store>> {
    use bankflow_store_postgres::{PgOptions, PgStore};
    Ok(Arc::new(PgStore::connect(url, PgOptions::default()).await?))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str) -> BankResult<Arc<dyn Store>> {
    Err(BankError::validation(
        "path",
        "this build of bankflow has no PostgreSQL support",
    ))
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &str) -> BankResult<Arc<dyn Store>> {
    use bankflow_store_sqlite::{SqliteOptions, SqliteStore};
    Ok(Arc::new(
        SqliteStore::open(path, SqliteOptions::default()).await?,
    ))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_path: &str) -> BankResult<Arc<dyn Store>> {
    Err(BankError::validation(
        "path",
        "this build of bankflow has no SQLite support",
    ))
}
