//! Engine cases for the money context on any store: movements, pendings, reversals,
//! batches, idempotency, submitted transfers, statements and external payments.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use uuid::Uuid;

use crate::account::{Account, AccountType};
use crate::auth::Actor;
use crate::clock::ManualClock;
use crate::error::BankError;
use crate::events::EventType;
use crate::fraud_port::RequestContext;
use crate::ids::{AccountId, CustomerId, SequentialIds};
use crate::ledger::SystemAccount;
use crate::money::{Currency, Money};
use crate::ports::Store;
use crate::transaction::{Transaction, TransactionQuery, TransactionStatus, TransactionType};
use crate::{
    Bank, BankConfig, BookingRequest, Destination, ExternalPayee, OpenAccountRequest, PaymentRail,
    TransferItem, TransferRequest,
};

use super::fixtures::*;

// ------------------------------------------------------------------ engine cases

/// An engine over `store` with a manual clock at a fixed instant, deterministic ids and
/// balance verification on every write.
pub fn test_bank(store: Arc<dyn Store>) -> (Bank, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    let bank = Bank::builder(store)
        .clock(clock.clone())
        .ids(Arc::new(SequentialIds::new(42)))
        .config(BankConfig {
            verify_balances_on_write: true,
            ..BankConfig::default()
        })
        .build();
    (bank, clock)
}

pub(crate) async fn open(bank: &Bank, customer: u128, ty: AccountType) -> Account {
    bank.money()
        .open_account(
            &Actor::system(),
            OpenAccountRequest {
                customer_id: CustomerId(Uuid::from_u128(customer)),
                account_type: ty,
                currency: Currency::USD,
                overdraft_limit: None,
                daily_limit: None,
            },
        )
        .await
        .expect("open account")
}

pub(crate) async fn deposit(bank: &Bank, a: AccountId, amount: &str, k: &str) -> Transaction {
    bank.money()
        .deposit(
            &Actor::system(),
            BookingRequest {
                account_id: a,
                amount: usd(amount),
                description: Some("cash".into()),
                idempotency_key: key(k),
            },
        )
        .await
        .expect("deposit")
}

pub(crate) fn transfer_req(
    from: AccountId,
    to: AccountId,
    amount: &str,
    k: &str,
) -> TransferRequest {
    TransferRequest {
        item: TransferItem {
            from_account_id: from,
            to: Destination::Account(to),
            amount: usd(amount),
            description: Some("rent".into()),
        },
        idempotency_key: key(k),
        context: RequestContext::default(),
    }
}

pub async fn engine_money_movements(store: Arc<dyn Store>) {
    let (bank, _) = test_bank(store);
    let sys = Actor::system();
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Savings).await;
    deposit(&bank, a.id, "100.00", "d1").await;
    let t = bank
        .money()
        .transfer(&sys, transfer_req(a.id, b.id, "30.25", "t1"))
        .await
        .unwrap();
    assert_eq!(t.status, TransactionStatus::Completed);
    let err = bank
        .money()
        .transfer(&sys, transfer_req(a.id, b.id, "69.76", "t2"))
        .await
        .unwrap_err();
    assert_eq!(err, BankError::InsufficientFunds);
    let failed_q = TransactionQuery {
        status: Some(TransactionStatus::Failed),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        bank.money().history(&sys, &failed_q).await.unwrap().len(),
        1,
        "refusal recorded as FAILED"
    );
    bank.money()
        .withdraw(
            &sys,
            BookingRequest {
                account_id: b.id,
                amount: usd("0.25"),
                description: None,
                idempotency_key: key("w1"),
            },
        )
        .await
        .unwrap();
    bank.money().freeze_account(&sys, b.id).await.unwrap();
    let err = bank
        .money()
        .transfer(&sys, transfer_req(a.id, b.id, "1.00", "t3"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "account_frozen");
    bank.money().unfreeze_account(&sys, b.id).await.unwrap();
    let by_number = TransferRequest {
        item: TransferItem {
            to: Destination::Number(b.account_number),
            ..transfer_req(a.id, b.id, "9.75", "t4").item
        },
        ..transfer_req(a.id, b.id, "9.75", "t4")
    };
    bank.money().transfer(&sys, by_number).await.unwrap();
    assert_eq!(balance_of(&bank, a.id).await, usd("60.00"));
    assert_eq!(balance_of(&bank, b.id).await, usd("39.75"));
    assert_eq!(
        bank.money()
            .system_balance(SystemAccount::Cash, Currency::USD)
            .await
            .unwrap(),
        usd("-99.75")
    );
    assert_eq!(
        bank.money()
            .close_account(&sys, b.id)
            .await
            .unwrap_err()
            .code(),
        "account_not_empty"
    );
    let report = bank.money().verify_ledger().await.unwrap();
    assert_eq!(report.accounts_checked, 2);
    assert_eq!(
        report.customer_totals,
        vec![(Currency::USD, usd("99.75").amount())]
    );
    // The read model equals the fold of the transaction's events.
    let evs = bank.money().transaction_events(&sys, t.id).await.unwrap();
    let types: Vec<EventType> = evs.iter().map(|e| e.event.event_type).collect();
    assert_eq!(
        types,
        vec![
            EventType::TransactionInitiated,
            EventType::TransactionFraudCheckPassed,
            EventType::TransactionBalanceReserved,
            EventType::TransactionProcessed,
            EventType::TransactionCompleted
        ]
    );
    let folded = Transaction::from_events(evs.iter().map(|e| &e.event)).unwrap();
    assert_eq!(folded, bank.money().transaction(&sys, t.id).await.unwrap());
}

pub async fn engine_pending_and_expiry(store: Arc<dyn Store>) {
    let (bank, clock) = test_bank(store);
    let sys = Actor::system();
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Checking).await;
    deposit(&bank, a.id, "50.00", "d1").await;
    let p1 = bank
        .money()
        .transfer_pending(&sys, transfer_req(a.id, b.id, "20.00", "p1"), None)
        .await
        .unwrap();
    assert_eq!(p1.status, TransactionStatus::Pending);
    let bal = bank.money().balance(&sys, a.id).await.unwrap();
    assert_eq!(
        (bal.balance, bal.available_balance),
        (usd("50.00"), usd("30.00"))
    );
    let posted = bank
        .money()
        .post_pending(&sys, p1.id, Some(usd("15.00")), key("post1"))
        .await
        .unwrap();
    assert_eq!(
        (posted.status, posted.amount),
        (TransactionStatus::Completed, usd("15.00"))
    );
    let bal = bank.money().balance(&sys, a.id).await.unwrap();
    assert_eq!(
        (bal.balance, bal.available_balance),
        (usd("35.00"), usd("35.00"))
    );
    assert_eq!(
        bank.money()
            .void_pending(&sys, p1.id, key("v1"))
            .await
            .unwrap_err()
            .code(),
        "invalid_state"
    );
    let p2 = bank
        .money()
        .transfer_pending(&sys, transfer_req(a.id, b.id, "10.00", "p2"), None)
        .await
        .unwrap();
    let voided = bank
        .money()
        .void_pending(&sys, p2.id, key("v2"))
        .await
        .unwrap();
    assert_eq!(voided.status, TransactionStatus::Voided);
    let p3 = bank
        .money()
        .transfer_pending(
            &sys,
            transfer_req(a.id, b.id, "5.00", "p3"),
            Some(t0() + Duration::hours(1)),
        )
        .await
        .unwrap();
    assert_eq!(bank.maintenance().expire_holds().await.unwrap(), 0);
    clock.advance(Duration::hours(2));
    assert_eq!(bank.maintenance().expire_holds().await.unwrap(), 1);
    assert_eq!(
        bank.money().transaction(&sys, p3.id).await.unwrap().status,
        TransactionStatus::Expired
    );
    let bal = bank.money().balance(&sys, a.id).await.unwrap();
    assert_eq!(
        (bal.balance, bal.available_balance),
        (usd("35.00"), usd("35.00"))
    );
    assert_eq!(
        bank.money()
            .post_pending(&sys, p3.id, None, key("post3"))
            .await
            .unwrap_err()
            .code(),
        "invalid_state"
    );
    bank.money().verify_ledger().await.unwrap();
}

pub async fn engine_reversal_and_batch(store: Arc<dyn Store>) {
    let (bank, _) = test_bank(store);
    let sys = Actor::system();
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Checking).await;
    let c = open(&bank, 3, AccountType::Checking).await;
    deposit(&bank, a.id, "100.00", "d1").await;
    let t = bank
        .money()
        .transfer(&sys, transfer_req(a.id, b.id, "40.00", "t1"))
        .await
        .unwrap();
    let r = bank
        .money()
        .reverse(&sys, t.id, "duplicate payment", key("r1"))
        .await
        .unwrap();
    assert_eq!(r.status, TransactionStatus::Reversed);
    assert_eq!(
        bank.money()
            .reverse(&sys, t.id, "again", key("r2"))
            .await
            .unwrap_err(),
        BankError::AlreadyReversed
    );
    assert_eq!(balance_of(&bank, a.id).await, usd("100.00"));
    assert_eq!(balance_of(&bank, b.id).await, usd("0.00"));
    let item = |from: &Account, to: &Account, amt: &str| TransferItem {
        from_account_id: from.id,
        to: Destination::Account(to.id),
        amount: usd(amt),
        description: None,
    };
    let ok = bank
        .money()
        .transfer_batch(
            &sys,
            vec![item(&a, &b, "60.00"), item(&b, &c, "60.00")],
            key("b1"),
            RequestContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(ok.len(), 2, "second item spends what the first brought");
    let err = bank
        .money()
        .transfer_batch(
            &sys,
            vec![item(&a, &c, "10.00"), item(&b, &c, "0.01")],
            key("b2"),
            RequestContext::default(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("item 1"), "{err}");
    let replayed = bank
        .money()
        .transfer_batch(
            &sys,
            vec![item(&a, &c, "10.00"), item(&b, &c, "0.01")],
            key("b2"),
            RequestContext::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        replayed, err,
        "a replay returns the first refusal, word for word"
    );
    assert_eq!(
        balance_of(&bank, a.id).await,
        usd("40.00"),
        "linked: first item undone"
    );
    assert_eq!(balance_of(&bank, c.id).await, usd("60.00"));
    bank.money().verify_ledger().await.unwrap();
}

pub async fn engine_idempotency(store: Arc<dyn Store>) {
    let (bank, _) = test_bank(store);
    let sys = Actor::system();
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Checking).await;
    let d1 = deposit(&bank, a.id, "10.00", "d1").await;
    assert_eq!(
        deposit(&bank, a.id, "10.00", "d1").await,
        d1,
        "replay returns the first result"
    );
    let t1 = bank
        .money()
        .transfer(&sys, transfer_req(a.id, b.id, "4.00", "t1"))
        .await
        .unwrap();
    assert_eq!(
        bank.money()
            .transfer(&sys, transfer_req(a.id, b.id, "4.00", "t1"))
            .await
            .unwrap(),
        t1
    );
    assert_eq!(
        bank.money()
            .transfer(&sys, transfer_req(a.id, b.id, "5.00", "t1"))
            .await
            .unwrap_err(),
        BankError::IdempotencyConflict
    );
    let e1 = bank
        .money()
        .transfer(&sys, transfer_req(a.id, b.id, "7.00", "t2"))
        .await
        .unwrap_err();
    deposit(&bank, a.id, "100.00", "d2").await;
    let e2 = bank
        .money()
        .transfer(&sys, transfer_req(a.id, b.id, "7.00", "t2"))
        .await
        .unwrap_err();
    assert_eq!(
        e1, e2,
        "a refused request replays its refusal even after funds arrive"
    );
    assert_eq!(balance_of(&bank, a.id).await, usd("106.00"));
    let other = Actor::customer(
        crate::ids::UserId(Uuid::from_u128(5)),
        Some(CustomerId(Uuid::from_u128(1))),
    );
    let t_other = bank
        .money()
        .transfer(&other, transfer_req(a.id, b.id, "4.00", "t1"))
        .await
        .unwrap();
    assert_ne!(t_other.id, t1.id, "keys are scoped per caller");
    bank.money().verify_ledger().await.unwrap();
}

/// `submit_transfers`: one commit, independent outcomes, per-item idempotency.
pub async fn engine_submitted_transfers(store: Arc<dyn Store>) {
    let (bank, _) = test_bank(store);
    let sys = Actor::system();
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Checking).await;
    deposit(&bank, a.id, "10.00", "d1").await;
    let missing = AccountId(Uuid::from_u128(999));
    let reqs = vec![
        transfer_req(a.id, b.id, "4.00", "s1"),
        transfer_req(a.id, b.id, "7.00", "s2"), // 6.00 left: refused alone
        transfer_req(a.id, missing, "1.00", "s3"), // no such account: fails alone
        transfer_req(a.id, b.id, "6.00", "s4"),
        transfer_req(b.id, a.id, "0.50", "s5"),
    ];
    let out = bank
        .money()
        .submit_transfers(&sys, reqs.clone())
        .await
        .unwrap();
    assert_eq!(out.len(), 5);
    assert_eq!(
        out[0].as_ref().unwrap().status,
        TransactionStatus::Completed
    );
    assert!(
        matches!(out[1], Err(BankError::InsufficientFunds)),
        "{:?}",
        out[1]
    );
    assert!(
        matches!(out[2], Err(BankError::NotFound { .. })),
        "{:?}",
        out[2]
    );
    assert_eq!(out[3].as_ref().unwrap().amount, usd("6.00"));
    assert_eq!(out[4].as_ref().unwrap().amount, usd("0.50"));
    assert_eq!(balance_of(&bank, a.id).await, usd("0.50"));
    assert_eq!(balance_of(&bank, b.id).await, usd("9.50"));
    // The refused transfer is recorded FAILED like a single one; the one that never found
    // its account left nothing behind.
    let failed = bank
        .money()
        .history(
            &sys,
            &TransactionQuery {
                account_id: Some(a.id),
                status: Some(TransactionStatus::Failed),
                limit: 10,
                ..TransactionQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    // Replaying the whole submission moves nothing and answers the same.
    let again = bank.money().submit_transfers(&sys, reqs).await.unwrap();
    for (first, replay) in out.iter().zip(&again) {
        match (first, replay) {
            (Ok(x), Ok(y)) => assert_eq!(x, y),
            (Err(x), Err(y)) => assert_eq!(x.code(), y.code()),
            other => panic!("replay differs: {other:?}"),
        }
    }
    // Each item is its own idempotent command: a single transfer with s1's key replays it.
    assert_eq!(
        bank.money()
            .transfer(&sys, transfer_req(a.id, b.id, "4.00", "s1"))
            .await
            .unwrap(),
        *out[0].as_ref().unwrap()
    );
    assert_eq!(balance_of(&bank, a.id).await, usd("0.50"));
    assert!(matches!(
        bank.money().submit_transfers(&sys, Vec::new()).await,
        Err(BankError::Validation { .. })
    ));
    bank.money().verify_ledger().await.unwrap();
}

pub async fn engine_statement_and_history(store: Arc<dyn Store>) {
    let (bank, clock) = test_bank(store);
    let sys = Actor::system();
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Checking).await;
    deposit(&bank, a.id, "100.00", "d1").await;
    clock.advance(Duration::days(1));
    bank.money()
        .transfer(&sys, transfer_req(a.id, b.id, "30.00", "t1"))
        .await
        .unwrap();
    clock.advance(Duration::days(1));
    bank.money()
        .transfer(&sys, transfer_req(b.id, a.id, "5.00", "t2"))
        .await
        .unwrap();
    let day = |d: i64| (t0() + Duration::days(d)).date_naive();
    let st = bank
        .money()
        .statement(&sys, a.id, day(1), day(2))
        .await
        .unwrap();
    assert_eq!(st.opening_balance, usd("100.00"));
    assert_eq!(st.closing_balance, usd("75.00"));
    let lines: Vec<(Money, Money)> = st
        .entries
        .iter()
        .map(|e| (e.amount, e.balance_after))
        .collect();
    assert_eq!(
        lines,
        vec![(usd("-30.00"), usd("70.00")), (usd("5.00"), usd("75.00"))]
    );
    let full = bank
        .money()
        .statement(
            &sys,
            a.id,
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            day(5),
        )
        .await
        .unwrap();
    assert_eq!(full.entries.len(), 3);
    assert_eq!(full.opening_balance, usd("0.00"));
    let stranger = Actor::customer(
        crate::ids::UserId(Uuid::from_u128(9)),
        Some(CustomerId(Uuid::from_u128(9))),
    );
    assert_eq!(
        bank.money()
            .statement(&stranger, a.id, day(0), day(1))
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    let owner = Actor::customer(
        crate::ids::UserId(Uuid::from_u128(8)),
        Some(CustomerId(Uuid::from_u128(1))),
    );
    let h = bank
        .money()
        .history(
            &owner,
            &TransactionQuery {
                account_id: Some(a.id),
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].amount, usd("5.00"), "newest first");
    assert_eq!(
        bank.money()
            .history(
                &owner,
                &TransactionQuery {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
}

pub async fn engine_external_payments(store: Arc<dyn Store>) {
    let (bank, _) = test_bank(store);
    let sys = Actor::system();
    let a = open(&bank, 1, AccountType::Checking).await;
    deposit(&bank, a.id, "100.00", "d1").await;
    let payee = |rail| ExternalPayee {
        rail,
        name: "City Power & Light".into(),
        account: "DE89370400440532013000".into(),
        reference: Some("INV-7".into()),
    };
    let req = |rail, amount: &str, k: &str| TransferRequest {
        item: TransferItem {
            from_account_id: a.id,
            to: Destination::External(payee(rail)),
            amount: usd(amount),
            description: None,
        },
        idempotency_key: key(k),
        context: RequestContext::default(),
    };
    let paid = bank
        .money()
        .transfer(&sys, req(PaymentRail::Payment, "30.00", "p1"))
        .await
        .unwrap();
    assert_eq!(
        (paid.transaction_type, paid.status, paid.to_account_id),
        (TransactionType::Payment, TransactionStatus::Completed, None)
    );
    assert_eq!(
        paid.description.as_deref(),
        Some("payment to City Power & Light (INV-7)")
    );
    assert_eq!(
        bank.money()
            .transfer(&sys, req(PaymentRail::Payment, "30.00", "p1"))
            .await
            .unwrap(),
        paid,
        "replay"
    );
    let wire = bank
        .money()
        .transfer_pending(&sys, req(PaymentRail::Wire, "50.00", "w1"), None)
        .await
        .unwrap();
    assert_eq!(wire.transaction_type, TransactionType::ExternalTransfer);
    assert_eq!(
        bank.money()
            .balance(&sys, a.id)
            .await
            .unwrap()
            .available_balance,
        usd("20.00")
    );
    bank.money()
        .post_pending(&sys, wire.id, Some(usd("45.00")), key("w1-post"))
        .await
        .unwrap();
    assert_eq!(balance_of(&bank, a.id).await, usd("25.00"));
    assert_eq!(
        bank.money()
            .system_balance(SystemAccount::ExternalClearing, Currency::USD)
            .await
            .unwrap(),
        usd("75.00")
    );
    let err = bank
        .money()
        .transfer(&sys, req(PaymentRail::Ach, "25.01", "a1"))
        .await
        .unwrap_err();
    assert_eq!(err, BankError::InsufficientFunds);
    let mut bad = req(PaymentRail::Ach, "1.00", "a2");
    if let Destination::External(p) = &mut bad.item.to {
        p.account = "no spaces allowed".into();
    }
    assert_eq!(
        bank.money().transfer(&sys, bad).await.unwrap_err().code(),
        "validation_error"
    );
    bank.money()
        .reverse(&sys, paid.id, "payee returned the payment", key("r1"))
        .await
        .unwrap();
    assert_eq!(balance_of(&bank, a.id).await, usd("55.00"));
    bank.money().verify_ledger().await.unwrap();
}
