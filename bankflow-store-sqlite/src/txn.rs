//! Transaction context: the `transactions` read model. No other module touches it.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;

use bankflow_core::ids::{AccountId, HoldId, TransactionId, UserId};
use bankflow_core::ports::TransactionRepo;
use bankflow_core::transaction::{
    Transaction, TransactionQuery, TransactionRef, TransactionStatus, TransactionType,
};
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, id, milli, milli_ceil, milli_floor, opt_id, opt_ts, to_json, ts, Col};
use crate::flush::Op;
use crate::uow::{Key, Row, SqliteUow};
use bankflow_core::store_support::found;

macro_rules! txn_cols {
    () => {
        "id, transaction_ref, from_account_id, to_account_id, amount_milli, currency, transaction_type, status, \
         description, failure_code, reason, hold_id, parent_id, created_at, processed_at, reversed_at, \
         initiated_by, approved_by"
    };
}

fn txn_row(r: &SqliteRow) -> BankResult<Transaction> {
    Ok(Transaction {
        id: TransactionId(r.uuid("id")?),
        transaction_ref: TransactionRef::parse(&r.text("transaction_ref")?)
            .map_err(|_| codec::corrupt("transaction_ref"))?,
        from_account_id: r.opt_uuid("from_account_id")?.map(AccountId),
        to_account_id: r.opt_uuid("to_account_id")?.map(AccountId),
        amount: r.money_milli("amount_milli", "currency")?,
        transaction_type: r.parsed("transaction_type", TransactionType::parse)?,
        status: r.parsed("status", TransactionStatus::parse)?,
        description: r.opt_text("description")?,
        failure_code: r.opt_text("failure_code")?,
        reason: r.opt_text("reason")?,
        hold_id: r.opt_uuid("hold_id")?.map(HoldId),
        parent_id: r.opt_uuid("parent_id")?.map(TransactionId),
        created_at: r.time("created_at")?,
        processed_at: r.opt_time("processed_at")?,
        reversed_at: r.opt_time("reversed_at")?,
        initiated_by: r.opt_uuid("initiated_by")?.map(UserId),
        approved_by: r.opt_uuid("approved_by")?.map(UserId),
    })
}

async fn fetch(uow: &mut SqliteUow, txn: TransactionId) -> BankResult<Option<Transaction>> {
    if let Some(Row::Txn(t)) = uow.cached(&Key::Txn(txn)) {
        return Ok(Some(t.clone()));
    }
    let row = sqlx::query(concat!(
        "SELECT ",
        txn_cols!(),
        " FROM transactions WHERE id = ?"
    ))
    .bind(id(txn.0))
    .fetch_optional(uow.unbuffered()?)
    .await
    .map_err(codec::err(None))?;
    let found = row.as_ref().map(txn_row).transpose()?;
    if let Some(t) = &found {
        uow.remember(Key::Txn(t.id), Row::Txn(t.clone()));
    }
    Ok(found)
}

/// Buffered inserts (see `flush`), in log order.
pub(crate) const FLUSH_INSERT_SQL: &str = concat!(
    "INSERT INTO transactions (",
    txn_cols!(),
    ") SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
     value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, value->>15, \
     value->>16, value->>17 FROM json_each(?) ORDER BY key"
);

/// Buffered updates of rows this unit read or inserted earlier (see `flush`).
pub(crate) const FLUSH_UPDATE_SQL: &str =
    "UPDATE transactions SET transaction_ref = u.value->>1, from_account_id = u.value->>2, \
     to_account_id = u.value->>3, amount_milli = u.value->>4, currency = u.value->>5, \
     transaction_type = u.value->>6, status = u.value->>7, description = u.value->>8, \
     failure_code = u.value->>9, reason = u.value->>10, hold_id = u.value->>11, parent_id = u.value->>12, \
     created_at = u.value->>13, processed_at = u.value->>14, reversed_at = u.value->>15, \
     initiated_by = u.value->>16, approved_by = u.value->>17 \
     FROM json_each(?) AS u WHERE transactions.id = u.value->>0";

/// The JSON rows of both flush statements: every column, in `txn_cols!` order.
pub(crate) fn flush_rows(txns: &[&Transaction]) -> BankResult<String> {
    // An array per row (serde's tuples stop at 16 fields).
    let rows: Vec<_> = txns
        .iter()
        .map(|t| {
            serde_json::json!([
                id(t.id.0),
                t.transaction_ref.as_str(),
                opt_id(t.from_account_id.map(|a| a.0)),
                opt_id(t.to_account_id.map(|a| a.0)),
                milli(&t.amount),
                t.amount.currency().code(),
                t.transaction_type.as_str(),
                t.status.as_str(),
                t.description.as_deref(),
                t.failure_code.as_deref(),
                t.reason.as_deref(),
                opt_id(t.hold_id.map(|h| h.0)),
                opt_id(t.parent_id.map(|p| p.0)),
                ts(&t.created_at),
                opt_ts(&t.processed_at),
                opt_ts(&t.reversed_at),
                opt_id(t.initiated_by.map(|u| u.0)),
                opt_id(t.approved_by.map(|u| u.0)),
            ])
        })
        .collect();
    to_json(&rows)
}

#[async_trait]
impl TransactionRepo for SqliteUow {
    async fn insert_transaction(&mut self, t: &Transaction) -> BankResult<()> {
        self.writable()?;
        // A duplicate of a row this unit knows is refused here; one of an older row the unit
        // never read is refused by the primary key when the log is written (ids are fresh
        // UUIDv7s, so that is a generator fault, and it fails the whole unit).
        if self.cached(&Key::Txn(t.id)).is_some() {
            return Err(BankError::Duplicate("transaction"));
        }
        self.remember(Key::Txn(t.id), Row::Txn(t.clone()));
        self.push(Op::InsertTxn(t.clone())).await
    }

    async fn update_transaction(&mut self, t: &Transaction) -> BankResult<()> {
        self.writable()?;
        if self.cached(&Key::Txn(t.id)).is_some() {
            self.remember(Key::Txn(t.id), Row::Txn(t.clone()));
            return self.push(Op::UpdateTxn(t.clone())).await;
        }
        // Not read by this unit: write now, so a missing row is reported here.
        let done = sqlx::query(
            "UPDATE transactions SET transaction_ref = ?, from_account_id = ?, to_account_id = ?, amount_milli = ?, \
             currency = ?, transaction_type = ?, status = ?, description = ?, failure_code = ?, reason = ?, \
             hold_id = ?, parent_id = ?, created_at = ?, processed_at = ?, reversed_at = ?, initiated_by = ?, \
             approved_by = ? WHERE id = ?",
        )
        .bind(t.transaction_ref.as_str())
        .bind(opt_id(t.from_account_id.map(|a| a.0)))
        .bind(opt_id(t.to_account_id.map(|a| a.0)))
        .bind(milli(&t.amount))
        .bind(t.amount.currency().code().to_string())
        .bind(t.transaction_type.as_str())
        .bind(t.status.as_str())
        .bind(t.description.clone())
        .bind(t.failure_code.clone())
        .bind(t.reason.clone())
        .bind(opt_id(t.hold_id.map(|h| h.0)))
        .bind(opt_id(t.parent_id.map(|p| p.0)))
        .bind(ts(&t.created_at))
        .bind(opt_ts(&t.processed_at))
        .bind(opt_ts(&t.reversed_at))
        .bind(opt_id(t.initiated_by.map(|u| u.0)))
        .bind(opt_id(t.approved_by.map(|u| u.0)))
        .bind(id(t.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("transaction")))?;
        found(done.rows_affected(), "transaction")?;
        Ok(())
    }

    async fn transaction(&mut self, txn: TransactionId) -> BankResult<Option<Transaction>> {
        fetch(self, txn).await
    }

    async fn lock_transaction(&mut self, txn: TransactionId) -> BankResult<Option<Transaction>> {
        // A write unit's BEGIN IMMEDIATE already holds the database write lock: the row cannot
        // change under this unit.
        fetch(self, txn).await
    }

    async fn list_transactions(
        &mut self,
        query: &TransactionQuery,
    ) -> BankResult<Vec<Transaction>> {
        query.validate()?;
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
            "SELECT ",
            txn_cols!(),
            " FROM transactions WHERE 1 = 1"
        ));
        if let Some(a) = query.account_id {
            qb.push(" AND (from_account_id = ").push_bind(id(a.0));
            qb.push(" OR to_account_id = ").push_bind(id(a.0)).push(")");
        }
        if let Some(f) = &query.from {
            qb.push(" AND created_at >= ").push_bind(ts(f));
        }
        if let Some(t) = &query.to {
            qb.push(" AND created_at < ").push_bind(ts(t));
        }
        if let Some(ty) = query.transaction_type {
            qb.push(" AND transaction_type = ").push_bind(ty.as_str());
        }
        if let Some(s) = query.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(m) = query.min_amount {
            qb.push(" AND amount_milli >= ").push_bind(milli_ceil(m));
        }
        if let Some(m) = query.max_amount {
            qb.push(" AND amount_milli <= ").push_bind(milli_floor(m));
        }
        if let Some((at, t)) = &query.after {
            qb.push(" AND (created_at, id) < (")
                .push_bind(ts(at))
                .push(", ")
                .push_bind(id(t.0))
                .push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows = qb
            .build()
            .fetch_all(self.c().await?)
            .await
            .map_err(codec::err(None))?;
        rows.iter().map(txn_row).collect()
    }
}
