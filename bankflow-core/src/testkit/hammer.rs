//! The concurrency hammer the SQL stores' proofs run.

use std::collections::{HashMap, HashSet};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::account::AccountType;
use crate::auth::Actor;
use crate::error::BankError;
use crate::fraud_port::RequestContext;
use crate::ids::{CustomerId, TransactionId};
use crate::money::{Currency, Money};
use crate::transaction::{TransactionQuery, TransactionStatus};
use crate::{Bank, BookingRequest, Destination, OpenAccountRequest, TransferItem, TransferRequest};

use super::fixtures::*;

// ------------------------------------------------------------------ the hammer

/// What a hammer run did.
#[derive(Debug, Clone)]
pub struct HammerReport {
    /// Transfers acknowledged as COMPLETED.
    pub acknowledged: usize,
    /// Transfers refused (insufficient funds).
    pub refused: usize,
    /// Wall time of the concurrent phase.
    pub elapsed: StdDuration,
}

/// Opens `accounts` funded accounts (1,000.00 each), then runs `tasks` concurrent tokio tasks
/// of `transfers_per_task` random transfers each, and checks: the ledger verifies, money is
/// conserved, every acknowledged transfer is booked exactly once (two postings), every
/// refused one not at all, and replays return the first result. Panics on any violation.
pub async fn hammer(
    bank: &Bank,
    tasks: usize,
    transfers_per_task: usize,
    accounts: usize,
    seed: u64,
) -> HammerReport {
    let sys = Actor::system();
    let mut ids = Vec::with_capacity(accounts);
    for i in 0..accounts {
        let a = bank
            .money()
            .open_account(
                &sys,
                OpenAccountRequest {
                    customer_id: CustomerId(Uuid::from_u64_pair(seed, i as u64)),
                    account_type: AccountType::Checking,
                    currency: Currency::USD,
                    overdraft_limit: if i % 5 == 0 {
                        Some(usd("50.00").amount())
                    } else {
                        None
                    },
                    daily_limit: None,
                },
            )
            .await
            .expect("open");
        bank.money()
            .deposit(
                &sys,
                BookingRequest {
                    account_id: a.id,
                    amount: usd("1000.00"),
                    description: None,
                    idempotency_key: key(&format!("h-{seed}-fund-{i}")),
                },
            )
            .await
            .expect("fund");
        ids.push(a.id);
    }
    let total_before: Decimal = usd("1000.00").amount() * Decimal::from(accounts as u64);
    let started = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for task in 0..tasks {
        let bank = bank.clone();
        let ids = ids.clone();
        handles.push(tokio::spawn(async move {
            let mut rng = (seed ^ (task as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1;
            let mut next = move || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let mut acked = Vec::new();
            let mut refused = Vec::new();
            for i in 0..transfers_per_task {
                let from = ids[(next() % ids.len() as u64) as usize];
                let mut to = ids[(next() % ids.len() as u64) as usize];
                if to == from {
                    to = ids[(ids.iter().position(|x| *x == from).unwrap() + 1) % ids.len()];
                }
                let cents = 1 + next() % 30_000;
                let amount = Money::from_minor(cents as i64, Currency::USD).unwrap();
                let k = format!("h-{seed}-{task}-{i}");
                let req = TransferRequest {
                    item: TransferItem {
                        from_account_id: from,
                        to: Destination::Account(to),
                        amount,
                        description: None,
                    },
                    idempotency_key: key(&k),
                    context: RequestContext::default(),
                };
                match bank.money().transfer(&Actor::system(), req.clone()).await {
                    Ok(t) => {
                        assert_eq!(t.status, TransactionStatus::Completed);
                        if i % 97 == 0 {
                            assert_eq!(
                                bank.money().transfer(&Actor::system(), req).await.unwrap(),
                                t,
                                "replay identical"
                            );
                        }
                        acked.push(t.id);
                    }
                    Err(BankError::InsufficientFunds) => refused.push(k),
                    Err(e) => panic!("unexpected error under load: {e:?}"),
                }
            }
            (acked, refused)
        }));
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    for h in handles {
        let (a, r) = h.await.expect("task");
        acked.extend(a);
        refused.extend(r);
    }
    let elapsed = started.elapsed();
    let report = bank
        .money()
        .verify_ledger()
        .await
        .expect("ledger verifies after the hammer");
    assert_eq!(
        report.customer_totals,
        vec![(Currency::USD, total_before)],
        "money conserved"
    );
    let mut booked: HashMap<TransactionId, usize> = HashMap::new();
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let to = bank.clock().now().date_naive() + Duration::days(1);
    for id in &ids {
        for line in bank
            .money()
            .statement(&sys, *id, from, to)
            .await
            .expect("statement")
            .entries
        {
            *booked.entry(line.transaction_id).or_default() += 1;
        }
    }
    for t in &acked {
        assert_eq!(
            booked.get(t),
            Some(&2),
            "acknowledged transfer {t} booked exactly once (two customer postings)"
        );
    }
    let acked_set: HashSet<&TransactionId> = acked.iter().collect();
    let transfers_booked = booked.keys().filter(|t| acked_set.contains(t)).count();
    assert_eq!(transfers_booked, acked.len());
    let deposits = accounts;
    assert_eq!(
        booked.len(),
        acked.len() + deposits,
        "nothing booked that was not acknowledged"
    );
    // Every refusal left a FAILED transaction and nothing in the ledger.
    let mut failed = 0;
    let mut after = None;
    loop {
        let page = bank
            .money()
            .history(
                &sys,
                &TransactionQuery {
                    status: Some(TransactionStatus::Failed),
                    after,
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("history");
        let Some(last) = page.last() else { break };
        after = Some((last.created_at, last.id));
        for t in &page {
            assert!(
                !booked.contains_key(&t.id),
                "refused transfer {} has postings",
                t.id
            );
        }
        failed += page.len();
    }
    assert_eq!(failed, refused.len(), "every refusal recorded once");
    HammerReport {
        acknowledged: acked.len(),
        refused: refused.len(),
        elapsed,
    }
}
