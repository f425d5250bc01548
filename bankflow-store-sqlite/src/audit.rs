//! The audit log: `audit_log`, an append-only hash chain.

use async_trait::async_trait;

use bankflow_core::audit::AuditRecord;
use bankflow_core::ports::AuditRepo;
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, id, records, to_doc, ts, Col};
use crate::uow::SqliteUow;

#[async_trait]
impl AuditRepo for SqliteUow {
    async fn lock_audit_head(&mut self) -> BankResult<Option<(i64, String)>> {
        // In a write unit BEGIN IMMEDIATE already serialises appenders until commit.
        let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.map(|r| Ok((r.int("seq")?, r.text("hash")?)))
            .transpose()
    }

    async fn append_audit(&mut self, e: &AuditRecord) -> BankResult<()> {
        let c = self.w().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
            .fetch_one(&mut *c)
            .await
            .map_err(codec::err(None))?;
        // Append-only: a seq at or below the head is a duplicate even if it is a gap.
        if last.unwrap_or(0) >= e.seq {
            return Err(BankError::Duplicate("audit entry"));
        }
        sqlx::query(
            "INSERT INTO audit_log (seq, id, at, actor, action, target_type, target_id, outcome, prev_hash, hash, record) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(e.seq)
        .bind(id(e.id.0))
        .bind(ts(&e.at))
        .bind(e.actor.clone())
        .bind(e.action.clone())
        .bind(e.target_type.clone())
        .bind(e.target_id.clone())
        .bind(e.outcome.as_str())
        .bind(e.prev_hash.clone())
        .bind(e.hash.clone())
        .bind(to_doc(e)?)
        .execute(&mut *c)
        .await
        .map_err(codec::err(Some("audit entry")))?;
        Ok(())
    }

    async fn audit_entries(
        &mut self,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT record FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(after_seq.unwrap_or(i64::MIN))
            .bind(i64::from(limit))
            .fetch_all(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        records(&rows)
    }
}
