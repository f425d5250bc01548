//! A bounded transfer load generator and its after-the-fact audit: used by the multi-process
//! proof (`bankflow-pg-hammer` child + parent test) and available to operators who want to
//! check a deployment the same way.
//!
//! Every transfer carries an idempotency key `<tag>-<task>-<i>`, so the audit can tell, key by
//! key, that an acknowledged transfer is booked exactly once, a refused one is recorded as
//! FAILED and moved nothing, and one that errored left nothing behind at all.

use std::collections::{HashMap, HashSet};

use bankflow_core::ids::{AccountId, TransactionId};
use bankflow_core::ports::TxMode;
use bankflow_core::{
    Actor, Bank, BankError, BankResult, Currency, Destination, IdempotencyKey, Money,
    RequestContext, TransactionStatus, TransferItem, TransferRequest,
};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

/// Concurrent tasks one [`run_transfers`] call may start, at most.
pub const TASKS_MAX: usize = 256;
/// Transfers per task, at most.
pub const TRANSFERS_PER_TASK_MAX: usize = 100_000;

/// What happened to each transfer of a load run, by idempotency key.
#[derive(Debug, Default, Clone)]
pub struct LoadOutcome {
    /// Acknowledged (COMPLETED): key and transaction id.
    pub acked: Vec<(String, TransactionId)>,
    /// Refused by the bank (insufficient funds): recorded as FAILED, no money moved.
    pub refused: Vec<String>,
    /// Failed with a transient store error after the engine's retries: must have left nothing.
    pub failed: Vec<String>,
    /// Any other error: always a bug (key and error code).
    pub unexpected: Vec<(String, String)>,
}

impl LoadOutcome {
    /// Merges another run's outcome (e.g. a second process's).
    pub fn extend(&mut self, other: LoadOutcome) {
        self.acked.extend(other.acked);
        self.refused.extend(other.refused);
        self.failed.extend(other.failed);
        self.unexpected.extend(other.unexpected);
    }

    /// One line per transfer: `ACK <key> <txn>`, `REFUSED <key>`, `FAILED <key>`, `UNEXPECTED <key> <code>`.
    pub fn to_lines(&self) -> String {
        let mut s = String::new();
        for (k, t) in &self.acked {
            s.push_str(&format!("ACK {k} {t}\n"));
        }
        for k in &self.refused {
            s.push_str(&format!("REFUSED {k}\n"));
        }
        for k in &self.failed {
            s.push_str(&format!("FAILED {k}\n"));
        }
        for (k, c) in &self.unexpected {
            s.push_str(&format!("UNEXPECTED {k} {c}\n"));
        }
        s
    }

    /// Parses [`LoadOutcome::to_lines`] output; other lines are ignored.
    pub fn from_lines(text: &str) -> BankResult<LoadOutcome> {
        let mut out = LoadOutcome::default();
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["ACK", k, t] => out.acked.push((k.to_string(), TransactionId::parse(t)?)),
                ["REFUSED", k] => out.refused.push(k.to_string()),
                ["FAILED", k] => out.failed.push(k.to_string()),
                ["UNEXPECTED", k, c] => out.unexpected.push((k.to_string(), c.to_string())),
                _ => {}
            }
        }
        Ok(out)
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Runs `tasks` concurrent tokio tasks of `per_task` random transfers (0.01–300.00 USD) among
/// `accounts`, as the system actor. Deterministic per `seed`.
pub async fn run_transfers(
    bank: &Bank,
    accounts: &[AccountId],
    tasks: usize,
    per_task: usize,
    seed: u64,
    tag: &str,
) -> BankResult<LoadOutcome> {
    if accounts.len() < 2 || tasks == 0 || tasks > TASKS_MAX || per_task > TRANSFERS_PER_TASK_MAX {
        return Err(BankError::validation(
            "load",
            "need ≥ 2 accounts, 1..=256 tasks, ≤ 100,000 transfers per task",
        ));
    }
    let mut handles = Vec::with_capacity(tasks);
    for task in 0..tasks {
        let bank = bank.clone();
        let accounts = accounts.to_vec();
        let tag = tag.to_string();
        handles.push(tokio::spawn(async move {
            let mut rng = seed ^ (task as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut out = LoadOutcome::default();
            for i in 0..per_task {
                let from = (xorshift(&mut rng) % accounts.len() as u64) as usize;
                let hop = 1 + (xorshift(&mut rng) % (accounts.len() as u64 - 1)) as usize;
                let to = (from + hop) % accounts.len();
                let cents = 1 + (xorshift(&mut rng) % 30_000) as i64;
                let key = format!("{tag}-{task}-{i}");
                let req = TransferRequest {
                    item: TransferItem {
                        from_account_id: accounts[from],
                        to: Destination::Account(accounts[to]),
                        amount: Money::from_minor(cents, Currency::USD)?,
                        description: None,
                    },
                    idempotency_key: IdempotencyKey::parse(&key)?,
                    context: RequestContext::default(),
                };
                match bank.money().transfer(&Actor::system(), req).await {
                    Ok(t) if t.status == TransactionStatus::Completed => {
                        out.acked.push((key, t.id))
                    }
                    Ok(t) => out.unexpected.push((key, format!("status_{}", t.status))),
                    Err(BankError::InsufficientFunds) => out.refused.push(key),
                    Err(e) if e.is_transient() => out.failed.push(key),
                    Err(e) => out.unexpected.push((key, e.code().to_string())),
                }
            }
            Ok::<_, BankError>(out)
        }));
    }
    let mut all = LoadOutcome::default();
    for h in handles {
        all.extend(
            h.await
                .map_err(|_| BankError::internal("load task panicked"))??,
        );
    }
    Ok(all)
}

/// What [`audit`] counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Acknowledged transfers found booked exactly once.
    pub acked: usize,
    /// Refusals found recorded as FAILED with no postings.
    pub refused: usize,
    /// Errored transfers found absent.
    pub failed: usize,
}

/// Checks the bank after a load run over `accounts` (the only accounts used, each funded once
/// by a deposit, `funded_total` in all): the ledger verifies; customer money is conserved; no
/// available balance is below −overdraft; every acknowledged transfer is booked exactly once
/// (two postings) and nothing else is booked; every refusal is a FAILED transaction with no
/// postings; every errored transfer left no trace (no idempotency record). Errors with
/// `Invariant` describing the first violation.
pub async fn audit(
    bank: &Bank,
    accounts: &[AccountId],
    funded_total: Decimal,
    run: &LoadOutcome,
) -> BankResult<AuditReport> {
    let fail = |m: String| Err(BankError::Invariant(m));
    if let Some((k, c)) = run.unexpected.first() {
        return fail(format!(
            "{} unexpected errors, first: {k} {c}",
            run.unexpected.len()
        ));
    }
    let report = bank.money().verify_ledger().await?;
    if report.customer_totals != vec![(Currency::USD, funded_total)] {
        return fail(format!(
            "money not conserved: {:?} != {funded_total}",
            report.customer_totals
        ));
    }
    let sys = Actor::system();
    let mut booked: HashMap<TransactionId, usize> = HashMap::new();
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
    let to = bank.clock().now().date_naive() + Duration::days(1);
    for id in accounts {
        let a = bank.money().account(&sys, *id).await?;
        if a.available_balance() < -a.overdraft_limit {
            return fail(format!("account {id} below its overdraft floor"));
        }
        for line in bank.money().statement(&sys, *id, from, to).await?.entries {
            *booked.entry(line.transaction_id).or_default() += 1;
        }
    }
    let acked: HashSet<TransactionId> = run.acked.iter().map(|(_, t)| *t).collect();
    if acked.len() != run.acked.len() {
        return fail("one transaction id acknowledged twice".into());
    }
    for t in &acked {
        if booked.get(t) != Some(&2) {
            return fail(format!(
                "acknowledged transfer {t} booked {:?} times (postings)",
                booked.get(t)
            ));
        }
    }
    // Everything else booked on these accounts is one funding deposit (one posting) each.
    let others: Vec<usize> = booked
        .iter()
        .filter(|(t, _)| !acked.contains(t))
        .map(|(_, n)| *n)
        .collect();
    if others.len() != accounts.len() || others.iter().any(|n| *n != 1) {
        return fail(format!(
            "{} bookings not acknowledged as transfers (expected {} deposits)",
            others.len(),
            accounts.len()
        ));
    }
    let scope = sys.idempotency_scope();
    let mut uow = bank.store().begin(TxMode::Read).await?;
    for k in &run.refused {
        let rec = uow.idempotency(&scope, &IdempotencyKey::parse(k)?).await?;
        let Some(bankflow_core::idempotency::IdempotentResponse::Transaction(t)) =
            rec.map(|r| r.response)
        else {
            return fail(format!("refusal {k} has no idempotency record"));
        };
        if t.status != TransactionStatus::Failed || booked.contains_key(&t.id) {
            return fail(format!(
                "refusal {k} is {} with postings: {}",
                t.status,
                booked.contains_key(&t.id)
            ));
        }
    }
    for k in &run.failed {
        if uow
            .idempotency(&scope, &IdempotencyKey::parse(k)?)
            .await?
            .is_some()
        {
            return fail(format!("errored transfer {k} left an idempotency record"));
        }
    }
    Ok(AuditReport {
        acked: acked.len(),
        refused: run.refused.len(),
        failed: run.failed.len(),
    })
}
