//! Idempotency records: `idempotency_keys`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use bankflow_core::idempotency::{IdempotencyKey, IdempotencyRecord, IdempotentResponse};
use bankflow_core::ports::{self, IdempotencyRepo, TxMode};
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, corrupt, to_json, ts, Col};
use crate::flush::Op;
use crate::uow::{Key, Row, SqliteUow};

/// Buffered inserts (see `flush`).
pub(crate) const FLUSH_INSERT_SQL: &str =
    "INSERT INTO idempotency_keys (scope, key, fingerprint, response, created_at) \
     SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?) ORDER BY key";

/// The JSON rows of [`FLUSH_INSERT_SQL`].
pub(crate) fn flush_rows(records: &[&IdempotencyRecord]) -> BankResult<String> {
    let rows = records
        .iter()
        .map(|r| {
            Ok((
                r.scope.as_str(),
                r.key.as_str(),
                r.fingerprint.as_str(),
                to_json(&r.response)?,
                ts(&r.created_at),
            ))
        })
        .collect::<BankResult<Vec<_>>>()?;
    to_json(&rows)
}

fn key_of(scope: &str, key: &IdempotencyKey) -> Key {
    Key::Idem(scope.to_string(), key.as_str().to_string())
}

/// Reads a record from the database (no flush: a buffered record is always cached).
async fn fetch(
    uow: &mut SqliteUow,
    scope: &str,
    key: &IdempotencyKey,
) -> BankResult<Option<IdempotencyRecord>> {
    let row = sqlx::query(
        "SELECT scope, key, fingerprint, response, created_at FROM idempotency_keys WHERE scope = ? AND key = ?",
    )
    .bind(scope.to_string())
    .bind(key.as_str().to_string())
    .fetch_optional(uow.unbuffered()?)
    .await
    .map_err(codec::err(None))?;
    row.as_ref().map(record).transpose()
}

fn record(r: &sqlx::sqlite::SqliteRow) -> BankResult<IdempotencyRecord> {
    let response: IdempotentResponse = serde_json::from_str(&r.text("response")?)
        .map_err(|_| corrupt("idempotency_keys.response"))?;
    Ok(IdempotencyRecord {
        scope: r.text("scope")?,
        key: r.parsed("key", IdempotencyKey::parse)?,
        fingerprint: r.text("fingerprint")?,
        response,
        created_at: r.time("created_at")?,
    })
}

#[async_trait]
impl IdempotencyRepo for SqliteUow {
    async fn idempotency(
        &mut self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> BankResult<Option<IdempotencyRecord>> {
        let k = key_of(scope, key);
        if let Some(Row::Idem(known)) = self.cached(&k) {
            return Ok(known.clone());
        }
        let found = fetch(self, scope, key).await?;
        // Remembered even when absent: the engine inserts right after a miss, and knowing the
        // key is free spares that insert a check.
        self.remember(k, Row::Idem(found.clone()));
        Ok(found)
    }

    async fn insert_idempotency(&mut self, rec: &IdempotencyRecord) -> BankResult<()> {
        self.writable()?;
        let k = key_of(&rec.scope, &rec.key);
        let exists = match self.cached(&k) {
            Some(Row::Idem(known)) => known.is_some(),
            _ => fetch(self, &rec.scope, &rec.key).await?.is_some(),
        };
        // Refused at the call, exactly like a unique violation, never at commit.
        if exists {
            return Err(BankError::Duplicate("idempotency key"));
        }
        self.remember(k, Row::Idem(Some(rec.clone())));
        self.push(Op::Idem(rec.clone())).await
    }

    async fn prefetch_idempotency(&mut self, keys: &[(String, IdempotencyKey)]) -> BankResult<()> {
        if self.mode() != TxMode::Write {
            // Only write units cache; a read unit would fetch and forget.
            return Ok(());
        }
        let wanted: Vec<(String, IdempotencyKey)> = keys
            .iter()
            .filter(|(s, k)| self.cached(&key_of(s, k)).is_none())
            .cloned()
            .collect();
        for chunk in wanted.chunks(PREFETCH_KEYS_MAX) {
            let pairs: Vec<(&str, &str)> = chunk
                .iter()
                .map(|(s, k)| (s.as_str(), k.as_str()))
                .collect();
            let rows = sqlx::query(
                "SELECT scope, key, fingerprint, response, created_at FROM idempotency_keys \
                 WHERE (scope, key) IN (SELECT value->>0, value->>1 FROM json_each(?))",
            )
            .bind(to_json(&pairs)?)
            .fetch_all(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
            // Every asked key is known afterwards: absent unless a row came back.
            for (s, k) in chunk {
                self.remember(key_of(s, k), Row::Idem(None));
            }
            for r in rows {
                let rec = record(&r)?;
                self.remember(key_of(&rec.scope, &rec.key), Row::Idem(Some(rec)));
            }
        }
        Ok(())
    }

    async fn purge_idempotency(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key \
             FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)",
        )
        .bind(ts(&before))
        .bind(limit.min(ports::PURGE_BATCH_MAX))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        if done.rows_affected() > 0 {
            // Cached records may be gone now: forget every one the delete may have matched.
            self.forget_idempotency_before(before);
        }
        Ok(done.rows_affected())
    }
}

/// Keys per prefetch statement (one JSON parameter; bounds the statement's size).
const PREFETCH_KEYS_MAX: usize = 4_096;
