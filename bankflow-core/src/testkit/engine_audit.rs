//! Audit through the `Bank` facade on any store: admin actions recorded in the same
//! unit of work as the change, the hash chain, and detection of tampered or deleted entries.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::audit::GENESIS_HASH;
use crate::ports::Store;
use crate::*;
use rust_decimal::Decimal;

use super::engine::open;
use super::engine_ctx::{bank_on, refusal_code, WithAdmin};
use super::fixtures::key;

type T = WithAdmin;

async fn setup(store: Arc<dyn Store>) -> T {
    WithAdmin::new(bank_on(store), "auditor@bank.example").await
}

async fn account(t: &T, c: u128) -> AccountId {
    open(&t.bank, c, AccountType::Checking).await.id
}

pub async fn admin_actions_are_recorded_and_chained(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let a = account(&t, 1).await;
    let b = account(&t, 2).await;
    let usd = |s: &str| Money::parse(s, Currency::USD).unwrap();
    t.bank
        .money()
        .deposit(
            &t.admin,
            BookingRequest {
                account_id: a,
                amount: usd("50.00"),
                description: None,
                idempotency_key: key("d"),
            },
        )
        .await
        .unwrap();
    let item = TransferItem {
        from_account_id: a,
        to: Destination::Account(b),
        amount: usd("20.00"),
        description: None,
    };
    let txn = t
        .bank
        .money()
        .transfer(
            &t.admin,
            TransferRequest {
                item,
                idempotency_key: key("t"),
                context: RequestContext::default(),
            },
        )
        .await
        .unwrap();
    t.bank.money().freeze_account(&t.admin, b).await.unwrap();
    // A refused admin action leaves no entry (same unit of work).
    assert!(t.bank.money().freeze_account(&t.admin, b).await.is_err());
    t.bank.money().unfreeze_account(&t.admin, b).await.unwrap();
    t.bank
        .money()
        .set_limits(&t.admin, a, Decimal::ZERO, Some(Decimal::from(1000)))
        .await
        .unwrap();
    t.bank
        .money()
        .reverse(&t.admin, txn.id, "customer dispute", key("r"))
        .await
        .unwrap();

    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "auth.admin_bootstrap",
            "transaction.booking",
            // Staff money movement is audited like every staff action (finding 1).
            "transaction.transfer",
            "account.freeze",
            "account.unfreeze",
            "account.set_limits",
            "transaction.reverse"
        ]
    );
    let reverse = log.last().unwrap();
    assert_eq!(reverse.actor, format!("user:{}", t.admin.user_id.unwrap()));
    assert_eq!(reverse.target_type, "transaction");
    assert_eq!(
        reverse.target_id.as_deref(),
        Some(txn.id.to_string().as_str())
    );
    assert_eq!(reverse.outcome, AuditOutcome::Success);
    assert_eq!(reverse.detail["reason"], "customer dispute");
    // Gap-free sequence, each entry linked to the previous one's hash.
    assert_eq!(log[0].prev_hash, GENESIS_HASH);
    for (i, w) in log.windows(2).enumerate() {
        assert_eq!(w[1].seq, w[0].seq + 1, "at {i}");
        assert_eq!(w[1].prev_hash, w[0].hash);
        assert!(w[1].hash.starts_with("v2:"), "keyed hash");
    }
    // Paging by seq.
    let page = t
        .bank
        .audit()
        .audit_log(&t.admin, Some(log[2].seq), 2)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![log[3].seq, log[4].seq]
    );
    assert_eq!(
        refusal_code(t.bank.audit().audit_log(&t.admin, None, 0).await),
        "validation_error"
    );
    let v = t.bank.audit().verify_audit().await.unwrap();
    assert_eq!((v.entries_checked, v.first_tampered_seq), (7, None));
}

pub async fn admin_actions_record_the_adapters_request_context(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let a = account(&t, 1).await;
    let ctx = RequestContext {
        ip: Some("198.51.100.23".into()),
        user_agent: Some("admin-console/2.1".into()),
        ..Default::default()
    };
    crate::audit::with_request_context(ctx, t.bank.money().freeze_account(&t.admin, a))
        .await
        .unwrap();
    t.bank.money().unfreeze_account(&t.admin, a).await.unwrap();
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    let freeze = log.iter().find(|e| e.action == "account.freeze").unwrap();
    assert_eq!(freeze.ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(freeze.user_agent.as_deref(), Some("admin-console/2.1"));
    let unfreeze = log.iter().find(|e| e.action == "account.unfreeze").unwrap();
    assert_eq!(unfreeze.ip, None, "the context does not outlive its future");
    assert_eq!(
        t.bank
            .audit()
            .verify_audit()
            .await
            .unwrap()
            .first_tampered_seq,
        None
    );
}

pub async fn concurrent_admin_actions_keep_one_unbroken_chain(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let mut ids = Vec::new();
    for c in 0..8 {
        ids.push(account(&t, 10 + c).await);
    }
    let mut jobs = Vec::new();
    for id in ids {
        let bank = t.bank.clone();
        let admin = t.admin.clone();
        jobs.push(tokio::spawn(async move {
            for _ in 0..5 {
                bank.money().freeze_account(&admin, id).await.unwrap();
                bank.money().unfreeze_account(&admin, id).await.unwrap();
            }
        }));
    }
    for j in jobs {
        j.await.unwrap();
    }
    let v = t.bank.audit().verify_audit().await.unwrap();
    assert_eq!(
        (v.entries_checked, v.first_tampered_seq),
        (1 + 8 * 10, None)
    );
}
