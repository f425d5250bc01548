//! A second engine instance for the multi-process proof: connects its own pool to the
//! database at `--url`, runs random transfers among the given accounts, and prints one line
//! per transfer (`ACK <key> <txn>`, `REFUSED <key>`, `FAILED <key>`, `UNEXPECTED <key> <code>`)
//! for the parent to audit.
//!
//! Usage: bankflow-pg-hammer --url URL --accounts ID,ID,... --tasks N --transfers N --seed N --tag TAG

use std::process::ExitCode;
use std::sync::Arc;

use bankflow_core::ids::AccountId;
use bankflow_core::Bank;
use bankflow_store_postgres::{load, PgOptions, PgStore};

struct Args {
    url: String,
    accounts: Vec<AccountId>,
    tasks: usize,
    transfers: usize,
    seed: u64,
    tag: String,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut url, mut accounts, mut tasks, mut transfers, mut seed, mut tag) =
        (None, None, 8, 100, 1, "child".to_string());
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--url" => url = Some(value),
            "--accounts" => {
                let ids: Result<Vec<AccountId>, _> =
                    value.split(',').map(AccountId::parse).collect();
                accounts = Some(ids.map_err(|e| e.to_string())?);
            }
            "--tasks" => tasks = num(&value)? as usize,
            "--transfers" => transfers = num(&value)? as usize,
            "--seed" => seed = num(&value)?,
            "--tag" => tag = value,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        accounts: accounts.ok_or("--accounts is required")?,
        tasks,
        transfers,
        seed,
        tag,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bankflow-pg-hammer: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match PgStore::connect(
        &args.url,
        PgOptions {
            max_connections: 8,
            ..PgOptions::default()
        },
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bankflow-pg-hammer: {e}");
            return ExitCode::from(1);
        }
    };
    let bank = Bank::builder(Arc::new(store)).build();
    match load::run_transfers(
        &bank,
        &args.accounts,
        args.tasks,
        args.transfers,
        args.seed,
        &args.tag,
    )
    .await
    {
        Ok(outcome) => {
            print!("{}", outcome.to_lines());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bankflow-pg-hammer: {e}");
            ExitCode::from(1)
        }
    }
}
