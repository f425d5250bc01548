//! Repository cases for accounts, holds, journals, transactions, idempotency, events,
//! the outbox, rollback and savepoints.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::account::{AccountStatus, AccountType, Hold, HoldStatus};
use crate::error::BankError;
use crate::events::{DomainEvent, EventData, EventType, TransactionEventData};
use crate::idempotency::{IdempotencyRecord, IdempotentResponse};
use crate::ids::{AccountId, CustomerId, EventId, HoldId, JournalId, TransactionId};
use crate::ledger::{JournalEntry, SystemAccount};
use crate::money::Currency;
use crate::ports::Store;
use crate::transaction::{Transaction, TransactionQuery, TransactionStatus, TransactionType};

use super::fixtures::*;

// ------------------------------------------------------------------ repository cases

pub async fn accounts_round_trip(store: Arc<dyn Store>) {
    let mut a = account(1, 100, t0());
    a.daily_limit = Some(usd("250.50").amount());
    let mut u = write(&store).await;
    u.insert_account(&a).await.expect("insert");
    u.commit().await.expect("commit");
    let mut r = read(&store).await;
    assert_eq!(
        r.account(a.id).await.unwrap().as_ref(),
        Some(&a),
        "round trip by id"
    );
    assert_eq!(
        r.account_by_number(&a.account_number)
            .await
            .unwrap()
            .as_ref(),
        Some(&a)
    );
    assert_eq!(
        r.account(AccountId(Uuid::from_u128(999))).await.unwrap(),
        None
    );
    drop(r);
    let mut u = write(&store).await;
    let mut b = u.lock_accounts(&[a.id]).await.unwrap().remove(0);
    b.balance = usd("12.34").amount();
    b.held = usd("2.00").amount();
    b.status = AccountStatus::Frozen;
    b.daily_out_total = usd("5.00").amount();
    b.updated_at = t0() + Duration::seconds(5);
    b.version = 2;
    u.update_account(&b).await.unwrap();
    u.commit().await.unwrap();
    let got = read(&store).await.account(a.id).await.unwrap().unwrap();
    assert_eq!(got, b, "update persisted exactly");
    assert_eq!(got.available_balance(), usd("10.34").amount());
}

pub async fn account_numbers_unique(store: Arc<dyn Store>) {
    let a = account(1, 100, t0());
    let mut b = account(2, 100, t0());
    b.account_number = a.account_number;
    let mut u = write(&store).await;
    u.insert_account(&a).await.unwrap();
    assert_eq!(
        u.insert_account(&b).await.unwrap_err(),
        BankError::Duplicate("account")
    );
    drop(u);
    // The failed unit rolled back entirely: even `a` is gone.
    assert_eq!(read(&store).await.account(a.id).await.unwrap(), None);
}

pub async fn lock_accounts_in_order(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    for n in [5u128, 3, 9] {
        u.insert_account(&account(n, 100 + n, t0())).await.unwrap();
    }
    u.commit().await.unwrap();
    let ids: Vec<AccountId> = [3u128, 4, 5, 9]
        .iter()
        .map(|n| AccountId(Uuid::from_u128(*n)))
        .collect();
    let mut u = write(&store).await;
    let locked = u.lock_accounts(&ids).await.unwrap();
    let got: Vec<u128> = locked.iter().map(|a| a.id.0.as_u128()).collect();
    assert_eq!(
        got,
        vec![3, 5, 9],
        "same order as asked, unknown ids omitted"
    );
    u.rollback().await.unwrap();
}

pub async fn accounts_paging(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    for n in 1..=7u128 {
        let mut a = account(
            n,
            if n % 2 == 0 { 1 } else { 2 },
            t0() + Duration::seconds(n as i64),
        );
        a.account_type = if n == 4 {
            AccountType::Savings
        } else {
            AccountType::Checking
        };
        u.insert_account(&a).await.unwrap();
    }
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let p1 = r.list_accounts(None, 3).await.unwrap();
    let p2 = r.list_accounts(Some(p1[2].id), 3).await.unwrap();
    let p3 = r.list_accounts(Some(p2[2].id), 3).await.unwrap();
    let ids: Vec<u128> = p1
        .iter()
        .chain(&p2)
        .chain(&p3)
        .map(|a| a.id.0.as_u128())
        .collect();
    assert_eq!(ids, (1..=7).collect::<Vec<_>>());
    let evens = r
        .accounts_of_customer(
            CustomerId(Uuid::from_u128(1)),
            crate::ports::ACCOUNTS_OF_CUSTOMER_MAX,
        )
        .await
        .unwrap();
    assert_eq!(
        evens.iter().map(|a| a.id.0.as_u128()).collect::<Vec<_>>(),
        vec![2, 4, 6],
        "oldest first"
    );
    assert_eq!(evens[1].account_type, AccountType::Savings);
    assert!(r
        .accounts_of_customer(
            CustomerId(Uuid::from_u128(77)),
            crate::ports::ACCOUNTS_OF_CUSTOMER_MAX
        )
        .await
        .unwrap()
        .is_empty());
}

pub async fn holds_round_trip(store: Arc<dyn Store>) {
    let a = account(1, 100, t0());
    let mk = |n: u128, exp_min: i64| Hold {
        id: HoldId(Uuid::from_u128(n)),
        account_id: a.id,
        transaction_id: TransactionId(Uuid::from_u128(1000 + n)),
        amount: usd("3.50"),
        status: HoldStatus::Active,
        expires_at: t0() + Duration::minutes(exp_min),
        created_at: t0(),
        resolved_at: None,
    };
    let (h1, h2, h3) = (mk(1, 30), mk(2, 10), mk(3, 20));
    let mut u = write(&store).await;
    u.insert_account(&a).await.unwrap();
    for h in [&h1, &h2, &h3] {
        u.insert_hold(h).await.unwrap();
    }
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    assert_eq!(u.hold(h1.id).await.unwrap().as_ref(), Some(&h1));
    let mut h3b = h3.clone();
    h3b.status = HoldStatus::Voided;
    h3b.resolved_at = Some(t0() + Duration::minutes(1));
    u.update_hold(&h3b).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.hold(h3.id).await.unwrap(), Some(h3b));
    let active: HashSet<u128> = r
        .active_holds(a.id, crate::ports::ACTIVE_HOLDS_MAX)
        .await
        .unwrap()
        .iter()
        .map(|h| h.id.0.as_u128())
        .collect();
    assert_eq!(active, HashSet::from([1, 2]));
    let due = r
        .expired_holds(t0() + Duration::minutes(40), 10)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|h| h.id.0.as_u128()).collect::<Vec<_>>(),
        vec![2, 1],
        "oldest expiry first"
    );
    assert_eq!(
        r.expired_holds(t0() + Duration::minutes(15), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        r.expired_holds(t0() + Duration::minutes(40), 1)
            .await
            .unwrap()
            .len(),
        1,
        "limit honoured"
    );
}

pub async fn journals_and_postings(store: Arc<dyn Store>) {
    let a = account(1, 100, t0());
    let cash = SystemAccount::Cash.id(Currency::USD);
    let j = |n: u128, amount: &str, at: DateTime<Utc>| {
        JournalEntry::transfer(
            JournalId(Uuid::from_u128(n)),
            TransactionId(Uuid::from_u128(500 + n)),
            cash,
            a.id,
            usd(amount),
            at,
            Some(format!("deposit {n}")),
        )
    };
    let j1 = j(1, "100.00", t0());
    let j2 = j(2, "0.01", t0() + Duration::days(1));
    let j3 = j(3, "5.55", t0() + Duration::days(2));
    let mut u = write(&store).await;
    u.insert_account(&a).await.unwrap();
    for x in [&j1, &j2, &j3] {
        u.insert_journal(x).await.unwrap();
    }
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(
        r.journals_of_transaction(j2.transaction_id, crate::ports::JOURNALS_OF_TRANSACTION_MAX)
            .await
            .unwrap(),
        vec![j2.clone()]
    );
    assert!(r
        .journals_of_transaction(
            TransactionId(Uuid::from_u128(1)),
            crate::ports::JOURNALS_OF_TRANSACTION_MAX
        )
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        r.posting_sum(a.id, None).await.unwrap(),
        usd("105.56").amount()
    );
    assert_eq!(
        r.posting_sum(cash, None).await.unwrap(),
        usd("-105.56").amount()
    );
    assert_eq!(
        r.posting_sum(a.id, Some(t0() + Duration::days(1)))
            .await
            .unwrap(),
        usd("100.00").amount()
    );
    assert_eq!(
        r.posting_sum(AccountId(Uuid::from_u128(77)), None)
            .await
            .unwrap(),
        Decimal::ZERO
    );
    let all = r
        .postings(a.id, t0(), t0() + Duration::days(3), None, 10)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|p| p.amount).collect::<Vec<_>>(),
        vec![usd("100.00"), usd("0.01"), usd("5.55")]
    );
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "booking order");
    assert_eq!(all[1].description.as_deref(), Some("deposit 2"));
    assert_eq!(all[1].transaction_id, j2.transaction_id);
    assert_eq!(all[1].posted_at, j2.posted_at);
    let page = r
        .postings(a.id, t0(), t0() + Duration::days(3), Some(all[0].seq), 1)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, all[1].seq);
    let window = r
        .postings(
            a.id,
            t0() + Duration::days(1),
            t0() + Duration::days(2),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(window.len(), 1, "from inclusive, to exclusive");
    let totals = r.ledger_totals().await.unwrap();
    assert_eq!(totals, vec![(Currency::USD, Decimal::ZERO)]);
}

pub async fn transactions_round_trip_and_query(store: Arc<dyn Store>) {
    let a = AccountId(Uuid::from_u128(1));
    let b = AccountId(Uuid::from_u128(2));
    let c = AccountId(Uuid::from_u128(3));
    let mut t1 = txn(11, Some(a), Some(b), "10.00", t0());
    let t2 = txn(12, Some(b), Some(c), "20.00", t0() + Duration::minutes(1));
    let mut t3 = txn(13, None, Some(a), "30.00", t0() + Duration::minutes(2));
    t3.transaction_type = TransactionType::Deposit;
    t3.description = None;
    let mut t4 = txn(14, Some(a), Some(c), "40.00", t0() + Duration::minutes(3));
    t4.status = TransactionStatus::Failed;
    t4.failure_code = Some("insufficient_funds".into());
    t4.reason = Some("insufficient funds".into());
    let mut u = write(&store).await;
    for t in [&t1, &t2, &t3, &t4] {
        u.insert_transaction(t).await.unwrap();
    }
    assert_eq!(
        u.insert_transaction(&t1).await.unwrap_err(),
        BankError::Duplicate("transaction")
    );
    drop(u);
    let mut u = write(&store).await;
    for t in [&t1, &t2, &t3, &t4] {
        u.insert_transaction(t).await.unwrap();
    }
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    t1.status = TransactionStatus::Reversed;
    t1.reversed_at = Some(t0() + Duration::hours(1));
    t1.parent_id = Some(TransactionId(Uuid::from_u128(99)));
    t1.reason = Some("customer dispute".into());
    assert_eq!(
        u.lock_transaction(t1.id).await.unwrap().map(|t| t.id),
        Some(t1.id)
    );
    u.update_transaction(&t1).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.transaction(t1.id).await.unwrap(), Some(t1.clone()));
    assert_eq!(r.transaction(t4.id).await.unwrap(), Some(t4.clone()));
    assert_eq!(
        r.transaction(TransactionId(Uuid::from_u128(5)))
            .await
            .unwrap(),
        None
    );
    let q = |f: &dyn Fn(&mut TransactionQuery)| {
        let mut q = TransactionQuery {
            limit: 10,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let ids = |v: Vec<Transaction>| v.into_iter().map(|t| t.id.0.as_u128()).collect::<Vec<_>>();
    assert_eq!(
        ids(r
            .list_transactions(&q(&|q| q.account_id = Some(a)))
            .await
            .unwrap()),
        vec![14, 13, 11]
    );
    assert_eq!(
        ids(r.list_transactions(&q(&|_| {})).await.unwrap()),
        vec![14, 13, 12, 11]
    );
    assert_eq!(
        ids(r
            .list_transactions(&q(&|q| q.transaction_type = Some(TransactionType::Deposit)))
            .await
            .unwrap()),
        vec![13]
    );
    assert_eq!(
        ids(r
            .list_transactions(&q(&|q| q.status = Some(TransactionStatus::Failed)))
            .await
            .unwrap()),
        vec![14]
    );
    assert_eq!(
        ids(r
            .list_transactions(&q(&|q| {
                q.min_amount = Some(usd("20").amount());
                q.max_amount = Some(usd("30").amount());
            }))
            .await
            .unwrap()),
        vec![13, 12]
    );
    assert_eq!(
        ids(r
            .list_transactions(&q(&|q| {
                q.from = Some(t0() + Duration::minutes(1));
                q.to = Some(t0() + Duration::minutes(3));
            }))
            .await
            .unwrap()),
        vec![13, 12],
        "from inclusive, to exclusive"
    );
    let page1 = r.list_transactions(&q(&|q| q.limit = 2)).await.unwrap();
    let last = page1.last().unwrap();
    let q2 = q(&|q| {
        q.limit = 2;
        q.after = Some((last.created_at, last.id));
    });
    let page2 = r.list_transactions(&q2).await.unwrap();
    assert_eq!(ids(page1), vec![14, 13]);
    assert_eq!(ids(page2), vec![12, 11]);
}

pub async fn idempotency_records(store: Arc<dyn Store>) {
    let t = txn(1, None, None, "1.00", t0());
    let rec = IdempotencyRecord {
        scope: "user:a".into(),
        key: key("k-1"),
        fingerprint: "f".repeat(64),
        response: IdempotentResponse::Transaction(t.clone()),
        created_at: t0(),
    };
    let mut u = write(&store).await;
    u.insert_idempotency(&rec).await.unwrap();
    let other_scope = IdempotencyRecord {
        scope: "user:b".into(),
        ..rec.clone()
    };
    u.insert_idempotency(&other_scope).await.unwrap();
    assert_eq!(
        u.insert_idempotency(&rec).await.unwrap_err(),
        BankError::Duplicate("idempotency key")
    );
    drop(u);
    let mut u = write(&store).await;
    u.insert_idempotency(&rec).await.unwrap();
    let batch = IdempotencyRecord {
        key: key("k-2"),
        response: IdempotentResponse::Refused {
            code: "insufficient_funds".into(),
            message: "no".into(),
        },
        ..rec.clone()
    };
    u.insert_idempotency(&batch).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(
        r.idempotency("user:a", &key("k-1")).await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(
        r.idempotency("user:a", &key("k-2")).await.unwrap(),
        Some(batch)
    );
    assert_eq!(
        r.idempotency("user:b", &key("k-1")).await.unwrap(),
        None,
        "rolled back unit left nothing"
    );
    assert_eq!(r.idempotency("user:a", &key("k-3")).await.unwrap(), None);
    drop(r);
    // A prefetch (group commit's one-round-trip hint) answers like the plain reads, and the
    // unit's own inserts and savepoint rollbacks still show through it.
    let mut u = write(&store).await;
    let wanted = [
        ("user:a".to_string(), key("k-1")),
        ("user:a".to_string(), key("k-3")),
        ("user:b".to_string(), key("k-1")),
    ];
    u.prefetch_idempotency(&wanted).await.unwrap();
    assert_eq!(
        u.idempotency("user:a", &key("k-1")).await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(u.idempotency("user:a", &key("k-3")).await.unwrap(), None);
    assert_eq!(
        u.insert_idempotency(&rec).await.unwrap_err(),
        BankError::Duplicate("idempotency key"),
        "a prefetched record still refuses a second insert"
    );
    let k3 = IdempotencyRecord {
        key: key("k-3"),
        ..rec.clone()
    };
    u.savepoint().await.unwrap();
    u.insert_idempotency(&k3).await.unwrap();
    assert_eq!(
        u.idempotency("user:a", &key("k-3")).await.unwrap(),
        Some(k3.clone())
    );
    u.rollback_to_savepoint().await.unwrap();
    assert_eq!(
        u.idempotency("user:a", &key("k-3")).await.unwrap(),
        None,
        "a rolled-back insert is gone from the prefetched view"
    );
    u.insert_idempotency(&k3).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(
        r.idempotency("user:a", &key("k-3")).await.unwrap(),
        Some(k3)
    );
    assert_eq!(r.idempotency("user:b", &key("k-1")).await.unwrap(), None);
}

pub(crate) fn txn_event(
    n: u128,
    txn: u128,
    ty: EventType,
    status: TransactionStatus,
) -> DomainEvent {
    DomainEvent {
        id: EventId(Uuid::from_u128(n)),
        event_type: ty,
        aggregate_id: Uuid::from_u128(txn),
        time: t0(),
        data: EventData::Transaction(TransactionEventData {
            transaction_id: TransactionId(Uuid::from_u128(txn)),
            transaction_type: TransactionType::Transfer,
            from_account_id: Some(AccountId(Uuid::from_u128(1))),
            to_account_id: None,
            amount: usd("9.99"),
            status,
            reason: Some("why".into()),
            failure_code: None,
            description: Some("desc".into()),
            parent_id: None,
            hold_id: Some(HoldId(Uuid::from_u128(4))),
            initiated_by: Some(crate::ids::UserId(Uuid::from_u128(5))),
            approved_by: None,
        }),
    }
}

pub async fn events_append_and_read(store: Arc<dyn Store>) {
    let evs = vec![
        txn_event(
            1,
            50,
            EventType::TransactionInitiated,
            TransactionStatus::Pending,
        ),
        event(2, 60, EventType::AccountCreated, t0()),
        txn_event(
            3,
            50,
            EventType::TransactionCompleted,
            TransactionStatus::Completed,
        ),
    ];
    let mut u = write(&store).await;
    u.append_events(&evs).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let got = r
        .events_of_aggregate(Uuid::from_u128(50), crate::ports::EVENTS_OF_AGGREGATE_MAX)
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|s| s.event.clone()).collect::<Vec<_>>(),
        vec![evs[0].clone(), evs[2].clone()]
    );
    assert!(got[0].seq < got[1].seq);
    assert!(got.iter().all(|s| s.published_at.is_none()));
    assert_eq!(
        r.events_of_aggregate(Uuid::from_u128(60), crate::ports::EVENTS_OF_AGGREGATE_MAX)
            .await
            .unwrap()[0]
            .event,
        evs[1]
    );
    drop(r);

    // Payload shapes a store may keep compactly come back exactly: a later event of the same
    // transaction with another amount (a partial post) and no text, balance events of their
    // own account and of another aggregate, and a rollback that drops appended events.
    let mut partial = txn_event(
        4,
        50,
        EventType::TransactionProcessed,
        TransactionStatus::Pending,
    );
    if let EventData::Transaction(d) = &mut partial.data {
        d.amount = usd("5.00");
        d.reason = None;
        d.description = None;
        d.hold_id = None;
    }
    let balance = |n: u128, aggregate: u128, account: u128| DomainEvent {
        id: EventId(Uuid::from_u128(n)),
        event_type: EventType::AccountBalanceUpdated,
        aggregate_id: Uuid::from_u128(aggregate),
        time: t0() + Duration::seconds(1),
        data: EventData::Balance(crate::events::BalanceEventData {
            account_id: AccountId(Uuid::from_u128(account)),
            balance: usd("10.00"),
            available_balance: usd("7.50"),
            transaction_id: TransactionId(Uuid::from_u128(50)),
        }),
    };
    let more = vec![partial, balance(5, 70, 70), balance(6, 71, 72)];
    let mut u = write(&store).await;
    u.append_events(&more).await.unwrap();
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    u.savepoint().await.unwrap();
    u.append_events(&[
        balance(7, 70, 70),
        txn_event(
            8,
            50,
            EventType::TransactionFailed,
            TransactionStatus::Failed,
        ),
    ])
    .await
    .unwrap();
    u.rollback_to_savepoint().await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let of =
        |v: Vec<crate::events::StoredEvent>| v.into_iter().map(|s| s.event).collect::<Vec<_>>();
    assert_eq!(
        of(
            r.events_of_aggregate(Uuid::from_u128(50), crate::ports::EVENTS_OF_AGGREGATE_MAX)
                .await
                .unwrap()
        ),
        vec![evs[0].clone(), evs[2].clone(), more[0].clone()]
    );
    assert_eq!(
        of(
            r.events_of_aggregate(Uuid::from_u128(70), crate::ports::EVENTS_OF_AGGREGATE_MAX)
                .await
                .unwrap()
        ),
        vec![more[1].clone()]
    );
    assert_eq!(
        of(
            r.events_of_aggregate(Uuid::from_u128(71), crate::ports::EVENTS_OF_AGGREGATE_MAX)
                .await
                .unwrap()
        ),
        vec![more[2].clone()]
    );
}

pub async fn outbox_claims_in_aggregate_order(store: Arc<dyn Store>) {
    // a1 a2 b1 a3 c1: first claim (limit 10) gets a1, b1, c1 (a2 waits for a1).
    let evs = vec![
        event(1, 100, EventType::AccountCreated, t0()),
        event(2, 100, EventType::AccountFrozen, t0()),
        event(3, 200, EventType::AccountCreated, t0()),
        event(4, 100, EventType::AccountUnfrozen, t0()),
        event(5, 300, EventType::AccountCreated, t0()),
    ];
    let mut u = write(&store).await;
    u.append_events(&evs).await.unwrap();
    u.commit().await.unwrap();
    let ids = |v: &[crate::events::StoredEvent]| {
        v.iter().map(|s| s.event.id.0.as_u128()).collect::<Vec<_>>()
    };
    let lease = t0() + Duration::seconds(30);
    let mut u = write(&store).await;
    let c1 = u.claim_events(t0(), lease, 10).await.unwrap();
    u.commit().await.unwrap();
    assert_eq!(ids(&c1), vec![1, 3, 5]);
    // A second relay during the lease claims nothing.
    let mut u = write(&store).await;
    assert!(u
        .claim_events(t0() + Duration::seconds(1), lease, 10)
        .await
        .unwrap()
        .is_empty());
    u.commit().await.unwrap();
    // Publish a1 only; a2 becomes claimable, b1/c1 stay leased.
    let mut u = write(&store).await;
    u.mark_published(&[c1[0].seq], t0() + Duration::seconds(2))
        .await
        .unwrap();
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    let c2 = u
        .claim_events(t0() + Duration::seconds(3), lease, 10)
        .await
        .unwrap();
    u.commit().await.unwrap();
    assert_eq!(ids(&c2), vec![2]);
    // After the lease expires, unpublished b1/c1 are claimable again (at-least-once); limit holds.
    let mut u = write(&store).await;
    let c3 = u
        .claim_events(
            lease + Duration::seconds(1),
            lease + Duration::seconds(60),
            1,
        )
        .await
        .unwrap();
    u.commit().await.unwrap();
    assert_eq!(ids(&c3), vec![2], "a2 lease expired too; oldest first");
    let mut r = read(&store).await;
    let a = r
        .events_of_aggregate(Uuid::from_u128(100), crate::ports::EVENTS_OF_AGGREGATE_MAX)
        .await
        .unwrap();
    assert_eq!(a[0].published_at, Some(t0() + Duration::seconds(2)));
    assert!(a[1].published_at.is_none());
}

pub async fn outbox_oldest_unpublished_counts_leased_events(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    assert_eq!(u.oldest_unpublished_event_time().await.unwrap(), None);
    let t1 = t0() + Duration::seconds(1);
    u.append_events(&[
        event(11, 110, EventType::AccountCreated, t0()),
        event(12, 120, EventType::AccountCreated, t1),
    ])
    .await
    .unwrap();
    // This unit's own (not yet committed) events count.
    assert_eq!(u.oldest_unpublished_event_time().await.unwrap(), Some(t0()));
    u.commit().await.unwrap();
    // A leased (claimed, unpublished) event still counts: that is the lag while a sink is down.
    let mut u = write(&store).await;
    let claimed = u
        .claim_events(t0(), t0() + Duration::seconds(30), 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(u.oldest_unpublished_event_time().await.unwrap(), Some(t0()));
    u.mark_published(&[claimed[0].seq], t1).await.unwrap();
    assert_eq!(u.oldest_unpublished_event_time().await.unwrap(), Some(t1));
    u.commit().await.unwrap();
    let mut u = write(&store).await;
    let rest = u
        .claim_events(t1, t1 + Duration::seconds(30), 10)
        .await
        .unwrap();
    let seqs: Vec<i64> = rest.iter().map(|s| s.seq).collect();
    u.mark_published(&seqs, t1).await.unwrap();
    assert_eq!(u.oldest_unpublished_event_time().await.unwrap(), None);
    u.commit().await.unwrap();
}

pub async fn rollback_discards_everything(store: Arc<dyn Store>) {
    let a = account(1, 100, t0());
    let mut u = write(&store).await;
    u.insert_account(&a).await.unwrap();
    u.commit().await.unwrap();
    for explicit in [true, false] {
        let mut u = write(&store).await;
        let mut b = a.clone();
        b.balance = usd("1.00").amount();
        u.update_account(&b).await.unwrap();
        u.insert_account(&account(2, 100, t0())).await.unwrap();
        u.insert_journal(&JournalEntry::transfer(
            JournalId(Uuid::from_u128(1)),
            TransactionId(Uuid::from_u128(1)),
            SystemAccount::Cash.id(Currency::USD),
            a.id,
            usd("1.00"),
            t0(),
            None,
        ))
        .await
        .unwrap();
        u.insert_transaction(&txn(1, None, Some(a.id), "1.00", t0()))
            .await
            .unwrap();
        u.append_events(&[event(1, 1, EventType::AccountCreated, t0())])
            .await
            .unwrap();
        if explicit {
            u.rollback().await.unwrap();
        } else {
            drop(u);
        }
        let mut r = read(&store).await;
        assert_eq!(r.account(a.id).await.unwrap(), Some(a.clone()));
        assert_eq!(
            r.account(AccountId(Uuid::from_u128(2))).await.unwrap(),
            None
        );
        assert_eq!(r.posting_sum(a.id, None).await.unwrap(), Decimal::ZERO);
        assert_eq!(
            r.transaction(TransactionId(Uuid::from_u128(1)))
                .await
                .unwrap(),
            None
        );
        assert!(r
            .events_of_aggregate(Uuid::from_u128(1), crate::ports::EVENTS_OF_AGGREGATE_MAX)
            .await
            .unwrap()
            .is_empty());
    }
}

pub async fn savepoints_nest(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    u.insert_account(&account(1, 100, t0())).await.unwrap();
    u.savepoint().await.unwrap();
    u.insert_account(&account(2, 100, t0())).await.unwrap();
    u.savepoint().await.unwrap();
    u.insert_account(&account(3, 100, t0())).await.unwrap();
    u.rollback_to_savepoint().await.unwrap(); // drops 3
    u.release_savepoint().await.unwrap(); // keeps 2
    u.savepoint().await.unwrap();
    u.insert_account(&account(4, 100, t0())).await.unwrap();
    u.append_events(&[event(1, 1, EventType::AccountCreated, t0())])
        .await
        .unwrap();
    u.rollback_to_savepoint().await.unwrap(); // drops 4 and its event
    u.append_events(&[event(2, 1, EventType::AccountCreated, t0())])
        .await
        .unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let ids: Vec<u128> = r
        .list_accounts(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id.0.as_u128())
        .collect();
    assert_eq!(ids, vec![1, 2]);
    let evs = r
        .events_of_aggregate(Uuid::from_u128(1), crate::ports::EVENTS_OF_AGGREGATE_MAX)
        .await
        .unwrap();
    assert_eq!(
        evs.iter()
            .map(|e| e.event.id.0.as_u128())
            .collect::<Vec<_>>(),
        vec![2]
    );
}
