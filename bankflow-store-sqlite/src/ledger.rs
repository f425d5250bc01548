//! Ledger context: `journal_entries` and `postings` (joined only with each other).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;

use bankflow_core::ids::{AccountId, JournalId, TransactionId};
use bankflow_core::ledger::{JournalEntry, Posting, PostingLine};
use bankflow_core::money::Currency;
use bankflow_core::ports::{self, LedgerRepo};
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, corrupt, id, to_json, ts, Col};
use crate::flush::Op;
use crate::uow::SqliteUow;

/// Buffered journal entries (see `flush`). `seq` is given explicitly: the batch's entries take
/// the next numbers in log order, computed in the statement from the current maximum (which
/// nothing else can move: the unit holds the write lock). The uncorrelated subquery is read
/// before any row is inserted (SQLite materialises an INSERT … SELECT that reads its own
/// table first), so the numbers are consecutive.
pub(crate) const FLUSH_JOURNALS_SQL: &str =
    "INSERT INTO journal_entries (seq, id, transaction_id, posted_at, description) \
     SELECT (SELECT IFNULL(MAX(seq), 0) FROM journal_entries) + 1 + key, value->>0, value->>1, value->>2, \
     value->>3 FROM json_each(?) ORDER BY key";

/// Buffered postings, after their entries in the same round trip: each row carries how many
/// entries of the batch follow its own, so its entry's seq is the new maximum minus that.
/// Postings are numbered by SQLite (max + 1) in log order: booking order.
pub(crate) const FLUSH_POSTINGS_SQL: &str =
    "INSERT INTO postings (journal_seq, account_id, currency, amount_minor, posted_at) \
     SELECT (SELECT MAX(seq) FROM journal_entries) - (value->>0), value->>1, value->>2, value->>3, value->>4 \
     FROM json_each(?) ORDER BY key";

/// Postings of one journal entry, at most (bounds one flush batch).
pub const JOURNAL_POSTINGS_MAX: usize = crate::flush::JOURNAL_POSTINGS_MAX;

/// The JSON rows of [`FLUSH_JOURNALS_SQL`].
pub(crate) fn flush_journal_rows(journals: &[&JournalEntry]) -> BankResult<String> {
    let rows: Vec<_> = journals
        .iter()
        .map(|j| {
            (
                id(j.id.0),
                id(j.transaction_id.0),
                ts(&j.posted_at),
                j.description.as_deref(),
            )
        })
        .collect();
    to_json(&rows)
}

/// The JSON rows of [`FLUSH_POSTINGS_SQL`] for the same `journals`.
pub(crate) fn flush_posting_rows(journals: &[&JournalEntry]) -> BankResult<String> {
    let mut rows = Vec::with_capacity(journals.len() * 2);
    for (i, j) in journals.iter().enumerate() {
        let entries_after = (journals.len() - 1 - i) as i64;
        let posted_at = ts(&j.posted_at);
        for p in &j.postings {
            rows.push((
                entries_after,
                id(p.account_id.0),
                p.amount.currency().code().to_string(),
                p.amount.amount_minor(),
                posted_at.clone(),
            ));
        }
    }
    to_json(&rows)
}

#[async_trait]
impl LedgerRepo for SqliteUow {
    async fn insert_journal(&mut self, j: &JournalEntry) -> BankResult<()> {
        // The engine validated it; checking again here keeps an unbalanced entry out of the
        // table whatever the caller (pair assertion with the reference store).
        j.validate()?;
        if j.postings.len() > JOURNAL_POSTINGS_MAX {
            return Err(BankError::LimitExceeded(format!(
                "at most {JOURNAL_POSTINGS_MAX} postings per journal entry"
            )));
        }
        self.push(Op::Journal(j.clone())).await
    }

    async fn journals_of_transaction(
        &mut self,
        txn: TransactionId,
        limit: u32,
    ) -> BankResult<Vec<JournalEntry>> {
        let c = self.c().await?;
        let heads = sqlx::query(
            "SELECT seq, id, transaction_id, posted_at, description FROM journal_entries \
             WHERE transaction_id = ? ORDER BY seq LIMIT ?",
        )
        .bind(id(txn.0))
        .bind(limit.min(ports::JOURNALS_OF_TRANSACTION_MAX))
        .fetch_all(&mut *c)
        .await
        .map_err(codec::err(None))?;
        let mut out = Vec::with_capacity(heads.len());
        for h in &heads {
            let seq = h.int("seq")?;
            let lines = sqlx::query(
                "SELECT account_id, currency, amount_minor FROM postings WHERE journal_seq = ? ORDER BY seq",
            )
            .bind(seq)
            .fetch_all(&mut *c)
            .await
            .map_err(codec::err(None))?;
            let postings = lines
                .iter()
                .map(|r| {
                    Ok(Posting {
                        account_id: AccountId(r.uuid("account_id")?),
                        amount: r.money_minor("amount_minor", "currency")?,
                    })
                })
                .collect::<BankResult<Vec<_>>>()?;
            out.push(JournalEntry {
                id: JournalId(h.uuid("id")?),
                transaction_id: TransactionId(h.uuid("transaction_id")?),
                postings,
                posted_at: h.time("posted_at")?,
                description: h.opt_text("description")?,
            });
        }
        Ok(out)
    }

    async fn posting_sum(
        &mut self,
        account: AccountId,
        before: Option<DateTime<Utc>>,
    ) -> BankResult<Decimal> {
        // Integer minor units summed in SQL (exact; SQLite raises on i64 overflow rather than
        // going to floating point). One account has one currency, but grouping keeps the
        // scale right without trusting that.
        let rows = sqlx::query(
            "SELECT currency, SUM(amount_minor) AS total FROM postings \
             WHERE account_id = ?1 AND (?2 IS NULL OR posted_at < ?2) GROUP BY currency",
        )
        .bind(id(account.0))
        .bind(before.as_ref().map(ts))
        .fetch_all(self.c().await?)
        .await
        .map_err(codec::err(None))?;
        let mut sum = Decimal::ZERO;
        for r in &rows {
            let currency = r.currency("currency")?;
            sum += Decimal::new(r.int("total")?, currency.minor_units());
        }
        Ok(sum)
    }

    async fn postings(
        &mut self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<PostingLine>> {
        let rows = sqlx::query(
            "SELECT p.seq, p.account_id, p.currency, p.amount_minor, j.id AS journal_id, j.transaction_id, \
             j.posted_at, j.description \
             FROM postings p JOIN journal_entries j ON j.seq = p.journal_seq \
             WHERE p.account_id = ? AND p.posted_at >= ? AND p.posted_at < ? AND p.seq > ? \
             ORDER BY p.seq LIMIT ?",
        )
        .bind(id(account.0))
        .bind(ts(&from))
        .bind(ts(&to))
        .bind(after_seq.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(self.c().await?)
        .await
        .map_err(codec::err(None))?;
        rows.iter()
            .map(|r| {
                Ok(PostingLine {
                    seq: r.int("seq")?,
                    journal_id: JournalId(r.uuid("journal_id")?),
                    transaction_id: TransactionId(r.uuid("transaction_id")?),
                    account_id: AccountId(r.uuid("account_id")?),
                    amount: r.money_minor("amount_minor", "currency")?,
                    posted_at: r.time("posted_at")?,
                    description: r.opt_text("description")?,
                })
            })
            .collect()
    }

    async fn ledger_totals(&mut self) -> BankResult<Vec<(Currency, Decimal)>> {
        let rows = sqlx::query(
            "SELECT currency, SUM(amount_minor) AS total FROM postings GROUP BY currency",
        )
        .fetch_all(self.c().await?)
        .await
        .map_err(codec::err(None))?;
        let mut sums: BTreeMap<Currency, Decimal> = BTreeMap::new();
        for r in &rows {
            let currency = r.currency("currency")?;
            let total: i64 = r.try_get("total").map_err(|_| corrupt("total"))?;
            *sums.entry(currency).or_default() += Decimal::new(total, currency.minor_units());
        }
        Ok(sums.into_iter().collect())
    }
}
