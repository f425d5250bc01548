//! Notification context: `notifications` and `notification_preferences`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use bankflow_core::ids::{NotificationId, UserId};
use bankflow_core::notify::{Channel, NotificationRecord, NotificationStatus, Preference};
use bankflow_core::ports::{self, NotificationRepo};
use bankflow_core::BankResult;

use crate::codec::{self, id, opt_id, opt_ts, record, records, to_doc, ts, Col};
use crate::uow::SqliteUow;
use bankflow_core::store_support::found;

impl SqliteUow {
    /// The `(created_at, id)` position of a cursor row: `Some(None)` without a cursor,
    /// `None` when the cursor is unknown or another user's (the page is then empty).
    async fn cursor(
        &mut self,
        user: UserId,
        row: Option<NotificationId>,
    ) -> BankResult<Option<Option<(String, String)>>> {
        let Some(row) = row else {
            return Ok(Some(None));
        };
        let found =
            sqlx::query("SELECT created_at FROM notifications WHERE id = ? AND user_id = ?")
                .bind(id(row.0))
                .bind(id(user.0))
                .fetch_optional(self.unbuffered()?)
                .await
                .map_err(codec::err(None))?;
        match found {
            Some(r) => Ok(Some(Some((r.text("created_at")?, id(row.0))))),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl NotificationRepo for SqliteUow {
    async fn insert_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO notifications (id, user_id, channel, status, source_event_id, next_attempt_at, created_at, \
             record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(n.id.0))
        .bind(id(n.user_id.0))
        .bind(n.channel.as_str())
        .bind(n.status.as_str())
        .bind(opt_id(n.source_event_id.map(|e| e.0)))
        .bind(opt_ts(&n.next_attempt_at))
        .bind(ts(&n.created_at))
        .bind(to_doc(n)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("notification")))?;
        Ok(())
    }

    async fn notification(&mut self, n: NotificationId) -> BankResult<Option<NotificationRecord>> {
        let row = sqlx::query("SELECT record FROM notifications WHERE id = ?")
            .bind(id(n.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn update_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE notifications SET user_id = ?, channel = ?, status = ?, source_event_id = ?, next_attempt_at = ?, \
             created_at = ?, record = ? WHERE id = ?",
        )
        .bind(id(n.user_id.0))
        .bind(n.channel.as_str())
        .bind(n.status.as_str())
        .bind(opt_id(n.source_event_id.map(|e| e.0)))
        .bind(opt_ts(&n.next_attempt_at))
        .bind(ts(&n.created_at))
        .bind(to_doc(n)?)
        .bind(id(n.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("notification")))?;
        found(done.rows_affected(), "notification")?;
        Ok(())
    }

    async fn notifications_of_user(
        &mut self,
        user: UserId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let Some(cursor) = self.cursor(user, before).await? else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT record FROM notifications WHERE user_id = ?1 AND (?2 IS NULL OR (created_at, id) < (?2, ?3)) \
             ORDER BY created_at DESC, id DESC LIMIT ?4",
        )
        .bind(id(user.0))
        .bind(cursor.as_ref().map(|c| c.0.clone()))
        .bind(cursor.map(|c| c.1))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn in_app_feed(
        &mut self,
        user: UserId,
        after: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let Some(cursor) = self.cursor(user, after).await? else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT record FROM notifications WHERE user_id = ?1 AND channel = ?2 \
             AND (?3 IS NULL OR (created_at, id) > (?3, ?4)) ORDER BY created_at, id LIMIT ?5",
        )
        .bind(id(user.0))
        .bind(Channel::InApp.as_str())
        .bind(cursor.as_ref().map(|c| c.0.clone()))
        .bind(cursor.map(|c| c.1))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn due_notifications(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        // The literal 'pending' lets SQLite use the partial index idx_notifications_due.
        debug_assert_eq!(NotificationStatus::Pending.as_str(), "pending");
        let rows = sqlx::query(
            "SELECT record FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? \
             ORDER BY next_attempt_at, id LIMIT ?",
        )
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn set_preference(&mut self, p: &Preference) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO notification_preferences (user_id, category, channel, enabled, updated_at, record) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, category, channel) DO UPDATE SET \
             enabled = excluded.enabled, updated_at = excluded.updated_at, record = excluded.record",
        )
        .bind(id(p.user_id.0))
        .bind(p.category.clone())
        .bind(p.channel.as_str())
        .bind(p.enabled)
        .bind(ts(&p.updated_at))
        .bind(to_doc(p)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        Ok(())
    }

    async fn preferences_of_user(&mut self, user: UserId) -> BankResult<Vec<Preference>> {
        let rows = sqlx::query("SELECT record FROM notification_preferences WHERE user_id = ?")
            .bind(id(user.0))
            .fetch_all(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        let mut prefs: Vec<Preference> = records(&rows)?;
        // Category, then the channel's declared order (not its spelling's text order).
        prefs.sort_by(|a, b| (&a.category, a.channel).cmp(&(&b.category, b.channel)));
        Ok(prefs)
    }

    async fn purge_notifications(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        let done = sqlx::query(
            "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications \
             WHERE created_at < ? AND status <> ? ORDER BY created_at, id LIMIT ?)",
        )
        .bind(ts(&before))
        .bind(NotificationStatus::Pending.as_str())
        .bind(limit.min(ports::PURGE_BATCH_MAX))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        Ok(done.rows_affected())
    }
}
