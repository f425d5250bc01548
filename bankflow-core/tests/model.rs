//! Model-based property test: random sequences of every money operation run against the
//! engine (in-memory store) and against a tiny reference model of integer cents. After every
//! step: the ledger verifies (postings sum to zero per currency, balances equal posting sums,
//! held equals active holds, available ≥ −overdraft), engine balances equal the model's,
//! replays return the first result, and every acknowledged transaction is still there.
//!
//! 64 cases × 160–200 operations ≥ 10,000 operations per run.

use std::collections::HashMap;
use std::sync::Arc;

use bankflow_core::testkit::test_bank;
use bankflow_core::{
    AccountId, AccountType, Actor, Bank, BankError, BookingRequest, Currency, CustomerId,
    Destination, IdempotencyKey, ManualClock, MemoryStore, Money, OpenAccountRequest,
    RequestContext, Transaction, TransactionId, TransactionStatus, TransferItem, TransferRequest,
};
use chrono::Duration;
use proptest::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Clone, Debug)]
enum Op {
    Open {
        savings: bool,
        overdraft_cents: i64,
    },
    Deposit {
        a: u8,
        cents: i64,
    },
    Withdraw {
        a: u8,
        cents: i64,
    },
    Transfer {
        a: u8,
        b: u8,
        cents: i64,
    },
    Pending {
        a: u8,
        b: u8,
        cents: i64,
        ttl_min: i64,
    },
    Post {
        p: u8,
        percent: u8,
    },
    Void {
        p: u8,
    },
    Advance {
        minutes: i64,
    },
    Reverse {
        t: u8,
    },
    Freeze {
        a: u8,
    },
    Batch {
        legs: Vec<(u8, u8, i64)>,
    },
    Replay {
        k: u8,
    },
    /// Independent transfers in one commit (`Bank::submit_transfers`).
    Submit {
        legs: Vec<(u8, u8, i64)>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let cents = 1i64..20_000;
    prop_oneof![
        1 => (any::<bool>(), prop_oneof![Just(0i64), 1i64..5_000]).prop_map(|(savings, overdraft_cents)| Op::Open { savings, overdraft_cents }),
        3 => (any::<u8>(), cents.clone()).prop_map(|(a, cents)| Op::Deposit { a, cents }),
        1 => (any::<u8>(), cents.clone()).prop_map(|(a, cents)| Op::Withdraw { a, cents }),
        6 => (any::<u8>(), any::<u8>(), cents.clone()).prop_map(|(a, b, cents)| Op::Transfer { a, b, cents }),
        2 => (any::<u8>(), any::<u8>(), cents.clone(), 1i64..120).prop_map(|(a, b, cents, ttl_min)| Op::Pending { a, b, cents, ttl_min }),
        2 => (any::<u8>(), 1u8..=100).prop_map(|(p, percent)| Op::Post { p, percent }),
        1 => any::<u8>().prop_map(|p| Op::Void { p }),
        1 => (1i64..90).prop_map(|minutes| Op::Advance { minutes }),
        1 => any::<u8>().prop_map(|t| Op::Reverse { t }),
        1 => any::<u8>().prop_map(|a| Op::Freeze { a }),
        1 => prop::collection::vec((any::<u8>(), any::<u8>(), 1i64..8_000), 1..4).prop_map(|legs| Op::Batch { legs }),
        2 => any::<u8>().prop_map(|k| Op::Replay { k }),
        1 => prop::collection::vec((any::<u8>(), any::<u8>(), 1i64..8_000), 1..6).prop_map(|legs| Op::Submit { legs }),
    ]
}

#[derive(Clone, Debug)]
struct MAcc {
    id: AccountId,
    balance: i64,
    held: i64,
    overdraft: i64,
    frozen: bool,
}

#[derive(Clone, Debug)]
struct MPending {
    id: TransactionId,
    from: usize,
    to: usize,
    cents: i64,
    expires_min: i64,
    open: bool,
}

#[derive(Default)]
struct Model {
    accs: Vec<MAcc>,
    pendings: Vec<MPending>,
    /// Completed transfers: (txn, from, to, cents, reversed).
    done: Vec<(TransactionId, usize, usize, i64, bool)>,
    now_min: i64,
    /// Key → (request, first result) for replays.
    keys: Vec<(TransferRequest, Result<Transaction, BankError>)>,
    acknowledged: Vec<TransactionId>,
    n: u64,
}

fn usd(cents: i64) -> Money {
    Money::from_minor(cents, Currency::USD).unwrap()
}

impl Model {
    /// Applies one transfer's result to the model, checking it is the one the model expects.
    fn check_transfer(
        &mut self,
        i: usize,
        j: usize,
        cents: i64,
        req: TransferRequest,
        r: Result<Transaction, BankError>,
    ) {
        let m = self;
        if i == j {
            assert_eq!(r.unwrap_err().code(), "validation_error");
            return;
        }
        let expect = if m.accs[i].frozen || m.accs[j].frozen {
            Some("account_frozen")
        } else if cents > m.spendable(i) {
            Some("insufficient_funds")
        } else {
            None
        };
        match (&r, expect) {
            (Ok(t), None) => {
                m.accs[i].balance -= cents;
                m.accs[j].balance += cents;
                m.done.push((t.id, i, j, cents, false));
                m.acknowledged.push(t.id);
            }
            (Err(e), Some(code)) => assert_eq!(e.code(), code),
            other => panic!("engine and model disagree: {other:?}"),
        }
        m.keys.push((req, r));
    }

    fn key(&mut self) -> IdempotencyKey {
        self.n += 1;
        IdempotencyKey::parse(&format!("k{}", self.n)).unwrap()
    }
    /// A transfer of `cents` from account `i` to account `j` under a fresh key.
    fn transfer_request(&mut self, i: usize, j: usize, cents: i64) -> TransferRequest {
        TransferRequest {
            item: TransferItem {
                from_account_id: self.accs[i].id,
                to: Destination::Account(self.accs[j].id),
                amount: usd(cents),
                description: None,
            },
            idempotency_key: self.key(),
            context: RequestContext::default(),
        }
    }
    fn pick(&self, i: u8) -> Option<usize> {
        (!self.accs.is_empty()).then(|| i as usize % self.accs.len())
    }
    fn spendable(&self, i: usize) -> i64 {
        self.accs[i].balance - self.accs[i].held + self.accs[i].overdraft
    }
}

async fn step(bank: &Bank, clock: &ManualClock, m: &mut Model, op: Op) {
    let sys = Actor::system();
    match op {
        Op::Open {
            savings,
            overdraft_cents,
        } => {
            if m.accs.len() >= 8 {
                return;
            }
            let overdraft = if savings { 0 } else { overdraft_cents };
            let a = bank
                .money()
                .open_account(
                    &sys,
                    OpenAccountRequest {
                        customer_id: CustomerId(Uuid::from_u128(m.accs.len() as u128 + 1)),
                        account_type: if savings {
                            AccountType::Savings
                        } else {
                            AccountType::Checking
                        },
                        currency: Currency::USD,
                        overdraft_limit: Some(usd(overdraft).amount()),
                        daily_limit: None,
                    },
                )
                .await
                .unwrap();
            m.accs.push(MAcc {
                id: a.id,
                balance: 0,
                held: 0,
                overdraft,
                frozen: false,
            });
        }
        Op::Deposit { a, cents } | Op::Withdraw { a, cents } => {
            let Some(i) = m.pick(a) else { return };
            let deposit = matches!(op, Op::Deposit { .. });
            let req = BookingRequest {
                account_id: m.accs[i].id,
                amount: usd(cents),
                description: None,
                idempotency_key: m.key(),
            };
            let r = if deposit {
                bank.money().deposit(&sys, req).await
            } else {
                bank.money().withdraw(&sys, req).await
            };
            let expect_ok = !m.accs[i].frozen && (deposit || cents <= m.spendable(i));
            match r {
                Ok(t) => {
                    assert!(expect_ok, "engine accepted what the model refuses");
                    m.accs[i].balance += if deposit { cents } else { -cents };
                    m.acknowledged.push(t.id);
                }
                Err(e) => {
                    assert!(!expect_ok, "engine refused {e:?}");
                    let code = if m.accs[i].frozen {
                        "account_frozen"
                    } else {
                        "insufficient_funds"
                    };
                    assert_eq!(e.code(), code);
                }
            }
        }
        Op::Transfer { a, b, cents } => {
            let (Some(i), Some(j)) = (m.pick(a), m.pick(b)) else {
                return;
            };
            let req = m.transfer_request(i, j, cents);
            let r = bank.money().transfer(&sys, req.clone()).await;
            m.check_transfer(i, j, cents, req, r);
        }
        Op::Submit { legs } => {
            let mut picked = Vec::new();
            for (a, b, cents) in legs {
                let (Some(i), Some(j)) = (m.pick(a), m.pick(b)) else {
                    continue;
                };
                let req = m.transfer_request(i, j, cents);
                picked.push((i, j, cents, req));
            }
            if picked.is_empty() {
                return;
            }
            let reqs = picked.iter().map(|p| p.3.clone()).collect();
            let results = bank.money().submit_transfers(&sys, reqs).await.unwrap();
            assert_eq!(results.len(), picked.len());
            // Each transfer is judged against the state the ones before it left.
            for ((i, j, cents, req), r) in picked.into_iter().zip(results) {
                m.check_transfer(i, j, cents, req, r);
            }
        }
        Op::Pending {
            a,
            b,
            cents,
            ttl_min,
        } => {
            let (Some(i), Some(j)) = (m.pick(a), m.pick(b)) else {
                return;
            };
            if i == j {
                return;
            }
            let req = m.transfer_request(i, j, cents);
            let expires = clock_now(clock) + Duration::minutes(ttl_min);
            let r = bank
                .money()
                .transfer_pending(&sys, req, Some(expires))
                .await;
            let ok = !m.accs[i].frozen && !m.accs[j].frozen && cents <= m.spendable(i);
            match r {
                Ok(t) => {
                    assert!(ok);
                    assert_eq!(t.status, TransactionStatus::Pending);
                    m.accs[i].held += cents;
                    m.pendings.push(MPending {
                        id: t.id,
                        from: i,
                        to: j,
                        cents,
                        expires_min: m.now_min + ttl_min,
                        open: true,
                    });
                    m.acknowledged.push(t.id);
                }
                Err(e) => assert!(!ok, "{e:?}"),
            }
        }
        Op::Post { p, percent } => {
            if m.pendings.is_empty() {
                return;
            }
            let k = p as usize % m.pendings.len();
            let pd = m.pendings[k].clone();
            let cents = (pd.cents * i64::from(percent) / 100).max(1);
            let r = bank
                .money()
                .post_pending(&sys, pd.id, Some(usd(cents)), m.key())
                .await;
            let ok = pd.open && !m.accs[pd.from].frozen && !m.accs[pd.to].frozen;
            match r {
                Ok(t) => {
                    assert!(ok, "posted a closed/frozen pending");
                    assert_eq!(t.amount, usd(cents));
                    m.accs[pd.from].held -= pd.cents;
                    m.accs[pd.from].balance -= cents;
                    m.accs[pd.to].balance += cents;
                    m.pendings[k].open = false;
                    m.done.push((pd.id, pd.from, pd.to, cents, false));
                }
                Err(e) => assert!(!ok, "{e:?}"),
            }
        }
        Op::Void { p } => {
            if m.pendings.is_empty() {
                return;
            }
            let k = p as usize % m.pendings.len();
            let pd = m.pendings[k].clone();
            match bank.money().void_pending(&sys, pd.id, m.key()).await {
                Ok(t) => {
                    assert!(pd.open);
                    assert_eq!(t.status, TransactionStatus::Voided);
                    m.accs[pd.from].held -= pd.cents;
                    m.pendings[k].open = false;
                }
                Err(e) => assert!(!pd.open, "{e:?}"),
            }
        }
        Op::Advance { minutes } => {
            clock.advance(Duration::minutes(minutes));
            m.now_min += minutes;
            let expected = m
                .pendings
                .iter()
                .filter(|p| p.open && p.expires_min <= m.now_min)
                .count();
            assert_eq!(bank.maintenance().expire_holds().await.unwrap(), expected);
            for p in m
                .pendings
                .iter_mut()
                .filter(|p| p.open && p.expires_min <= m.now_min)
            {
                p.open = false;
                m.accs[p.from].held -= p.cents;
            }
        }
        Op::Reverse { t } => {
            if m.done.is_empty() {
                return;
            }
            let k = t as usize % m.done.len();
            let (id, from, to, cents, reversed) = m.done[k];
            let r = bank
                .money()
                .reverse(&sys, id, "model reversal", m.key())
                .await;
            let ok = !reversed && cents <= m.spendable(to);
            match r {
                Ok(t) => {
                    assert!(ok, "reversed when the model refuses");
                    assert_eq!(t.status, TransactionStatus::Reversed);
                    m.accs[to].balance -= cents;
                    m.accs[from].balance += cents;
                    m.done[k].4 = true;
                }
                Err(e) => {
                    assert!(!ok, "{e:?}");
                    assert_eq!(
                        e.code(),
                        if reversed {
                            "already_reversed"
                        } else {
                            "insufficient_funds"
                        }
                    );
                }
            }
        }
        Op::Freeze { a } => {
            let Some(i) = m.pick(a) else { return };
            let r = if m.accs[i].frozen {
                bank.money().unfreeze_account(&sys, m.accs[i].id).await
            } else {
                bank.money().freeze_account(&sys, m.accs[i].id).await
            };
            r.unwrap();
            m.accs[i].frozen = !m.accs[i].frozen;
        }
        Op::Batch { legs } => {
            if m.accs.len() < 2 {
                return;
            }
            let mut sim: Vec<MAcc> = m.accs.clone();
            let mut ok = true;
            let mut items = Vec::new();
            for (a, b, cents) in &legs {
                let i = *a as usize % sim.len();
                let mut j = *b as usize % sim.len();
                if i == j {
                    j = (j + 1) % sim.len();
                }
                items.push(TransferItem {
                    from_account_id: sim[i].id,
                    to: Destination::Account(sim[j].id),
                    amount: usd(*cents),
                    description: None,
                });
                if sim[i].frozen
                    || sim[j].frozen
                    || *cents > sim[i].balance - sim[i].held + sim[i].overdraft
                {
                    ok = false;
                } else {
                    sim[i].balance -= cents;
                    sim[j].balance += cents;
                }
            }
            let key = m.key();
            match bank
                .money()
                .transfer_batch(&sys, items, key, RequestContext::default())
                .await
            {
                Ok(txns) => {
                    assert!(ok, "batch accepted when the model refuses");
                    for t in &txns {
                        m.acknowledged.push(t.id);
                    }
                    m.accs = sim;
                }
                Err(e) => assert!(!ok, "{e:?}"),
            }
        }
        Op::Replay { k } => {
            if m.keys.is_empty() {
                return;
            }
            let (req, first) = m.keys[k as usize % m.keys.len()].clone();
            assert_eq!(
                bank.money().transfer(&sys, req).await,
                first,
                "replay must be identical"
            );
        }
    }
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    use bankflow_core::Clock;
    clock.now()
}

async fn check(bank: &Bank, m: &Model) {
    let sys = Actor::system();
    bank.money()
        .verify_ledger()
        .await
        .expect("ledger invariants");
    for a in &m.accs {
        let acc = bank.money().account(&sys, a.id).await.unwrap();
        assert_eq!(acc.balance, usd(a.balance).amount(), "balance of {}", a.id);
        assert_eq!(acc.held, usd(a.held).amount(), "held of {}", a.id);
        assert!(acc.available_balance() >= -acc.overdraft_limit);
    }
    let total: Decimal = m.accs.iter().map(|a| usd(a.balance).amount()).sum();
    let cash = bank
        .money()
        .system_balance(bankflow_core::SystemAccount::Cash, Currency::USD)
        .await
        .unwrap();
    assert_eq!(
        total + cash.amount(),
        Decimal::ZERO,
        "customer money is exactly the cash that came in"
    );
    if let Some(last) = m.acknowledged.last() {
        bank.money()
            .transaction(&sys, *last)
            .await
            .expect("acknowledged transaction present");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn engine_matches_reference_model(ops in prop::collection::vec(op(), 160..200)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let (bank, clock) = test_bank(Arc::new(MemoryStore::new()));
            let mut m = Model::default();
            for op in ops {
                step(&bank, &clock, &mut m, op).await;
                check(&bank, &m).await;
            }
            let all: HashMap<TransactionId, ()> = m.acknowledged.iter().map(|t| (*t, ())).collect();
            for t in all.keys() {
                bank.money().transaction(&Actor::system(), *t).await.expect("nothing acknowledged is missing");
            }
        });
    }
}
