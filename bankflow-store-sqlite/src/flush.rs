//! Writes a slice of the write-behind log in one round trip.
//!
//! The statement is fixed: one multi-row statement per buffered kind, each reading its rows
//! from a JSON array bound as a single parameter (`json_each`), all sent as one
//! multi-statement query. Fixed text means sqlx prepares it once per connection and every
//! flush reuses it, whatever the number of rows (multi-row `VALUES` would be a new statement
//! for every row count), and one bound parameter per kind stays far below SQLite's limit on
//! bound parameters whatever the batch. Kinds with no rows bind `[]` and cost a few
//! microseconds. Money stays exact: minor units travel as JSON integers (SQLite reads them
//! back as 64-bit integers) and decimals as text.
//!
//! The SQL and row encoding of each table live in the module that owns the table; this module
//! only batches and sequences them. Within one batch, repeated writes of a row are coalesced
//! to its last state; dependencies (postings after their journal entries) follow the order of
//! the statements; log order is kept within every kind (journal, posting and event sequence
//! numbers follow it).

use std::sync::LazyLock;

use sqlx::SqliteConnection;

use bankflow_core::store_support::WriteBatch as Batch;

use bankflow_core::{BankError, BankResult};

use crate::{account, codec, events, idem, ledger, txn};

/// Rows per round trip, at most: bounds the JSON text of one flush (a few MiB).
pub const ROWS_PER_FLUSH_MAX: usize = 4_096;

/// Postings of one journal entry, at most: a journal and its postings go in one batch, so a
/// batch may pass `ROWS_PER_FLUSH_MAX` by this much.
pub const JOURNAL_POSTINGS_MAX: usize = 1_000;

/// A buffered write: the write-behind log's op, shared with the PostgreSQL store.
pub(crate) use bankflow_core::store_support::WriteOp as Op;

/// Every kind's statement, in dependency order, each with exactly one `?` (its JSON rows).
static FLUSH_SQL: LazyLock<String> = LazyLock::new(|| {
    [
        account::FLUSH_UPDATE_SQL,
        ledger::FLUSH_JOURNALS_SQL,
        ledger::FLUSH_POSTINGS_SQL,
        txn::FLUSH_INSERT_SQL,
        txn::FLUSH_UPDATE_SQL,
        idem::FLUSH_INSERT_SQL,
        events::FLUSH_INSERT_SQL,
    ]
    .join(";\n")
});

/// Writes `ops` in as few round trips as the row bound allows.
pub(crate) async fn write(conn: &mut SqliteConnection, ops: &[Op]) -> BankResult<()> {
    let mut batch = Batch::default();
    for op in ops {
        match op {
            Op::Events(es) => {
                for e in es {
                    batch.add_event(e);
                    if batch.rows() >= ROWS_PER_FLUSH_MAX {
                        run(conn, &std::mem::take(&mut batch)).await?;
                    }
                }
            }
            Op::Journal(j) => {
                assert!(
                    j.postings.len() <= JOURNAL_POSTINGS_MAX,
                    "checked by insert_journal"
                );
                batch.add(op);
            }
            _ => batch.add(op),
        }
        if batch.rows() >= ROWS_PER_FLUSH_MAX {
            run(conn, &std::mem::take(&mut batch)).await?;
        }
    }
    if batch.rows() > 0 {
        run(conn, &batch).await?;
    }
    Ok(())
}

async fn run(conn: &mut SqliteConnection, b: &Batch<'_>) -> BankResult<()> {
    assert!(b.rows() > 0 && b.rows() <= ROWS_PER_FLUSH_MAX + JOURNAL_POSTINGS_MAX);
    let (inserts, updates) = (b.txns(true), b.txns(false));
    let done = sqlx::query(FLUSH_SQL.as_str())
        .bind(account::flush_rows(&b.accounts)?)
        .bind(ledger::flush_journal_rows(&b.journals)?)
        .bind(ledger::flush_posting_rows(&b.journals)?)
        .bind(txn::flush_rows(&inserts)?)
        .bind(txn::flush_rows(&updates)?)
        .bind(idem::flush_rows(&b.idem)?)
        .bind(events::flush_rows(&b.events)?)
        .execute(&mut *conn)
        .await
        .map_err(codec::err(None))?;
    // Inserts change exactly their rows or fail; an update that matched fewer rows than it
    // was given lost a write. Checked before COMMIT, which is why COMMIT is its own round trip.
    let expected = b.rows() as u64;
    if done.rows_affected() != expected {
        return Err(BankError::Invariant(format!(
            "sqlite flush changed {} rows, expected {expected}",
            done.rows_affected()
        )));
    }
    Ok(())
}
