//! Test helper for the SIGKILL crash-safety proof (tests/crash.rs); not a user tool.
//!
//! `bankflow-sqlite-crashchild <db path> <log path> <tasks> <account id>...` opens the
//! database and runs `tasks` concurrent loops of random transfers among the given accounts
//! until killed. Before each request it appends `START <key> <from> <to> <cents>` to the log,
//! and after the engine returned Ok it appends `ACK <key> <transaction id>` — the parent
//! kills it mid-load with SIGKILL and checks every acknowledged transfer survived.
//! Lines are written with one `write` call each, which the kernel keeps even when the process
//! dies right after (no fsync is needed to survive a process kill).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Arc, Mutex};

use bankflow_core::fraud_port::RequestContext;
use bankflow_core::{
    AccountId, Actor, Bank, BankError, Currency, Destination, IdempotencyKey, Money, TransferItem,
    TransferRequest,
};
use bankflow_store_sqlite::{SqliteOptions, SqliteStore};

/// Transfers per task before the child stops by itself (the parent kills it long before).
const TRANSFERS_PER_TASK_MAX: u64 = 1_000_000;

fn log(file: &Mutex<File>, line: String) {
    let mut f = file.lock().expect("log lock");
    f.write_all(line.as_bytes()).expect("log write");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: bankflow-sqlite-crashchild <db> <log> <tasks> <account id>...");
        std::process::exit(2);
    }
    let tasks: u64 = args[3].parse().expect("tasks is a number");
    let accounts: Vec<AccountId> = args[4..]
        .iter()
        .map(|s| AccountId::parse(s).expect("account id"))
        .collect();
    let store = SqliteStore::open(&args[1], SqliteOptions::default())
        .await
        .expect("open store");
    let bank = Bank::builder(Arc::new(store)).build();
    let file = Arc::new(Mutex::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args[2])
            .expect("open log"),
    ));
    let pid = std::process::id();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (bank, file, accounts) = (bank.clone(), file.clone(), accounts.clone());
        handles.push(tokio::spawn(async move {
            let mut rng =
                (u64::from(pid) << 20 ^ (task + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1;
            let mut next = move || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            for i in 0..TRANSFERS_PER_TASK_MAX {
                let from = accounts[(next() % accounts.len() as u64) as usize];
                let to = accounts[(next() % accounts.len() as u64) as usize];
                if from == to {
                    continue;
                }
                let cents = 1 + next() % 5_000;
                let key = format!("crash-{pid}-{task}-{i}");
                log(&file, format!("START {key} {from} {to} {cents}\n"));
                let req = TransferRequest {
                    item: TransferItem {
                        from_account_id: from,
                        to: Destination::Account(to),
                        amount: Money::from_minor(cents as i64, Currency::USD).expect("amount"),
                        description: None,
                    },
                    idempotency_key: IdempotencyKey::parse(&key).expect("key"),
                    context: RequestContext::default(),
                };
                match bank.money().transfer(&Actor::system(), req).await {
                    Ok(t) => log(&file, format!("ACK {key} {}\n", t.id)),
                    Err(BankError::InsufficientFunds) => log(&file, format!("REFUSED {key}\n")),
                    Err(e) => panic!("unexpected error: {}", e.code()),
                }
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
}
