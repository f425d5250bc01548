//! Scheduled transfers (transaction context).

use async_trait::async_trait;
use bankflow_core::ids::{CustomerId, ScheduleId};
use bankflow_core::schedule::{ScheduleRepo, ScheduleStatus, ScheduledTransfer};
use bankflow_core::BankResult;
use chrono::{DateTime, Utc};

use crate::error::db_err;
use crate::rows::{doc_at, docs, enum_str, from_doc, to_doc};
use crate::uow::{PgUow, RANK_SCHEDULE};
use bankflow_core::store_support::found;

#[async_trait]
impl ScheduleRepo for PgUow {
    async fn insert_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO scheduled_transfers (id, customer_id, status, next_run_at, lease_until, created_at, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.id.0)
        .bind(s.customer_id.0)
        .bind(enum_str(&s.status)?)
        .bind(s.next_run_at)
        .bind(s.lease_until)
        .bind(s.created_at)
        .bind(to_doc(s)?)
        )
        .await?;
        Ok(())
    }

    async fn schedule(&mut self, id: ScheduleId) -> BankResult<Option<ScheduledTransfer>> {
        let row = sqlx::query("SELECT doc FROM scheduled_transfers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn lock_schedule(&mut self, id: ScheduleId) -> BankResult<Option<ScheduledTransfer>> {
        let rows = self
            .lock_rows(
                RANK_SCHEDULE,
                &[id.0],
                "SELECT id, doc FROM scheduled_transfers WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                "SELECT id, doc FROM scheduled_transfers WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED",
                "SELECT id, doc FROM scheduled_transfers WHERE id = ANY($1) ORDER BY id",
            )
            .await?;
        rows.first().map(|r| doc_at(r, 1)).transpose()
    }

    async fn update_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE scheduled_transfers SET customer_id = $2, status = $3, next_run_at = $4, lease_until = $5, \
             created_at = $6, doc = $7 WHERE id = $1",
        )
        .bind(s.id.0)
        .bind(s.customer_id.0)
        .bind(enum_str(&s.status)?)
        .bind(s.next_run_at)
        .bind(s.lease_until)
        .bind(s.created_at)
        .bind(to_doc(s)?)
        )
        .await?;
        found(done.rows_affected(), "scheduled transfer")
    }

    async fn schedules_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>> {
        let rows = sqlx::query(
            "SELECT doc FROM scheduled_transfers WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(customer.0)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn claim_due_schedules(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>> {
        self.before_write().await?;
        // SKIP LOCKED: schedulers in several processes split the due work instead of queueing
        // behind each other, and a schedule leased by one is not run by another.
        let rows = sqlx::query(
            "SELECT doc FROM scheduled_transfers WHERE status = $1 AND next_run_at <= $2 \
             AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind(enum_str(&ScheduleStatus::Active)?)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut due: Vec<ScheduledTransfer> = docs(&rows)?;
        for s in &mut due {
            s.lease_until = Some(lease_until);
            self.update_schedule(s).await?;
        }
        Ok(due)
    }
}
