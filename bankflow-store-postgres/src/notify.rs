//! Notification context: `notifications` and `notification_preferences`.

use async_trait::async_trait;
use bankflow_core::ids::{NotificationId, UserId};
use bankflow_core::notify::{Channel, NotificationRecord, NotificationStatus, Preference};
use bankflow_core::ports::{self, NotificationRepo};
use bankflow_core::BankResult;
use chrono::{DateTime, Utc};

use crate::error::db_err;
use crate::rows::{docs, from_doc, to_doc};
use crate::uow::PgUow;
use bankflow_core::store_support::found;

#[async_trait]
impl NotificationRepo for PgUow {
    async fn insert_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO notifications (id, user_id, channel, status, next_attempt_at, source_event_id, doc, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(n.id.0)
        .bind(n.user_id.0)
        .bind(n.channel.as_str())
        .bind(n.status.as_str())
        .bind(n.next_attempt_at)
        .bind(n.source_event_id.map(|e| e.0))
        .bind(to_doc(n)?)
            .bind(n.created_at)
        )
        .await?;
        Ok(())
    }

    async fn notification(&mut self, id: NotificationId) -> BankResult<Option<NotificationRecord>> {
        let row = sqlx::query("SELECT doc FROM notifications WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE notifications SET user_id = $2, channel = $3, status = $4, next_attempt_at = $5, source_event_id = $6, \
             doc = $7, created_at = $8 WHERE id = $1",
        )
        .bind(n.id.0)
        .bind(n.user_id.0)
        .bind(n.channel.as_str())
        .bind(n.status.as_str())
        .bind(n.next_attempt_at)
        .bind(n.source_event_id.map(|e| e.0))
        .bind(to_doc(n)?)
            .bind(n.created_at)
        )
        .await?;
        found(done.rows_affected(), "notification")
    }

    async fn notifications_of_user(
        &mut self,
        user: UserId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        // Newest first by (created_at, id); the cursor must be one of the user's own rows.
        let rows = match before {
            None => {
                sqlx::query(
                    "SELECT doc FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind(user.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
            Some(b) => {
                sqlx::query(
                    "WITH c AS (SELECT created_at, id FROM notifications WHERE id = $2 AND user_id = $1) \
                     SELECT n.doc FROM notifications n, c WHERE n.user_id = $1 \
                     AND (n.created_at, n.id) < (c.created_at, c.id) ORDER BY n.created_at DESC, n.id DESC LIMIT $3",
                )
                .bind(user.0)
                .bind(b.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
        }
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn in_app_feed(
        &mut self,
        user: UserId,
        after: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        // Oldest first by (created_at, id); the cursor must be one of the user's own rows.
        let rows = match after {
            None => {
                sqlx::query(
                    "SELECT doc FROM notifications WHERE user_id = $1 AND channel = $2 \
                     ORDER BY created_at, id LIMIT $3",
                )
                .bind(user.0)
                .bind(Channel::InApp.as_str())
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
            Some(a) => {
                sqlx::query(
                    "WITH c AS (SELECT created_at, id FROM notifications WHERE id = $3 AND user_id = $1) \
                     SELECT n.doc FROM notifications n, c WHERE n.user_id = $1 AND n.channel = $2 \
                     AND (n.created_at, n.id) > (c.created_at, c.id) ORDER BY n.created_at, n.id LIMIT $4",
                )
                .bind(user.0)
                .bind(Channel::InApp.as_str())
                .bind(a.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
        }
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn due_notifications(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let rows = sqlx::query(
            "SELECT doc FROM notifications WHERE status = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3",
        )
        .bind(NotificationStatus::Pending.as_str())
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn set_preference(&mut self, p: &Preference) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO notification_preferences (user_id, category, channel, doc) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, category, channel) DO UPDATE SET doc = EXCLUDED.doc",
        )
        .bind(p.user_id.0)
        .bind(&p.category)
        .bind(p.channel.as_str())
        .bind(to_doc(p)?)
        )
        .await?;
        Ok(())
    }

    async fn preferences_of_user(&mut self, user: UserId) -> BankResult<Vec<Preference>> {
        let rows = sqlx::query("SELECT doc FROM notification_preferences WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        let mut prefs: Vec<Preference> = docs(&rows)?;
        // The memory store's order: category, then channel in declaration order.
        prefs.sort_by(|a, b| (&a.category, a.channel).cmp(&(&b.category, b.channel)));
        Ok(prefs)
    }

    async fn purge_notifications(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        self.before_write().await?;
        let done = sqlx::query(
            "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications \
             WHERE created_at < $1 AND status <> $2 ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(NotificationStatus::Pending.as_str())
        .bind(i64::from(limit.min(ports::PURGE_BATCH_MAX)))
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
