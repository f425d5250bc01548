//! Cases at the engine's bounds, on any store: a flood of writers beyond the group-commit
//! queue, and balances pushed past [`BALANCE_ABS_MAX`](crate::money::BALANCE_ABS_MAX).

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use crate::account::AccountType;
use crate::auth::Actor;
use crate::clock::ManualClock;
use crate::error::BankError;
use crate::ids::{AccountId, SequentialIds, TransactionId};
use crate::money::{Currency, BALANCE_ABS_MAX};
use crate::ports::Store;
use crate::transaction::TransactionStatus;
use crate::{Bank, BankConfig, BookingRequest};

use super::engine::{deposit, open, transfer_req};
use super::fixtures::{balance_of, key, t0, usd};

/// Concurrent callers in the flood: far beyond the queue's capacity.
const FLOOD_CALLERS: usize = 200;
/// Generous bound on one caller's wait; a caller reaching it is a failure (unbounded wait).
const FLOOD_CALLER_TIMEOUT: StdDuration = StdDuration::from_secs(60);
const FLOOD_ACCOUNTS: usize = 10;

/// An engine with group commit on and a tiny queue, so a flood overflows it.
fn small_queue_bank(store: Arc<dyn Store>) -> Bank {
    Bank::builder(store)
        .clock(Arc::new(ManualClock::new(t0())))
        .ids(Arc::new(SequentialIds::new(7)))
        .config(BankConfig {
            group_commit: Some(true),
            group_queue_max: 8,
            group_size_max: 4,
            ..BankConfig::default()
        })
        .build()
}

/// 200 concurrent transfers against a queue of 8: every caller is answered within the
/// bound, served (COMPLETED) or refused `overloaded`; a refused request recorded nothing
/// (its key is served when sent again); every served transfer is booked exactly once; the
/// ledger verifies and money is conserved.
pub async fn group_commit_flood_is_answered(store: Arc<dyn Store>) {
    let bank = small_queue_bank(store);
    let mut ids: Vec<AccountId> = Vec::with_capacity(FLOOD_ACCOUNTS);
    for i in 0..FLOOD_ACCOUNTS {
        let a = open(&bank, 1 + i as u128, AccountType::Checking).await;
        deposit(&bank, a.id, "1000.00", &format!("flood-fund-{i}")).await;
        ids.push(a.id);
    }
    let mut callers = Vec::with_capacity(FLOOD_CALLERS);
    for n in 0..FLOOD_CALLERS {
        let (from, to) = (ids[n % FLOOD_ACCOUNTS], ids[(n + 1) % FLOOD_ACCOUNTS]);
        let req = transfer_req(from, to, "1.00", &format!("flood-{n}"));
        let bank = bank.clone();
        callers.push(tokio::spawn(async move {
            let answer = tokio::time::timeout(
                FLOOD_CALLER_TIMEOUT,
                bank.money().transfer(&Actor::system(), req.clone()),
            )
            .await;
            (req, answer)
        }));
    }
    let mut served: Vec<TransactionId> = Vec::new();
    let mut refused = Vec::new();
    for caller in callers {
        let (req, answer) = caller.await.expect("caller task");
        let answer = answer.unwrap_or_else(|_| {
            panic!("a caller waited beyond {FLOOD_CALLER_TIMEOUT:?}: the queue is unbounded")
        });
        match answer {
            Ok(t) => {
                assert_eq!(t.status, TransactionStatus::Completed);
                served.push(t.id);
            }
            Err(e) => {
                assert_eq!(e.code(), "overloaded", "refused with {e:?}");
                refused.push(req);
            }
        }
    }
    assert!(!served.is_empty(), "the flood served nobody");
    let flood_refused = refused.len();
    // An `overloaded` refusal changed nothing: the same key is now served, once.
    for req in refused {
        let t = bank
            .money()
            .transfer(&Actor::system(), req)
            .await
            .expect("a refused request is served when sent again");
        served.push(t.id);
    }
    assert_eq!(served.len(), FLOOD_CALLERS);
    let report = bank.money().verify_ledger().await.expect("ledger verifies");
    let total = usd("1000.00").amount() * Decimal::from(FLOOD_ACCOUNTS as u64);
    assert_eq!(report.customer_totals, vec![(Currency::USD, total)]);
    let booked = postings_per_transaction(&bank, &ids).await;
    for t in &served {
        assert_eq!(booked.get(t), Some(&2), "served transfer {t} booked once");
    }
    assert_eq!(
        booked.len(),
        served.len() + FLOOD_ACCOUNTS,
        "nothing else booked"
    );
    println!("flood: {FLOOD_CALLERS} callers, {flood_refused} refused overloaded");
}

/// How many customer postings each transaction has across `accounts`' statements.
async fn postings_per_transaction(
    bank: &Bank,
    accounts: &[AccountId],
) -> HashMap<TransactionId, usize> {
    let mut booked: HashMap<TransactionId, usize> = HashMap::new();
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
    let to = bank.clock().now().date_naive() + Duration::days(1);
    for id in accounts {
        let statement = bank
            .money()
            .statement(&Actor::system(), *id, from, to)
            .await
            .expect("statement");
        for line in statement.entries {
            *booked.entry(line.transaction_id).or_default() += 1;
        }
    }
    booked
}

/// Two deposits of 600,000,000,000,000.00 into one account: the second would take the
/// balance past BALANCE_ABS_MAX (1e15) and is refused `limit_exceeded`, changing nothing;
/// so is a transfer that would push the recipient past it.
pub async fn balance_overflow_is_refused(store: Arc<dyn Store>) {
    let (bank, _) = super::test_bank(store);
    let sys = Actor::system();
    let big = "600000000000000.00";
    assert!(usd(big).amount() * Decimal::TWO > BALANCE_ABS_MAX);
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Checking).await;
    deposit(&bank, a.id, big, "big-1").await;
    let second = bank
        .money()
        .deposit(
            &sys,
            BookingRequest {
                account_id: a.id,
                amount: usd(big),
                description: None,
                idempotency_key: key("big-2"),
            },
        )
        .await;
    assert_eq!(second.map(|t| t.id).unwrap_err().code(), "limit_exceeded");
    assert_eq!(balance_of(&bank, a.id).await, usd(big), "balance unchanged");
    deposit(&bank, b.id, big, "big-3").await;
    let push = bank
        .money()
        .transfer(
            &sys,
            transfer_req(a.id, b.id, "500000000000000.00", "big-4"),
        )
        .await;
    assert!(
        matches!(push, Err(BankError::LimitExceeded(_))),
        "transfer past the bound: {push:?}"
    );
    assert_eq!(balance_of(&bank, a.id).await, usd(big));
    assert_eq!(balance_of(&bank, b.id).await, usd(big));
    let report = bank.money().verify_ledger().await.expect("ledger verifies");
    assert_eq!(
        report.customer_totals,
        vec![(Currency::USD, usd(big).amount() * Decimal::TWO)]
    );
}
