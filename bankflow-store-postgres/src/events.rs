//! The `events` table: event store and transactional outbox in one.

use async_trait::async_trait;
use bankflow_core::events::{DomainEvent, StoredEvent};
use bankflow_core::ports::{self, EventRepo};
use bankflow_core::store_support;
use bankflow_core::BankResult;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::db_err;
use crate::rows::{self, event_cols};
use crate::uow::{Op, PgUow};

#[async_trait]
impl EventRepo for PgUow {
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()> {
        self.writable()?;
        if events.is_empty() {
            return Ok(());
        }
        self.push(Op::Events(events.to_vec())).await
    }

    async fn events_of_aggregate(
        &mut self,
        aggregate_id: Uuid,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        self.before_read().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_cols!(),
            " FROM events WHERE aggregate_id = $1 ORDER BY seq LIMIT $2"
        ))
        .bind(aggregate_id)
        .bind(i64::from(limit.min(ports::EVENTS_OF_AGGREGATE_MAX)))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::stored_event).collect()
    }

    async fn claim_events(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        self.before_read().await?;
        self.writable()?;
        // Claimable: unpublished, lease free or expired, and no earlier unpublished event of the
        // same aggregate (leased or not). SKIP LOCKED passes over rows another relay is claiming
        // right now; a row it claimed and committed meanwhile is re-checked against its new
        // lease before it is locked here, so no event is claimed twice while a lease holds.
        let rows = sqlx::query(concat!(
            "WITH picked AS (SELECT e.seq FROM events e \
             WHERE e.published_at IS NULL AND (e.lease_until IS NULL OR e.lease_until <= $1) \
             AND NOT EXISTS (SELECT 1 FROM events p WHERE p.aggregate_id = e.aggregate_id \
                             AND p.published_at IS NULL AND p.seq < e.seq) \
             ORDER BY e.seq LIMIT $3 FOR UPDATE OF e SKIP LOCKED) \
             UPDATE events SET lease_until = $2 FROM picked WHERE events.seq = picked.seq RETURNING ",
            "events.seq, events.event_id, events.aggregate_id, events.event_type, events.time, events.data, events.published_at"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut out: Vec<StoredEvent> = rows
            .iter()
            .map(rows::stored_event)
            .collect::<BankResult<_>>()?;
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    async fn mark_published(&mut self, seqs: &[i64], at: DateTime<Utc>) -> BankResult<()> {
        self.before_read().await?;
        self.writable()?;
        let distinct = store_support::distinct_seqs(seqs);
        let done = self
            .exec_guarded(
                sqlx::query(
                    "UPDATE events SET published_at = $2, lease_until = NULL WHERE seq = ANY($1)",
                )
                .bind(&distinct)
                .bind(at),
            )
            .await?;
        store_support::found_all(done.rows_affected(), distinct.len(), "event")
    }

    async fn oldest_unpublished_event_time(&mut self) -> BankResult<Option<DateTime<Utc>>> {
        self.before_read().await?;
        // The partial index idx_events_unpublished makes this one index probe.
        sqlx::query_scalar(
            "SELECT time FROM events WHERE published_at IS NULL ORDER BY seq LIMIT 1",
        )
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)
    }

    async fn purge_published_events(
        &mut self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<u64> {
        self.before_write().await?;
        // SKIP LOCKED: a row a relay is marking right now is left for the next batch.
        let done = sqlx::query(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
             WHERE published_at IS NOT NULL AND time < $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(i64::from(limit.min(ports::PURGE_BATCH_MAX)))
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
