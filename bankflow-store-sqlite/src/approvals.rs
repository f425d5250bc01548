//! Money context: `approval_requests` (maker-checker). Never buffered: every write goes
//! straight to the database, so reads need no flush.

use async_trait::async_trait;

use bankflow_core::banking::{ApprovalQuery, ApprovalRepo, ApprovalRequest};
use bankflow_core::ids::ApprovalId;
use bankflow_core::store_support::found;
use bankflow_core::BankResult;

use crate::codec::{self, id, record, records, to_doc, ts};
use crate::uow::SqliteUow;

#[async_trait]
impl ApprovalRepo for SqliteUow {
    async fn insert_approval(&mut self, a: &ApprovalRequest) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO approval_requests (id, status, created_at, record) VALUES (?, ?, ?, ?)",
        )
        .bind(id(a.id.0))
        .bind(a.status.as_str())
        .bind(ts(&a.created_at))
        .bind(to_doc(a)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("approval request")))?;
        Ok(())
    }

    async fn approval(&mut self, key: ApprovalId) -> BankResult<Option<ApprovalRequest>> {
        let row = sqlx::query("SELECT record FROM approval_requests WHERE id = ?")
            .bind(id(key.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn lock_approval(&mut self, key: ApprovalId) -> BankResult<Option<ApprovalRequest>> {
        // A write unit's BEGIN IMMEDIATE already holds the database write lock.
        self.approval(key).await
    }

    async fn update_approval(&mut self, a: &ApprovalRequest) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE approval_requests SET status = ?, created_at = ?, record = ? WHERE id = ?",
        )
        .bind(a.status.as_str())
        .bind(ts(&a.created_at))
        .bind(to_doc(a)?)
        .bind(id(a.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("approval request")))?;
        found(done.rows_affected(), "approval request")
    }

    async fn list_approvals(&mut self, q: &ApprovalQuery) -> BankResult<Vec<ApprovalRequest>> {
        q.validate()?;
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT record FROM approval_requests WHERE 1 = 1",
        );
        if let Some(s) = q.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some((at, a)) = &q.after {
            qb.push(" AND (created_at, id) < (")
                .push_bind(ts(at))
                .push(", ")
                .push_bind(id(a.0))
                .push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = qb
            .build()
            .fetch_all(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        records(&rows)
    }
}
