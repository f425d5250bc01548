//! Identity context: `service_clients` (OAuth2 client credentials).

use async_trait::async_trait;
use bankflow_core::identity::{ClientRepo, ServiceClient};
use bankflow_core::ids::ClientId;
use bankflow_core::store_support::found;
use bankflow_core::{BankError, BankResult};

use crate::error::db_err;
use crate::rows::{docs, from_doc, to_doc};
use crate::uow::PgUow;

/// A unique violation named as the port promises.
fn duplicate_client(e: BankError) -> BankError {
    match e {
        BankError::Duplicate(_) => BankError::Duplicate("service client"),
        e => e,
    }
}

#[async_trait]
impl ClientRepo for PgUow {
    async fn insert_client(&mut self, c: &ServiceClient) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(
            sqlx::query("INSERT INTO service_clients (id, created_at, doc) VALUES ($1, $2, $3)")
                .bind(c.id.0)
                .bind(c.created_at)
                .bind(to_doc(c)?),
        )
        .await
        .map_err(duplicate_client)?;
        Ok(())
    }

    async fn client(&mut self, key: ClientId) -> BankResult<Option<ServiceClient>> {
        let row = sqlx::query("SELECT doc FROM service_clients WHERE id = $1")
            .bind(key.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_client(&mut self, c: &ServiceClient) -> BankResult<()> {
        self.before_write().await?;
        let done = self
            .exec_guarded(
                sqlx::query("UPDATE service_clients SET doc = $2 WHERE id = $1")
                    .bind(c.id.0)
                    .bind(to_doc(c)?),
            )
            .await?;
        found(done.rows_affected(), "service client")
    }

    async fn list_clients(&mut self, limit: u32) -> BankResult<Vec<ServiceClient>> {
        let rows = sqlx::query("SELECT doc FROM service_clients ORDER BY created_at, id LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        docs(&rows)
    }
}
