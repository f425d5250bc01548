//! Account context: `accounts` and `holds`. No other module touches these tables.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;

use bankflow_core::account::{
    Account, AccountNumber, AccountStatus, AccountType, Hold, HoldStatus,
};
use bankflow_core::ids::{AccountId, CustomerId, HoldId, TransactionId};
use bankflow_core::ports::{self, AccountRepo, TxMode};
use bankflow_core::store_support::found;
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, dec, id, opt_ts, to_json, ts, Col};
use crate::flush::Op;
use crate::uow::{Key, Row, SqliteUow};

/// Ids one `lock_accounts` call may name (the engine's largest batch is 100 transfers).
pub const LOCK_IDS_MAX: usize = 1_000;

macro_rules! account_cols {
    () => {
        "id, account_number, customer_id, account_type, currency, balance, held, overdraft_limit, \
     daily_limit, daily_out_date, daily_out_total, status, opened_at, closed_at, updated_at, version"
    };
}

fn account_row(r: &SqliteRow) -> BankResult<Account> {
    Ok(Account {
        id: AccountId(r.uuid("id")?),
        account_number: r.parsed("account_number", AccountNumber::parse)?,
        customer_id: CustomerId(r.uuid("customer_id")?),
        account_type: r.parsed("account_type", AccountType::parse)?,
        currency: r.currency("currency")?,
        balance: r.dec("balance")?,
        held: r.dec("held")?,
        overdraft_limit: r.dec("overdraft_limit")?,
        daily_limit: r.opt_dec("daily_limit")?,
        daily_out_date: r.date("daily_out_date")?,
        daily_out_total: r.dec("daily_out_total")?,
        status: r.parsed("status", AccountStatus::parse)?,
        opened_at: r.time("opened_at")?,
        closed_at: r.opt_time("closed_at")?,
        updated_at: r.time("updated_at")?,
        version: r.int("version")?,
    })
}

macro_rules! hold_cols {
    () => {
        "id, account_id, transaction_id, amount_minor, currency, status, expires_at, created_at, resolved_at"
    };
}

fn hold_row(r: &SqliteRow) -> BankResult<Hold> {
    Ok(Hold {
        id: HoldId(r.uuid("id")?),
        account_id: AccountId(r.uuid("account_id")?),
        transaction_id: TransactionId(r.uuid("transaction_id")?),
        amount: r.money_minor("amount_minor", "currency")?,
        status: r.parsed("status", HoldStatus::parse)?,
        expires_at: r.time("expires_at")?,
        created_at: r.time("created_at")?,
        resolved_at: r.opt_time("resolved_at")?,
    })
}

/// Buffered account writes (see `flush`). Only the columns an account's life changes are
/// SET: SQLite rewrites the entries of every index whose columns appear in SET, so naming the
/// immutable, indexed ones (number, owner) would cost two index updates per account per
/// transfer. `update_account` refuses a change to them before anything is buffered.
pub(crate) const FLUSH_UPDATE_SQL: &str =
    "UPDATE accounts SET balance = u.value->>1, held = u.value->>2, available_balance = u.value->>3, \
     overdraft_limit = u.value->>4, daily_limit = u.value->>5, daily_out_date = u.value->>6, \
     daily_out_total = u.value->>7, status = u.value->>8, closed_at = u.value->>9, updated_at = u.value->>10, \
     version = u.value->>11 FROM json_each(?) AS u WHERE accounts.id = u.value->>0";

/// The JSON rows of [`FLUSH_UPDATE_SQL`].
pub(crate) fn flush_rows(accounts: &[&Account]) -> BankResult<String> {
    let rows: Vec<_> = accounts
        .iter()
        .map(|a| {
            (
                id(a.id.0),
                dec(&a.balance),
                dec(&a.held),
                dec(&a.available_balance()),
                dec(&a.overdraft_limit),
                a.daily_limit.as_ref().map(dec),
                a.daily_out_date.format("%Y-%m-%d").to_string(),
                dec(&a.daily_out_total),
                a.status.as_str(),
                opt_ts(&a.closed_at),
                ts(&a.updated_at),
                a.version,
            )
        })
        .collect();
    to_json(&rows)
}

/// True when `a` keeps every column that never changes after opening.
fn same_identity(a: &Account, stored: &Account) -> bool {
    a.account_number == stored.account_number
        && a.customer_id == stored.customer_id
        && a.account_type == stored.account_type
        && a.currency == stored.currency
        && a.opened_at == stored.opened_at
}

fn immutable_changed(a: &Account) -> BankError {
    BankError::Invariant(format!(
        "account {}: number, owner, type, currency and opening time never change",
        a.id
    ))
}

#[async_trait]
impl AccountRepo for SqliteUow {
    async fn insert_account(&mut self, a: &Account) -> BankResult<()> {
        if self.cached(&Key::Account(a.id)).is_some() {
            return Err(BankError::Duplicate("account"));
        }
        sqlx::query(
            "INSERT INTO accounts (id, account_number, customer_id, account_type, currency, balance, held, \
             available_balance, overdraft_limit, daily_limit, daily_out_date, daily_out_total, status, opened_at, \
             closed_at, created_at, updated_at, version) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(a.id.0))
        .bind(a.account_number.as_str().to_string())
        .bind(id(a.customer_id.0))
        .bind(a.account_type.as_str())
        .bind(a.currency.code().to_string())
        .bind(dec(&a.balance))
        .bind(dec(&a.held))
        .bind(dec(&a.available_balance()))
        .bind(dec(&a.overdraft_limit))
        .bind(a.daily_limit.as_ref().map(dec))
        .bind(a.daily_out_date.format("%Y-%m-%d").to_string())
        .bind(dec(&a.daily_out_total))
        .bind(a.status.as_str())
        .bind(ts(&a.opened_at))
        .bind(opt_ts(&a.closed_at))
        .bind(ts(&a.opened_at))
        .bind(ts(&a.updated_at))
        .bind(a.version)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("account")))?;
        Ok(())
    }

    async fn account(&mut self, account: AccountId) -> BankResult<Option<Account>> {
        if let Some(Row::Account(a)) = self.cached(&Key::Account(account)) {
            return Ok(Some(a.clone()));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            account_cols!(),
            " FROM accounts WHERE id = ?"
        ))
        .bind(id(account.0))
        .fetch_optional(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        let found = row.as_ref().map(account_row).transpose()?;
        if let Some(a) = &found {
            self.remember(Key::Account(a.id), Row::Account(a.clone()));
        }
        Ok(found)
    }

    async fn account_by_number(&mut self, number: &AccountNumber) -> BankResult<Option<Account>> {
        // No flush: accounts are inserted directly and numbers never change, so the database
        // finds the right row; its buffered state, if any, is the cached one.
        let row = sqlx::query(concat!(
            "SELECT ",
            account_cols!(),
            " FROM accounts WHERE account_number = ?"
        ))
        .bind(number.as_str().to_string())
        .fetch_optional(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        let Some(found) = row.as_ref().map(account_row).transpose()? else {
            return Ok(None);
        };
        match self.cached(&Key::Account(found.id)) {
            Some(Row::Account(a)) => Ok(Some(a.clone())),
            _ => Ok(Some(found)),
        }
    }

    async fn lock_accounts(&mut self, ids: &[AccountId]) -> BankResult<Vec<Account>> {
        debug_assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "lock order: sorted, distinct ids"
        );
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > LOCK_IDS_MAX {
            return Err(BankError::LimitExceeded(format!(
                "at most {LOCK_IDS_MAX} accounts per unit"
            )));
        }
        // The write lock is already held (BEGIN IMMEDIATE): reading is locking, and rows this
        // unit has read stay as it left them. Only the others are read, in one statement.
        let missing: Vec<&AccountId> = ids
            .iter()
            .filter(|a| self.cached(&Key::Account(**a)).is_none())
            .collect();
        let mut fetched: Vec<Account> = Vec::new();
        if !missing.is_empty() {
            // Text order of hyphenated UUIDs is the engine's id order.
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
                "SELECT ",
                account_cols!(),
                " FROM accounts WHERE id IN ("
            ));
            let mut sep = qb.separated(", ");
            for a in &missing {
                sep.push_bind(id(a.0));
            }
            qb.push(") ORDER BY id");
            let rows = qb
                .build()
                .fetch_all(self.unbuffered()?)
                .await
                .map_err(codec::err(None))?;
            fetched = rows.iter().map(account_row).collect::<BankResult<_>>()?;
        }
        if self.mode() == TxMode::Read {
            return Ok(fetched);
        }
        for a in fetched {
            self.remember(Key::Account(a.id), Row::Account(a));
        }
        Ok(ids
            .iter()
            .filter_map(|a| match self.cached(&Key::Account(*a)) {
                Some(Row::Account(a)) => Some(a.clone()),
                _ => None,
            })
            .collect())
    }

    async fn update_account(&mut self, a: &Account) -> BankResult<()> {
        self.writable()?;
        if let Some(Row::Account(stored)) = self.cached(&Key::Account(a.id)) {
            if !same_identity(a, stored) {
                return Err(immutable_changed(a));
            }
            self.remember(Key::Account(a.id), Row::Account(a.clone()));
            return self.push(Op::UpdateAccount(a.clone())).await;
        }
        // Not read by this unit: write now, so a missing row is reported here. The immutable
        // columns are checked in WHERE, so a changed one is refused rather than silently lost.
        let done = sqlx::query(
            "UPDATE accounts SET balance = ?, held = ?, available_balance = ?, overdraft_limit = ?, daily_limit = ?, \
             daily_out_date = ?, daily_out_total = ?, status = ?, closed_at = ?, updated_at = ?, version = ? \
             WHERE id = ? AND account_number = ? AND customer_id = ? AND account_type = ? AND currency = ? \
             AND opened_at = ?",
        )
        .bind(dec(&a.balance))
        .bind(dec(&a.held))
        .bind(dec(&a.available_balance()))
        .bind(dec(&a.overdraft_limit))
        .bind(a.daily_limit.as_ref().map(dec))
        .bind(a.daily_out_date.format("%Y-%m-%d").to_string())
        .bind(dec(&a.daily_out_total))
        .bind(a.status.as_str())
        .bind(opt_ts(&a.closed_at))
        .bind(ts(&a.updated_at))
        .bind(a.version)
        .bind(id(a.id.0))
        .bind(a.account_number.as_str().to_string())
        .bind(id(a.customer_id.0))
        .bind(a.account_type.as_str())
        .bind(a.currency.code().to_string())
        .bind(ts(&a.opened_at))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("account")))?;
        // Zero rows: either no such account, or one whose immutable columns differ.
        if done.rows_affected() == 0 && self.account(a.id).await?.is_some() {
            return Err(immutable_changed(a));
        }
        found(done.rows_affected(), "account")
    }

    async fn accounts_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        // Insertion order (rowid) is "oldest first", exactly as the reference store keeps it.
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_cols!(),
            " FROM accounts WHERE customer_id = ? ORDER BY rowid LIMIT ?"
        ))
        .bind(id(customer.0))
        .bind(limit.min(ports::ACCOUNTS_OF_CUSTOMER_MAX))
        .fetch_all(self.c().await?)
        .await
        .map_err(codec::err(None))?;
        rows.iter().map(account_row).collect()
    }

    async fn list_accounts(
        &mut self,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_cols!(),
            " FROM accounts WHERE id > ? ORDER BY id LIMIT ?"
        ))
        // "" sorts before every id: no cursor means from the start.
        .bind(after.map(|a| id(a.0)).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(self.c().await?)
        .await
        .map_err(codec::err(None))?;
        rows.iter().map(account_row).collect()
    }

    async fn insert_hold(&mut self, h: &Hold) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO holds (id, account_id, transaction_id, amount_minor, currency, status, expires_at, \
             created_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(h.id.0))
        .bind(id(h.account_id.0))
        .bind(id(h.transaction_id.0))
        .bind(h.amount.amount_minor())
        .bind(h.amount.currency().code().to_string())
        .bind(h.status.as_str())
        .bind(ts(&h.expires_at))
        .bind(ts(&h.created_at))
        .bind(opt_ts(&h.resolved_at))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("hold")))?;
        Ok(())
    }

    async fn hold(&mut self, hold: HoldId) -> BankResult<Option<Hold>> {
        let row = sqlx::query(concat!("SELECT ", hold_cols!(), " FROM holds WHERE id = ?"))
            .bind(id(hold.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(hold_row).transpose()
    }

    async fn update_hold(&mut self, h: &Hold) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE holds SET account_id = ?, transaction_id = ?, amount_minor = ?, currency = ?, status = ?, \
             expires_at = ?, created_at = ?, resolved_at = ? WHERE id = ?",
        )
        .bind(id(h.account_id.0))
        .bind(id(h.transaction_id.0))
        .bind(h.amount.amount_minor())
        .bind(h.amount.currency().code().to_string())
        .bind(h.status.as_str())
        .bind(ts(&h.expires_at))
        .bind(ts(&h.created_at))
        .bind(opt_ts(&h.resolved_at))
        .bind(id(h.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("hold")))?;
        found(done.rows_affected(), "hold")
    }

    async fn active_holds(&mut self, account: AccountId, limit: u32) -> BankResult<Vec<Hold>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            hold_cols!(),
            " FROM holds WHERE account_id = ? AND status = 'ACTIVE' ORDER BY created_at, id LIMIT ?"
        ))
        .bind(id(account.0))
        .bind(limit.min(ports::ACTIVE_HOLDS_MAX))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        rows.iter().map(hold_row).collect()
    }

    async fn expired_holds(&mut self, now: DateTime<Utc>, limit: u32) -> BankResult<Vec<Hold>> {
        let rows = sqlx::query(concat!("SELECT ", hold_cols!(), " FROM holds WHERE status = 'ACTIVE' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?"))
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        rows.iter().map(hold_row).collect()
    }
}
