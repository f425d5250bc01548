//! Ledger context: `journal_entries` and `postings` (both tables belong to it).

use async_trait::async_trait;
use bankflow_core::ids::{AccountId, JournalId, TransactionId};
use bankflow_core::ledger::{JournalEntry, Posting, PostingLine};
use bankflow_core::ports::{self, LedgerRepo};
use bankflow_core::{BankResult, Currency, Money};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{corrupt, db_err};
use crate::rows::{self, get};
use crate::uow::{Op, PgUow};

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
