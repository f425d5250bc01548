//! Notification context: `push_devices`.

use async_trait::async_trait;

use bankflow_core::ids::{DeviceId, UserId};
use bankflow_core::notify::{DeviceRepo, PushDevice};
use bankflow_core::store_support::found;
use bankflow_core::BankResult;

use crate::codec::{self, id, record, records, to_doc, ts};
use crate::uow::SqliteUow;

#[async_trait]
impl DeviceRepo for SqliteUow {
    async fn insert_device(&mut self, d: &PushDevice) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO push_devices (id, user_id, token, created_at, record) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id(d.id.0))
        .bind(id(d.user_id.0))
        .bind(&d.token)
        .bind(ts(&d.created_at))
        .bind(to_doc(d)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("push device")))?;
        Ok(())
    }

    async fn device(&mut self, key: DeviceId) -> BankResult<Option<PushDevice>> {
        let row = sqlx::query("SELECT record FROM push_devices WHERE id = ?")
            .bind(id(key.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn device_by_token(&mut self, token: &str) -> BankResult<Option<PushDevice>> {
        let row = sqlx::query("SELECT record FROM push_devices WHERE token = ?")
            .bind(token)
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn devices_of_user(&mut self, user: UserId, limit: u32) -> BankResult<Vec<PushDevice>> {
        let rows = sqlx::query(
            "SELECT record FROM push_devices WHERE user_id = ? ORDER BY created_at, id LIMIT ?",
        )
        .bind(id(user.0))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn update_device(&mut self, d: &PushDevice) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE push_devices SET user_id = ?, token = ?, created_at = ?, record = ? WHERE id = ?",
        )
        .bind(id(d.user_id.0))
        .bind(&d.token)
        .bind(ts(&d.created_at))
        .bind(to_doc(d)?)
        .bind(id(d.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("push device")))?;
        found(done.rows_affected(), "push device")
    }

    async fn delete_device(&mut self, key: DeviceId) -> BankResult<bool> {
        let done = sqlx::query("DELETE FROM push_devices WHERE id = ?")
            .bind(id(key.0))
            .execute(self.w().await?)
            .await
            .map_err(codec::err(None))?;
        Ok(done.rows_affected() > 0)
    }
}
