//! The `events` table: event store and transactional outbox in one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use bankflow_core::events::{DomainEvent, EventData, EventType, StoredEvent};
use bankflow_core::ids::EventId;
use bankflow_core::ports::{self, EventRepo};
use bankflow_core::store_support;
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, corrupt, id, to_json, ts, Col};
use crate::flush::Op;
use crate::uow::SqliteUow;

/// Seqs per claim/publish statement: one bound value each, far below SQLite's variable limit.
const ROWS_PER_STATEMENT_MAX: usize = 500;

macro_rules! event_cols {
    () => {
        "seq, id, aggregate_id, event_type, time, data, published_at"
    };
}

fn event_row(r: &SqliteRow) -> BankResult<StoredEvent> {
    let data: EventData =
        serde_json::from_str(&r.text("data")?).map_err(|_| corrupt("events.data"))?;
    Ok(StoredEvent {
        seq: r.int("seq")?,
        event: DomainEvent {
            id: EventId(r.uuid("id")?),
            event_type: r.parsed("event_type", EventType::parse)?,
            aggregate_id: r.uuid("aggregate_id")?,
            time: r.time("time")?,
            data,
        },
        published_at: r.opt_time("published_at")?,
    })
}

/// Buffered appends (see `flush`): `seq` (AUTOINCREMENT) follows log order.
pub(crate) const FLUSH_INSERT_SQL: &str =
    "INSERT INTO events (id, aggregate_id, event_type, topic, time, data) \
     SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?) ORDER BY key";

/// The JSON rows of [`FLUSH_INSERT_SQL`]. The typed payload is stored as-is (not the wire
/// JSON) so reads round-trip exactly; the wire form is rendered when an event leaves the
/// engine. It travels as a JSON string, so its text reaches the column unchanged.
pub(crate) fn flush_rows(events: &[&DomainEvent]) -> BankResult<String> {
    let rows = events
        .iter()
        .map(|e| {
            let data = serde_json::to_string(&e.data)
                .map_err(|_| BankError::internal("event does not serialise"))?;
            Ok((
                id(e.id.0),
                id(e.aggregate_id),
                e.event_type.as_str(),
                e.event_type.topic(),
                ts(&e.time),
                data,
            ))
        })
        .collect::<BankResult<Vec<_>>>()?;
    to_json(&rows)
}

#[async_trait]
impl EventRepo for SqliteUow {
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()> {
        if events.is_empty() {
            return self.writable();
        }
        self.push(Op::Events(events.to_vec())).await
    }

    async fn events_of_aggregate(
        &mut self,
        aggregate_id: Uuid,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_cols!(),
            " FROM events WHERE aggregate_id = ? ORDER BY seq LIMIT ?"
        ))
        .bind(id(aggregate_id))
        .bind(limit.min(ports::EVENTS_OF_AGGREGATE_MAX))
        .fetch_all(self.c().await?)
        .await
        .map_err(codec::err(None))?;
        rows.iter().map(event_row).collect()
    }

    async fn claim_events(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        let c = self.w().await?;
        // Claimable: unpublished, lease free or expired, and the oldest unpublished event of
        // its aggregate (so an aggregate's events are published strictly in order). The
        // write lock taken by BEGIN IMMEDIATE makes select-then-lease atomic across
        // processes: two relays never hold a lease on the same event.
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_cols!(),
            " FROM events e WHERE published_at IS NULL AND (lease_until IS NULL OR lease_until <= ?) \
             AND NOT EXISTS (SELECT 1 FROM events p WHERE p.aggregate_id = e.aggregate_id \
             AND p.published_at IS NULL AND p.seq < e.seq) ORDER BY seq LIMIT ?"
        ))
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await
        .map_err(codec::err(None))?;
        let claimed = rows.iter().map(event_row).collect::<BankResult<Vec<_>>>()?;
        for chunk in claimed.chunks(ROWS_PER_STATEMENT_MAX) {
            let mut qb =
                sqlx::QueryBuilder::<sqlx::Sqlite>::new("UPDATE events SET lease_until = ");
            qb.push_bind(ts(&lease_until)).push(" WHERE seq IN (");
            let mut sep = qb.separated(", ");
            for e in chunk {
                sep.push_bind(e.seq);
            }
            qb.push(")");
            qb.build()
                .execute(&mut *c)
                .await
                .map_err(codec::err(None))?;
        }
        Ok(claimed)
    }

    async fn mark_published(&mut self, seqs: &[i64], at: DateTime<Utc>) -> BankResult<()> {
        let c = self.w().await?;
        let distinct = store_support::distinct_seqs(seqs);
        for chunk in distinct.chunks(ROWS_PER_STATEMENT_MAX) {
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "UPDATE events SET lease_until = NULL, published_at = ",
            );
            qb.push_bind(ts(&at)).push(" WHERE seq IN (");
            let mut sep = qb.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            qb.push(")");
            let done = qb
                .build()
                .execute(&mut *c)
                .await
                .map_err(codec::err(None))?;
            store_support::found_all(done.rows_affected(), chunk.len(), "event")?;
        }
        Ok(())
    }

    async fn oldest_unpublished_event_time(&mut self) -> BankResult<Option<DateTime<Utc>>> {
        // `w()` flushes this unit's buffered events first, so they count too.
        let row =
            sqlx::query("SELECT time FROM events WHERE published_at IS NULL ORDER BY seq LIMIT 1")
                .fetch_optional(self.w().await?)
                .await
                .map_err(codec::err(None))?;
        row.map(|r| r.time("time")).transpose()
    }

    async fn purge_published_events(
        &mut self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<u64> {
        // Buffered events are unpublished, so the flush `w()` does cannot change the answer;
        // it only keeps the delete inside the savepoints the engine opened.
        let done = sqlx::query(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
             WHERE published_at IS NOT NULL AND time < ? ORDER BY seq LIMIT ?)",
        )
        .bind(ts(&before))
        .bind(limit.min(ports::PURGE_BATCH_MAX))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        Ok(done.rows_affected())
    }
}
