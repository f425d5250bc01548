//! Issue #16 finding 8: the audit chain is keyed (the database holds no key) and its head is
//! anchored outside the table, so an insider with write access to the database can neither
//! edit an entry unnoticed nor delete the newest ones.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use serde_json::json;

use super::ctx_fixtures::audit_entry;
use super::engine::open;
use super::engine_ctx::{start, Ctx, WithAdmin};
use super::tamper::{tamper_audit, AuditTamper};
use crate::audit::{AuditAnchor, AuditCheckpoint, AuditFault, MemoryAuditAnchor, GENESIS_HASH};
use crate::ports::{Store, TxMode};
use crate::*;

/// An engine with an admin whose audit anchor the case can read and forge.
async fn anchored(store: Arc<dyn Store>) -> (WithAdmin, Arc<MemoryAuditAnchor>) {
    let anchor = Arc::new(MemoryAuditAnchor::default());
    let keys = Arc::new(StaticKeyRing::ephemeral().unwrap());
    (
        engine(store, anchor.clone(), keys, "auditor@bank.example").await,
        anchor,
    )
}

/// An engine over `store` with `anchor` and `keys` (a restart keeps both), and its admin.
async fn engine(
    store: Arc<dyn Store>,
    anchor: Arc<MemoryAuditAnchor>,
    keys: Arc<StaticKeyRing>,
    admin: &str,
) -> WithAdmin {
    let clock = Arc::new(ManualClock::new(start()));
    let notifier = Arc::new(MemoryNotifier::default());
    let sink = Arc::new(MemorySink::default());
    let bank = Bank::builder(store.clone())
        .clock(clock.clone())
        .notifier(notifier.clone())
        .sink(sink.clone())
        .audit_anchor(anchor)
        .keys(keys)
        .build();
    let ctx = Ctx {
        bank,
        store,
        clock,
        notifier,
        sink,
    };
    WithAdmin::new(ctx, admin).await
}

/// `rounds` freeze/unfreeze pairs on a new account: two audited admin actions each.
async fn admin_actions(t: &WithAdmin, customer: u128, rounds: usize) {
    let a = open(&t.bank, customer, AccountType::Checking).await.id;
    for _ in 0..rounds {
        t.bank.money().freeze_account(&t.admin, a).await.unwrap();
        t.bank.money().unfreeze_account(&t.admin, a).await.unwrap();
    }
}

async fn last_seq(t: &WithAdmin) -> i64 {
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    log.last().map_or(0, |e| e.seq)
}

async fn verify(t: &WithAdmin) -> AuditVerification {
    t.bank.audit().verify_audit().await.unwrap()
}

pub async fn finding_8_deleting_the_newest_audit_entries_is_reported_missing(
    store: Arc<dyn Store>,
) {
    let (t, anchor) = anchored(store.clone()).await;
    admin_actions(&t, 1, 3).await;
    let n = last_seq(&t).await;
    let v = verify(&t).await;
    assert!(v.valid, "{v:?}");
    assert_eq!((v.fault, v.anchored_seq), (None, Some(n)));
    assert_eq!(
        anchor.load().await.unwrap().unwrap().seq,
        n,
        "anchored after commit"
    );
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    assert!(
        log.iter().all(|e| e.hash.starts_with("v2:")),
        "keyed: {log:?}"
    );

    // The insider removes the last two entries (and any separate chain head with them).
    tamper_audit(&store, AuditTamper::TruncateFrom(n - 1)).await;
    let v = verify(&t).await;
    assert_eq!(
        (v.valid, v.fault, v.first_tampered_seq, v.anchored_seq),
        (false, Some(AuditFault::Missing), Some(n - 1), Some(n)),
        "{v:?}"
    );

    // New entries fill the hole and grow past the old head: still not valid, and the
    // anchor is not moved over the evidence.
    admin_actions(&t, 2, 3).await;
    let v = verify(&t).await;
    assert!(!v.valid, "{v:?}");
    assert_eq!(v.first_tampered_seq, Some(n), "{v:?}");
    assert_eq!(anchor.load().await.unwrap().unwrap().seq, n);
}

pub async fn finding_8_an_entry_altered_without_the_key_is_reported_altered(store: Arc<dyn Store>) {
    let (t, _anchor) = anchored(store.clone()).await;
    admin_actions(&t, 1, 2).await;
    assert!(verify(&t).await.valid);
    tamper_audit(
        &store,
        AuditTamper::SetDetail(2, json!({"reason": "nothing to see"})),
    )
    .await;
    let v = verify(&t).await;
    assert_eq!(
        (v.valid, v.fault, v.first_tampered_seq),
        (false, Some(AuditFault::Altered), Some(2)),
        "{v:?}"
    );
}

pub async fn finding_8_a_forged_anchor_is_reported_anchor_invalid(store: Arc<dyn Store>) {
    let (t, anchor) = anchored(store.clone()).await;
    admin_actions(&t, 1, 2).await;
    let real = anchor.load().await.unwrap().unwrap();
    // After truncating, the insider moves the anchor back to the new end: without the key
    // its MAC cannot be made.
    tamper_audit(&store, AuditTamper::TruncateFrom(real.seq)).await;
    let forged = AuditCheckpoint::signed(
        real.seq - 1,
        "forged".into(),
        real.at,
        &real.key_id,
        &[0u8; 32],
    );
    anchor.store(&forged).await.unwrap();
    let v = verify(&t).await;
    assert_eq!(
        (v.valid, v.fault, v.anchored_seq),
        (false, Some(AuditFault::AnchorInvalid), Some(real.seq - 1)),
        "{v:?}"
    );
}

pub async fn finding_8_unkeyed_entries_of_an_existing_log_still_verify(store: Arc<dyn Store>) {
    // A log written before keyed hashes: plain SHA-256 entries.
    let mut u = store.begin(TxMode::Write).await.unwrap();
    let e1 = audit_entry(1, GENESIS_HASH);
    let e2 = audit_entry(2, &e1.hash);
    u.append_audit(&e1).await.unwrap();
    u.append_audit(&e2).await.unwrap();
    u.commit().await.unwrap();
    let (t, _anchor) = anchored(store).await;
    admin_actions(&t, 1, 1).await;
    let v = verify(&t).await;
    assert!(v.valid, "{v:?}");
    assert!(v.entries_checked > 2);
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    assert!(!log[0].hash.starts_with("v2:") && log[2].hash.starts_with("v2:"));
}

pub async fn finding_8_a_restarted_engine_continues_the_stored_anchor(store: Arc<dyn Store>) {
    let anchor = Arc::new(MemoryAuditAnchor::default());
    let keys = Arc::new(StaticKeyRing::ephemeral().unwrap());
    let first = engine(
        store.clone(),
        anchor.clone(),
        keys.clone(),
        "a1@bank.example",
    )
    .await;
    admin_actions(&first, 1, 1).await;
    let n = last_seq(&first).await;
    drop(first);
    // Restarted with the same keys and anchor (the admin signs in again): the anchor is
    // checked once and moves on.
    let second = engine(
        store.clone(),
        anchor.clone(),
        keys.clone(),
        "a1@bank.example",
    )
    .await;
    admin_actions(&second, 2, 1).await;
    let m = last_seq(&second).await;
    assert!(m > n);
    let v = verify(&second).await;
    assert_eq!((v.valid, v.anchored_seq), (true, Some(m)), "{v:?}");
    drop(second);
    // Truncated while it was down: a restarted engine keeps the anchor as evidence.
    tamper_audit(&store, AuditTamper::TruncateFrom(n)).await;
    let third = engine(store, anchor.clone(), keys, "a1@bank.example").await;
    admin_actions(&third, 3, 4).await;
    assert!(last_seq(&third).await > m);
    assert_eq!(
        anchor.load().await.unwrap().unwrap().seq,
        m,
        "not moved over the gap"
    );
    let v = verify(&third).await;
    assert_eq!((v.valid, v.first_tampered_seq), (false, Some(m)), "{v:?}");
}
