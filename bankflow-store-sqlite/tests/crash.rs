//! Crash-safety proof: a child process does concurrent transfers on a SQLite file
//! (synchronous=FULL, group commit) and logs each acknowledgement; the parent SIGKILLs it
//! mid-load, reopens the file and checks every acknowledged transfer is there exactly once,
//! the ledger verifies (money conserved), `PRAGMA integrity_check` is ok, and retrying the
//! requests that were in flight at the kill never applies one twice.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bankflow_core::fraud_port::RequestContext;
use bankflow_core::ports::TxMode;
use bankflow_core::testkit::open_funded_accounts;
use bankflow_core::{
    AccountId, Actor, Bank, BankError, Currency, Destination, IdempotencyKey, Money, TransactionId,
    TransferItem, TransferRequest,
};
use bankflow_store_sqlite::{SqliteOptions, SqliteStore};

const ACCOUNTS: usize = 12;
const FUNDING_CENTS: i64 = 50_000;
/// Acknowledgements to wait for before the kill, and the longest wait.
const ACKS_BEFORE_KILL: usize = 400;
const WAIT_MAX: Duration = Duration::from_secs(60);

fn usd_cents(c: i64) -> Money {
    Money::from_minor(c, Currency::USD).unwrap()
}

struct Started {
    from: AccountId,
    to: AccountId,
    cents: i64,
}

fn parse_log(
    text: &str,
) -> (
    HashMap<String, Started>,
    HashMap<String, TransactionId>,
    HashSet<String>,
) {
    let (mut started, mut acked, mut refused) = (HashMap::new(), HashMap::new(), HashSet::new());
    for line in text.lines() {
        // A torn last line (killed mid-write) is not an acknowledgement: skip what does not parse.
        let f: Vec<&str> = line.split(' ').collect();
        match f.as_slice() {
            ["START", key, from, to, cents] => {
                if let (Ok(from), Ok(to), Ok(cents)) =
                    (AccountId::parse(from), AccountId::parse(to), cents.parse())
                {
                    started.insert(key.to_string(), Started { from, to, cents });
                }
            }
            ["ACK", key, id] => {
                if let Ok(id) = TransactionId::parse(id) {
                    acked.insert(key.to_string(), id);
                }
            }
            ["REFUSED", key] => {
                refused.insert(key.to_string());
            }
            _ => {}
        }
    }
    (started, acked, refused)
}

async fn journals_of(store: &SqliteStore, id: TransactionId) -> usize {
    use bankflow_core::ports::Store;
    let mut r = store.begin(TxMode::Read).await.unwrap();
    r.journals_of_transaction(id, 100).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_transfers_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let db = db.to_str().unwrap().to_string();
    let log_path = dir.path().join("acks.log");

    // Parent sets up funded accounts, then closes the store before the child opens it.
    let ids = {
        let store = SqliteStore::open(&db, SqliteOptions::default())
            .await
            .unwrap();
        let bank = Bank::builder(Arc::new(store.clone())).build();
        let ids = open_funded_accounts(&bank, ACCOUNTS, usd_cents(FUNDING_CENTS), |_| None).await;
        store.close().await;
        ids
    };

    let mut child = Command::new(env!("CARGO_BIN_EXE_bankflow-sqlite-crashchild"))
        .arg(&db)
        .arg(&log_path)
        .arg("16")
        .args(ids.iter().map(|a| a.to_string()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let started_at = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let acks = std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .matches("ACK ")
            .count();
        if acks >= ACKS_BEFORE_KILL {
            break;
        }
        assert!(
            started_at.elapsed() < WAIT_MAX,
            "child acknowledged only {acks} transfers in {WAIT_MAX:?}"
        );
        assert!(child.try_wait().unwrap().is_none(), "child exited early");
    }
    // std's kill() is SIGKILL on Unix: no destructor, no flush, no checkpoint runs.
    child.kill().expect("SIGKILL");
    let status = child.wait().unwrap();
    assert!(!status.success(), "child was killed, not finished");

    let (started, acked, refused) = parse_log(&std::fs::read_to_string(&log_path).unwrap());
    assert!(acked.len() >= ACKS_BEFORE_KILL);

    let store = SqliteStore::open(&db, SqliteOptions::default())
        .await
        .expect("reopen after the kill");
    store
        .integrity_check()
        .await
        .expect("PRAGMA integrity_check = ok");
    let bank = Bank::builder(Arc::new(store.clone())).build();
    let sys = Actor::system();

    // Every acknowledged transfer is present, completed, and booked exactly once.
    for (key, id) in &acked {
        let t = bank
            .money()
            .transaction(&sys, *id)
            .await
            .unwrap_or_else(|e| panic!("acknowledged {key} lost: {e}"));
        assert_eq!(t.status, bankflow_core::TransactionStatus::Completed);
        assert_eq!(
            journals_of(&store, *id).await,
            1,
            "{key} booked exactly once"
        );
    }
    let total = usd_cents(FUNDING_CENTS).amount() * rust_decimal::Decimal::from(ACCOUNTS as u64);
    let report = bank
        .money()
        .verify_ledger()
        .await
        .expect("ledger verifies after the crash");
    assert_eq!(
        report.customer_totals,
        vec![(Currency::USD, total)],
        "money conserved"
    );

    // Retry every request that was in flight (started, never answered): each is applied at
    // most once — a retry either replays the committed result or runs it for the first time,
    // and a second retry replays the first.
    let in_flight: Vec<(&String, &Started)> = started
        .iter()
        .filter(|(k, _)| !acked.contains_key(*k) && !refused.contains(*k))
        .collect();
    assert!(
        !in_flight.is_empty(),
        "the kill landed mid-load: some requests were in flight"
    );
    for (key, s) in &in_flight {
        let req = TransferRequest {
            item: TransferItem {
                from_account_id: s.from,
                to: Destination::Account(s.to),
                amount: usd_cents(s.cents),
                description: None,
            },
            idempotency_key: IdempotencyKey::parse(key).unwrap(),
            context: RequestContext::default(),
        };
        let first = bank.money().transfer(&sys, req.clone()).await;
        let again = bank.money().transfer(&sys, req).await;
        match (&first, &again) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{key}: a retry replays");
                assert_eq!(journals_of(&store, a.id).await, 1, "{key}: applied once");
            }
            (Err(BankError::InsufficientFunds), Err(BankError::InsufficientFunds)) => {}
            other => panic!("{key}: unexpected retry outcome {other:?}"),
        }
    }
    let report = bank
        .money()
        .verify_ledger()
        .await
        .expect("ledger verifies after the retries");
    assert_eq!(
        report.customer_totals,
        vec![(Currency::USD, total)],
        "money still conserved"
    );
    store.integrity_check().await.unwrap();
    println!(
        "crash test: {} acknowledged before SIGKILL, {} in flight retried, {} refused",
        acked.len(),
        in_flight.len(),
        refused.len()
    );
}
