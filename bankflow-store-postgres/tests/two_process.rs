//! Two engine instances in two OS processes (separate pools) hammering the same 20 accounts of
//! one database: afterwards money is conserved, no account is below its overdraft floor, every
//! acknowledged transfer of either process is booked exactly once, every refused one is
//! recorded as FAILED with no postings, and every errored one left nothing behind.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;

use bankflow_core::testkit::open_funded_accounts;
use bankflow_core::{Bank, Currency, Money};
use bankflow_store_postgres::load::{self, LoadOutcome};
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};
use rust_decimal::Decimal;

const ACCOUNTS: usize = 20;
const TASKS_PER_PROCESS: usize = 16;
const TRANSFERS_PER_TASK: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_database_stay_correct() {
    let db = TestDatabase::create(&database_url()).await;
    let store = PgStore::connect(
        db.url(),
        PgOptions {
            max_connections: 8,
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect");
    let bank = Bank::builder(Arc::new(store)).build();
    let funding = Money::parse("1000.00", Currency::USD).unwrap();
    let overdraft = |i: usize| (i % 5 == 0).then(|| Decimal::new(5000, 2));
    let ids = open_funded_accounts(&bank, ACCOUNTS, funding, overdraft).await;
    let id_list: Vec<String> = ids.iter().map(|a| a.to_string()).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bankflow-pg-hammer"))
        .args(["--url", db.url(), "--accounts", &id_list.join(",")])
        .args([
            "--tasks",
            &TASKS_PER_PROCESS.to_string(),
            "--transfers",
            &TRANSFERS_PER_TASK.to_string(),
        ])
        .args(["--seed", "99", "--tag", "child"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the second engine process");
    // Drain the child's report while it runs (a full pipe would stall it).
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let mine = load::run_transfers(
        &bank,
        &ids,
        TASKS_PER_PROCESS,
        TRANSFERS_PER_TASK,
        42,
        "parent",
    )
    .await
    .expect("parent load");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "child process failed: {status}");
    let theirs =
        LoadOutcome::from_lines(&reader.join().expect("reader").expect("read child output"))
            .expect("parse");
    println!(
        "two processes: parent acked {} refused {} failed {}; child acked {} refused {} failed {}",
        mine.acked.len(),
        mine.refused.len(),
        mine.failed.len(),
        theirs.acked.len(),
        theirs.refused.len(),
        theirs.failed.len()
    );
    let per_process = TASKS_PER_PROCESS * TRANSFERS_PER_TASK;
    for (who, o) in [("parent", &mine), ("child", &theirs)] {
        let total = o.acked.len() + o.refused.len() + o.failed.len() + o.unexpected.len();
        assert_eq!(total, per_process, "{who} reported every transfer");
        assert!(
            o.acked.len() > per_process / 2,
            "{who} made progress: {} acked",
            o.acked.len()
        );
    }
    let mut all = mine;
    all.extend(theirs);
    let funded = Decimal::new(100_000, 2) * Decimal::from(ACCOUNTS as u64);
    let report = load::audit(&bank, &ids, funded, &all)
        .await
        .expect("audit after both processes");
    println!("two processes audit: {report:?}");
    db.drop_database().await;
}
