//! The admin dashboard's bank overview, computed from the ordinary read use cases with hard
//! caps: the dashboard must stay cheap on a big bank, so each figure pages through at most a
//! fixed number of rows and the result says when a cap cut it short (`truncated`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::AccountStatus;
use crate::auth::Actor;
use crate::customer::{CustomerSearch, KycStatus};
use crate::error::{BankError, BankResult};
use crate::fraud::CaseStatus;
use crate::money::Currency;
use crate::transaction::{TransactionQuery, TransactionStatus, PAGE_LIMIT_MAX};

crate::bank::context_service!(
    /// Reporting: the admin dashboard's figures: `bank.reporting()`.
    ReportingService,
    reporting
);

/// Most recent transactions scanned for the volume and status figures.
pub const OVERVIEW_TRANSACTIONS_MAX: usize = 10_000;
/// Accounts scanned for the counts and per-currency totals.
pub const OVERVIEW_ACCOUNTS_MAX: usize = 10_000;
/// Open fraud cases and SUBMITTED KYC applications counted, each.
pub const OVERVIEW_QUEUE_MAX: usize = 10_000;

/// Money moved on one day (UTC) by completed transactions, per currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayVolume {
    /// Day (UTC).
    pub date: NaiveDate,
    /// Currency.
    pub currency: Currency,
    /// Completed transactions that day.
    pub count: u64,
    /// Sum of their amounts.
    pub amount: Decimal,
}

/// Customer deposits held in one currency (sum of customer account balances).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    /// Currency.
    pub currency: Currency,
    /// Sum of balances.
    pub balance: Decimal,
    /// Accounts in that currency.
    pub accounts: u64,
}

/// The bank at a glance (admin only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// Customer accounts counted (any status).
    pub accounts_total: u64,
    /// Of which FROZEN.
    pub accounts_frozen: u64,
    /// Balances per currency.
    pub totals: Vec<CurrencyTotal>,
    /// KYC applications waiting for review (SUBMITTED).
    pub pending_kyc: u64,
    /// Fraud cases waiting for a decision.
    pub open_fraud_cases: u64,
    /// Completed volume per day and currency over the scanned transactions, oldest day first.
    pub volume_by_day: Vec<DayVolume>,
    /// Scanned transactions per status (wire spelling, e.g. `COMPLETED`).
    pub transactions_by_status: BTreeMap<String, u64>,
    /// Transactions scanned (the most recent ones).
    pub transactions_scanned: u64,
    /// True when a cap stopped a scan: the figures cover only part of the bank.
    pub truncated: bool,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
}

impl ReportingService<'_> {
    /// The admin overview. Every scan is capped (see the `OVERVIEW_*` constants).
    pub async fn overview(&self, actor: &Actor) -> BankResult<Overview> {
        if !actor.is_admin() {
            return Err(BankError::Forbidden("admin only".into()));
        }
        let limit = PAGE_LIMIT_MAX;
        let mut truncated = false;

        // Accounts: counts and balances per currency.
        let (mut accounts_total, mut accounts_frozen) = (0u64, 0u64);
        let mut totals: BTreeMap<Currency, (Decimal, u64)> = BTreeMap::new();
        let mut after = None;
        let mut seen = 0usize;
        loop {
            let page = self.money().list_accounts(actor, after, limit).await?;
            for a in &page {
                accounts_total += 1;
                if a.status == AccountStatus::Frozen {
                    accounts_frozen += 1;
                }
                let t = totals.entry(a.currency).or_default();
                t.0 += a.balance;
                t.1 += 1;
            }
            seen += page.len();
            if page.len() < limit as usize {
                break;
            }
            if seen >= OVERVIEW_ACCOUNTS_MAX {
                truncated = true;
                break;
            }
            after = page.last().map(|a| a.id);
        }

        // KYC queue.
        let mut pending_kyc = 0u64;
        let mut after = None;
        loop {
            let page = self
                .customers()
                .search_customers(
                    actor,
                    CustomerSearch {
                        name: None,
                        email: None,
                        phone: None,
                        kyc_status: Some(KycStatus::Submitted),
                        after,
                        limit,
                    },
                )
                .await?;
            pending_kyc += page.len() as u64;
            if page.len() < limit as usize {
                break;
            }
            if pending_kyc as usize >= OVERVIEW_QUEUE_MAX {
                truncated = true;
                break;
            }
            after = page.last().map(|c| c.id);
        }

        // Open fraud cases.
        let mut open_fraud_cases = 0u64;
        let mut after = None;
        loop {
            let page = self
                .fraud_service()
                .fraud_cases(actor, Some(CaseStatus::Open), after, limit)
                .await?;
            open_fraud_cases += page.len() as u64;
            if page.len() < limit as usize {
                break;
            }
            if open_fraud_cases as usize >= OVERVIEW_QUEUE_MAX {
                truncated = true;
                break;
            }
            after = page.last().map(|c| c.id);
        }

        // The most recent transactions: volume per day and counts per status.
        let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
        let mut volume: BTreeMap<(NaiveDate, Currency), (u64, Decimal)> = BTreeMap::new();
        let mut scanned = 0usize;
        let mut query = TransactionQuery {
            account_id: None,
            from: None,
            to: None,
            transaction_type: None,
            status: None,
            min_amount: None,
            max_amount: None,
            after: None,
            limit,
        };
        loop {
            let page = self.money().history(actor, &query).await?;
            for t in &page {
                *by_status.entry(t.status.as_str().to_string()).or_default() += 1;
                if t.status == TransactionStatus::Completed {
                    let v = volume
                        .entry((t.created_at.date_naive(), t.amount.currency()))
                        .or_default();
                    v.0 += 1;
                    v.1 += t.amount.amount();
                }
            }
            scanned += page.len();
            if page.len() < limit as usize {
                break;
            }
            if scanned >= OVERVIEW_TRANSACTIONS_MAX {
                truncated = true;
                break;
            }
            query.after = page.last().map(|t| (t.created_at, t.id));
        }

        Ok(Overview {
            accounts_total,
            accounts_frozen,
            totals: totals
                .into_iter()
                .map(|(currency, (balance, accounts))| CurrencyTotal {
                    currency,
                    balance,
                    accounts,
                })
                .collect(),
            pending_kyc,
            open_fraud_cases,
            volume_by_day: volume
                .into_iter()
                .map(|((date, currency), (count, amount))| DayVolume {
                    date,
                    currency,
                    count,
                    amount,
                })
                .collect(),
            transactions_by_status: by_status,
            transactions_scanned: scanned as u64,
            truncated,
            generated_at: self.now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::Bank;
    use std::sync::Arc;

    use uuid::Uuid;

    use super::*;
    use crate::account::AccountType;
    use crate::banking::{
        BookingRequest, Destination, OpenAccountRequest, TransferItem, TransferRequest,
    };
    use crate::fraud_port::RequestContext;
    use crate::idempotency::IdempotencyKey;
    use crate::ids::{CustomerId, UserId};
    use crate::memory::MemoryStore;
    use crate::money::Money;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    #[tokio::test]
    async fn overview_counts_accounts_balances_volume_and_statuses_and_is_admin_only() {
        let bank = Bank::builder(Arc::new(MemoryStore::new())).build();
        let sys = Actor::system();
        let mut ids = Vec::new();
        for (n, ty) in [(1u128, AccountType::Checking), (2, AccountType::Savings)] {
            let a = bank
                .money()
                .open_account(
                    &sys,
                    OpenAccountRequest {
                        customer_id: CustomerId(Uuid::from_u128(n)),
                        account_type: ty,
                        currency: Currency::USD,
                        overdraft_limit: None,
                        daily_limit: None,
                    },
                )
                .await
                .unwrap();
            ids.push(a.id);
        }
        bank.money()
            .deposit(
                &sys,
                BookingRequest {
                    account_id: ids[0],
                    amount: usd("100.00"),
                    description: None,
                    idempotency_key: IdempotencyKey::parse("d1").unwrap(),
                },
            )
            .await
            .unwrap();
        bank.money()
            .transfer(
                &sys,
                TransferRequest {
                    item: TransferItem {
                        from_account_id: ids[0],
                        to: Destination::Account(ids[1]),
                        amount: usd("30.00"),
                        description: None,
                    },
                    idempotency_key: IdempotencyKey::parse("t1").unwrap(),
                    context: RequestContext::default(),
                },
            )
            .await
            .unwrap();
        bank.money().freeze_account(&sys, ids[1]).await.unwrap();

        let o = bank.reporting().overview(&sys).await.unwrap();
        assert_eq!(o.accounts_total, 2);
        assert_eq!(o.accounts_frozen, 1);
        assert_eq!(o.totals.len(), 1);
        assert_eq!(o.totals[0].currency, Currency::USD);
        assert_eq!(o.totals[0].balance, Decimal::new(10000, 2));
        assert_eq!(o.totals[0].accounts, 2);
        assert_eq!(o.transactions_scanned, 2);
        assert_eq!(o.transactions_by_status.get("COMPLETED"), Some(&2));
        assert_eq!(o.volume_by_day.len(), 1);
        assert_eq!(o.volume_by_day[0].count, 2);
        assert_eq!(o.volume_by_day[0].amount, Decimal::new(13000, 2));
        assert_eq!(o.pending_kyc, 0);
        assert_eq!(o.open_fraud_cases, 0);
        assert!(!o.truncated);

        let customer = Actor::customer(UserId(Uuid::from_u128(9)), None);
        assert!(matches!(
            bank.reporting().overview(&customer).await,
            Err(BankError::Forbidden(_))
        ));
    }
}
