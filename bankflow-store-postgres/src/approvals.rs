//! Money context: `approval_requests` (maker-checker).

use async_trait::async_trait;
use bankflow_core::banking::{ApprovalQuery, ApprovalRepo, ApprovalRequest};
use bankflow_core::ids::ApprovalId;
use bankflow_core::store_support::found;
use bankflow_core::{BankError, BankResult};

use crate::error::db_err;
use crate::rows::{docs, from_doc, to_doc};
use crate::uow::PgUow;

/// A unique violation named as the port promises.
fn duplicate_approval(e: BankError) -> BankError {
    match e {
        BankError::Duplicate(_) => BankError::Duplicate("approval request"),
        e => e,
    }
}

#[async_trait]
impl ApprovalRepo for PgUow {
    async fn insert_approval(&mut self, a: &ApprovalRequest) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(
            sqlx::query(
                "INSERT INTO approval_requests (id, status, created_at, doc) VALUES ($1, $2, $3, $4)",
            )
            .bind(a.id.0)
            .bind(a.status.as_str())
            .bind(a.created_at)
            .bind(to_doc(a)?),
        )
        .await
        .map_err(duplicate_approval)?;
        Ok(())
    }

    async fn approval(&mut self, key: ApprovalId) -> BankResult<Option<ApprovalRequest>> {
        let row = sqlx::query("SELECT doc FROM approval_requests WHERE id = $1")
            .bind(key.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn lock_approval(&mut self, key: ApprovalId) -> BankResult<Option<ApprovalRequest>> {
        // A racing decision waits here, then sees the request decided.
        let row = sqlx::query("SELECT doc FROM approval_requests WHERE id = $1 FOR UPDATE")
            .bind(key.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_approval(&mut self, a: &ApprovalRequest) -> BankResult<()> {
        self.before_write().await?;
        let done = self
            .exec_guarded(
                sqlx::query(
                    "UPDATE approval_requests SET status = $2, created_at = $3, doc = $4 WHERE id = $1",
                )
                .bind(a.id.0)
                .bind(a.status.as_str())
                .bind(a.created_at)
                .bind(to_doc(a)?),
            )
            .await?;
        found(done.rows_affected(), "approval request")
    }

    async fn list_approvals(&mut self, q: &ApprovalQuery) -> BankResult<Vec<ApprovalRequest>> {
        q.validate()?;
        let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "SELECT doc FROM approval_requests WHERE TRUE",
        );
        if let Some(s) = q.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some((at, a)) = &q.after {
            qb.push(" AND (created_at, id) < (")
                .push_bind(*at)
                .push(", ")
                .push_bind(a.0)
                .push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(&mut *self.tx).await.map_err(db_err)?;
        docs(&rows)
    }
}
