//! Webhook context: `webhook_subscriptions`, `webhook_deliveries`.

use async_trait::async_trait;
use bankflow_core::store_support::found;
use bankflow_core::webhook::{DeliveryStatus, WebhookDelivery, WebhookRepo, WebhookSubscription};
use bankflow_core::BankResult;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::db_err;
use crate::rows::{docs, enum_str, from_doc, to_doc};
use crate::uow::PgUow;

async fn one<T: serde::de::DeserializeOwned>(
    uow: &mut PgUow,
    sql: &'static str,
    key: Uuid,
) -> BankResult<Option<T>> {
    let row = sqlx::query(sql)
        .bind(key)
        .fetch_optional(&mut *uow.tx)
        .await
        .map_err(db_err)?;
    row.as_ref().map(from_doc).transpose()
}

#[async_trait]
impl WebhookRepo for PgUow {
    async fn insert_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(
            sqlx::query(
                "INSERT INTO webhook_subscriptions (id, created_at, doc) VALUES ($1, $2, $3)",
            )
            .bind(w.id)
            .bind(w.created_at)
            .bind(to_doc(w)?),
        )
        .await
        .map_err(|e| match e {
            bankflow_core::BankError::Duplicate(_) => {
                bankflow_core::BankError::Duplicate("webhook")
            }
            e => e,
        })?;
        Ok(())
    }

    async fn webhook(&mut self, key: Uuid) -> BankResult<Option<WebhookSubscription>> {
        one(
            self,
            "SELECT doc FROM webhook_subscriptions WHERE id = $1",
            key,
        )
        .await
    }

    async fn update_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()> {
        self.before_write().await?;
        let done = self
            .exec_guarded(
                sqlx::query(
                    "UPDATE webhook_subscriptions SET created_at = $2, doc = $3 WHERE id = $1",
                )
                .bind(w.id)
                .bind(w.created_at)
                .bind(to_doc(w)?),
            )
            .await?;
        found(done.rows_affected(), "webhook")
    }

    async fn delete_webhook(&mut self, key: Uuid) -> BankResult<bool> {
        self.before_write().await?;
        self.exec_guarded(
            sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1").bind(key),
        )
        .await?;
        let done = self
            .exec_guarded(sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1").bind(key))
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_webhooks(&mut self, limit: u32) -> BankResult<Vec<WebhookSubscription>> {
        let rows =
            sqlx::query("SELECT doc FROM webhook_subscriptions ORDER BY created_at, id LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_err)?;
        docs(&rows)
    }

    async fn insert_delivery(&mut self, d: &WebhookDelivery) -> BankResult<bool> {
        self.before_write().await?;
        let done = self
            .exec_guarded(
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, subscription_id, event_id, status, next_attempt_at, \
                     lease_until, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (subscription_id, event_id) DO NOTHING",
                )
                .bind(d.id)
                .bind(d.subscription_id)
                .bind(d.event_id.0)
                .bind(enum_str(&d.status)?)
                .bind(d.next_attempt_at)
                .bind(d.lease_until)
                .bind(d.created_at)
                .bind(to_doc(d)?),
            )
            .await
            .map_err(|e| match e {
                bankflow_core::BankError::Duplicate(_) => {
                    bankflow_core::BankError::Duplicate("webhook delivery")
                }
                e => e,
            })?;
        Ok(done.rows_affected() > 0)
    }

    async fn delivery(&mut self, key: Uuid) -> BankResult<Option<WebhookDelivery>> {
        one(
            self,
            "SELECT doc FROM webhook_deliveries WHERE id = $1",
            key,
        )
        .await
    }

    async fn update_delivery(&mut self, d: &WebhookDelivery) -> BankResult<()> {
        self.before_write().await?;
        let done = self
            .exec_guarded(
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $2, next_attempt_at = $3, lease_until = $4, doc = $5 \
                     WHERE id = $1",
                )
                .bind(d.id)
                .bind(enum_str(&d.status)?)
                .bind(d.next_attempt_at)
                .bind(d.lease_until)
                .bind(to_doc(d)?),
            )
            .await?;
        found(done.rows_affected(), "webhook delivery")
    }

    async fn deliveries_of_webhook(
        &mut self,
        subscription: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>> {
        let rows = match before {
            None => sqlx::query(
                "SELECT doc FROM webhook_deliveries WHERE subscription_id = $1 \
                 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(subscription)
            .bind(i64::from(limit)),
            // The cursor row must belong to the same subscription, else the join is empty.
            Some(c) => sqlx::query(
                "SELECT d.doc FROM webhook_deliveries d JOIN webhook_deliveries c \
                 ON c.id = $2 AND c.subscription_id = $1 WHERE d.subscription_id = $1 \
                 AND (d.created_at, d.id) < (c.created_at, c.id) \
                 ORDER BY d.created_at DESC, d.id DESC LIMIT $3",
            )
            .bind(subscription)
            .bind(c)
            .bind(i64::from(limit)),
        }
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn claim_due_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>> {
        self.before_write().await?;
        // SKIP LOCKED: workers in several processes split the due deliveries instead of
        // queueing behind each other, and one leased by a worker is not sent by another.
        let rows = sqlx::query(
            "SELECT doc FROM webhook_deliveries WHERE status = $1 AND next_attempt_at <= $2 \
             AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at, id LIMIT $3 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind(enum_str(&DeliveryStatus::Pending)?)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut due: Vec<WebhookDelivery> = docs(&rows)?;
        for d in &mut due {
            d.lease_until = Some(lease_until);
            self.update_delivery(d).await?;
        }
        Ok(due)
    }

    async fn purge_deliveries(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        self.before_write().await?;
        // SKIP LOCKED: a delivery a worker holds right now is left for the next pass.
        let done = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries \
             WHERE status <> $1 AND created_at < $2 ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)",
        )
        .bind(enum_str(&DeliveryStatus::Pending)?)
        .bind(before)
        .bind(i64::from(limit.min(bankflow_core::ports::PURGE_BATCH_MAX)))
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
