//! Idempotency records: `idempotency_keys`.

use async_trait::async_trait;
use bankflow_core::idempotency::{IdempotencyKey, IdempotencyRecord};
use bankflow_core::ports::{self, IdempotencyRepo};
use bankflow_core::{BankError, BankResult};
use chrono::{DateTime, Utc};

use crate::error::db_err;
use crate::rows::{self, idem_cols};
use crate::uow::{Op, PgUow};

#[async_trait]
impl IdempotencyRepo for PgUow {
    async fn idempotency(
        &mut self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> BankResult<Option<IdempotencyRecord>> {
        if let Some(r) = self.buffered_idempotency(scope, key) {
            return Ok(Some(r));
        }
        if let Some(known) = self
            .idem_prefetched
            .get(&(scope.to_string(), key.as_str().to_string()))
        {
            return Ok(known.clone());
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            idem_cols!(),
            " FROM idempotency_keys WHERE scope = $1 AND key = $2"
        ))
        .bind(scope)
        .bind(key.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::idempotency_record).transpose()
    }

    async fn insert_idempotency(&mut self, rec: &IdempotencyRecord) -> BankResult<()> {
        self.writable()?;
        let prefetched = self
            .idem_prefetched
            .get(&(rec.scope.clone(), rec.key.as_str().to_string()));
        if self.buffered_idempotency(&rec.scope, &rec.key).is_some()
            || prefetched.is_some_and(Option::is_some)
        {
            return Err(BankError::Duplicate("idempotency key"));
        }
        self.push(Op::Idem(rec.clone())).await
    }

    async fn prefetch_idempotency(&mut self, keys: &[(String, IdempotencyKey)]) -> BankResult<()> {
        let (scopes, texts): (Vec<String>, Vec<String>) = keys
            .iter()
            .map(|(s, k)| (s.clone(), k.as_str().to_string()))
            .unzip();
        let rows = sqlx::query(concat!(
            "SELECT ",
            idem_cols!(),
            " FROM idempotency_keys WHERE (scope, key) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))"
        ))
        .bind(&scopes)
        .bind(&texts)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        // Every asked key is known afterwards: absent unless a row came back.
        for k in scopes.iter().cloned().zip(texts.iter().cloned()) {
            self.idem_prefetched.insert(k, None);
        }
        for r in rows {
            let rec = rows::idempotency_record(&r)?;
            let k = (rec.scope.clone(), rec.key.as_str().to_string());
            self.idem_prefetched.insert(k, Some(rec));
        }
        Ok(())
    }

    async fn purge_idempotency(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        self.before_write().await?;
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys \
             WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(i64::from(limit.min(ports::PURGE_BATCH_MAX)))
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        // Prefetched records the delete may have matched are no longer the database's answer.
        for known in self.idem_prefetched.values_mut() {
            if known.as_ref().is_some_and(|r| r.created_at < before) {
                *known = None;
            }
        }
        Ok(done.rows_affected())
    }
}

impl PgUow {
    /// An idempotency record this unit inserted.
    pub(crate) fn buffered_idempotency(
        &self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> Option<IdempotencyRecord> {
        self.log.iter().rev().find_map(|op| match op {
            Op::Idem(r) if r.scope == scope && &r.key == key => Some(r.clone()),
            _ => None,
        })
    }
}
