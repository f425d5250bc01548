//! Notification context: `push_devices`.

use async_trait::async_trait;
use bankflow_core::ids::{DeviceId, UserId};
use bankflow_core::notify::{DeviceRepo, PushDevice};
use bankflow_core::store_support::found;
use bankflow_core::{BankError, BankResult};

use crate::error::db_err;
use crate::rows::{docs, from_doc, to_doc};
use crate::uow::PgUow;

/// A unique violation (id or token) named as the port promises.
fn duplicate_device(e: BankError) -> BankError {
    match e {
        BankError::Duplicate(_) => BankError::Duplicate("push device"),
        e => e,
    }
}

#[async_trait]
impl DeviceRepo for PgUow {
    async fn insert_device(&mut self, d: &PushDevice) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(
            sqlx::query(
                "INSERT INTO push_devices (id, user_id, token, created_at, doc) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(d.id.0)
            .bind(d.user_id.0)
            .bind(&d.token)
            .bind(d.created_at)
            .bind(to_doc(d)?),
        )
        .await
        .map_err(duplicate_device)?;
        Ok(())
    }

    async fn device(&mut self, key: DeviceId) -> BankResult<Option<PushDevice>> {
        let row = sqlx::query("SELECT doc FROM push_devices WHERE id = $1")
            .bind(key.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn device_by_token(&mut self, token: &str) -> BankResult<Option<PushDevice>> {
        let row = sqlx::query("SELECT doc FROM push_devices WHERE token = $1")
            .bind(token)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn devices_of_user(&mut self, user: UserId, limit: u32) -> BankResult<Vec<PushDevice>> {
        let rows = sqlx::query(
            "SELECT doc FROM push_devices WHERE user_id = $1 ORDER BY created_at, id LIMIT $2",
        )
        .bind(user.0)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn update_device(&mut self, d: &PushDevice) -> BankResult<()> {
        self.before_write().await?;
        let done = self
            .exec_guarded(
                sqlx::query(
                    "UPDATE push_devices SET user_id = $2, token = $3, created_at = $4, doc = $5 WHERE id = $1",
                )
                .bind(d.id.0)
                .bind(d.user_id.0)
                .bind(&d.token)
                .bind(d.created_at)
                .bind(to_doc(d)?),
            )
            .await
            .map_err(duplicate_device)?;
        found(done.rows_affected(), "push device")
    }

    async fn delete_device(&mut self, key: DeviceId) -> BankResult<bool> {
        self.before_write().await?;
        let done = self
            .exec_guarded(sqlx::query("DELETE FROM push_devices WHERE id = $1").bind(key.0))
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
