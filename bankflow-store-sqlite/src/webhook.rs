//! Webhook context: `webhook_subscriptions`, `webhook_deliveries`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use bankflow_core::store_support::found;
use bankflow_core::webhook::{DeliveryStatus, WebhookDelivery, WebhookRepo, WebhookSubscription};
use bankflow_core::BankResult;

use crate::codec::{self, id, opt_ts, record, records, to_doc, ts};
use crate::uow::SqliteUow;

async fn one<T: serde::de::DeserializeOwned>(
    uow: &mut SqliteUow,
    sql: &'static str,
    key: Uuid,
) -> BankResult<Option<T>> {
    let row = sqlx::query(sql)
        .bind(id(key))
        .fetch_optional(uow.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
    row.as_ref().map(record).transpose()
}

#[async_trait]
impl WebhookRepo for SqliteUow {
    async fn insert_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()> {
        sqlx::query("INSERT INTO webhook_subscriptions (id, created_at, record) VALUES (?, ?, ?)")
            .bind(id(w.id))
            .bind(ts(&w.created_at))
            .bind(to_doc(w)?)
            .execute(self.w().await?)
            .await
            .map_err(codec::err(Some("webhook")))?;
        Ok(())
    }

    async fn webhook(&mut self, key: Uuid) -> BankResult<Option<WebhookSubscription>> {
        one(
            self,
            "SELECT record FROM webhook_subscriptions WHERE id = ?",
            key,
        )
        .await
    }

    async fn update_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()> {
        let done =
            sqlx::query("UPDATE webhook_subscriptions SET created_at = ?, record = ? WHERE id = ?")
                .bind(ts(&w.created_at))
                .bind(to_doc(w)?)
                .bind(id(w.id))
                .execute(self.w().await?)
                .await
                .map_err(codec::err(None))?;
        found(done.rows_affected(), "webhook")
    }

    async fn delete_webhook(&mut self, key: Uuid) -> BankResult<bool> {
        sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = ?")
            .bind(id(key))
            .execute(self.w().await?)
            .await
            .map_err(codec::err(None))?;
        let done = sqlx::query("DELETE FROM webhook_subscriptions WHERE id = ?")
            .bind(id(key))
            .execute(self.w().await?)
            .await
            .map_err(codec::err(None))?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_webhooks(&mut self, limit: u32) -> BankResult<Vec<WebhookSubscription>> {
        let rows =
            sqlx::query("SELECT record FROM webhook_subscriptions ORDER BY created_at, id LIMIT ?")
                .bind(i64::from(limit))
                .fetch_all(self.unbuffered()?)
                .await
                .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn insert_delivery(&mut self, d: &WebhookDelivery) -> BankResult<bool> {
        let done = sqlx::query(
            "INSERT INTO webhook_deliveries (id, subscription_id, event_id, status, next_attempt_at, lease_until, \
             created_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING",
        )
        .bind(id(d.id))
        .bind(id(d.subscription_id))
        .bind(id(d.event_id.0))
        .bind(d.status.as_str())
        .bind(ts(&d.next_attempt_at))
        .bind(opt_ts(&d.lease_until))
        .bind(ts(&d.created_at))
        .bind(to_doc(d)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("webhook delivery")))?;
        Ok(done.rows_affected() > 0)
    }

    async fn delivery(&mut self, key: Uuid) -> BankResult<Option<WebhookDelivery>> {
        one(
            self,
            "SELECT record FROM webhook_deliveries WHERE id = ?",
            key,
        )
        .await
    }

    async fn update_delivery(&mut self, d: &WebhookDelivery) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, lease_until = ?, record = ? WHERE id = ?",
        )
        .bind(d.status.as_str())
        .bind(ts(&d.next_attempt_at))
        .bind(opt_ts(&d.lease_until))
        .bind(to_doc(d)?)
        .bind(id(d.id))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
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
                "SELECT record FROM webhook_deliveries WHERE subscription_id = ? \
                 ORDER BY created_at DESC, id DESC LIMIT ?",
            )
            .bind(id(subscription))
            .bind(i64::from(limit)),
            // The cursor row must belong to the same subscription, else the join is empty.
            Some(c) => sqlx::query(
                "SELECT d.record FROM webhook_deliveries d JOIN webhook_deliveries c \
                 ON c.id = ?2 AND c.subscription_id = ?1 WHERE d.subscription_id = ?1 \
                 AND (d.created_at < c.created_at OR (d.created_at = c.created_at AND d.id < c.id)) \
                 ORDER BY d.created_at DESC, d.id DESC LIMIT ?3",
            )
            .bind(id(subscription))
            .bind(id(c))
            .bind(i64::from(limit)),
        }
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn claim_due_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>> {
        self.w().await?;
        // 'PENDING' as a literal lets SQLite use the partial index idx_webhook_deliveries_due.
        debug_assert_eq!(DeliveryStatus::Pending.as_str(), "PENDING");
        let rows = sqlx::query(
            "SELECT record FROM webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= ?1 \
             AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY next_attempt_at, id LIMIT ?2",
        )
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        let mut due: Vec<WebhookDelivery> = records(&rows)?;
        // The write lock (BEGIN IMMEDIATE) makes select-then-lease atomic across processes.
        for d in &mut due {
            d.lease_until = Some(lease_until);
            self.update_delivery(d).await?;
        }
        Ok(due)
    }

    async fn purge_deliveries(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        // 'PENDING' as a literal lets SQLite use the partial index idx_webhook_deliveries_age.
        debug_assert_eq!(DeliveryStatus::Pending.as_str(), "PENDING");
        let done = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries \
             WHERE status <> 'PENDING' AND created_at < ? ORDER BY created_at, id LIMIT ?)",
        )
        .bind(ts(&before))
        .bind(limit.min(bankflow_core::ports::PURGE_BATCH_MAX))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        Ok(done.rows_affected())
    }
}
