//! Writes a slice of the write-behind log: each kind of write in one multi-row statement
//! (`UNNEST` of arrays), in an order that respects every dependency between them.
//!
//! Within the slice, repeated writes of one row are coalesced to its last state (a transfer
//! and the next one in the same group touch the same balance row).

use bankflow_core::account::Account;
use bankflow_core::events::DomainEvent;
use bankflow_core::idempotency::IdempotencyRecord;
use bankflow_core::ledger::JournalEntry;
use bankflow_core::transaction::Transaction;
use bankflow_core::{BankError, BankResult};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Postgres};
use uuid::Uuid;

use crate::error::db_err;
use crate::uow::Op;
use bankflow_core::store_support::{found_all, WriteBatch};

/// Rows per statement, at most (bounds bind-array sizes).
const ROWS_PER_STATEMENT_MAX: usize = 1000;

pub(crate) async fn write_ops(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    ops: &[Op],
) -> BankResult<()> {
    let b = WriteBatch::of(ops);
    let conn: &mut PgConnection = tx;
    for chunk in b.accounts.chunks(ROWS_PER_STATEMENT_MAX) {
        update_accounts(conn, chunk).await?;
    }
    for chunk in b.journals.chunks(ROWS_PER_STATEMENT_MAX) {
        insert_journals(conn, chunk).await?;
    }
    let (inserts, updates) = (b.txns(true), b.txns(false));
    for chunk in inserts.chunks(ROWS_PER_STATEMENT_MAX) {
        write_txns(conn, chunk, true).await?;
    }
    for chunk in updates.chunks(ROWS_PER_STATEMENT_MAX) {
        write_txns(conn, chunk, false).await?;
    }
    for chunk in b.idem.chunks(ROWS_PER_STATEMENT_MAX) {
        insert_idempotency(conn, chunk).await?;
    }
    for chunk in b.events.chunks(ROWS_PER_STATEMENT_MAX) {
        insert_events(conn, chunk).await?;
    }
    Ok(())
}

fn text<T: ToString>(v: &T) -> String {
    v.to_string()
}

async fn update_accounts(conn: &mut PgConnection, rows: &[&Account]) -> BankResult<()> {
    let done = sqlx::query(
        "UPDATE accounts a SET account_number = u.num, customer_id = u.cust, account_type = u.ty, currency = u.ccy, \
         balance = u.bal::numeric, held = u.held::numeric, overdraft_limit = u.od::numeric, daily_limit = u.dl::numeric, \
         daily_out_date = u.dod, daily_out_total = u.dot::numeric, status = u.st, opened_at = u.oa, closed_at = u.ca, \
         updated_at = u.ua, version = u.v \
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
                     $9::text[], $10::date[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], \
                     $15::timestamptz[], $16::int8[]) \
              AS u(id, num, cust, ty, ccy, bal, held, od, dl, dod, dot, st, oa, ca, ua, v) \
         WHERE a.id = u.id",
    )
    .bind(rows.iter().map(|a| a.id.0).collect::<Vec<Uuid>>())
    .bind(rows.iter().map(|a| a.account_number.as_str().to_string()).collect::<Vec<String>>())
    .bind(rows.iter().map(|a| a.customer_id.0).collect::<Vec<Uuid>>())
    .bind(rows.iter().map(|a| a.account_type.as_str()).collect::<Vec<&str>>())
    .bind(rows.iter().map(|a| a.currency.code().to_string()).collect::<Vec<String>>())
    .bind(rows.iter().map(|a| text(&a.balance)).collect::<Vec<String>>())
    .bind(rows.iter().map(|a| text(&a.held)).collect::<Vec<String>>())
    .bind(rows.iter().map(|a| text(&a.overdraft_limit)).collect::<Vec<String>>())
    .bind(rows.iter().map(|a| a.daily_limit.map(|d| d.to_string())).collect::<Vec<Option<String>>>())
    .bind(rows.iter().map(|a| a.daily_out_date).collect::<Vec<NaiveDate>>())
    .bind(rows.iter().map(|a| text(&a.daily_out_total)).collect::<Vec<String>>())
    .bind(rows.iter().map(|a| a.status.as_str()).collect::<Vec<&str>>())
    .bind(rows.iter().map(|a| a.opened_at).collect::<Vec<DateTime<Utc>>>())
    .bind(rows.iter().map(|a| a.closed_at).collect::<Vec<Option<DateTime<Utc>>>>())
    .bind(rows.iter().map(|a| a.updated_at).collect::<Vec<DateTime<Utc>>>())
    .bind(rows.iter().map(|a| a.version).collect::<Vec<i64>>())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    // Only accounts the unit holds are buffered, so every one exists.
    found_all(done.rows_affected(), rows.len(), "account")
}

async fn insert_journals(conn: &mut PgConnection, journals: &[&JournalEntry]) -> BankResult<()> {
    let postings = journals
        .iter()
        .flat_map(|j| j.postings.iter().map(move |p| (*j, p)));
    let (mut p_journal, mut p_txn, mut p_account, mut p_amount, mut p_ccy, mut p_at) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (j, p) in postings {
        p_journal.push(j.id.0);
        p_txn.push(j.transaction_id.0);
        p_account.push(p.account_id.0);
        p_amount.push(p.amount.amount().to_string());
        p_ccy.push(p.amount.currency().code().to_string());
        p_at.push(j.posted_at);
    }
    // Entries and postings in one statement, each in log order (identity columns number rows
    // in the order the SELECTs produce them).
    sqlx::query(
        "WITH entries AS (INSERT INTO journal_entries (id, transaction_id, posted_at, description) \
           SELECT u.id, u.txn, u.at, u.descr FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[]) \
           WITH ORDINALITY AS u(id, txn, at, descr, n) ORDER BY u.n) \
         INSERT INTO postings (journal_id, transaction_id, account_id, amount, currency, posted_at) \
         SELECT u.j, u.txn, u.acc, u.amt::numeric, u.ccy, u.at \
         FROM UNNEST($5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::timestamptz[]) \
         WITH ORDINALITY AS u(j, txn, acc, amt, ccy, at, n) ORDER BY u.n",
    )
    .bind(journals.iter().map(|j| j.id.0).collect::<Vec<Uuid>>())
    .bind(journals.iter().map(|j| j.transaction_id.0).collect::<Vec<Uuid>>())
    .bind(journals.iter().map(|j| j.posted_at).collect::<Vec<DateTime<Utc>>>())
    .bind(journals.iter().map(|j| j.description.clone()).collect::<Vec<Option<String>>>())
    .bind(p_journal)
    .bind(p_txn)
    .bind(p_account)
    .bind(p_amount)
    .bind(p_ccy)
    .bind(p_at)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn write_txns(
    conn: &mut PgConnection,
    rows: &[&Transaction],
    insert: bool,
) -> BankResult<()> {
    let sql = if insert {
        "INSERT INTO transactions (id, transaction_ref, from_account_id, to_account_id, amount, currency, \
         transaction_type, status, description, failure_code, reason, hold_id, parent_id, created_at, processed_at, reversed_at, \
         initiated_by, approved_by) \
         SELECT u.id, u.r, u.f, u.t, u.amt::numeric, u.ccy, u.ty, u.st, u.d, u.fc, u.rs, u.h, u.p, u.ca, u.pa, u.ra, \
                u.ib, u.ab \
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], \
                     $9::text[], $10::text[], $11::text[], $12::uuid[], $13::uuid[], $14::timestamptz[], \
                     $15::timestamptz[], $16::timestamptz[], $17::uuid[], $18::uuid[]) \
              WITH ORDINALITY AS u(id, r, f, t, amt, ccy, ty, st, d, fc, rs, h, p, ca, pa, ra, ib, ab, n) ORDER BY u.n"
    } else {
        "UPDATE transactions x SET transaction_ref = u.r, from_account_id = u.f, to_account_id = u.t, \
         amount = u.amt::numeric, currency = u.ccy, transaction_type = u.ty, status = u.st, description = u.d, \
         failure_code = u.fc, reason = u.rs, hold_id = u.h, parent_id = u.p, created_at = u.ca, processed_at = u.pa, \
         reversed_at = u.ra, initiated_by = u.ib, approved_by = u.ab \
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], \
                     $9::text[], $10::text[], $11::text[], $12::uuid[], $13::uuid[], $14::timestamptz[], \
                     $15::timestamptz[], $16::timestamptz[], $17::uuid[], $18::uuid[]) \
              AS u(id, r, f, t, amt, ccy, ty, st, d, fc, rs, h, p, ca, pa, ra, ib, ab) \
         WHERE x.id = u.id"
    };
    let done = sqlx::query(sql)
        .bind(rows.iter().map(|t| t.id.0).collect::<Vec<Uuid>>())
        .bind(
            rows.iter()
                .map(|t| t.transaction_ref.to_string())
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.from_account_id.map(|a| a.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.to_account_id.map(|a| a.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.amount.amount().to_string())
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.amount.currency().code().to_string())
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.transaction_type.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.status.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.description.clone())
                .collect::<Vec<Option<String>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.failure_code.clone())
                .collect::<Vec<Option<String>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.reason.clone())
                .collect::<Vec<Option<String>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.hold_id.map(|h| h.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.parent_id.map(|p| p.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.created_at)
                .collect::<Vec<DateTime<Utc>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.processed_at)
                .collect::<Vec<Option<DateTime<Utc>>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.reversed_at)
                .collect::<Vec<Option<DateTime<Utc>>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.initiated_by.map(|u| u.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .bind(
            rows.iter()
                .map(|t| t.approved_by.map(|u| u.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    found_all(done.rows_affected(), rows.len(), "transaction")
}

async fn insert_idempotency(
    conn: &mut PgConnection,
    rows: &[&IdempotencyRecord],
) -> BankResult<()> {
    let responses: Vec<String> = rows
        .iter()
        .map(|r| serde_json::to_string(&r.response))
        .collect::<Result<_, _>>()
        .map_err(|_| BankError::internal("response not serialisable"))?;
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, response, created_at) \
         SELECT u.s, u.k, u.f, u.r::jsonb, u.c FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
         $5::timestamptz[]) AS u(s, k, f, r, c)",
    )
    .bind(rows.iter().map(|r| r.scope.clone()).collect::<Vec<String>>())
    .bind(rows.iter().map(|r| r.key.as_str().to_string()).collect::<Vec<String>>())
    .bind(rows.iter().map(|r| r.fingerprint.clone()).collect::<Vec<String>>())
    .bind(responses)
    .bind(rows.iter().map(|r| r.created_at).collect::<Vec<DateTime<Utc>>>())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_events(conn: &mut PgConnection, events: &[&DomainEvent]) -> BankResult<()> {
    let data: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(&e.data))
        .collect::<Result<_, _>>()
        .map_err(|_| BankError::internal("event data not serialisable"))?;
    // `seq` follows the log's order (the identity numbers rows as the SELECT produces them).
    sqlx::query(
        "INSERT INTO events (event_id, aggregate_id, event_type, topic, time, data) \
         SELECT u.id, u.agg, u.ty, u.topic, u.at, u.data::jsonb \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) \
         WITH ORDINALITY AS u(id, agg, ty, topic, at, data, n) ORDER BY u.n",
    )
    .bind(events.iter().map(|e| e.id.0).collect::<Vec<Uuid>>())
    .bind(events.iter().map(|e| e.aggregate_id).collect::<Vec<Uuid>>())
    .bind(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<&str>>())
    .bind(events.iter().map(|e| e.event_type.topic()).collect::<Vec<&str>>())
    .bind(events.iter().map(|e| e.time).collect::<Vec<DateTime<Utc>>>())
    .bind(data)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}
