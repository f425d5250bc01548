//! One fraud check (`RulesFraudCheck::assess`, the transfer pipeline's fraud step) with 100
//! active rules of every type over an account with realistic velocity history (500 earlier
//! transfers spread over 3 weeks, 40 payees, a few list entries), on the memory store. Each
//! iteration runs in a write unit of work that is rolled back, so it measures the real path
//! (rule load, list lookups, velocity queries, assessment insert) and history does not grow.
//!
//! Besides criterion's estimate, it prints p50/p99/max over 20 000 timed checks
//! (target: p99 < 1 ms).
use std::sync::Arc;
use std::time::{Duration, Instant};

use bankflow_core::fraud::NewFraudRule;
use bankflow_core::{
    Account, AccountId, AccountType, Actor, Bank, BankConfig, BookingRequest, Clock, Currency,
    CustomerId, Destination, FraudAction, FraudCheck, FraudInput, IdempotencyKey, ListEntryType,
    ListKind, ManualClock, MemoryStore, Money, OpenAccountRequest, RandomIds, RequestContext,
    RuleType, RulesFraudCheck, Store, TransactionId, TransactionType, TransferItem,
    TransferRequest, TxMode,
};
use chrono::TimeZone;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

const RULES: usize = 100;
const HISTORY: usize = 500;
const PAYEES: usize = 40;

struct Fixture {
    store: MemoryStore,
    check: RulesFraudCheck,
    from: Account,
    to: Account,
    ctx: RequestContext,
}

fn rule(i: usize) -> NewFraudRule {
    // Thresholds high enough that the history transfers pass, varied windows so the
    // per-check velocity cache does not collapse them into one query.
    let window = 30 + (i as i64 % 20) * 60;
    let (ty, conditions) = match i % 6 {
        0 => (
            RuleType::AmountThreshold,
            json!({"min_amount": format!("{}.00", 20_000 + i * 100), "score": 20}),
        ),
        1 => (
            RuleType::VelocityCount,
            json!({"max_count": 1000 + i, "window_minutes": window, "score": 25}),
        ),
        2 => (
            RuleType::VelocityAmount,
            json!({"max_amount": format!("{}.00", 1_000_000 + i), "window_minutes": window, "score": 25}),
        ),
        3 => (RuleType::BlacklistHit, json!({"score": 100})),
        4 => (
            RuleType::NewAccountLargeTransfer,
            json!({"max_account_age_days": 7, "min_amount": "5000.00", "score": 30}),
        ),
        _ => (
            RuleType::FirstTimePayeeLargeTransfer,
            json!({"min_amount": format!("{}.00", 9_000 + i), "score": 20}),
        ),
    };
    let action = if ty == RuleType::BlacklistHit {
        FraudAction::Block
    } else {
        FraudAction::Allow
    };
    NewFraudRule {
        rule_name: format!("rule {i:03}"),
        rule_type: ty,
        conditions,
        action,
        priority: (i % 10) as i32,
        is_active: true,
    }
}

async fn fixture() -> Fixture {
    let store = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap(),
    ));
    let bank = Bank::builder(Arc::new(store.clone()))
        .clock(clock.clone())
        .config(BankConfig {
            group_commit: Some(false),
            ..BankConfig::default()
        })
        .build();
    let sys = Actor::system();
    let open = |c: u128| OpenAccountRequest {
        customer_id: CustomerId(uuid::Uuid::from_u128(c)),
        account_type: AccountType::Checking,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    let from = bank.money().open_account(&sys, open(1)).await.unwrap();
    let mut payees = Vec::new();
    for p in 0..PAYEES {
        payees.push(
            bank.money()
                .open_account(&sys, open(100 + p as u128))
                .await
                .unwrap()
                .id,
        );
    }
    let key = |s: String| IdempotencyKey::parse(&s).unwrap();
    let fund = BookingRequest {
        account_id: from.id,
        amount: Money::parse("10000000.00", Currency::USD).unwrap(),
        description: None,
        idempotency_key: key("fund".into()),
    };
    bank.money().deposit(&sys, fund).await.unwrap();
    for i in 0..RULES {
        bank.fraud().create_fraud_rule(&sys, rule(i)).await.unwrap();
    }
    for i in 0..5 {
        bank.fraud()
            .add_list_entry(
                &sys,
                ListKind::Black,
                ListEntryType::Ip,
                &format!("198.51.100.{i}"),
                None,
            )
            .await
            .unwrap();
        bank.fraud()
            .add_list_entry(
                &sys,
                ListKind::Black,
                ListEntryType::Device,
                &format!("bad-device-{i}"),
                None,
            )
            .await
            .unwrap();
    }
    // History: 500 transfers over ~3 weeks to 40 payees (each recorded as an assessment).
    for i in 0..HISTORY {
        clock.advance(chrono::Duration::minutes(60));
        let item = TransferItem {
            from_account_id: from.id,
            to: Destination::Account(payees[i % PAYEES]),
            amount: Money::parse(&format!("{}.{:02}", 20 + i % 180, i % 100), Currency::USD)
                .unwrap(),
            description: None,
        };
        let req = TransferRequest {
            item,
            idempotency_key: key(format!("h-{i}")),
            context: RequestContext::default(),
        };
        bank.money().transfer(&sys, req).await.unwrap();
    }
    let mut uow = store.begin(TxMode::Read).await.unwrap();
    let from = uow.account(from.id).await.unwrap().unwrap();
    let to = uow.account(payees[7]).await.unwrap().unwrap();
    drop(uow);
    let ctx = RequestContext {
        ip: Some("203.0.113.10".into()),
        user_agent: Some("bench".into()),
        device_id: Some("device-42".into()),
        email: Some("customer@example.com".into()),
        counterparty: None,
    };
    let check = RulesFraudCheck::new(clock as Arc<dyn Clock>, Arc::new(RandomIds::default()));
    Fixture {
        store,
        check,
        from,
        to,
        ctx,
    }
}

async fn one_check(f: &Fixture, amount: &Money) {
    let mut uow = f.store.begin(TxMode::Write).await.unwrap();
    let input = FraudInput {
        transaction_id: TransactionId(uuid::Uuid::now_v7()),
        transaction_type: TransactionType::Transfer,
        from: Some(&f.from),
        to: Some(&f.to),
        amount: *amount,
        context: &f.ctx,
    };
    let d = f.check.assess(&mut *uow, &input).await.unwrap();
    assert_eq!(d.action, FraudAction::Allow);
    uow.rollback().await.unwrap();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = rt.block_on(fixture());
    let amount = Money::parse("125.00", Currency::USD).unwrap();
    let _: AccountId = f.from.id;

    // Percentiles over individually timed checks (criterion reports means, not tails).
    let mut samples: Vec<Duration> = Vec::with_capacity(20_000);
    rt.block_on(async {
        for _ in 0..1_000 {
            one_check(&f, &amount).await;
        }
        for _ in 0..20_000 {
            let t = Instant::now();
            one_check(&f, &amount).await;
            samples.push(t.elapsed());
        }
    });
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "fraud check, {RULES} rules, {HISTORY} history rows: p50 {:?}  p99 {:?}  max {:?}  (target p99 < 1 ms)",
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1]
    );

    c.bench_function("fraud_check_100_rules", |b| {
        b.to_async(&rt).iter(|| one_check(&f, &amount))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
