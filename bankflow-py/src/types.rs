//! Read-only Python views of engine results. Ids are `str` (UUID text), amounts
//! `decimal.Decimal` at the currency's scale, timestamps timezone-aware UTC `datetime`s.

use std::collections::BTreeMap;

use bankflow_core as core;
use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use rust_decimal::Decimal;

/// A limit at its currency's scale ("500" → "500.00"), as every amount the engine returns.
fn at_scale(d: Decimal, currency: core::Currency) -> Decimal {
    core::Money::new(d, currency)
        .map(|m| m.amount())
        .unwrap_or(d)
}

fn opt_id(id: Option<impl ToString>) -> Option<String> {
    id.map(|i| i.to_string())
}

/// A customer account.
#[pyclass(frozen, get_all, module = "bankflow")]
#[derive(Clone)]
pub struct Account {
    id: String,
    account_number: String,
    customer_id: String,
    account_type: String,
    currency: String,
    balance: Decimal,
    available_balance: Decimal,
    held: Decimal,
    overdraft_limit: Decimal,
    daily_limit: Option<Decimal>,
    status: String,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    version: i64,
}

impl From<core::Account> for Account {
    fn from(a: core::Account) -> Self {
        Account {
            id: a.id.to_string(),
            account_number: a.account_number.as_str().to_string(),
            customer_id: a.customer_id.to_string(),
            account_type: a.account_type.as_str().to_string(),
            currency: a.currency.code().to_string(),
            balance: a.balance_money().amount(),
            available_balance: a.available_money().amount(),
            held: at_scale(a.held, a.currency),
            overdraft_limit: at_scale(a.overdraft_limit, a.currency),
            daily_limit: a.daily_limit.map(|d| at_scale(d, a.currency)),
            status: a.status.as_str().to_string(),
            opened_at: a.opened_at,
            closed_at: a.closed_at,
            version: a.version,
        }
    }
}

#[pymethods]
impl Account {
    fn __repr__(&self) -> String {
        format!(
            "Account(id='{}', number='{}', type={}, status={}, balance={} {})",
            self.id,
            self.account_number,
            self.account_type,
            self.status,
            self.balance,
            self.currency
        )
    }
}

/// A transaction (the read model folded from its events).
#[pyclass(frozen, get_all, module = "bankflow")]
#[derive(Clone)]
pub struct Transaction {
    id: String,
    reference: String,
    from_account_id: Option<String>,
    to_account_id: Option<String>,
    amount: Decimal,
    currency: String,
    transaction_type: String,
    status: String,
    description: Option<String>,
    failure_code: Option<String>,
    reason: Option<String>,
    hold_id: Option<String>,
    parent_id: Option<String>,
    created_at: DateTime<Utc>,
    processed_at: Option<DateTime<Utc>>,
    reversed_at: Option<DateTime<Utc>>,
}

impl Transaction {
    /// The history cursor this transaction stands for.
    pub(crate) fn cursor(&self) -> (DateTime<Utc>, &str) {
        (self.created_at, &self.id)
    }
}

impl From<core::Transaction> for Transaction {
    fn from(t: core::Transaction) -> Self {
        Transaction {
            id: t.id.to_string(),
            reference: t.transaction_ref.to_string(),
            from_account_id: opt_id(t.from_account_id),
            to_account_id: opt_id(t.to_account_id),
            amount: t.amount.amount(),
            currency: t.amount.currency().code().to_string(),
            transaction_type: t.transaction_type.as_str().to_string(),
            status: t.status.as_str().to_string(),
            description: t.description,
            failure_code: t.failure_code,
            reason: t.reason,
            hold_id: opt_id(t.hold_id),
            parent_id: opt_id(t.parent_id),
            created_at: t.created_at,
            processed_at: t.processed_at,
            reversed_at: t.reversed_at,
        }
    }
}

#[pymethods]
impl Transaction {
    fn __repr__(&self) -> String {
        format!(
            "Transaction(id='{}', type={}, status={}, amount={} {})",
            self.id, self.transaction_type, self.status, self.amount, self.currency
        )
    }
}

/// Ledger and available balance read in one snapshot.
#[pyclass(frozen, get_all, module = "bankflow")]
#[derive(Clone)]
pub struct Balance {
    account_id: String,
    balance: Decimal,
    available_balance: Decimal,
    currency: String,
}

impl From<core::Balance> for Balance {
    fn from(b: core::Balance) -> Self {
        Balance {
            account_id: b.account_id.to_string(),
            balance: b.balance.amount(),
            available_balance: b.available_balance.amount(),
            currency: b.balance.currency().code().to_string(),
        }
    }
}

#[pymethods]
impl Balance {
    fn __repr__(&self) -> String {
        format!(
            "Balance(balance={}, available={} {})",
            self.balance, self.available_balance, self.currency
        )
    }
}

/// One statement line; `amount` is signed from the account's point of view.
#[pyclass(frozen, get_all, module = "bankflow")]
#[derive(Clone)]
pub struct StatementLine {
    transaction_id: String,
    posted_at: DateTime<Utc>,
    description: Option<String>,
    amount: Decimal,
    balance_after: Decimal,
}

#[pymethods]
impl StatementLine {
    fn __repr__(&self) -> String {
        format!(
            "StatementLine({:?}, amount={}, balance_after={})",
            self.description.as_deref().unwrap_or(""),
            self.amount,
            self.balance_after
        )
    }
}

/// An account statement for `from_date <= day <= to_date` (UTC days).
#[pyclass(frozen, get_all, module = "bankflow")]
#[derive(Clone)]
pub struct Statement {
    account_id: String,
    account_number: String,
    currency: String,
    from_date: NaiveDate,
    to_date: NaiveDate,
    opening_balance: Decimal,
    closing_balance: Decimal,
    lines: Vec<StatementLine>,
}

impl From<core::Statement> for Statement {
    fn from(s: core::Statement) -> Self {
        Statement {
            account_id: s.account_id.to_string(),
            account_number: s.account_number.as_str().to_string(),
            currency: s.opening_balance.currency().code().to_string(),
            from_date: s.from,
            to_date: s.to,
            opening_balance: s.opening_balance.amount(),
            closing_balance: s.closing_balance.amount(),
            lines: s
                .entries
                .into_iter()
                .map(|l| StatementLine {
                    transaction_id: l.transaction_id.to_string(),
                    posted_at: l.posted_at,
                    description: l.description,
                    amount: l.amount.amount(),
                    balance_after: l.balance_after.amount(),
                })
                .collect(),
        }
    }
}

#[pymethods]
impl Statement {
    fn __repr__(&self) -> String {
        format!(
            "Statement(account='{}', {}..{}, opening={}, closing={} {}, {} lines)",
            self.account_number,
            self.from_date,
            self.to_date,
            self.opening_balance,
            self.closing_balance,
            self.currency,
            self.lines.len()
        )
    }
}

/// Result of a whole-ledger audit.
#[pyclass(frozen, get_all, module = "bankflow")]
#[derive(Clone)]
pub struct LedgerReport {
    accounts_checked: usize,
    customer_totals: BTreeMap<String, Decimal>,
}

impl From<core::LedgerReport> for LedgerReport {
    fn from(r: core::LedgerReport) -> Self {
        LedgerReport {
            accounts_checked: r.accounts_checked,
            customer_totals: r
                .customer_totals
                .into_iter()
                .map(|(c, d)| (c.code().to_string(), at_scale(d, c)))
                .collect(),
        }
    }
}

#[pymethods]
impl LedgerReport {
    fn __repr__(&self) -> String {
        format!(
            "LedgerReport(accounts_checked={}, customer_totals={:?})",
            self.accounts_checked, self.customer_totals
        )
    }
}
