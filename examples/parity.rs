//! The cross-language parity scenario, in Rust. The same script and the same expected values
//! are asserted by `bankflow-py/tests/test_parity.py` and
//! `bankflow-node/__test__/parity.test.mjs`: bindings only translate, so all three must agree.
//!
//! Run: `cargo run -p bankflow-examples --example parity` (exits non-zero on a mismatch).

use std::sync::Arc;

use bankflow_core::{
    AccountType, Actor, Bank, BankResult, BookingRequest, Currency, CustomerId, Destination,
    IdempotencyKey, MemoryStore, Money, OpenAccountRequest, RequestContext, TransferItem,
    TransferRequest,
};

fn usd(s: &str) -> BankResult<Money> {
    Money::parse_positive(s, Currency::USD)
}

fn key(s: &str) -> BankResult<IdempotencyKey> {
    IdempotencyKey::parse(s)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> BankResult<()> {
    let bank = Bank::builder(Arc::new(MemoryStore::new())).build();
    let me = Actor::system();
    let customer = CustomerId(uuid::Uuid::new_v4());
    let open = || OpenAccountRequest {
        customer_id: customer,
        account_type: AccountType::Checking,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    let a = bank.money().open_account(&me, open()).await?;
    let b = bank.money().open_account(&me, open()).await?;
    let deposit = BookingRequest {
        account_id: a.id,
        amount: usd("100.00")?,
        description: Some("opening deposit".into()),
        idempotency_key: key("parity-deposit")?,
    };
    bank.money().deposit(&me, deposit).await?;
    let transfer = |amount: &str, description: &str, k: &str| -> BankResult<TransferRequest> {
        Ok(TransferRequest {
            item: TransferItem {
                from_account_id: a.id,
                to: Destination::Account(b.id),
                amount: usd(amount)?,
                description: Some(description.into()),
            },
            idempotency_key: key(k)?,
            context: RequestContext::default(),
        })
    };
    let t1 = bank
        .money()
        .transfer(&me, transfer("30.25", "rent share", "parity-transfer")?)
        .await?;
    let hold = bank
        .money()
        .transfer_pending(&me, transfer("10.00", "card hold", "parity-hold")?, None)
        .await?;
    bank.money()
        .post_pending(&me, hold.id, Some(usd("7.50")?), key("parity-post")?)
        .await?;
    bank.money()
        .reverse(&me, t1.id, "customer dispute", key("parity-reversal")?)
        .await?;

    // The day around now: a statement "for the day" that cannot straddle midnight UTC.
    let today = bank.clock().now().date_naive();
    let (from, to) = (
        today.pred_opt().unwrap_or(today),
        today.succ_opt().unwrap_or(today),
    );
    let s = bank.money().statement(&me, a.id, from, to).await?;

    let lines: Vec<(String, String, String)> = s
        .entries
        .iter()
        .map(|l| {
            (
                l.description.clone().unwrap_or_default(),
                l.amount.amount().to_string(),
                l.balance_after.amount().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("opening deposit".to_string(), "100.00", "100.00"),
        ("rent share".to_string(), "-30.25", "69.75"),
        ("card hold".to_string(), "-7.50", "62.25"),
        (
            format!("Reversal of {}: customer dispute", t1.transaction_ref),
            "30.25",
            "92.50",
        ),
    ]
    .into_iter()
    .map(|(d, m, b)| (d, m.to_string(), b.to_string()))
    .collect();
    assert_eq!(lines, expected, "statement lines");
    assert_eq!(
        (
            s.opening_balance.amount().to_string(),
            s.closing_balance.amount().to_string()
        ),
        ("0.00".to_string(), "92.50".to_string())
    );
    let (ba, bb) = (
        bank.money().balance(&me, a.id).await?,
        bank.money().balance(&me, b.id).await?,
    );
    assert_eq!(
        (
            ba.balance.amount().to_string(),
            ba.available_balance.amount().to_string()
        ),
        ("92.50".into(), "92.50".into())
    );
    assert_eq!(
        (
            bb.balance.amount().to_string(),
            bb.available_balance.amount().to_string()
        ),
        ("7.50".into(), "7.50".into())
    );
    assert_eq!(
        bank.money().transaction(&me, t1.id).await?.status.as_str(),
        "REVERSED"
    );
    let totals = bank.money().verify_ledger().await?.customer_totals;
    assert_eq!(totals.len(), 1);
    assert_eq!(
        (totals[0].0, totals[0].1.to_string()),
        (Currency::USD, "100.00".to_string())
    );

    for (d, m, b) in &lines {
        println!("{d:<60} {m:>8} {b:>8}");
    }
    println!("parity: 1 passed, 0 failed");
    Ok(())
}
