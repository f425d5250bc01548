//! Schedule repository and engine cases.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use chrono::Duration;
use uuid::Uuid;

use crate::account::AccountType;
use crate::auth::Actor;
use crate::error::BankError;
use crate::ids::{AccountId, CustomerId, ScheduleId, TransactionId};
use crate::ports::Store;
use crate::schedule::{CreateSchedule, Frequency, ScheduleStatus, ScheduledTransfer};
use crate::transaction::TransactionStatus;
use crate::Destination;

use super::engine::*;
use super::fixtures::*;

pub(crate) fn schedule_row(n: u128, customer: u128, next_min: i64) -> ScheduledTransfer {
    ScheduledTransfer {
        id: ScheduleId(Uuid::from_u128(n)),
        customer_id: CustomerId(Uuid::from_u128(customer)),
        created_by: Some(crate::ids::UserId(Uuid::from_u128(7))),
        from_account_id: AccountId(Uuid::from_u128(1)),
        to_account_id: AccountId(Uuid::from_u128(2)),
        amount: usd("12.50"),
        description: Some("rent".into()),
        frequency: Frequency::Monthly,
        start_at: t0(),
        end_at: Some(t0() + Duration::days(400)),
        next_run_at: t0() + Duration::minutes(next_min),
        occurrence: 0,
        status: ScheduleStatus::Active,
        last_transaction_id: None,
        last_status: None,
        last_error: None,
        lease_until: None,
        created_at: t0() + Duration::seconds(n as i64),
        updated_at: t0(),
    }
}

pub async fn schedules_round_trip_and_claims(store: Arc<dyn Store>) {
    let (s1, s2, s3) = (
        schedule_row(1, 10, 5),
        schedule_row(2, 10, 1),
        schedule_row(3, 20, 30),
    );
    let mut u = write(&store).await;
    for s in [&s1, &s2, &s3] {
        u.insert_schedule(s).await.unwrap();
    }
    assert_eq!(
        u.insert_schedule(&s1).await.unwrap_err(),
        BankError::Duplicate("scheduled transfer")
    );
    drop(u);
    let mut u = write(&store).await;
    for s in [&s1, &s2, &s3] {
        u.insert_schedule(s).await.unwrap();
    }
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    assert_eq!(u.schedule(s1.id).await.unwrap().as_ref(), Some(&s1));
    let mut s1b = u.lock_schedule(s1.id).await.unwrap().unwrap();
    s1b.occurrence = 3;
    s1b.last_status = Some(TransactionStatus::Failed);
    s1b.last_error = Some("insufficient funds".into());
    s1b.last_transaction_id = Some(TransactionId(Uuid::from_u128(77)));
    s1b.frequency = Frequency::Weekly;
    s1b.end_at = None;
    u.update_schedule(&s1b).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.schedule(s1.id).await.unwrap(), Some(s1b.clone()));
    let mine: Vec<u128> = r
        .schedules_of_customer(CustomerId(Uuid::from_u128(10)), 10)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id.0.as_u128())
        .collect();
    assert_eq!(mine, vec![2, 1], "newest first");
    drop(r);
    let lease = t0() + Duration::minutes(20);
    let mut u = write(&store).await;
    let due = u
        .claim_due_schedules(t0() + Duration::minutes(10), lease, 10)
        .await
        .unwrap();
    u.commit().await.unwrap();
    assert_eq!(
        due.iter().map(|s| s.id.0.as_u128()).collect::<Vec<_>>(),
        vec![2, 1],
        "due, oldest first, s3 not yet due"
    );
    assert!(due.iter().all(|s| s.lease_until == Some(lease)));
    let mut u = write(&store).await;
    assert!(
        u.claim_due_schedules(t0() + Duration::minutes(11), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    let again = u
        .claim_due_schedules(
            t0() + Duration::minutes(40),
            lease + Duration::minutes(60),
            2,
        )
        .await
        .unwrap();
    u.commit().await.unwrap();
    assert_eq!(again.len(), 2, "lease expired; limit honoured");
}

pub async fn engine_scheduled_transfers(store: Arc<dyn Store>) {
    let (bank, clock) = test_bank(store);
    let a = open(&bank, 1, AccountType::Checking).await;
    let b = open(&bank, 2, AccountType::Checking).await;
    deposit(&bank, a.id, "25.00", "d1").await;
    let owner = Actor::customer(
        crate::ids::UserId(Uuid::from_u128(8)),
        Some(CustomerId(Uuid::from_u128(1))),
    );
    let req = |k: &str| CreateSchedule {
        from_account_id: a.id,
        to: Destination::Number(b.account_number),
        amount: usd("10.00"),
        description: Some("allowance".into()),
        frequency: Frequency::Monthly,
        start_at: t0() + Duration::days(1),
        end_at: None,
        idempotency_key: key(k),
    };
    let s = bank
        .schedules()
        .create_scheduled_transfer(&owner, req("s1"))
        .await
        .unwrap();
    assert_eq!(
        bank.schedules()
            .create_scheduled_transfer(&owner, req("s1"))
            .await
            .unwrap(),
        s,
        "replay"
    );
    let stranger = Actor::customer(
        crate::ids::UserId(Uuid::from_u128(9)),
        Some(CustomerId(Uuid::from_u128(9))),
    );
    assert_eq!(
        bank.schedules()
            .create_scheduled_transfer(&stranger, req("s2"))
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        bank.schedules()
            .run_due_scheduled_transfers()
            .await
            .unwrap(),
        Default::default(),
        "not due yet"
    );
    clock.advance(Duration::days(1));
    let r = bank
        .schedules()
        .run_due_scheduled_transfers()
        .await
        .unwrap();
    assert_eq!((r.completed, r.failed), (1, 0));
    assert_eq!(
        bank.schedules()
            .run_due_scheduled_transfers()
            .await
            .unwrap(),
        Default::default(),
        "each occurrence once"
    );
    let s = bank
        .schedules()
        .scheduled_transfer(&owner, s.id)
        .await
        .unwrap();
    assert_eq!(
        (s.occurrence, s.next_run_at),
        (1, t0() + Duration::days(1) + Duration::days(31))
    );
    for _ in 0..2 {
        clock.advance(Duration::days(31));
        bank.schedules()
            .run_due_scheduled_transfers()
            .await
            .unwrap();
    }
    let s = bank
        .schedules()
        .scheduled_transfer(&owner, s.id)
        .await
        .unwrap();
    assert_eq!(s.occurrence, 3);
    assert_eq!(
        s.last_status,
        Some(TransactionStatus::Failed),
        "third run: only 5.00 left"
    );
    assert_eq!(balance_of(&bank, b.id).await, usd("20.00"));
    assert_eq!(
        bank.schedules()
            .cancel_scheduled_transfer(&stranger, s.id)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    let c = bank
        .schedules()
        .cancel_scheduled_transfer(&owner, s.id)
        .await
        .unwrap();
    assert_eq!(c.status, ScheduleStatus::Cancelled);
    clock.advance(Duration::days(40));
    assert_eq!(
        bank.schedules()
            .run_due_scheduled_transfers()
            .await
            .unwrap(),
        Default::default()
    );
    assert_eq!(
        bank.schedules()
            .scheduled_transfers(&owner, CustomerId(Uuid::from_u128(1)), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    bank.money().verify_ledger().await.unwrap();
}
