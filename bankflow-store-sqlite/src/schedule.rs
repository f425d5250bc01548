//! Transaction context: `scheduled_transfers`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use bankflow_core::ids::{CustomerId, ScheduleId};
use bankflow_core::schedule::{ScheduleRepo, ScheduleStatus, ScheduledTransfer};
use bankflow_core::BankResult;

use crate::codec::{self, id, opt_ts, record, records, to_doc, ts};
use crate::uow::SqliteUow;
use bankflow_core::store_support::found;

async fn fetch(uow: &mut SqliteUow, s: ScheduleId) -> BankResult<Option<ScheduledTransfer>> {
    let row = sqlx::query("SELECT record FROM scheduled_transfers WHERE id = ?")
        .bind(id(s.0))
        .fetch_optional(uow.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
    row.as_ref().map(record).transpose()
}

#[async_trait]
impl ScheduleRepo for SqliteUow {
    async fn insert_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO scheduled_transfers (id, customer_id, from_account_id, to_account_id, frequency, status, \
             next_run_at, lease_until, created_at, updated_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(s.id.0))
        .bind(id(s.customer_id.0))
        .bind(id(s.from_account_id.0))
        .bind(id(s.to_account_id.0))
        .bind(s.frequency.as_str())
        .bind(s.status.as_str())
        .bind(ts(&s.next_run_at))
        .bind(opt_ts(&s.lease_until))
        .bind(ts(&s.created_at))
        .bind(ts(&s.updated_at))
        .bind(to_doc(s)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("scheduled transfer")))?;
        Ok(())
    }

    async fn schedule(&mut self, s: ScheduleId) -> BankResult<Option<ScheduledTransfer>> {
        fetch(self, s).await
    }

    async fn lock_schedule(&mut self, s: ScheduleId) -> BankResult<Option<ScheduledTransfer>> {
        // A write unit's BEGIN IMMEDIATE already holds the database write lock.
        fetch(self, s).await
    }

    async fn update_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE scheduled_transfers SET customer_id = ?, from_account_id = ?, to_account_id = ?, frequency = ?, \
             status = ?, next_run_at = ?, lease_until = ?, created_at = ?, updated_at = ?, record = ? WHERE id = ?",
        )
        .bind(id(s.customer_id.0))
        .bind(id(s.from_account_id.0))
        .bind(id(s.to_account_id.0))
        .bind(s.frequency.as_str())
        .bind(s.status.as_str())
        .bind(ts(&s.next_run_at))
        .bind(opt_ts(&s.lease_until))
        .bind(ts(&s.created_at))
        .bind(ts(&s.updated_at))
        .bind(to_doc(s)?)
        .bind(id(s.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        found(done.rows_affected(), "scheduled transfer")?;
        Ok(())
    }

    async fn schedules_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>> {
        let rows = sqlx::query(
            "SELECT record FROM scheduled_transfers WHERE customer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(id(customer.0))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn claim_due_schedules(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>> {
        self.w().await?;
        // 'ACTIVE' as a literal lets SQLite use the partial index idx_scheduled_due.
        debug_assert_eq!(ScheduleStatus::Active.as_str(), "ACTIVE");
        let rows = sqlx::query(
            "SELECT record FROM scheduled_transfers WHERE status = 'ACTIVE' AND next_run_at <= ?1 \
             AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY next_run_at, id LIMIT ?2",
        )
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        let mut due: Vec<ScheduledTransfer> = records(&rows)?;
        // The write lock (BEGIN IMMEDIATE) makes select-then-lease atomic across processes.
        for s in &mut due {
            s.lease_until = Some(lease_until);
            self.update_schedule(s).await?;
        }
        Ok(due)
    }
}
