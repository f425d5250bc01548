//! Idempotency records: `idempotency_keys`.

use async_trait::async_trait;

use bankflow_core::idempotency::{IdempotencyKey, IdempotencyRecord, IdempotentResponse};
use bankflow_core::ports::IdempotencyRepo;
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, corrupt, ts, Col};
use crate::uow::SqliteUow;

#[async_trait]
impl IdempotencyRepo for SqliteUow {
    async fn idempotency(
        &mut self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> BankResult<Option<IdempotencyRecord>> {
        let row = sqlx::query(
            "SELECT scope, key, fingerprint, response, created_at FROM idempotency_keys WHERE scope = ? AND key = ?",
        )
        .bind(scope.to_string())
        .bind(key.as_str().to_string())
        .fetch_optional(self.c()?)
        .await
        .map_err(codec::err(None))?;
        let Some(r) = row else { return Ok(None) };
        let response: IdempotentResponse = serde_json::from_str(&r.text("response")?)
            .map_err(|_| corrupt("idempotency_keys.response"))?;
        Ok(Some(IdempotencyRecord {
            scope: r.text("scope")?,
            key: r.parsed("key", IdempotencyKey::parse)?,
            fingerprint: r.text("fingerprint")?,
            response,
            created_at: r.time("created_at")?,
        }))
    }

    async fn insert_idempotency(&mut self, rec: &IdempotencyRecord) -> BankResult<()> {
        let response = serde_json::to_string(&rec.response)
            .map_err(|_| BankError::internal("idempotent response does not serialise"))?;
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, response, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(rec.scope.clone())
        .bind(rec.key.as_str().to_string())
        .bind(rec.fingerprint.clone())
        .bind(response)
        .bind(ts(&rec.created_at))
        .execute(self.w()?)
        .await
        .map_err(codec::err(Some("idempotency key")))?;
        Ok(())
    }
}
