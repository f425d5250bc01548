//! The money context's reads: accounts, balances, history, statements, ledger checks.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::account::Account;
use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::events::StoredEvent;
use crate::ids::{AccountId, CustomerId, TransactionId};
use crate::ledger::SystemAccount;
use crate::money::{Currency, Money};
use crate::ports::{TxMode, UnitOfWork};
use crate::transaction::{Transaction, TransactionQuery};

impl MoneyService<'_> {
    // ---------------------------------------------------------------- queries

    pub(crate) async fn read(&self) -> BankResult<Box<dyn UnitOfWork>> {
        self.store.begin(TxMode::Read).await
    }

    /// An account the actor may see.
    pub async fn account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        let mut uow = self.read().await?;
        let a = uow.account(id).await?.ok_or(BankError::NotFound {
            resource: "account",
        })?;
        actor.check_read(&a)?;
        a.assert_invariants()?;
        Ok(a)
    }

    /// Ledger and available balance read in one snapshot.
    pub async fn balance(&self, actor: &Actor, id: AccountId) -> BankResult<Balance> {
        let a = self.account(actor, id).await?;
        Ok(Balance {
            account_id: a.id,
            balance: a.balance_money(),
            available_balance: a.available_money(),
        })
    }

    /// A page of a customer's accounts in id order (oldest first), after `after`, at most
    /// `limit`. The whole list is bounded (`ACCOUNTS_OF_CUSTOMER_MAX`, and at most
    /// `ACCOUNTS_PER_CUSTOMER_MAX` open), so the page is cut from one bounded read.
    pub async fn accounts_of_customer_page(
        &self,
        actor: &Actor,
        customer: CustomerId,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        crate::transaction::check_page_limit(limit)?;
        let mut all = self.accounts_of_customer(actor, customer).await?;
        all.sort_by_key(|a| a.id);
        Ok(all
            .into_iter()
            .filter(|a| after.is_none_or(|x| a.id > x))
            .take(limit as usize)
            .collect())
    }

    /// A customer's accounts.
    pub async fn accounts_of_customer(
        &self,
        actor: &Actor,
        customer: CustomerId,
    ) -> BankResult<Vec<Account>> {
        if !actor.may_read_customer(customer) {
            return Err(actor.refuse_foreign("customer", customer));
        }
        self.read()
            .await?
            .accounts_of_customer(customer, crate::ports::ACCOUNTS_OF_CUSTOMER_MAX)
            .await
    }

    /// All accounts by id (staff only), paged.
    pub async fn list_accounts(
        &self,
        actor: &Actor,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        actor.require_staff()?;
        crate::transaction::check_page_limit(limit)?;
        self.read().await?.list_accounts(after, limit).await
    }

    /// A transaction the actor may see (as sender or receiver).
    pub async fn transaction(&self, actor: &Actor, id: TransactionId) -> BankResult<Transaction> {
        let mut uow = self.read().await?;
        let t = uow.transaction(id).await?.ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        self.check_txn_visible(&mut *uow, actor, &t).await?;
        Ok(t)
    }

    pub(crate) async fn check_txn_visible(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        t: &Transaction,
    ) -> BankResult<()> {
        if actor.is_staff() {
            return Ok(());
        }
        for id in [t.from_account_id, t.to_account_id].into_iter().flatten() {
            if let Some(a) = uow.account(id).await? {
                if actor.may_read_customer(a.customer_id) {
                    return Ok(());
                }
            }
        }
        Err(BankError::NotFound {
            resource: "transaction",
        })
    }

    /// Transaction history (the CQRS read model). Customers must filter by one of their own
    /// accounts; staff may search the whole bank.
    pub async fn history(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> BankResult<Vec<Transaction>> {
        query.validate()?;
        let mut uow = self.read().await?;
        match query.account_id {
            Some(id) => {
                let a = uow.account(id).await?.ok_or(BankError::NotFound {
                    resource: "account",
                })?;
                actor.check_read(&a)?;
            }
            None if !actor.is_staff() => {
                return Err(BankError::Forbidden(
                    "searching the whole bank is staff only".into(),
                ))
            }
            None => {}
        }
        uow.list_transactions(query).await
    }

    /// The events of one aggregate (a transaction's event-sourced history), staff or owner.
    pub async fn transaction_events(
        &self,
        actor: &Actor,
        id: TransactionId,
    ) -> BankResult<Vec<StoredEvent>> {
        self.transaction(actor, id).await?;
        self.read()
            .await?
            .events_of_aggregate(id.0, crate::ports::EVENTS_OF_AGGREGATE_MAX)
            .await
    }

    /// A statement for `from..=to` (UTC days).
    pub async fn statement(
        &self,
        actor: &Actor,
        id: AccountId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BankResult<Statement> {
        if from > to {
            return Err(BankError::validation("from", "from is after to"));
        }
        let mut uow = self.read().await?;
        let a = uow.account(id).await?.ok_or(BankError::NotFound {
            resource: "account",
        })?;
        actor.check_read(&a)?;
        let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = to
            .succ_opt()
            .ok_or_else(|| BankError::validation("to", "out of range"))?
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let opening = uow.posting_sum(id, Some(start)).await?;
        let mut running = opening;
        let mut entries = Vec::new();
        let mut after = None;
        loop {
            let page = uow.postings(id, start, end, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            for p in page {
                running += p.amount.amount();
                entries.push(StatementLine {
                    transaction_id: p.transaction_id,
                    posted_at: p.posted_at,
                    description: p.description,
                    amount: p.amount,
                    balance_after: Money::new(running, a.currency)?,
                });
            }
            if entries.len() > STATEMENT_LINES_MAX {
                return Err(BankError::LimitExceeded(format!(
                    "a statement has at most {STATEMENT_LINES_MAX} lines; choose a shorter period"
                )));
            }
        }
        Ok(Statement {
            account_id: id,
            account_number: a.account_number,
            from,
            to,
            opening_balance: Money::new(opening, a.currency)?,
            closing_balance: Money::new(running, a.currency)?,
            entries,
        })
    }

    /// Audits the whole ledger: every account's cached balance equals the sum of its postings,
    /// every cached hold total equals its active holds, postings sum to zero per currency.
    pub async fn verify_ledger(&self) -> BankResult<LedgerReport> {
        let mut uow = self.read().await?;
        let mut after = None;
        let mut checked = 0;
        let mut totals: std::collections::BTreeMap<Currency, Decimal> = Default::default();
        loop {
            let page = uow.list_accounts(after, 100).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for a in page {
                a.assert_invariants()?;
                let sum = uow.posting_sum(a.id, None).await?;
                if sum != a.balance {
                    return Err(BankError::Invariant(format!(
                        "account {}: balance {} != postings {sum}",
                        a.id, a.balance
                    )));
                }
                let holds = uow
                    .active_holds(a.id, crate::ports::ACTIVE_HOLDS_MAX)
                    .await?;
                if holds.len() >= crate::ports::ACTIVE_HOLDS_MAX as usize {
                    // A full page may hide more holds: the sum cannot be verified this way.
                    return Err(BankError::LimitExceeded(format!(
                        "account {} has {} or more active holds; the ledger check cannot sum them",
                        a.id,
                        crate::ports::ACTIVE_HOLDS_MAX
                    )));
                }
                let held: Decimal = holds.iter().map(|h| h.amount.amount()).sum();
                if held != a.held {
                    return Err(BankError::Invariant(format!(
                        "account {}: held {} != active holds {held}",
                        a.id, a.held
                    )));
                }
                *totals.entry(a.currency).or_default() += a.balance;
                checked += 1;
            }
        }
        for (c, s) in uow.ledger_totals().await? {
            if !s.is_zero() {
                return Err(BankError::Invariant(format!(
                    "ledger unbalanced in {c} by {s}"
                )));
            }
        }
        Ok(LedgerReport {
            accounts_checked: checked,
            customer_totals: totals.into_iter().collect(),
        })
    }

    /// Balance of a GL account, summed from postings.
    pub async fn system_balance(
        &self,
        account: SystemAccount,
        currency: Currency,
    ) -> BankResult<Money> {
        let sum = self
            .read()
            .await?
            .posting_sum(account.id(currency), None)
            .await?;
        Money::new(sum, currency)
    }
}
