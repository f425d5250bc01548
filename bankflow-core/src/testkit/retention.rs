//! Conformance cases for bounded lists and retention (cargo feature `testkit`): the list
//! methods honour their `limit`, and the `purge_*` methods delete exactly what their contract
//! says — old published events (never unpublished ones), idempotency records before the
//! cutoff, notifications no longer pending — in batches, and a rolled-back purge deletes
//! nothing. Run by every store through [`crate::conformance_tests!`].

use std::sync::Arc;

use chrono::Duration;
use uuid::Uuid;

use super::ctx_fixtures::notification;
use super::fixtures::{account, event, key, read, t0, usd, write};
use crate::account::{Hold, HoldStatus};
use crate::events::EventType;
use crate::idempotency::{IdempotencyRecord, IdempotentResponse};
use crate::ids::{CustomerId, HoldId, JournalId, TransactionId};
use crate::ledger::{JournalEntry, SystemAccount};
use crate::money::Currency;
use crate::notify::{Channel, NotificationStatus};
use crate::ports::Store;

/// Conformance case.
pub async fn lists_honour_their_limit(store: Arc<dyn Store>) {
    let (a1, a2, a3) = (
        account(1, 100, t0()),
        account(2, 100, t0() + Duration::seconds(1)),
        account(3, 100, t0() + Duration::seconds(2)),
    );
    let hold = |n: u128| Hold {
        id: HoldId(Uuid::from_u128(n)),
        account_id: a1.id,
        transaction_id: TransactionId(Uuid::from_u128(1000 + n)),
        amount: usd("1.00"),
        status: HoldStatus::Active,
        expires_at: t0() + Duration::minutes(30),
        created_at: t0() + Duration::seconds(n as i64),
        resolved_at: None,
    };
    let txn = TransactionId(Uuid::from_u128(700));
    let journal = |n: u128| {
        JournalEntry::transfer(
            JournalId(Uuid::from_u128(n)),
            txn,
            SystemAccount::Cash.id(Currency::USD),
            a1.id,
            usd("2.00"),
            t0(),
            None,
        )
    };
    let events: Vec<_> = (1..=3)
        .map(|n| event(n, 50, EventType::AccountFrozen, t0()))
        .collect();
    let mut u = write(&store).await;
    for a in [&a1, &a2, &a3] {
        u.insert_account(a).await.unwrap();
    }
    for n in 1..=3 {
        u.insert_hold(&hold(n)).await.unwrap();
    }
    u.insert_journal(&journal(1)).await.unwrap();
    u.insert_journal(&journal(2)).await.unwrap();
    u.append_events(&events).await.unwrap();
    u.commit().await.unwrap();

    let mut r = read(&store).await;
    let customer = CustomerId(Uuid::from_u128(100));
    let accounts = r.accounts_of_customer(customer, 2).await.unwrap();
    assert_eq!(
        accounts,
        vec![a1.clone(), a2.clone()],
        "oldest two accounts"
    );
    let holds = r.active_holds(a1.id, 2).await.unwrap();
    assert_eq!(holds, vec![hold(1), hold(2)], "oldest two holds");
    let journals = r.journals_of_transaction(txn, 1).await.unwrap();
    assert_eq!(journals, vec![journal(1)], "first journal only");
    let got = r.events_of_aggregate(Uuid::from_u128(50), 2).await.unwrap();
    let ids: Vec<u128> = got.iter().map(|e| e.event.id.0.as_u128()).collect();
    assert_eq!(ids, vec![1, 2], "first two events in append order");
    assert!(r
        .accounts_of_customer(customer, 0)
        .await
        .unwrap()
        .is_empty());
}

/// Conformance case.
pub async fn purge_published_events_only(store: Arc<dyn Store>) {
    let old = t0();
    let cutoff = t0() + Duration::days(1);
    // Aggregates 1..=3 old and published, 4 old and unpublished, 5 new and published.
    let mut evs: Vec<_> = (1..=4)
        .map(|n| event(n, n, EventType::AccountCreated, old))
        .collect();
    evs.push(event(
        5,
        5,
        EventType::AccountCreated,
        cutoff + Duration::days(1),
    ));
    let mut u = write(&store).await;
    u.append_events(&evs).await.unwrap();
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    let claimed = u
        .claim_events(old, old + Duration::seconds(30), 10)
        .await
        .unwrap();
    let seqs: Vec<i64> = claimed
        .iter()
        .filter(|e| e.event.aggregate_id != Uuid::from_u128(4))
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs.len(), 4);
    u.mark_published(&seqs, old).await.unwrap();
    u.commit().await.unwrap();

    // A rolled-back purge deletes nothing.
    let mut u = write(&store).await;
    assert_eq!(u.purge_published_events(cutoff, 100).await.unwrap(), 3);
    u.rollback().await.unwrap();
    let mut r = read(&store).await;
    let agg = |n: u128| Uuid::from_u128(n);
    assert_eq!(r.events_of_aggregate(agg(1), 10).await.unwrap().len(), 1);
    drop(r);

    // Batches: two, then the last old published one, then nothing.
    for expected in [2, 1, 0] {
        let mut u = write(&store).await;
        assert_eq!(u.purge_published_events(cutoff, 2).await.unwrap(), expected);
        u.commit().await.unwrap();
    }
    let mut r = read(&store).await;
    for n in 1..=3 {
        assert!(r.events_of_aggregate(agg(n), 10).await.unwrap().is_empty());
    }
    // Never an unpublished event, whatever its age; never a recent one.
    assert_eq!(r.events_of_aggregate(agg(4), 10).await.unwrap().len(), 1);
    assert_eq!(r.events_of_aggregate(agg(5), 10).await.unwrap().len(), 1);
    drop(r);
    // The unpublished event is still owed to a relay.
    let mut u = write(&store).await;
    let again = u
        .claim_events(old + Duration::minutes(5), old + Duration::minutes(6), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event.aggregate_id, agg(4));
}

/// Conformance case.
pub async fn purge_idempotency_before_cutoff(store: Arc<dyn Store>) {
    let rec = |k: &str, minutes: i64| IdempotencyRecord {
        scope: "user:a".into(),
        key: key(k),
        fingerprint: "f".repeat(64),
        response: IdempotentResponse::Refused {
            code: "insufficient_funds".into(),
            message: "no".into(),
        },
        created_at: t0() + Duration::minutes(minutes),
    };
    // The caller passes now - replay window; "k-new" is inside it.
    let cutoff = t0() + Duration::minutes(60);
    let (a, b, c, fresh) = (
        rec("k-a", 0),
        rec("k-b", 1),
        rec("k-c", 2),
        rec("k-new", 60),
    );
    let mut u = write(&store).await;
    for r in [&a, &b, &c, &fresh] {
        u.insert_idempotency(r).await.unwrap();
    }
    u.commit().await.unwrap();

    let mut u = write(&store).await;
    // Read first, so a store that caches the record must forget it on purge.
    assert!(u
        .idempotency("user:a", &key("k-a"))
        .await
        .unwrap()
        .is_some());
    assert_eq!(u.purge_idempotency(cutoff, 2).await.unwrap(), 2);
    assert_eq!(u.idempotency("user:a", &key("k-a")).await.unwrap(), None);
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    assert_eq!(u.purge_idempotency(cutoff, 2).await.unwrap(), 1);
    assert_eq!(u.purge_idempotency(cutoff, 2).await.unwrap(), 0);
    u.commit().await.unwrap();

    let mut r = read(&store).await;
    for k in ["k-a", "k-b", "k-c"] {
        assert_eq!(r.idempotency("user:a", &key(k)).await.unwrap(), None, "{k}");
    }
    assert_eq!(
        r.idempotency("user:a", &key("k-new")).await.unwrap(),
        Some(fresh.clone()),
        "inside its replay window"
    );
    drop(r);
    // A purged key is free again.
    let mut u = write(&store).await;
    u.insert_idempotency(&a).await.unwrap();
    u.commit().await.unwrap();
}

/// Conformance case.
pub async fn purge_notifications_no_longer_pending(store: Arc<dyn Store>) {
    let cutoff = t0() + Duration::days(1);
    let with = |n: u128, status: NotificationStatus, at| {
        let mut x = notification(n, 10, Channel::Email, at);
        x.status = status;
        if status != NotificationStatus::Pending {
            x.next_attempt_at = None;
        }
        x
    };
    let sent_old = with(1, NotificationStatus::Sent, t0());
    let failed_old = with(2, NotificationStatus::Failed, t0() + Duration::seconds(1));
    let pending_old = with(3, NotificationStatus::Pending, t0());
    let sent_new = with(4, NotificationStatus::Sent, cutoff + Duration::days(1));
    let mut u = write(&store).await;
    for n in [&sent_old, &failed_old, &pending_old, &sent_new] {
        u.insert_notification(n).await.unwrap();
    }
    u.commit().await.unwrap();

    let mut u = write(&store).await;
    assert_eq!(u.purge_notifications(cutoff, 1).await.unwrap(), 1);
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(
        r.notification(sent_old.id).await.unwrap(),
        None,
        "oldest first"
    );
    assert!(r.notification(failed_old.id).await.unwrap().is_some());
    drop(r);
    let mut u = write(&store).await;
    assert_eq!(u.purge_notifications(cutoff, 10).await.unwrap(), 1);
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.notification(failed_old.id).await.unwrap(), None);
    assert_eq!(
        r.notification(pending_old.id).await.unwrap(),
        Some(pending_old.clone()),
        "a pending notification is still owed a delivery"
    );
    assert_eq!(r.notification(sent_new.id).await.unwrap(), Some(sent_new));
}
