//! The retention job: old published events, expired idempotency records and finished
//! notifications go; nothing still inside its replay window or unpublished does.

use std::sync::Arc;

use bankflow_core::{
    AccountType, Actor, Bank, BankConfig, BookingRequest, Currency, CustomerId, IdempotencyKey,
    ManualClock, MemoryStore, Money, OpenAccountRequest,
};
use chrono::{Duration, TimeZone, Utc};

fn bank(clock: Arc<ManualClock>, config: BankConfig) -> Bank {
    Bank::builder(Arc::new(MemoryStore::new()))
        .clock(clock)
        .config(config)
        .build()
}

async fn deposit(bank: &Bank, account: bankflow_core::AccountId, key: &str) -> String {
    bank.money()
        .deposit(
            &Actor::system(),
            BookingRequest {
                account_id: account,
                amount: Money::parse("10.00", Currency::USD).unwrap(),
                description: None,
                idempotency_key: IdempotencyKey::parse(key).unwrap(),
            },
        )
        .await
        .unwrap()
        .id
        .to_string()
}

async fn open(bank: &Bank) -> bankflow_core::AccountId {
    bank.money()
        .open_account(
            &Actor::system(),
            OpenAccountRequest {
                customer_id: CustomerId(uuid::Uuid::from_u128(7)),
                account_type: AccountType::Checking,
                currency: Currency::USD,
                overdraft_limit: None,
                daily_limit: None,
            },
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn purge_keeps_keys_inside_their_replay_window_and_unpublished_events() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
    ));
    let config = BankConfig {
        require_kyc: false,
        retention: Duration::days(1),
        idempotency_replay_window: Duration::days(30),
        ..BankConfig::default()
    };
    let bank = bank(clock.clone(), config);
    let a = open(&bank).await;
    let first = deposit(&bank, a, "dep-1").await;
    let relayed = bank
        .maintenance()
        .relay_outbox(1_000, Duration::seconds(30))
        .await
        .unwrap();
    assert!(relayed > 0);
    // Written after the relay: stays unpublished, so it must survive any purge.
    clock.advance(Duration::minutes(1));
    deposit(&bank, a, "dep-2").await;

    clock.advance(Duration::days(2));
    let report = bank.maintenance().purge(10_000).await.unwrap();
    assert_eq!(
        report.events as usize, relayed,
        "exactly the published events go"
    );
    assert_eq!(
        report.idempotency_records, 0,
        "inside the 30-day replay window"
    );
    // The key still replays its first response.
    assert_eq!(deposit(&bank, a, "dep-1").await, first);
    let again = bank.maintenance().purge(10_000).await.unwrap();
    assert_eq!(again.events, 0, "unpublished events are never purged");

    clock.advance(Duration::days(30));
    let late = bank.maintenance().purge(10_000).await.unwrap();
    assert_eq!(
        late.idempotency_records, 2,
        "past the replay window the records go"
    );
    // The ledger itself is untouched by retention.
    bank.money().verify_ledger().await.unwrap();
    let balance = bank.money().balance(&Actor::system(), a).await.unwrap();
    assert_eq!(
        balance.balance,
        Money::parse("20.00", Currency::USD).unwrap()
    );
}
