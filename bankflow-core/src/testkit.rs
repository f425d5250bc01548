//! Test kit shared by every store (cargo feature `testkit`): ONE conformance suite that the
//! memory, SQLite and PostgreSQL stores all run, and the concurrency hammer used by the
//! SQL stores' proofs. Same code for every store, never copies.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::account::{Account, AccountNumber, AccountStatus, AccountType, Hold, HoldStatus};
use crate::auth::Actor;
use crate::clock::ManualClock;
use crate::error::BankError;
use crate::events::{DomainEvent, EventData, EventType, TransactionEventData};
use crate::fraud_port::RequestContext;
use crate::idempotency::{IdempotencyKey, IdempotencyRecord, IdempotentResponse};
use crate::ids::{
    AccountId, CustomerId, EventId, HoldId, JournalId, ScheduleId, SequentialIds, TransactionId,
};
use crate::ledger::{JournalEntry, SystemAccount};
use crate::money::{Currency, Money};
use crate::ports::{Store, TxMode, UnitOfWork};
use crate::schedule::{CreateSchedule, Frequency, ScheduleStatus, ScheduledTransfer};
use crate::transaction::{Transaction, TransactionQuery, TransactionStatus, TransactionType};
use crate::{
    Bank, BankConfig, BookingRequest, Destination, ExternalPayee, OpenAccountRequest, PaymentRail,
    TransferItem, TransferRequest,
};

/// Makes a fresh, empty store for one test case.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// A new empty store (its own database or schema).
    async fn fresh(&self) -> Arc<dyn Store>;
}

type CaseFn = fn(Arc<dyn Store>) -> futures::future::BoxFuture<'static, ()>;

macro_rules! cases {
    ($($name:ident),+ $(,)?) => {
        &[$((stringify!($name), |s| Box::pin($name(s)) as futures::future::BoxFuture<'static, ()>)),+]
    };
}

/// Every conformance case, by name.
pub fn cases() -> &'static [(&'static str, CaseFn)] {
    cases![
        accounts_round_trip,
        account_numbers_unique,
        lock_accounts_in_order,
        accounts_paging,
        holds_round_trip,
        journals_and_postings,
        transactions_round_trip_and_query,
        idempotency_records,
        events_append_and_read,
        outbox_claims_in_aggregate_order,
        rollback_discards_everything,
        savepoints_nest,
        engine_money_movements,
        engine_pending_and_expiry,
        engine_reversal_and_batch,
        engine_idempotency,
        engine_submitted_transfers,
        engine_statement_and_history,
        engine_external_payments,
        schedules_round_trip_and_claims,
        engine_scheduled_transfers,
    ]
}

/// Runs the whole suite, a fresh store per case. Panics on the first failure with the case
/// name; prints `conformance[<kind>]: N passed, 0 failed` at the end.
pub async fn run_conformance(factory: &dyn StoreFactory) {
    let mut kind = "?";
    // One suite: the ledger/transaction cases here and every other context's cases.
    let all = cases()
        .iter()
        .chain(crate::testkit_contexts::cases())
        .chain(crate::testkit_retention::cases());
    let mut n = 0;
    for (name, case) in all {
        let store = factory.fresh().await;
        kind = store.kind();
        println!("conformance[{kind}] {name} ...");
        case(store).await;
        n += 1;
    }
    println!("conformance[{kind}]: {n} passed, 0 failed");
}

// ------------------------------------------------------------------ fixtures

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 9, 30, 0)
        .single()
        .expect("valid")
}

/// An account's ledger balance, read as the system.
async fn balance_of(bank: &Bank, id: AccountId) -> Money {
    bank.money()
        .balance(&Actor::system(), id)
        .await
        .unwrap()
        .balance
}

pub(crate) fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).expect("valid amount")
}

pub(crate) fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).expect("valid key")
}

pub(crate) fn account(n: u128, customer: u128, at: DateTime<Utc>) -> Account {
    Account {
        id: AccountId(Uuid::from_u128(n)),
        account_number: AccountNumber::from_body(n as u64 * 7919),
        customer_id: CustomerId(Uuid::from_u128(customer)),
        account_type: AccountType::Checking,
        currency: Currency::USD,
        balance: usd("0").amount(),
        held: usd("0").amount(),
        overdraft_limit: usd("0").amount(),
        daily_limit: None,
        daily_out_date: at.date_naive(),
        daily_out_total: Decimal::ZERO,
        status: AccountStatus::Active,
        opened_at: at,
        closed_at: None,
        updated_at: at,
        version: 1,
    }
}

pub(crate) fn txn(
    n: u128,
    from: Option<AccountId>,
    to: Option<AccountId>,
    amount: &str,
    at: DateTime<Utc>,
) -> Transaction {
    let id = TransactionId(Uuid::from_u128(n));
    Transaction {
        id,
        transaction_ref: Transaction::reference_for(id),
        from_account_id: from,
        to_account_id: to,
        amount: usd(amount),
        transaction_type: TransactionType::Transfer,
        status: TransactionStatus::Completed,
        description: Some(format!("txn {n}")),
        failure_code: None,
        reason: None,
        hold_id: None,
        parent_id: None,
        created_at: at,
        processed_at: Some(at),
        reversed_at: None,
    }
}

pub(crate) fn event(n: u128, aggregate: u128, ty: EventType, at: DateTime<Utc>) -> DomainEvent {
    DomainEvent {
        id: EventId(Uuid::from_u128(n)),
        event_type: ty,
        aggregate_id: Uuid::from_u128(aggregate),
        time: at,
        data: EventData::Json(serde_json::json!({"n": n.to_string()})),
    }
}

pub(crate) async fn write(store: &Arc<dyn Store>) -> Box<dyn UnitOfWork> {
    store.begin(TxMode::Write).await.expect("begin write")
}

pub(crate) async fn read(store: &Arc<dyn Store>) -> Box<dyn UnitOfWork> {
    store.begin(TxMode::Read).await.expect("begin read")
}

// ------------------------------------------------------------------ repository cases

async fn accounts_round_trip(store: Arc<dyn Store>) {
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

async fn account_numbers_unique(store: Arc<dyn Store>) {
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

async fn lock_accounts_in_order(store: Arc<dyn Store>) {
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

async fn accounts_paging(store: Arc<dyn Store>) {
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
        .accounts_of_customer(CustomerId(Uuid::from_u128(1)), 100)
        .await
        .unwrap();
    assert_eq!(
        evens.iter().map(|a| a.id.0.as_u128()).collect::<Vec<_>>(),
        vec![2, 4, 6],
        "oldest first"
    );
    assert_eq!(evens[1].account_type, AccountType::Savings);
    assert!(r
        .accounts_of_customer(CustomerId(Uuid::from_u128(77)), 100)
        .await
        .unwrap()
        .is_empty());
}

async fn holds_round_trip(store: Arc<dyn Store>) {
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
        .active_holds(a.id, 100)
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

async fn journals_and_postings(store: Arc<dyn Store>) {
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
        r.journals_of_transaction(j2.transaction_id, 100)
            .await
            .unwrap(),
        vec![j2.clone()]
    );
    assert!(r
        .journals_of_transaction(TransactionId(Uuid::from_u128(1)), 100)
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

async fn transactions_round_trip_and_query(store: Arc<dyn Store>) {
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

async fn idempotency_records(store: Arc<dyn Store>) {
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

fn txn_event(n: u128, txn: u128, ty: EventType, status: TransactionStatus) -> DomainEvent {
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
        }),
    }
}

async fn events_append_and_read(store: Arc<dyn Store>) {
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
        .events_of_aggregate(Uuid::from_u128(50), 100)
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|s| s.event.clone()).collect::<Vec<_>>(),
        vec![evs[0].clone(), evs[2].clone()]
    );
    assert!(got[0].seq < got[1].seq);
    assert!(got.iter().all(|s| s.published_at.is_none()));
    assert_eq!(
        r.events_of_aggregate(Uuid::from_u128(60), 100)
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
        of(r.events_of_aggregate(Uuid::from_u128(50), 100)
            .await
            .unwrap()),
        vec![evs[0].clone(), evs[2].clone(), more[0].clone()]
    );
    assert_eq!(
        of(r.events_of_aggregate(Uuid::from_u128(70), 100)
            .await
            .unwrap()),
        vec![more[1].clone()]
    );
    assert_eq!(
        of(r.events_of_aggregate(Uuid::from_u128(71), 100)
            .await
            .unwrap()),
        vec![more[2].clone()]
    );
}

async fn outbox_claims_in_aggregate_order(store: Arc<dyn Store>) {
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
        .events_of_aggregate(Uuid::from_u128(100), 100)
        .await
        .unwrap();
    assert_eq!(a[0].published_at, Some(t0() + Duration::seconds(2)));
    assert!(a[1].published_at.is_none());
}

async fn rollback_discards_everything(store: Arc<dyn Store>) {
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
            .events_of_aggregate(Uuid::from_u128(1), 100)
            .await
            .unwrap()
            .is_empty());
    }
}

async fn savepoints_nest(store: Arc<dyn Store>) {
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
        .events_of_aggregate(Uuid::from_u128(1), 100)
        .await
        .unwrap();
    assert_eq!(
        evs.iter()
            .map(|e| e.event.id.0.as_u128())
            .collect::<Vec<_>>(),
        vec![2]
    );
}

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

async fn open(bank: &Bank, customer: u128, ty: AccountType) -> Account {
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

async fn deposit(bank: &Bank, a: AccountId, amount: &str, k: &str) -> Transaction {
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

fn transfer_req(from: AccountId, to: AccountId, amount: &str, k: &str) -> TransferRequest {
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

async fn engine_money_movements(store: Arc<dyn Store>) {
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

async fn engine_pending_and_expiry(store: Arc<dyn Store>) {
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

async fn engine_reversal_and_batch(store: Arc<dyn Store>) {
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

async fn engine_idempotency(store: Arc<dyn Store>) {
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
async fn engine_submitted_transfers(store: Arc<dyn Store>) {
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

async fn engine_statement_and_history(store: Arc<dyn Store>) {
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

async fn engine_external_payments(store: Arc<dyn Store>) {
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

fn schedule_row(n: u128, customer: u128, next_min: i64) -> ScheduledTransfer {
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

async fn schedules_round_trip_and_claims(store: Arc<dyn Store>) {
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

async fn engine_scheduled_transfers(store: Arc<dyn Store>) {
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
