//! SQLite throughput: transfers/s through the engine next to raw-SQL baselines measured in
//! the same run, all with WAL + `synchronous=FULL` (fsync per commit).
//!
//! * `raw_1_per_commit`: the minimal transfer (two balance UPDATEs + two posting INSERTs) in
//!   its own `BEGIN IMMEDIATE … COMMIT`: the fsync wall.
//! * `raw_1000_per_commit`: the same writes, 1,000 transfers per commit: the ceiling.
//! * `engine_1_caller`: `Bank::transfer`, one caller at a time.
//! * `engine_32_callers`: 32 concurrent callers; the engine's group commit coalesces them.
//!
//! This machine's fsync speed swings tenfold within an hour, so only the ratios printed at
//! the end (same run, same disk) are meaningful. Runs in well under 3 minutes:
//! `cargo bench -p bankflow-benches --bench sqlite`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bankflow_core::fraud_port::RequestContext;
use bankflow_core::{
    AccountId, AccountType, Actor, Bank, BookingRequest, Currency, CustomerId, Destination,
    IdempotencyKey, Money, OpenAccountRequest, TransferItem, TransferRequest,
};
use bankflow_store_sqlite::{SqliteOptions, SqliteStore};
use criterion::Criterion;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection};
use tokio::runtime::Runtime;

const ACCOUNTS: usize = 64;
const CALLERS: u64 = 32;
const RAW_BATCH: u64 = 1_000;

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

// ---------------------------------------------------------------- raw SQL baseline

async fn raw_connection(path: &std::path::Path) -> SqliteConnection {
    let mut c = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await
        .expect("raw connection");
    sqlx::raw_sql(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
         CREATE TABLE postings (seq INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, amount INTEGER NOT NULL);",
    )
    .execute(&mut c)
    .await
    .expect("raw schema");
    sqlx::query("BEGIN").execute(&mut c).await.unwrap();
    for i in 0..ACCOUNTS as i64 {
        sqlx::query("INSERT INTO accounts (id, balance) VALUES (?, 1000000000)")
            .bind(i)
            .execute(&mut c)
            .await
            .unwrap();
    }
    sqlx::query("COMMIT").execute(&mut c).await.unwrap();
    c
}

/// The minimal transfer: two balance updates and two postings.
async fn raw_transfer(c: &mut SqliteConnection, from: i64, to: i64) {
    sqlx::query("UPDATE accounts SET balance = balance - 1 WHERE id = ?")
        .bind(from)
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query("UPDATE accounts SET balance = balance + 1 WHERE id = ?")
        .bind(to)
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query("INSERT INTO postings (account_id, amount) VALUES (?, -1)")
        .bind(from)
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query("INSERT INTO postings (account_id, amount) VALUES (?, 1)")
        .bind(to)
        .execute(&mut *c)
        .await
        .unwrap();
}

async fn raw_run(
    c: &mut SqliteConnection,
    rng: &mut Rng,
    transfers: u64,
    per_commit: u64,
) -> Duration {
    let started = Instant::now();
    let mut done = 0;
    while done < transfers {
        let n = per_commit.min(transfers - done);
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *c)
            .await
            .unwrap();
        for _ in 0..n {
            let (a, b) = rng.pair(ACCOUNTS as u64);
            raw_transfer(c, a as i64, b as i64).await;
        }
        sqlx::query("COMMIT").execute(&mut *c).await.unwrap();
        done += n;
    }
    started.elapsed()
}

// ---------------------------------------------------------------- engine

struct Engine {
    bank: Bank,
    accounts: Vec<AccountId>,
    keys: Arc<AtomicU64>,
}

async fn engine(path: &std::path::Path) -> Engine {
    let store = SqliteStore::open(path.to_str().expect("utf-8"), SqliteOptions::default())
        .await
        .expect("store");
    let bank = Bank::builder(Arc::new(store)).build();
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
        // Spread `transfers` over the callers (the first ones take the remainder).
        let n = transfers / callers + u64::from(c < transfers % callers);
        let seed = e.keys.load(Ordering::Relaxed) ^ (c + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
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

// ---------------------------------------------------------------- bench + report

fn bench(c: &mut Criterion, rt: &Runtime, dir: &std::path::Path) {
    let mut raw = rt.block_on(raw_connection(&dir.join("raw.db")));
    let eng = rt.block_on(engine(&dir.join("engine.db")));
    let mut rng = Rng(0x5EED);
    let mut g = c.benchmark_group("sqlite_full");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    g.throughput(criterion::Throughput::Elements(1));
    g.bench_function("raw_1_per_commit", |b| {
        b.iter_custom(|n| {
            record(
                "raw_1_per_commit",
                n,
                rt.block_on(raw_run(&mut raw, &mut rng, n, 1)),
            )
        })
    });
    g.bench_function("raw_1000_per_commit", |b| {
        b.iter_custom(|n| {
            record(
                "raw_1000_per_commit",
                n,
                rt.block_on(raw_run(&mut raw, &mut rng, n, RAW_BATCH)),
            )
        })
    });
    g.bench_function("engine_1_caller", |b| {
        b.iter_custom(|n| record("engine_1_caller", n, rt.block_on(engine_run(&eng, n, 1))))
    });
    g.bench_function("engine_32_callers", |b| {
        b.iter_custom(|n| {
            record(
                "engine_32_callers",
                n,
                rt.block_on(engine_run(&eng, n, CALLERS)),
            )
        })
    });
    g.finish();
    rt.block_on(eng.bank.money().verify_ledger())
        .expect("the engine's ledger verifies after the bench");
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
    let raw1 = rate("raw_1_per_commit");
    let raw1000 = rate("raw_1000_per_commit");
    let e1 = rate("engine_1_caller");
    let e32 = rate("engine_32_callers");
    println!("\nSQLite WAL synchronous=FULL, transfers/s over every measured sample (same run):");
    for (name, r) in [
        ("raw_1_per_commit", raw1),
        ("raw_1000_per_commit", raw1000),
        ("engine_1_caller", e1),
        ("engine_32_callers", e32),
    ] {
        println!("  {name:<22} {r:>10.0}/s");
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    println!("ratios:");
    println!(
        "  engine_1_caller   / raw_1_per_commit    = {:.2} (target >= 0.8)",
        ratio(e1, raw1)
    );
    println!(
        "  engine_32_callers / raw_1000_per_commit = {:.2} (target >= 0.4)",
        ratio(e32, raw1000)
    );
    println!(
        "  engine_32_callers / raw_1_per_commit    = {:.2}",
        ratio(e32, raw1)
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &rt, dir.path());
    c.final_summary();
    report();
}
