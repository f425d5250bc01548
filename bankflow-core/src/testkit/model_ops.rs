//! The property test on any store: seeded random operations run on the engine (group commit
//! on) and on the reference model (`model.rs`); after every step balances, holds, statuses,
//! daily-limit use and per-currency totals must agree and the ledger must verify; every
//! refusal must carry the code the model predicts. A failing case prints its seed and a
//! one-line reproduction (`BANKFLOW_MODEL_SEED=<seed> cargo test ...`).

use std::sync::Arc;

use chrono::Duration;
use futures::FutureExt;
use uuid::Uuid;

use super::fixtures::t0;
use super::model::{decimal, max_minor, money, MAcc, MDone, MPending, Model, Pred, Status, Who};
use super::StoreFactory;
use crate::account::{AccountStatus, AccountType};
use crate::auth::Actor;
use crate::clock::ManualClock;
use crate::error::BankError;
use crate::fraud_port::RequestContext;
use crate::idempotency::IdempotencyKey;
use crate::ids::{CustomerId, SequentialIds, TransactionId, UserId};
use crate::money::Currency;
use crate::ports::Store;
use crate::transaction::{Transaction, TransactionStatus};
use crate::{
    Bank, BankConfig, BookingRequest, Destination, ExternalPayee, OpenAccountRequest, PaymentRail,
    TransferItem, TransferRequest,
};

/// Customers owning the model's accounts (1..=CUSTOMERS).
const CUSTOMERS: u64 = 3;
const ACCOUNTS_MAX: usize = 10;
/// Accounts each case opens before drawing freely.
const OPENING_ACCOUNTS: usize = 4;

/// xorshift64*: the same seed draws the same operations on every store and every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Debug)]
enum Op {
    Open {
        owner: u128,
        currency: Currency,
        savings: bool,
        overdraft: i128,
        daily: Option<i128>,
    },
    Booking {
        who: Who,
        a: u64,
        amount_pick: u64,
        deposit: bool,
    },
    Transfer {
        who: Who,
        a: u64,
        b: u64,
        amount_pick: u64,
        external: bool,
    },
    Pending {
        who: Who,
        a: u64,
        b: u64,
        amount_pick: u64,
        ttl_min: i64,
    },
    Post {
        who: Who,
        p: u64,
        percent: i128,
    },
    Void {
        who: Who,
        p: u64,
    },
    Advance {
        minutes: i64,
    },
    Reverse {
        t: u64,
    },
    Freeze {
        who: Who,
        a: u64,
    },
    Close {
        who: Who,
        a: u64,
        drain: bool,
    },
    Batch {
        who: Who,
        legs: Vec<(u64, u64, u64)>,
    },
    Submit {
        who: Who,
        legs: Vec<(u64, u64, u64)>,
    },
    Replay {
        k: u64,
    },
}

/// A quarter the embedding program, half the owner, a quarter any customer (often not the
/// owner: authorisation must answer `not_found`).
fn who(rng: &mut Rng) -> Who {
    match rng.below(4) {
        0 => Who::System,
        1 | 2 => Who::Owner,
        _ => Who::Customer(1 + u128::from(rng.below(CUSTOMERS))),
    }
}

/// Teller bookings are admin-only: mostly the program, sometimes a customer (`forbidden`).
fn teller(rng: &mut Rng) -> Who {
    match rng.below(6) {
        0 => who(rng),
        _ => Who::System,
    }
}

fn legs(rng: &mut Rng, n_max: u64) -> Vec<(u64, u64, u64)> {
    (0..1 + rng.below(n_max))
        .map(|_| (rng.next(), rng.next(), rng.next()))
        .collect()
}

/// The next operation; `opening` forces an Open (each case starts with a few accounts).
fn draw(rng: &mut Rng, opening: bool) -> Op {
    let r = if opening { 0 } else { rng.below(48) };
    match r {
        0..=2 => Op::Open {
            owner: 1 + u128::from(rng.below(CUSTOMERS)),
            currency: if rng.below(5) == 0 {
                Currency::JPY
            } else {
                Currency::USD
            },
            savings: rng.below(3) == 0,
            overdraft: if rng.below(2) == 0 {
                0
            } else {
                1 + i128::from(rng.below(5_000))
            },
            daily: match rng.below(4) {
                0 => Some(1_000 + i128::from(rng.below(50_000))),
                _ => None,
            },
        },
        3..=12 => Op::Booking {
            who: teller(rng),
            a: rng.next(),
            amount_pick: rng.next(),
            deposit: r < 10,
        },
        13..=25 => Op::Transfer {
            who: who(rng),
            a: rng.next(),
            b: rng.next(),
            amount_pick: rng.next(),
            external: r >= 24,
        },
        26..=29 => Op::Pending {
            who: who(rng),
            a: rng.next(),
            b: rng.next(),
            amount_pick: rng.next(),
            ttl_min: 1 + rng.below(120) as i64,
        },
        30..=33 => Op::Post {
            who: who(rng),
            p: rng.next(),
            percent: 1 + i128::from(rng.below(100)),
        },
        34 => Op::Void {
            who: who(rng),
            p: rng.next(),
        },
        35..=36 => Op::Advance {
            minutes: if rng.below(4) == 0 {
                60 * (1 + rng.below(30) as i64)
            } else {
                1 + rng.below(90) as i64
            },
        },
        37..=38 => Op::Reverse { t: rng.next() },
        39 => Op::Freeze {
            who: who(rng),
            a: rng.next(),
        },
        40 => Op::Close {
            who: who(rng),
            a: rng.next(),
            drain: rng.below(4) == 0,
        },
        41..=42 => Op::Batch {
            who: who(rng),
            legs: legs(rng, 3),
        },
        43..=44 => Op::Submit {
            who: who(rng),
            legs: legs(rng, 5),
        },
        _ => Op::Replay { k: rng.next() },
    }
}

/// An amount of `currency` from a draw: mostly small, sometimes up to the bound itself.
fn amount(pick: u64, currency: Currency) -> i128 {
    let max = max_minor(currency);
    match pick % 12 {
        0 => max * (50 + i128::from(pick / 16 % 51)) / 100,
        1 => 1 + i128::from(pick / 16) % (max / 1_000_000),
        2 => max - i128::from(pick / 16 % 1_000),
        _ => 1 + i128::from(pick / 16 % 20_000),
    }
}

fn actor(who: Who) -> Actor {
    match who {
        Who::Owner => unreachable!("resolved before use"),
        Who::System => Actor::system(),
        Who::Customer(c) => Actor::customer(
            UserId(Uuid::from_u128(1_000 + c)),
            Some(CustomerId(Uuid::from_u128(c))),
        ),
    }
}

/// Answers seen per code across a run (printed at its end: which rules a run exercised).
/// Cases run one after another, so one tally per process is exact enough.
static TALLY: std::sync::Mutex<std::collections::BTreeMap<(&'static str, &'static str), usize>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn tally(what: &'static str, code: &'static str) {
    if let Ok(mut t) = TALLY.lock() {
        *t.entry((what, code)).or_default() += 1;
    }
}

/// One case's engine, model and the transfers that may be replayed.
struct Run {
    bank: Bank,
    clock: Arc<ManualClock>,
    m: Model,
    keys: u64,
    replays: Vec<(Who, TransferRequest, Result<Transaction, BankError>)>,
    /// Time in operations and in checks.
    timing: (std::time::Duration, std::time::Duration),
}

fn assert_answer<T: std::fmt::Debug>(r: &Result<T, BankError>, pred: Pred, what: &'static str) {
    tally(what, pred.code().unwrap_or("ok"));
    match (r, pred.code()) {
        (Ok(_), None) => {}
        (Err(e), Some(code)) => assert_eq!(e.code(), code, "{what}: refused {e:?}"),
        (r, _) => panic!("{what}: the model predicts {pred:?}, the engine answered {r:?}"),
    }
}

impl Run {
    fn key(&mut self) -> IdempotencyKey {
        self.keys += 1;
        IdempotencyKey::parse(&format!("m{}", self.keys)).expect("valid key")
    }
    fn pick(&self, x: u64) -> Option<usize> {
        (!self.m.accs.is_empty()).then(|| (x % self.m.accs.len() as u64) as usize)
    }
    fn request(&mut self, i: usize, to: Option<usize>, amount: i128) -> TransferRequest {
        let a = &self.m.accs[i];
        let (id, currency) = (a.id, a.currency);
        let to = match to {
            Some(j) => Destination::Account(self.m.accs[j].id),
            None => Destination::External(ExternalPayee {
                rail: PaymentRail::Ach,
                name: "Model Payee".into(),
                account: "DE89370400440532013000".into(),
                reference: None,
            }),
        };
        TransferRequest {
            item: TransferItem {
                from_account_id: id,
                to,
                amount: money(currency, amount),
                description: None,
            },
            idempotency_key: self.key(),
            context: RequestContext::default(),
        }
    }

    /// Judges one transfer's answer and books it in the model.
    fn judge(
        &mut self,
        who: Who,
        i: usize,
        to: Option<usize>,
        amt: i128,
        req: TransferRequest,
        r: Result<Transaction, BankError>,
    ) {
        let pred = self.m.predict_transfer(who, i, to, amt, false);
        assert_answer(&r, pred, "transfer");
        if let Ok(t) = &r {
            assert_eq!(t.status, TransactionStatus::Completed);
            self.m.apply_transfer(i, to, amt, false);
            self.m.done.push(MDone {
                id: t.id,
                from: i,
                to,
                amount: amt,
                reversed: false,
            });
            self.m.acknowledged.push(t.id);
        }
        // A limit_exceeded refusal is not recorded: its key would run again, not replay.
        if pred != Pred::Err("limit_exceeded") {
            self.replays.push((who, req, r));
        }
    }

    async fn step(&mut self, op: Op) {
        match op {
            Op::Open {
                owner,
                currency,
                savings,
                overdraft,
                daily,
            } => self.open(owner, currency, savings, overdraft, daily).await,
            Op::Booking {
                who,
                a,
                amount_pick,
                deposit,
            } => {
                let Some(i) = self.pick(a) else { return };
                let who = self.m.resolve(who, i);
                let amt = amount(amount_pick, self.m.accs[i].currency);
                self.booking(who, i, amt, deposit).await;
            }
            Op::Transfer {
                who,
                a,
                b,
                amount_pick,
                external,
            } => {
                let (Some(i), Some(j)) = (self.pick(a), self.pick(b)) else {
                    return;
                };
                let who = self.m.resolve(who, i);
                let to = (!external).then_some(j);
                let amt = amount(amount_pick, self.m.accs[i].currency);
                let req = self.request(i, to, amt);
                let r = self.bank.money().transfer(&actor(who), req.clone()).await;
                self.judge(who, i, to, amt, req, r);
            }
            Op::Pending {
                who,
                a,
                b,
                amount_pick,
                ttl_min,
            } => {
                let (Some(i), Some(j)) = (self.pick(a), self.pick(b)) else {
                    return;
                };
                let who = self.m.resolve(who, i);
                let amt = amount(amount_pick, self.m.accs[i].currency);
                let req = self.request(i, Some(j), amt);
                let expires = self.clock_now() + Duration::minutes(ttl_min);
                let r = self
                    .bank
                    .money()
                    .transfer_pending(&actor(who), req, Some(expires))
                    .await;
                let pred = self.m.predict_transfer(who, i, Some(j), amt, true);
                assert_answer(&r, pred, "pending transfer");
                if let Ok(t) = r {
                    assert_eq!(t.status, TransactionStatus::Pending);
                    self.m.apply_transfer(i, Some(j), amt, true);
                    let (created_day, expires_min) = (self.m.today(), self.m.now_min + ttl_min);
                    self.m.pendings.push(MPending {
                        id: t.id,
                        from: i,
                        to: j,
                        amount: amt,
                        created_day,
                        expires_min,
                        open: true,
                    });
                    self.m.acknowledged.push(t.id);
                }
            }
            Op::Post { who, p, percent } => {
                if self.m.pendings.is_empty() {
                    return;
                }
                let k = (p % self.m.pendings.len() as u64) as usize;
                let who = self.m.resolve(who, self.m.pendings[k].from);
                let pd = self.m.pendings[k].clone();
                let amt = (pd.amount * percent / 100).max(1);
                let currency = self.m.accs[pd.from].currency;
                let key = self.key();
                let r = self
                    .bank
                    .money()
                    .post_pending(&actor(who), pd.id, Some(money(currency, amt)), key)
                    .await;
                assert_answer(&r, self.m.predict_resolve(who, k, Some(amt)), "post");
                if let Ok(t) = r {
                    assert_eq!(t.amount, money(currency, amt));
                    self.m.apply_resolve(k, Some(amt));
                }
            }
            Op::Void { who, p } => {
                if self.m.pendings.is_empty() {
                    return;
                }
                let k = (p % self.m.pendings.len() as u64) as usize;
                let who = self.m.resolve(who, self.m.pendings[k].from);
                let (id, key) = (self.m.pendings[k].id, self.key());
                let r = self.bank.money().void_pending(&actor(who), id, key).await;
                assert_answer(&r, self.m.predict_resolve(who, k, None), "void");
                if let Ok(t) = r {
                    assert_eq!(t.status, TransactionStatus::Voided);
                    self.m.apply_resolve(k, None);
                }
            }
            Op::Advance { minutes } => {
                self.clock.advance(Duration::minutes(minutes));
                self.m.now_min += minutes;
                let expired = self
                    .bank
                    .maintenance()
                    .expire_holds()
                    .await
                    .expect("expire holds");
                assert_eq!(expired, self.m.expire(), "holds expired");
            }
            Op::Reverse { t } => {
                if self.m.done.is_empty() {
                    return;
                }
                let k = (t % self.m.done.len() as u64) as usize;
                let (id, key) = (self.m.done[k].id, self.key());
                let r = self
                    .bank
                    .money()
                    .reverse(&Actor::system(), id, "model reversal", key)
                    .await;
                assert_answer(&r, self.m.predict_reverse(k), "reverse");
                if let Ok(t) = r {
                    assert_eq!(t.status, TransactionStatus::Reversed);
                    self.m.apply_reverse(k);
                }
            }
            Op::Freeze { who, a } => {
                let Some(i) = self.pick(a) else { return };
                let who = self.m.resolve(who, i);
                let id = self.m.accs[i].id;
                let frozen = self.m.accs[i].status == Status::Frozen;
                let r = if frozen {
                    self.bank.money().unfreeze_account(&actor(who), id).await
                } else {
                    self.bank.money().freeze_account(&actor(who), id).await
                };
                assert_answer(&r, self.m.predict_freeze(who, i), "freeze");
                if r.is_ok() {
                    self.m.accs[i].status = if frozen {
                        Status::Active
                    } else {
                        Status::Frozen
                    };
                }
            }
            Op::Close { who, a, drain } => {
                let Some(i) = self.pick(a) else { return };
                let who = self.m.resolve(who, i);
                let acc = self.m.accs[i].clone();
                if drain && acc.held == 0 && acc.balance != 0 {
                    // Bring the balance to zero first, through the model-checked bookings.
                    self.booking(Who::System, i, acc.balance.abs(), acc.balance < 0)
                        .await;
                }
                let r = self.bank.money().close_account(&actor(who), acc.id).await;
                assert_answer(&r, self.m.predict_close(who, i), "close");
                if r.is_ok() {
                    self.m.accs[i].status = Status::Closed;
                }
            }
            Op::Batch { who, legs } => self.batch(who, legs).await,
            Op::Submit { who, legs } => self.submit(who, legs).await,
            Op::Replay { k } => {
                if self.replays.is_empty() {
                    return;
                }
                let (who, req, first) =
                    self.replays[(k % self.replays.len() as u64) as usize].clone();
                assert_eq!(
                    self.bank.money().transfer(&actor(who), req).await,
                    first,
                    "replay must be identical"
                );
            }
        }
    }

    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        t0() + Duration::minutes(self.m.now_min)
    }

    async fn open(
        &mut self,
        owner: u128,
        currency: Currency,
        savings: bool,
        overdraft: i128,
        daily: Option<i128>,
    ) {
        if self.m.accs.len() >= ACCOUNTS_MAX {
            return;
        }
        let overdraft = if savings { 0 } else { overdraft };
        let req = OpenAccountRequest {
            customer_id: CustomerId(Uuid::from_u128(owner)),
            account_type: if savings {
                AccountType::Savings
            } else {
                AccountType::Checking
            },
            currency,
            overdraft_limit: Some(decimal(currency, overdraft)),
            daily_limit: daily.map(|d| decimal(currency, d)),
        };
        let a = self
            .bank
            .money()
            .open_account(&Actor::system(), req)
            .await
            .expect("open account");
        let daily_day = self.m.today();
        self.m.accs.push(MAcc {
            id: a.id,
            owner,
            currency,
            balance: 0,
            held: 0,
            overdraft,
            daily_limit: daily,
            daily_day,
            daily_total: 0,
            status: Status::Active,
        });
    }

    async fn booking(&mut self, who: Who, i: usize, amt: i128, deposit: bool) {
        let a = &self.m.accs[i];
        let req = BookingRequest {
            account_id: a.id,
            amount: money(a.currency, amt),
            description: None,
            idempotency_key: self.key(),
        };
        let r = if deposit {
            self.bank.money().deposit(&actor(who), req).await
        } else {
            self.bank.money().withdraw(&actor(who), req).await
        };
        assert_answer(&r, self.m.predict_booking(who, i, amt, deposit), "booking");
        if let Ok(t) = r {
            self.m.apply_booking(i, amt, deposit);
            self.m.acknowledged.push(t.id);
        }
    }

    /// A linked batch: all legs or none; the first refused leg names the error
    /// (a business refusal inside a batch answers `invalid_state`).
    async fn batch(&mut self, who: Who, legs: Vec<(u64, u64, u64)>) {
        let Some(first) = legs.first().and_then(|l| self.pick(l.0)) else {
            return;
        };
        let who = self.m.resolve(who, first);
        if self.m.accs.len() < 2 {
            return;
        }
        let n = self.m.accs.len() as u64;
        let mut sim = Model {
            accs: self.m.accs.clone(),
            now_min: self.m.now_min,
            ..Model::default()
        };
        let mut pred = Pred::Ok;
        let (mut items, mut booked) = (Vec::new(), Vec::new());
        for (a, b, pick) in legs {
            let (i, mut j) = ((a % n) as usize, (b % n) as usize);
            if i == j {
                j = (j + 1) % n as usize;
            }
            let amt = amount(pick, sim.accs[i].currency);
            items.push(self.request(i, Some(j), amt).item);
            booked.push((i, j, amt));
            if pred == Pred::Ok {
                pred = match sim.predict_transfer(who, i, Some(j), amt, false) {
                    Pred::Recorded(_) => Pred::Err("invalid_state"),
                    p => p,
                };
                if pred == Pred::Ok {
                    sim.apply_transfer(i, Some(j), amt, false);
                }
            }
        }
        let key = self.key();
        let r = self
            .bank
            .money()
            .transfer_batch(&actor(who), items, key, RequestContext::default())
            .await;
        assert_answer(&r, pred, "batch");
        if let Ok(txns) = r {
            assert_eq!(txns.len(), booked.len());
            self.m.accs = sim.accs;
            for (t, (from, to, amt)) in txns.iter().zip(booked) {
                self.m.done.push(MDone {
                    id: t.id,
                    from,
                    to: Some(to),
                    amount: amt,
                    reversed: false,
                });
                self.m.acknowledged.push(t.id);
            }
        }
    }

    /// Independent transfers in one call; each is judged against the state the ones before
    /// it left.
    async fn submit(&mut self, who: Who, legs: Vec<(u64, u64, u64)>) {
        let Some(first) = legs.first().and_then(|l| self.pick(l.0)) else {
            return;
        };
        let who = self.m.resolve(who, first);
        let mut picked = Vec::new();
        for (a, b, pick) in legs {
            let (Some(i), Some(j)) = (self.pick(a), self.pick(b)) else {
                return;
            };
            let amt = amount(pick, self.m.accs[i].currency);
            let req = self.request(i, Some(j), amt);
            picked.push((i, j, amt, req));
        }
        let reqs = picked.iter().map(|p| p.3.clone()).collect();
        let results = self
            .bank
            .money()
            .submit_transfers(&actor(who), reqs)
            .await
            .expect("submit");
        assert_eq!(results.len(), picked.len());
        for ((i, j, amt, req), r) in picked.into_iter().zip(results) {
            self.judge(who, i, Some(j), amt, req, r);
        }
    }

    /// Engine and model agree on every account, the ledger verifies, totals match.
    async fn check(&self) {
        let sys = Actor::system();
        let report = self
            .bank
            .money()
            .verify_ledger()
            .await
            .expect("ledger invariants");
        let engine_totals: Vec<_> = report
            .customer_totals
            .into_iter()
            .filter(|(_, t)| !t.is_zero())
            .collect();
        assert_eq!(
            engine_totals,
            self.m.totals(),
            "customer money per currency"
        );
        let today = (t0() + Duration::minutes(self.m.now_min)).date_naive();
        // One read for every account (the model has at most ACCOUNTS_MAX): one round trip
        // per step instead of one per account keeps the SQL stores' runs short.
        let listed = self
            .bank
            .money()
            .list_accounts(&sys, None, ACCOUNTS_MAX as u32)
            .await
            .expect("list accounts");
        assert_eq!(listed.len(), self.m.accs.len(), "accounts");
        for a in &self.m.accs {
            let acc = listed
                .iter()
                .find(|x| x.id == a.id)
                .expect("a model account");
            acc.assert_invariants().expect("account invariants");
            assert_eq!(
                acc.balance,
                decimal(a.currency, a.balance),
                "balance of {}",
                a.id
            );
            assert_eq!(acc.held, decimal(a.currency, a.held), "held of {}", a.id);
            let used = decimal(a.currency, a.used_on(self.m.today()));
            assert_eq!(acc.daily_out_used(today), used, "daily use of {}", a.id);
            let status = match a.status {
                Status::Active => AccountStatus::Active,
                Status::Frozen => AccountStatus::Frozen,
                Status::Closed => AccountStatus::Closed,
            };
            assert_eq!(acc.status, status, "status of {}", a.id);
        }
    }
}

/// Runs one case: `ops` operations drawn from `seed` on a fresh engine over `store`, checking
/// after each. Returns the number of operations run.
async fn run_case(store: Arc<dyn Store>, seed: u64, ops: usize) -> usize {
    let clock = Arc::new(ManualClock::new(t0()));
    let bank = Bank::builder(store)
        .clock(clock.clone())
        .ids(Arc::new(SequentialIds::new(seed)))
        .config(BankConfig {
            verify_balances_on_write: true,
            group_commit: Some(true),
            ..BankConfig::default()
        })
        .build();
    let mut run = Run {
        bank,
        clock,
        m: Model::default(),
        keys: 0,
        replays: Vec::new(),
        timing: Default::default(),
    };
    let mut rng = Rng(seed | 1);
    for n in 0..ops {
        let op = draw(&mut rng, n < OPENING_ACCOUNTS);
        println!("model op {n}: {op:?}");
        let started = std::time::Instant::now();
        run.step(op).await;
        let stepped = std::time::Instant::now();
        run.check().await;
        run.timing.0 += stepped - started;
        run.timing.1 += stepped.elapsed();
    }
    let acknowledged: std::collections::HashSet<TransactionId> =
        run.m.acknowledged.iter().copied().collect();
    for t in acknowledged {
        run.bank
            .money()
            .transaction(&Actor::system(), t)
            .await
            .expect("nothing acknowledged is missing");
    }
    let (ops_time, checks_time) = run.timing;
    println!("model case {seed}: {ops} operations in {ops_time:?}, checks in {checks_time:?}");
    ops
}

/// Runs `cases` cases of `ops` operations each, a fresh store per case; returns the total
/// number of operations. `BANKFLOW_MODEL_SEED` runs that one seed only. A failing case
/// prints its seed and `repro` (the cargo command that runs this test) before panicking.
pub async fn run_model(factory: &dyn StoreFactory, cases: usize, ops: usize, repro: &str) -> usize {
    let seeds: Vec<u64> = match std::env::var("BANKFLOW_MODEL_SEED") {
        Ok(s) => vec![s.trim().parse().expect("BANKFLOW_MODEL_SEED is a u64")],
        Err(_) => {
            let base = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let mut rng = Rng(base | 1);
            (0..cases).map(|_| rng.next()).collect()
        }
    };
    let mut total = 0;
    for seed in seeds {
        let store = factory.fresh().await;
        let case = std::panic::AssertUnwindSafe(run_case(store, seed, ops));
        match case.catch_unwind().await {
            Ok(n) => total += n,
            Err(panic) => {
                eprintln!("model: the case with seed {seed} failed; reproduce with:\n  BANKFLOW_MODEL_SEED={seed} {repro}");
                std::panic::resume_unwind(panic);
            }
        }
    }
    if let Ok(t) = TALLY.lock() {
        println!("model answers by code: {t:?}");
    }
    total
}
