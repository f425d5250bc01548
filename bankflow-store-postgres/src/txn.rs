//! Transaction context: the `transactions` read model.

use async_trait::async_trait;
use bankflow_core::ids::TransactionId;
use bankflow_core::ports::TransactionRepo;
use bankflow_core::store_support::found;
use bankflow_core::transaction::{Transaction, TransactionQuery};
use bankflow_core::{BankError, BankResult};
use sqlx::{Postgres, QueryBuilder};

use crate::error::db_err;
use crate::rows::{self, txn_cols};
use crate::uow::{Op, PgUow, RANK_TRANSACTION};

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
             hold_id = $12, parent_id = $13, created_at = $14, processed_at = $15, reversed_at = $16, \
             initiated_by = $17, approved_by = $18 WHERE id = $1",
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
        .bind(t.initiated_by.map(|u| u.0))
        .bind(t.approved_by.map(|u| u.0))
        )
        .await?;
        found(done.rows_affected(), "transaction")
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

impl PgUow {
    /// The latest state of a transaction this unit inserted or updated.
    pub(crate) fn buffered_txn(&self, id: TransactionId) -> Option<Transaction> {
        self.log.iter().rev().find_map(|op| match op {
            Op::InsertTxn(t) | Op::UpdateTxn(t) if t.id == id => Some(t.clone()),
            _ => None,
        })
    }
}
