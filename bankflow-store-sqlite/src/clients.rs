//! Identity context: `service_clients` (OAuth2 client credentials). Never buffered: every
//! write goes straight to the database, so reads need no flush.

use async_trait::async_trait;

use bankflow_core::identity::{ClientRepo, ServiceClient};
use bankflow_core::ids::ClientId;
use bankflow_core::store_support::found;
use bankflow_core::BankResult;

use crate::codec::{self, id, record, records, to_doc, ts};
use crate::uow::SqliteUow;

#[async_trait]
impl ClientRepo for SqliteUow {
    async fn insert_client(&mut self, c: &ServiceClient) -> BankResult<()> {
        sqlx::query("INSERT INTO service_clients (id, created_at, record) VALUES (?, ?, ?)")
            .bind(id(c.id.0))
            .bind(ts(&c.created_at))
            .bind(to_doc(c)?)
            .execute(self.w().await?)
            .await
            .map_err(codec::err(Some("service client")))?;
        Ok(())
    }

    async fn client(&mut self, key: ClientId) -> BankResult<Option<ServiceClient>> {
        let row = sqlx::query("SELECT record FROM service_clients WHERE id = ?")
            .bind(id(key.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn update_client(&mut self, c: &ServiceClient) -> BankResult<()> {
        let done = sqlx::query("UPDATE service_clients SET record = ? WHERE id = ?")
            .bind(to_doc(c)?)
            .bind(id(c.id.0))
            .execute(self.w().await?)
            .await
            .map_err(codec::err(Some("service client")))?;
        found(done.rows_affected(), "service client")
    }

    async fn list_clients(&mut self, limit: u32) -> BankResult<Vec<ServiceClient>> {
        let rows =
            sqlx::query("SELECT record FROM service_clients ORDER BY created_at, id LIMIT ?")
                .bind(i64::from(limit))
                .fetch_all(self.unbuffered()?)
                .await
                .map_err(codec::err(None))?;
        records(&rows)
    }
}
