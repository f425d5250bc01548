//! The audit log: `audit_log`, an append-only hash chain, and its one-row `audit_head`.

use async_trait::async_trait;
use bankflow_core::audit::AuditRecord;
use bankflow_core::ports::AuditRepo;
use bankflow_core::{BankError, BankResult};
use uuid::Uuid;

use crate::error::{corrupt, db_err};
use crate::rows::get;
use crate::rows::{docs, to_doc};
use crate::uow::{PgUow, RANK_AUDIT_HEAD};

#[async_trait]
impl AuditRepo for PgUow {
    async fn lock_audit_head(&mut self) -> BankResult<Option<(i64, String)>> {
        let rows = self
            .lock_rows(
                RANK_AUDIT_HEAD,
                &[Uuid::nil()],
                "SELECT id, seq, hash FROM audit_head WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                "SELECT id, seq, hash FROM audit_head WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED",
                "SELECT id, seq, hash FROM audit_head WHERE id = ANY($1) ORDER BY id",
            )
            .await?;
        let Some(r) = rows.first() else {
            return Err(corrupt("audit head"));
        };
        let seq: i64 = get(r, 1)?;
        Ok((seq > 0)
            .then(|| get::<String>(r, 2))
            .transpose()?
            .map(|h| (seq, h)))
    }

    async fn append_audit(&mut self, e: &AuditRecord) -> BankResult<()> {
        self.before_write().await?;
        // Advances the head and appends in one statement; a stale seq appends nothing.
        let done = self.exec_guarded(sqlx::query(
            "WITH head AS (UPDATE audit_head SET seq = $1, hash = $2 WHERE id = '00000000-0000-0000-0000-000000000000' \
             AND seq < $1 RETURNING 1) \
             INSERT INTO audit_log (seq, id, at, doc) SELECT $1, $3, $4, $5 FROM head",
        )
        .bind(e.seq)
        .bind(&e.hash)
        .bind(e.id.0)
        .bind(e.at)
        .bind(to_doc(e)?)
        )
        .await?;
        if done.rows_affected() == 0 {
            return Err(BankError::Duplicate("audit entry"));
        }
        Ok(())
    }

    async fn audit_entries(
        &mut self,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT doc FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq.unwrap_or(i64::MIN))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        docs(&rows)
    }
}
