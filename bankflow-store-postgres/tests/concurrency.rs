//! Concurrency proofs on PostgreSQL: the shared hammer (32 tasks × 1,000 random transfers
//! among 20 accounts) through group commit and through one unit per command, and the
//! double-spend probe across two engines with separate pools.

use std::sync::Arc;

use bankflow_core::testkit;
use bankflow_core::{
    AccountType, Actor, Bank, BankConfig, BankError, BookingRequest, Currency, CustomerId,
    Destination, IdempotencyKey, Money, OpenAccountRequest, RequestContext, TransferItem,
    TransferRequest,
};
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};
use uuid::Uuid;

async fn store(db: &TestDatabase, max_connections: u32) -> PgStore {
    PgStore::connect(
        db.url(),
        PgOptions {
            max_connections,
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect")
}

fn bank(store: PgStore, group_commit: bool) -> Bank {
    Bank::builder(Arc::new(store))
        .config(BankConfig {
            group_commit: Some(group_commit),
            ..BankConfig::default()
        })
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hammer_with_group_commit_conserves_money() {
    let db = TestDatabase::create(&database_url()).await;
    let bank = bank(store(&db, 8).await, true);
    let report = testkit::hammer(&bank, 32, 1000, 20, 7).await;
    println!("postgres hammer (group commit, 32 tasks x 1000): {report:?}");
    assert_eq!(
        report.acknowledged + report.refused,
        32 * 1000,
        "every transfer acknowledged or refused"
    );
    assert!(
        report.acknowledged > 16_000,
        "most transfers succeed: {report:?}"
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hammer_with_one_unit_per_command_conserves_money() {
    // 32 concurrent units, each locking its two accounts with SELECT … FOR UPDATE in id
    // order: the row-lock path without group commit.
    let db = TestDatabase::create(&database_url()).await;
    let bank = bank(store(&db, 32).await, false);
    let report = testkit::hammer(&bank, 32, 250, 20, 11).await;
    println!("postgres hammer (unit per command, 32 tasks x 250): {report:?}");
    assert_eq!(report.acknowledged + report.refused, 32 * 250);
    db.drop_database().await;
}

fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).expect("amount")
}

fn key(s: String) -> IdempotencyKey {
    IdempotencyKey::parse(&s).expect("key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn double_spend_probe_exactly_one_wins() {
    let db = TestDatabase::create(&database_url()).await;
    // Two engines with separate pools on one database: one group-commits, one does not.
    let banks = [
        bank(store(&db, 16).await, true),
        bank(store(&db, 16).await, false),
    ];
    let sys = Actor::system();
    let open = |n: u128| OpenAccountRequest {
        customer_id: CustomerId(Uuid::from_u128(n)),
        account_type: AccountType::Checking,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    let victim = banks[0].money().open_account(&sys, open(1)).await.unwrap();
    let sink = banks[0].money().open_account(&sys, open(2)).await.unwrap();
    banks[0]
        .money()
        .deposit(
            &sys,
            BookingRequest {
                account_id: victim.id,
                amount: usd("10.00"),
                description: None,
                idempotency_key: key("fund".into()),
            },
        )
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..50usize {
        let bank = banks[i % 2].clone();
        handles.push(tokio::spawn(async move {
            let sys = Actor::system();
            if i % 3 == 0 {
                let req = BookingRequest {
                    account_id: victim.id,
                    amount: usd("9.00"),
                    description: None,
                    idempotency_key: key(format!("w{i}")),
                };
                bank.money().withdraw(&sys, req).await
            } else {
                let req = TransferRequest {
                    item: TransferItem {
                        from_account_id: victim.id,
                        to: Destination::Account(sink.id),
                        amount: usd("9.00"),
                        description: None,
                    },
                    idempotency_key: key(format!("t{i}")),
                    context: RequestContext::default(),
                };
                bank.money().transfer(&sys, req).await
            }
        }));
    }
    let mut wins = 0;
    for h in handles {
        match h.await.expect("task") {
            Ok(_) => wins += 1,
            Err(BankError::InsufficientFunds) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(
        wins, 1,
        "exactly one of 50 concurrent 9.00 debits of a 10.00 balance succeeds"
    );
    let a = banks[1].money().balance(&sys, victim.id).await.unwrap();
    assert_eq!((a.balance, a.available_balance), (usd("1.00"), usd("1.00")));
    banks[1]
        .money()
        .verify_ledger()
        .await
        .expect("ledger verifies");
    db.drop_database().await;
}
