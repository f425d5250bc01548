//! PostgreSQL throughput: transfers/s through the engine next to raw-SQL baselines measured in
//! the same run on the same server, every commit durable (`synchronous_commit` as configured
//! on the server; on by default).
//!
//! * `raw_1_client`: the minimal transfer (two balance UPDATEs in id order + two posting
//!   INSERTs) per transaction, one client.
//! * `raw_32_clients`: the same, 32 concurrent clients (the server's own WAL flushes already
//!   batch concurrent commits).
//! * `engine_1_caller`: `Bank::transfer` through `PgStore`, one caller at a time.
//! * `engine_32_callers`: 32 concurrent callers; the engine's group commit coalesces them.
//!
//! Needs `DATABASE_URL` (`source scripts/pg-test-env.sh`); creates and drops its own
//! databases. Only the ratios printed at the end (same run, same disk) are meaningful on a
//! machine whose fsync speed varies. Runs in under 3 minutes:
//! `cargo bench -p bankflow-benches --bench postgres`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bankflow_core::fraud_port::RequestContext;
use bankflow_core::{
    AccountId, AccountType, Actor, Bank, BookingRequest, Currency, CustomerId, Destination,
    IdempotencyKey, Money, OpenAccountRequest, TransferItem, TransferRequest,
};
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};
use criterion::Criterion;
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::runtime::Runtime;

const ACCOUNTS: usize = 64;
const CLIENTS: u64 = 32;

/// (bench name, transfers, elapsed) of every measured sample.
static SAMPLES: Mutex<Vec<(&'static str, u64, Duration)>> = Mutex::new(Vec::new());

fn record(name: &'static str, n: u64, d: Duration) -> Duration {
    SAMPLES.lock().expect("samples").push((name, n, d));
    d
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pair(&mut self, n: u64) -> (u64, u64) {
        let a = self.next() % n;
        let b = (a + 1 + self.next() % (n - 1)) % n;
        (a, b)
    }
}

fn split(total: u64, parts: u64, i: u64) -> u64 {
    total / parts + u64::from(i < total % parts)
}

// ---------------------------------------------------------------- raw SQL baseline

async fn raw_pool(url: &str) -> PgPool {
    let pool = PgPoolOptions::new()
        .max_connections(CLIENTS as u32)
        .connect(url)
        .await
        .expect("raw pool");
    sqlx::raw_sql(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance NUMERIC NOT NULL);
         CREATE TABLE postings (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id BIGINT NOT NULL,
                                amount NUMERIC NOT NULL);",
    )
    .execute(&pool)
    .await
    .expect("raw schema");
    sqlx::query(
        "INSERT INTO accounts (id, balance) SELECT g, 10000000 FROM generate_series(0, $1 - 1) g",
    )
    .bind(ACCOUNTS as i64)
    .execute(&pool)
    .await
    .expect("raw accounts");
    pool
}

/// One minimal transfer per transaction; balance rows updated in id order (no deadlocks).
async fn raw_client(pool: PgPool, transfers: u64, seed: u64) {
    let mut rng = Rng(seed | 1);
    for _ in 0..transfers {
        let (a, b) = rng.pair(ACCOUNTS as u64);
        let (first, second, first_delta) = if a < b {
            (a, b, "-0.01")
        } else {
            (b, a, "0.01")
        };
        let second_delta = if first_delta == "-0.01" {
            "0.01"
        } else {
            "-0.01"
        };
        let mut tx = pool.begin().await.expect("begin");
        for (id, delta) in [(first, first_delta), (second, second_delta)] {
            sqlx::query("UPDATE accounts SET balance = balance + $2::numeric WHERE id = $1")
                .bind(id as i64)
                .bind(delta)
                .execute(&mut *tx)
                .await
                .expect("update");
        }
        for (id, delta) in [(a, "-0.01"), (b, "0.01")] {
            sqlx::query("INSERT INTO postings (account_id, amount) VALUES ($1, $2::numeric)")
                .bind(id as i64)
                .bind(delta)
                .execute(&mut *tx)
                .await
                .expect("insert");
        }
        tx.commit().await.expect("commit");
    }
}

async fn raw_run(pool: &PgPool, transfers: u64, clients: u64, seed: &AtomicU64) -> Duration {
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let s = seed
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        handles.push(tokio::spawn(raw_client(
            pool.clone(),
            split(transfers, clients, c),
            s,
        )));
    }
    for h in handles {
        h.await.expect("raw client");
    }
    started.elapsed()
}

// ---------------------------------------------------------------- engine

struct Engine {
    store: PgStore,
    bank: Bank,
    accounts: Vec<AccountId>,
    keys: Arc<AtomicU64>,
}

async fn engine(url: &str) -> Engine {
    let store = PgStore::connect(
        url,
        PgOptions {
            max_connections: 8,
            ..PgOptions::default()
        },
    )
    .await
    .expect("store");
    let bank = Bank::builder(Arc::new(store.clone())).build();
    let sys = Actor::system();
    let mut accounts = Vec::new();
    for i in 0..ACCOUNTS {
        let a = bank
            .money()
            .open_account(
                &sys,
                OpenAccountRequest {
                    customer_id: CustomerId(uuid::Uuid::from_u128(i as u128 + 1)),
                    account_type: AccountType::Checking,
                    currency: Currency::USD,
                    overdraft_limit: None,
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
                    amount: Money::from_minor(1_000_000_000, Currency::USD).unwrap(),
                    description: None,
                    idempotency_key: IdempotencyKey::parse(&format!("fund-{i}")).unwrap(),
                },
            )
            .await
            .expect("fund");
        accounts.push(a.id);
    }
    Engine {
        store,
        bank,
        accounts,
        keys: Arc::new(AtomicU64::new(0)),
    }
}

async fn engine_caller(
    bank: Bank,
    accounts: Vec<AccountId>,
    keys: Arc<AtomicU64>,
    transfers: u64,
    seed: u64,
) {
    let mut rng = Rng(seed | 1);
    let sys = Actor::system();
    for _ in 0..transfers {
        let (a, b) = rng.pair(accounts.len() as u64);
        let k = keys.fetch_add(1, Ordering::Relaxed);
        let req = TransferRequest {
            item: TransferItem {
                from_account_id: accounts[a as usize],
                to: Destination::Account(accounts[b as usize]),
                amount: Money::from_minor(1, Currency::USD).unwrap(),
                description: None,
            },
            idempotency_key: IdempotencyKey::parse(&format!("b-{k}")).unwrap(),
            context: RequestContext::default(),
        };
        bank.money().transfer(&sys, req).await.expect("transfer");
    }
}

async fn engine_run(e: &Engine, transfers: u64, callers: u64) -> Duration {
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..callers {
        let seed = e.keys.load(Ordering::Relaxed) ^ (c + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let n = split(transfers, callers, c);
        handles.push(tokio::spawn(engine_caller(
            e.bank.clone(),
            e.accounts.clone(),
            e.keys.clone(),
            n,
            seed,
        )));
    }
    for h in handles {
        h.await.expect("caller");
    }
    started.elapsed()
}

/// Commits the engine's database has seen (group commit folds many transfers into one).
async fn commits(e: &Engine) -> u64 {
    let row: (i64,) = sqlx::query_as(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(e.store.pool())
    .await
    .unwrap_or((0,));
    u64::try_from(row.0).unwrap_or(0)
}

// ---------------------------------------------------------------- bench + report

fn bench(c: &mut Criterion, rt: &Runtime, raw_url: &str, engine_url: &str) {
    let raw = rt.block_on(raw_pool(raw_url));
    let eng = rt.block_on(engine(engine_url));
    let seed = AtomicU64::new(0x5EED);
    let mut g = c.benchmark_group("postgres");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    g.throughput(criterion::Throughput::Elements(1));
    g.bench_function("raw_1_client", |b| {
        b.iter_custom(|n| record("raw_1_client", n, rt.block_on(raw_run(&raw, n, 1, &seed))))
    });
    g.bench_function("raw_32_clients", |b| {
        b.iter_custom(|n| {
            record(
                "raw_32_clients",
                n,
                rt.block_on(raw_run(&raw, n, CLIENTS, &seed)),
            )
        })
    });
    g.bench_function("engine_1_caller", |b| {
        b.iter_custom(|n| record("engine_1_caller", n, rt.block_on(engine_run(&eng, n, 1))))
    });
    let commits_before = rt.block_on(commits(&eng));
    let keys_before = eng.keys.load(Ordering::Relaxed);
    g.bench_function("engine_32_callers", |b| {
        b.iter_custom(|n| {
            record(
                "engine_32_callers",
                n,
                rt.block_on(engine_run(&eng, n, CLIENTS)),
            )
        })
    });
    g.finish();
    let commits = rt.block_on(commits(&eng)) - commits_before;
    let transfers = eng.keys.load(Ordering::Relaxed) - keys_before;
    if commits > 0 {
        println!(
            "engine_32_callers: {transfers} transfers in {commits} commits ({:.1} per commit)",
            transfers as f64 / commits as f64
        );
    }
    rt.block_on(eng.bank.money().verify_ledger())
        .expect("the engine's ledger verifies after the bench");
    rt.block_on(raw.close());
}

fn rate(name: &str) -> f64 {
    let s = SAMPLES.lock().expect("samples");
    let (n, d) = s
        .iter()
        .filter(|(b, _, _)| *b == name)
        .fold((0u64, Duration::ZERO), |(n, d), (_, n2, d2)| {
            (n + n2, d + *d2)
        });
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

fn report() {
    let raw1 = rate("raw_1_client");
    let raw32 = rate("raw_32_clients");
    let e1 = rate("engine_1_caller");
    let e32 = rate("engine_32_callers");
    println!("\nPostgreSQL, durable commits, transfers/s over every measured sample (same run):");
    for (name, r) in [
        ("raw_1_client", raw1),
        ("raw_32_clients", raw32),
        ("engine_1_caller", e1),
        ("engine_32_callers", e32),
    ] {
        println!("  {name:<18} {r:>10.0}/s");
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    println!("ratios:");
    println!(
        "  engine_1_caller   / raw_1_client   = {:.2} (target >= 0.8)",
        ratio(e1, raw1)
    );
    println!(
        "  engine_32_callers / raw_32_clients = {:.2} (target >= 3)",
        ratio(e32, raw32)
    );
    println!(
        "  engine_32_callers / raw_1_client   = {:.2}",
        ratio(e32, raw1)
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let admin = database_url();
    let (raw_db, engine_db) = rt.block_on(async {
        (
            TestDatabase::create(&admin).await,
            TestDatabase::create(&admin).await,
        )
    });
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &rt, raw_db.url(), engine_db.url());
    c.final_summary();
    report();
    rt.block_on(async {
        raw_db.drop_database().await;
        engine_db.drop_database().await;
    });
}
