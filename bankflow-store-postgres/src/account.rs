//! Account context: `accounts` and `holds`.

use async_trait::async_trait;
use bankflow_core::account::{Account, AccountNumber, Hold};
use bankflow_core::ids::{AccountId, CustomerId, HoldId};
use bankflow_core::ports::{self, AccountRepo};
use bankflow_core::store_support::found;
use bankflow_core::{BankError, BankResult};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::db_err;
use crate::rows::{self, account_cols, hold_cols};
use crate::uow::{Op, PgUow, RANK_ACCOUNT};

fn opt_text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

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
        found(done.rows_affected(), "account")
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
        found(done.rows_affected(), "hold")
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
