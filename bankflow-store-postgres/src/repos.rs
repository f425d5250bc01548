//! The per-context repositories over [`PgUow`]. Each block touches only its own context's
//! tables; no statement joins across contexts.

use std::collections::HashSet;

use async_trait::async_trait;
use bankflow_core::account::{Account, AccountNumber, Hold};
use bankflow_core::events::{DomainEvent, StoredEvent};
use bankflow_core::idempotency::{IdempotencyKey, IdempotencyRecord};
use bankflow_core::ids::{AccountId, CustomerId, HoldId, JournalId, TransactionId};
use bankflow_core::ledger::{JournalEntry, Posting, PostingLine};
use bankflow_core::ports::{
    self, AccountRepo, EventRepo, IdempotencyRepo, LedgerRepo, TransactionRepo,
};
use bankflow_core::transaction::{Transaction, TransactionQuery};
use bankflow_core::{BankError, BankResult, Currency, Money};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::error::{corrupt, db_err};
use crate::rows::{self, account_cols, event_cols, get, hold_cols, idem_cols, txn_cols};
use crate::uow::{Op, PgUow, RANK_ACCOUNT, RANK_TRANSACTION};

fn opt_text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

// ------------------------------------------------------------------ account context

#[async_trait]
impl AccountRepo for PgUow {
    async fn insert_account(&mut self, a: &Account) -> BankResult<()> {
        self.writable()?;
        let taken = self.held.contains_key(&a.id)
            || self.held.keys().any(|id| {
                self.held_account(*id)
                    .is_some_and(|h| h.account_number == a.account_number)
            });
        if taken {
            return Err(BankError::Duplicate("account"));
        }
        self.materialize().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO accounts (id, account_number, customer_id, account_type, currency, balance, held, \
             overdraft_limit, daily_limit, daily_out_date, daily_out_total, status, opened_at, closed_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6::numeric, $7::numeric, $8::numeric, $9::numeric, $10, $11::numeric, $12, $13, $14, $15, $16)",
        )
        .bind(a.id.0)
        .bind(a.account_number.as_str())
        .bind(a.customer_id.0)
        .bind(a.account_type.as_str())
        .bind(a.currency.code())
        .bind(a.balance.to_string())
        .bind(a.held.to_string())
        .bind(a.overdraft_limit.to_string())
        .bind(opt_text(a.daily_limit))
        .bind(a.daily_out_date)
        .bind(a.daily_out_total.to_string())
        .bind(a.status.as_str())
        .bind(a.opened_at)
        .bind(a.closed_at)
        .bind(a.updated_at)
        .bind(a.version)
        )
        .await?;
        // Invisible to other units until commit: this unit holds it as if locked.
        self.hold_account(a.clone());
        Ok(())
    }

    async fn account(&mut self, id: AccountId) -> BankResult<Option<Account>> {
        if let Some(a) = self.held_account(id) {
            return Ok(Some(a));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            account_cols!(),
            " FROM accounts WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn account_by_number(&mut self, number: &AccountNumber) -> BankResult<Option<Account>> {
        let held = self.held.keys().find_map(|id| {
            self.held_account(*id)
                .filter(|a| &a.account_number == number)
        });
        if held.is_some() {
            return Ok(held);
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            account_cols!(),
            " FROM accounts WHERE account_number = $1"
        ))
        .bind(number.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn lock_accounts(&mut self, ids: &[AccountId]) -> BankResult<Vec<Account>> {
        // Accounts this unit already holds come from the unit (with its buffered writes);
        // the rest are locked in the database.
        let fetch: Vec<Uuid> = ids
            .iter()
            .filter(|id| !self.held.contains_key(id))
            .map(|a| a.0)
            .collect();
        if !fetch.is_empty() {
            let rows = self
                .lock_rows(
                    RANK_ACCOUNT,
                    &fetch,
                    concat!(
                        "SELECT ",
                        account_cols!(),
                        " FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE"
                    ),
                    concat!(
                        "SELECT ",
                        account_cols!(),
                        " FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED"
                    ),
                    concat!(
                        "SELECT ",
                        account_cols!(),
                        " FROM accounts WHERE id = ANY($1) ORDER BY id"
                    ),
                )
                .await?;
            let accounts: Vec<Account> =
                rows.iter().map(rows::account).collect::<BankResult<_>>()?;
            if self.is_write() {
                for a in &accounts {
                    self.hold_account(a.clone());
                }
            } else {
                return Ok(accounts);
            }
        }
        Ok(ids.iter().filter_map(|id| self.held_account(*id)).collect())
    }

    async fn update_account(&mut self, a: &Account) -> BankResult<()> {
        self.writable()?;
        if self.held.contains_key(&a.id) {
            return self.push(Op::UpdateAccount(a.clone())).await;
        }
        // Not held by this unit: write now, so a missing row is reported here.
        self.materialize().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE accounts SET account_number = $2, customer_id = $3, account_type = $4, currency = $5, \
             balance = $6::numeric, held = $7::numeric, overdraft_limit = $8::numeric, daily_limit = $9::numeric, \
             daily_out_date = $10, daily_out_total = $11::numeric, status = $12, opened_at = $13, closed_at = $14, \
             updated_at = $15, version = $16 WHERE id = $1",
        )
        .bind(a.id.0)
        .bind(a.account_number.as_str())
        .bind(a.customer_id.0)
        .bind(a.account_type.as_str())
        .bind(a.currency.code())
        .bind(a.balance.to_string())
        .bind(a.held.to_string())
        .bind(a.overdraft_limit.to_string())
        .bind(opt_text(a.daily_limit))
        .bind(a.daily_out_date)
        .bind(a.daily_out_total.to_string())
        .bind(a.status.as_str())
        .bind(a.opened_at)
        .bind(a.closed_at)
        .bind(a.updated_at)
        .bind(a.version)
        )
        .await?;
        if done.rows_affected() == 0 {
            return Err(BankError::NotFound {
                resource: "account",
            });
        }
        Ok(())
    }

    async fn accounts_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        self.before_read().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_cols!(),
            " FROM accounts WHERE customer_id = $1 ORDER BY opened_at, id LIMIT $2"
        ))
        .bind(customer.0)
        .bind(i64::from(limit.min(ports::ACCOUNTS_OF_CUSTOMER_MAX)))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::account).collect()
    }

    async fn list_accounts(
        &mut self,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        self.before_read().await?;
        // Two statements rather than `$1 IS NULL OR id > $1`, so each keeps an index-range plan.
        let rows = match after {
            Some(after) => {
                sqlx::query(concat!(
                    "SELECT ",
                    account_cols!(),
                    " FROM accounts WHERE id > $1 ORDER BY id LIMIT $2"
                ))
                .bind(after.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    account_cols!(),
                    " FROM accounts ORDER BY id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
        }
        .map_err(db_err)?;
        rows.iter().map(rows::account).collect()
    }

    async fn insert_hold(&mut self, h: &Hold) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO holds (id, account_id, transaction_id, amount, currency, status, expires_at, created_at, resolved_at) \
             VALUES ($1, $2, $3, $4::numeric, $5, $6, $7, $8, $9)",
        )
        .bind(h.id.0)
        .bind(h.account_id.0)
        .bind(h.transaction_id.0)
        .bind(h.amount.amount().to_string())
        .bind(h.amount.currency().code())
        .bind(h.status.as_str())
        .bind(h.expires_at)
        .bind(h.created_at)
        .bind(h.resolved_at)
        )
        .await?;
        Ok(())
    }

    async fn hold(&mut self, id: HoldId) -> BankResult<Option<Hold>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            hold_cols!(),
            " FROM holds WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::hold).transpose()
    }

    async fn update_hold(&mut self, h: &Hold) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE holds SET account_id = $2, transaction_id = $3, amount = $4::numeric, currency = $5, status = $6, \
             expires_at = $7, created_at = $8, resolved_at = $9 WHERE id = $1",
        )
        .bind(h.id.0)
        .bind(h.account_id.0)
        .bind(h.transaction_id.0)
        .bind(h.amount.amount().to_string())
        .bind(h.amount.currency().code())
        .bind(h.status.as_str())
        .bind(h.expires_at)
        .bind(h.created_at)
        .bind(h.resolved_at)
        )
        .await?;
        if done.rows_affected() == 0 {
            return Err(BankError::NotFound { resource: "hold" });
        }
        Ok(())
    }

    async fn active_holds(&mut self, account: AccountId, limit: u32) -> BankResult<Vec<Hold>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            hold_cols!(),
            " FROM holds WHERE account_id = $1 AND status = 'ACTIVE' ORDER BY created_at, id LIMIT $2"
        ))
        .bind(account.0)
        .bind(i64::from(limit.min(ports::ACTIVE_HOLDS_MAX)))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::hold).collect()
    }

    async fn expired_holds(&mut self, now: DateTime<Utc>, limit: u32) -> BankResult<Vec<Hold>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            hold_cols!(),
            " FROM holds WHERE status = 'ACTIVE' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::hold).collect()
    }
}

// ------------------------------------------------------------------ ledger context

#[async_trait]
impl LedgerRepo for PgUow {
    async fn insert_journal(&mut self, j: &JournalEntry) -> BankResult<()> {
        j.validate()?;
        self.writable()?;
        self.push(Op::Journal(j.clone())).await
    }

    async fn journals_of_transaction(
        &mut self,
        txn: TransactionId,
        limit: u32,
    ) -> BankResult<Vec<JournalEntry>> {
        self.before_read().await?;
        // Both tables belong to the ledger context.
        let rows = sqlx::query(
            "SELECT j.id, j.transaction_id, j.posted_at, j.description, p.account_id, p.amount::text, p.currency \
             FROM (SELECT * FROM journal_entries WHERE transaction_id = $1 ORDER BY seq LIMIT $2) j \
             JOIN postings p ON p.journal_id = j.id ORDER BY j.seq, p.seq",
        )
        .bind(txn.0)
        .bind(i64::from(limit.min(ports::JOURNALS_OF_TRANSACTION_MAX)))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut out: Vec<JournalEntry> = Vec::new();
        for r in &rows {
            let id = JournalId(get(r, 0)?);
            let amount = rows::decimal(&get::<String>(r, 5)?)?;
            let currency =
                Currency::parse(&get::<String>(r, 6)?).map_err(|_| corrupt("currency"))?;
            let posting = Posting {
                account_id: AccountId(get(r, 4)?),
                amount: Money::new(amount, currency).map_err(|_| corrupt("amount"))?,
            };
            match out.last_mut() {
                Some(last) if last.id == id => last.postings.push(posting),
                _ => out.push(JournalEntry {
                    id,
                    transaction_id: TransactionId(get(r, 1)?),
                    postings: vec![posting],
                    posted_at: get(r, 2)?,
                    description: get(r, 3)?,
                }),
            }
        }
        Ok(out)
    }

    async fn posting_sum(
        &mut self,
        account: AccountId,
        before: Option<DateTime<Utc>>,
    ) -> BankResult<Decimal> {
        self.before_read().await?;
        let row = match before {
            Some(before) => {
                sqlx::query("SELECT COALESCE(SUM(amount), 0)::text FROM postings WHERE account_id = $1 AND posted_at < $2")
                    .bind(account.0)
                    .bind(before)
                    .fetch_one(&mut *self.tx)
                    .await
            }
            None => {
                sqlx::query("SELECT COALESCE(SUM(amount), 0)::text FROM postings WHERE account_id = $1")
                    .bind(account.0)
                    .fetch_one(&mut *self.tx)
                    .await
            }
        }
        .map_err(db_err)?;
        rows::decimal(&get::<String>(&row, 0)?)
    }

    async fn postings(
        &mut self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<PostingLine>> {
        self.before_read().await?;
        let rows = sqlx::query(
            "SELECT p.seq, p.journal_id, p.transaction_id, p.account_id, p.amount::text, p.currency, p.posted_at, j.description \
             FROM postings p JOIN journal_entries j ON j.id = p.journal_id \
             WHERE p.account_id = $1 AND p.posted_at >= $2 AND p.posted_at < $3 AND p.seq > $4 \
             ORDER BY p.seq LIMIT $5",
        )
        .bind(account.0)
        .bind(from)
        .bind(to)
        .bind(after_seq.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::posting_line).collect()
    }

    async fn ledger_totals(&mut self) -> BankResult<Vec<(Currency, Decimal)>> {
        self.before_read().await?;
        let rows = sqlx::query(
            "SELECT currency, SUM(amount)::text FROM postings GROUP BY currency ORDER BY currency COLLATE \"C\"",
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let c = Currency::parse(&get::<String>(r, 0)?).map_err(|_| corrupt("currency"))?;
                Ok((c, rows::decimal(&get::<String>(r, 1)?)?))
            })
            .collect()
    }
}

// ------------------------------------------------------------------ transaction context

#[async_trait]
impl TransactionRepo for PgUow {
    async fn insert_transaction(&mut self, t: &Transaction) -> BankResult<()> {
        self.writable()?;
        if self.buffered_txn(t.id).is_some() {
            return Err(BankError::Duplicate("transaction"));
        }
        self.push(Op::InsertTxn(t.clone())).await
    }

    async fn update_transaction(&mut self, t: &Transaction) -> BankResult<()> {
        self.writable()?;
        if self.buffered_txn(t.id).is_some() {
            return self.push(Op::UpdateTxn(t.clone())).await;
        }
        // Not written by this unit: write now, so a missing row is reported here.
        self.materialize().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE transactions SET transaction_ref = $2, from_account_id = $3, to_account_id = $4, amount = $5::numeric, \
             currency = $6, transaction_type = $7, status = $8, description = $9, failure_code = $10, reason = $11, \
             hold_id = $12, parent_id = $13, created_at = $14, processed_at = $15, reversed_at = $16 WHERE id = $1",
        )
        .bind(t.id.0)
        .bind(t.transaction_ref.as_str())
        .bind(t.from_account_id.map(|a| a.0))
        .bind(t.to_account_id.map(|a| a.0))
        .bind(t.amount.amount().to_string())
        .bind(t.amount.currency().code())
        .bind(t.transaction_type.as_str())
        .bind(t.status.as_str())
        .bind(t.description.as_deref())
        .bind(t.failure_code.as_deref())
        .bind(t.reason.as_deref())
        .bind(t.hold_id.map(|h| h.0))
        .bind(t.parent_id.map(|p| p.0))
        .bind(t.created_at)
        .bind(t.processed_at)
        .bind(t.reversed_at)
        )
        .await?;
        if done.rows_affected() == 0 {
            return Err(BankError::NotFound {
                resource: "transaction",
            });
        }
        Ok(())
    }

    async fn transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        if let Some(t) = self.buffered_txn(id) {
            return Ok(Some(t));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            txn_cols!(),
            " FROM transactions WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::transaction).transpose()
    }

    async fn lock_transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        // Written by this unit: inserted here (invisible to others) or already locked.
        if let Some(t) = self.buffered_txn(id) {
            return Ok(Some(t));
        }
        let rows = self
            .lock_rows(
                RANK_TRANSACTION,
                &[id.0],
                concat!(
                    "SELECT ",
                    txn_cols!(),
                    " FROM transactions WHERE id = ANY($1) ORDER BY id FOR UPDATE"
                ),
                concat!(
                    "SELECT ",
                    txn_cols!(),
                    " FROM transactions WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED"
                ),
                concat!(
                    "SELECT ",
                    txn_cols!(),
                    " FROM transactions WHERE id = ANY($1) ORDER BY id"
                ),
            )
            .await?;
        rows.first().map(rows::transaction).transpose()
    }

    async fn list_transactions(&mut self, q: &TransactionQuery) -> BankResult<Vec<Transaction>> {
        self.before_read().await?;
        q.validate()?;
        // Only the filters given become SQL, so each combination gets its own plan.
        let mut b: QueryBuilder<Postgres> = QueryBuilder::new(concat!(
            "SELECT ",
            txn_cols!(),
            " FROM transactions WHERE TRUE"
        ));
        if let Some(a) = q.account_id {
            b.push(" AND (from_account_id = ")
                .push_bind(a.0)
                .push(" OR to_account_id = ")
                .push_bind(a.0)
                .push(")");
        }
        if let Some(from) = q.from {
            b.push(" AND created_at >= ").push_bind(from);
        }
        if let Some(to) = q.to {
            b.push(" AND created_at < ").push_bind(to);
        }
        if let Some(ty) = q.transaction_type {
            b.push(" AND transaction_type = ").push_bind(ty.as_str());
        }
        if let Some(s) = q.status {
            b.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(m) = q.min_amount {
            b.push(" AND amount >= ")
                .push_bind(m.to_string())
                .push("::numeric");
        }
        if let Some(m) = q.max_amount {
            b.push(" AND amount <= ")
                .push_bind(m.to_string())
                .push("::numeric");
        }
        if let Some((at, id)) = q.after {
            b.push(" AND (created_at, id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id.0)
                .push(")");
        }
        b.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = b.build().fetch_all(&mut *self.tx).await.map_err(db_err)?;
        rows.iter().map(rows::transaction).collect()
    }
}

// ------------------------------------------------------------------ idempotency

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

// ------------------------------------------------------------------ events (event store + outbox)

#[async_trait]
impl EventRepo for PgUow {
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()> {
        self.writable()?;
        if events.is_empty() {
            return Ok(());
        }
        self.push(Op::Events(events.to_vec())).await
    }

    async fn events_of_aggregate(
        &mut self,
        aggregate_id: Uuid,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        self.before_read().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_cols!(),
            " FROM events WHERE aggregate_id = $1 ORDER BY seq LIMIT $2"
        ))
        .bind(aggregate_id)
        .bind(i64::from(limit.min(ports::EVENTS_OF_AGGREGATE_MAX)))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::stored_event).collect()
    }

    async fn claim_events(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        self.before_read().await?;
        self.writable()?;
        // Claimable: unpublished, lease free or expired, and no earlier unpublished event of the
        // same aggregate (leased or not). SKIP LOCKED passes over rows another relay is claiming
        // right now; a row it claimed and committed meanwhile is re-checked against its new
        // lease before it is locked here, so no event is claimed twice while a lease holds.
        let rows = sqlx::query(concat!(
            "WITH picked AS (SELECT e.seq FROM events e \
             WHERE e.published_at IS NULL AND (e.lease_until IS NULL OR e.lease_until <= $1) \
             AND NOT EXISTS (SELECT 1 FROM events p WHERE p.aggregate_id = e.aggregate_id \
                             AND p.published_at IS NULL AND p.seq < e.seq) \
             ORDER BY e.seq LIMIT $3 FOR UPDATE OF e SKIP LOCKED) \
             UPDATE events SET lease_until = $2 FROM picked WHERE events.seq = picked.seq RETURNING ",
            "events.seq, events.event_id, events.aggregate_id, events.event_type, events.time, events.data, events.published_at"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut out: Vec<StoredEvent> = rows
            .iter()
            .map(rows::stored_event)
            .collect::<BankResult<_>>()?;
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    async fn mark_published(&mut self, seqs: &[i64], at: DateTime<Utc>) -> BankResult<()> {
        self.before_read().await?;
        self.writable()?;
        let distinct: HashSet<i64> = seqs.iter().copied().collect();
        let done = self
            .exec_guarded(
                sqlx::query(
                    "UPDATE events SET published_at = $2, lease_until = NULL WHERE seq = ANY($1)",
                )
                .bind(seqs)
                .bind(at),
            )
            .await?;
        if done.rows_affected() != distinct.len() as u64 {
            return Err(BankError::NotFound { resource: "event" });
        }
        Ok(())
    }

    async fn purge_published_events(
        &mut self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<u64> {
        self.before_write().await?;
        // SKIP LOCKED: a row a relay is marking right now is left for the next batch.
        let done = sqlx::query(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
             WHERE published_at IS NOT NULL AND time < $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(i64::from(limit.min(ports::PURGE_BATCH_MAX)))
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

impl PgUow {
    /// The latest state of a transaction this unit inserted or updated.
    fn buffered_txn(&self, id: TransactionId) -> Option<Transaction> {
        self.log.iter().rev().find_map(|op| match op {
            Op::InsertTxn(t) | Op::UpdateTxn(t) if t.id == id => Some(t.clone()),
            _ => None,
        })
    }

    /// An idempotency record this unit inserted.
    fn buffered_idempotency(&self, scope: &str, key: &IdempotencyKey) -> Option<IdempotencyRecord> {
        self.log.iter().rev().find_map(|op| match op {
            Op::Idem(r) if r.scope == scope && &r.key == key => Some(r.clone()),
            _ => None,
        })
    }
}
