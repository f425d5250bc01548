//! In-memory engine throughput: transfers/s through `Bank::transfer` (idempotency, fraud
//! step, locking, journal, events, read model — the whole engine path) single-threaded and
//! with 2 threads contending on the same accounts, next to a same-run baseline: the bare
//! writes of a double-entry transfer in plain maps (`raw_ledger`), so the figure can be read
//! as a ratio on a machine whose speed varies.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bankflow_core::{
    AccountId, AccountType, Actor, Bank, BankConfig, BookingRequest, Currency, CustomerId,
    Destination, IdempotencyKey, MemoryStore, Money, OpenAccountRequest, RequestContext,
    TransferItem, TransferRequest,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

async fn setup() -> (Bank, AccountId, AccountId) {
    let bank = Bank::builder(Arc::new(MemoryStore::new()))
        .config(BankConfig {
            group_commit: Some(false),
            ..BankConfig::default()
        })
        .build();
    let sys = Actor::system();
    let mut ids = Vec::new();
    for c in 0..2u128 {
        let a = bank
            .money()
            .open_account(
                &sys,
                OpenAccountRequest {
                    customer_id: CustomerId(uuid::Uuid::from_u128(c + 1)),
                    account_type: AccountType::Checking,
                    currency: Currency::USD,
                    overdraft_limit: None,
                    daily_limit: None,
                },
            )
            .await
            .unwrap();
        bank.money()
            .deposit(
                &sys,
                BookingRequest {
                    account_id: a.id,
                    amount: Money::parse("1000000000", Currency::USD).unwrap(),
                    description: None,
                    idempotency_key: IdempotencyKey::parse(&format!("fund-{c}")).unwrap(),
                },
            )
            .await
            .unwrap();
        ids.push(a.id);
    }
    (bank, ids[0], ids[1])
}

/// The i-th transfer of a run: 0.01 USD, alternating direction so neither account drains.
fn request(a: AccountId, b: AccountId, prefix: &str, i: u64) -> TransferRequest {
    let (from, to) = if i.is_multiple_of(2) { (a, b) } else { (b, a) };
    TransferRequest {
        item: TransferItem {
            from_account_id: from,
            to: Destination::Account(to),
            amount: Money::parse("0.01", Currency::USD).unwrap(),
            description: None,
        },
        idempotency_key: IdempotencyKey::parse(&format!("{prefix}-{i}")).unwrap(),
        context: RequestContext::default(),
    }
}

async fn run(bank: &Bank, a: AccountId, b: AccountId, prefix: &str, n: u64) {
    let sys = Actor::system();
    for i in 0..n {
        bank.money()
            .transfer(&sys, request(a, b, prefix, i))
            .await
            .unwrap();
    }
}

/// Transfers submitted `SUBMIT_BATCH_LEN` at a time through `Bank::submit_transfers`: the
/// same per-transfer engine path, one write unit and one publish per call.
const SUBMIT_BATCH_LEN: u64 = 1_000;

async fn run_submitted(bank: &Bank, a: AccountId, b: AccountId, prefix: &str, n: u64) {
    let sys = Actor::system();
    let mut i = 0;
    while i < n {
        let len = (n - i).min(SUBMIT_BATCH_LEN);
        let reqs = (i..i + len).map(|i| request(a, b, prefix, i)).collect();
        for r in bank.money().submit_transfers(&sys, reqs).await.unwrap() {
            r.unwrap();
        }
        i += len;
    }
}

/// The baseline: what any in-memory double-entry ledger must do per transfer, and nothing
/// else — check and record the idempotency key, check funds, update two balances, append two
/// postings. No events, read model, fraud step, journal metadata or undo.
#[derive(Default)]
struct RawLedger {
    balances: HashMap<AccountId, rust_decimal::Decimal>,
    postings: Vec<(AccountId, rust_decimal::Decimal)>,
    keys: HashMap<IdempotencyKey, usize>,
}

impl RawLedger {
    fn transfer(&mut self, req: &TransferRequest) {
        if self.keys.contains_key(&req.idempotency_key) {
            return;
        }
        let Destination::Account(to) = req.item.to else {
            unreachable!("the bench sends to accounts")
        };
        let amount = req.item.amount.amount();
        let from = self.balances.get_mut(&req.item.from_account_id).unwrap();
        assert!(*from >= amount, "funded");
        *from -= amount;
        *self.balances.get_mut(&to).unwrap() += amount;
        self.postings.push((req.item.from_account_id, -amount));
        self.postings.push((to, amount));
        self.keys
            .insert(req.idempotency_key.clone(), self.postings.len() - 2);
    }
}

fn transfers(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_transfer");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    let (a, b) = (
        AccountId(uuid::Uuid::from_u128(1)),
        AccountId(uuid::Uuid::from_u128(2)),
    );
    let mut raw = RawLedger::default();
    for id in [a, b] {
        raw.balances
            .insert(id, rust_decimal::Decimal::from(1_000_000_000));
    }
    let mut round = 0u64;
    g.bench_function("raw_ledger", |bn| {
        bn.iter_custom(|iters| {
            round += 1;
            let prefix = format!("r{round}");
            // Requests are built inside the timed loop, as in the engine runs below.
            let start = Instant::now();
            for i in 0..iters {
                raw.transfer(&request(a, b, &prefix, i));
            }
            start.elapsed()
        })
    });
    let st = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (bank, a, b) = st.block_on(setup());
    let mut round = 0u64;
    g.bench_function("single_thread", |bn| {
        bn.iter_custom(|iters| {
            round += 1;
            let start = Instant::now();
            st.block_on(run(&bank, a, b, &format!("s{round}"), iters));
            start.elapsed()
        })
    });
    let (bank, a, b) = st.block_on(setup());
    let mut round = 0u64;
    g.bench_function("single_thread_submit_1000", |bn| {
        bn.iter_custom(|iters| {
            round += 1;
            let start = Instant::now();
            st.block_on(run_submitted(&bank, a, b, &format!("b{round}"), iters));
            start.elapsed()
        })
    });
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (bank, a, b) = mt.block_on(setup());
    let mut round = 0u64;
    g.bench_function("two_threads_contended", |bn| {
        bn.iter_custom(|iters| {
            round += 1;
            let start = Instant::now();
            mt.block_on(async {
                let half = iters.div_ceil(2);
                let t1 = tokio::spawn({
                    let bank = bank.clone();
                    let p = format!("m{round}a");
                    async move { run(&bank, a, b, &p, half).await }
                });
                let t2 = tokio::spawn({
                    let bank = bank.clone();
                    let p = format!("m{round}b");
                    async move { run(&bank, b, a, &p, half).await }
                });
                t1.await.unwrap();
                t2.await.unwrap();
            });
            start.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, transfers);
criterion_main!(benches);
