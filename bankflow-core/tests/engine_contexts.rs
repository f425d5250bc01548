//! The identity, customer, fraud, notification and audit engine cases
//! (`bankflow_core::testkit::engine_cases`) on the in-memory store, one test per case, and
//! the few cases that need a memory-only facility: fault injection and tampering with the
//! stored audit log (the SQL stores would need raw SQL, which the ports rightly lack).

use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::memory::FaultPoint;
use bankflow_core::testkit::{
    bank_on, profile, refusal_code, register_audit_tamper, register_raw_dump, AuditTamper,
    StoreFactory, WithAdmin,
};
use bankflow_core::*;

/// Fresh memory stores whose whole state is searched by the at-rest checks.
struct Memory;

#[async_trait]
impl StoreFactory for Memory {
    async fn fresh(&self) -> Arc<dyn Store> {
        let memory = MemoryStore::new();
        let store: Arc<dyn Store> = Arc::new(memory.clone());
        let dumped = memory.clone();
        register_raw_dump(
            &store,
            Box::new(move || {
                let memory = dumped.clone();
                Box::pin(async move { memory.inspect(|s| s.debug_dump()).await })
            }),
        );
        register_audit_tamper(
            &store,
            Box::new(move |t| {
                let memory = memory.clone();
                Box::pin(async move {
                    memory
                        .tamper(move |s| {
                            let log = s.audit_log_mut();
                            match t {
                                AuditTamper::TruncateFrom(n) => log.retain(|e| e.seq < n),
                                AuditTamper::SetDetail(seq, d) => {
                                    log.iter_mut().filter(|e| e.seq == seq).for_each(|e| {
                                        e.detail = d.clone();
                                    })
                                }
                            }
                        })
                        .await
                })
            }),
        );
        store
    }
}

bankflow_core::engine_context_tests!(Memory);

/// A bank with an admin over a memory store, and the store (for faults and tampering).
async fn with_admin(email: &str) -> (WithAdmin, MemoryStore) {
    let store = MemoryStore::new();
    let t = WithAdmin::new(bank_on(Arc::new(store.clone())), email).await;
    (t, store)
}

async fn customers() -> (WithAdmin, MemoryStore) {
    with_admin("admin@bank.example").await
}

async fn auditors() -> (WithAdmin, MemoryStore) {
    with_admin("auditor@bank.example").await
}

async fn account(t: &WithAdmin, c: u128) -> AccountId {
    let req = OpenAccountRequest {
        customer_id: CustomerId(uuid::Uuid::from_u128(c)),
        account_type: AccountType::Checking,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    let account = t.bank.money().open_account(&Actor::system(), req).await;
    account.unwrap().id
}

#[tokio::test]
async fn onboarding_saga_compensates_when_the_account_step_fails() {
    let (t, store) = customers().await;
    let me = t.user("saga@example.com").await;
    store.inject_fault(
        FaultPoint::InsertAccount,
        BankError::internal("injected: accounts unavailable"),
    );
    let err = t
        .bank
        .customers()
        .create_customer(&me, None, profile("Saga", Some("123-45-6789")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "internal_error");
    // No half-made customer.
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .customer_of_user(&me, me.user_id.unwrap())
                .await
        ),
        "not_found"
    );
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    let comp = log
        .iter()
        .find(|e| e.action == "customer.onboarding_compensated")
        .expect("compensation audited");
    let cid = CustomerId::parse(comp.target_id.as_deref().unwrap()).unwrap();
    let types = t.event_types(cid.0).await;
    assert_eq!(
        types,
        vec![EventType::CustomerCreated, EventType::AccountCreationFailed]
    );
    assert!(t
        .bank
        .money()
        .accounts_of_customer(&Actor::system(), cid)
        .await
        .unwrap()
        .is_empty());

    // The fault was one-shot: onboarding now succeeds.
    let c = t
        .bank
        .customers()
        .create_customer(&me, None, profile("Saga", None))
        .await
        .unwrap();
    assert!(c.default_account_id.is_some());
    assert_eq!(
        t.bank
            .money()
            .verify_ledger()
            .await
            .unwrap()
            .accounts_checked,
        1
    );
}

#[tokio::test]
async fn verify_finds_the_first_tampered_entry() {
    let (t, store) = auditors().await;
    let a = account(&t, 1).await;
    for _ in 0..3 {
        t.bank.money().freeze_account(&t.admin, a).await.unwrap();
        t.bank.money().unfreeze_account(&t.admin, a).await.unwrap();
    }
    assert_eq!(
        t.bank
            .audit()
            .verify_audit()
            .await
            .unwrap()
            .first_tampered_seq,
        None
    );

    // Edit one field of entry 3 (an insider hiding who unfroze an account).
    store
        .tamper(|s| s.audit_log_mut()[2].actor = "system".into())
        .await;
    let v = t.bank.audit().verify_audit().await.unwrap();
    assert_eq!(v.first_tampered_seq, Some(3));

    // Re-hashing the edited entry does not help: without the audit key only an unkeyed hash
    // can be made, and after a keyed entry that is a forgery (issue #16 finding 8).
    store
        .tamper(|s| {
            let log = s.audit_log_mut();
            log[2].hash = log[2].compute_hash();
        })
        .await;
    assert_eq!(
        t.bank
            .audit()
            .verify_audit()
            .await
            .unwrap()
            .first_tampered_seq,
        Some(3)
    );
}

#[tokio::test]
async fn verify_finds_a_deleted_entry() {
    let (t, store) = auditors().await;
    let a = account(&t, 1).await;
    for _ in 0..2 {
        t.bank.money().freeze_account(&t.admin, a).await.unwrap();
        t.bank.money().unfreeze_account(&t.admin, a).await.unwrap();
    }
    store.tamper(|s| s.audit_log_mut().remove(1)).await;
    assert_eq!(
        t.bank
            .audit()
            .verify_audit()
            .await
            .unwrap()
            .first_tampered_seq,
        Some(2)
    );
    // Truncating the tail is caught by the anchor (issue #16 finding 8).
    let (t, store) = auditors().await;
    store.tamper(|s| s.audit_log_mut().clear()).await;
    let v = t.bank.audit().verify_audit().await.unwrap();
    assert_eq!((v.entries_checked, v.first_tampered_seq), (0, Some(1)));
    assert_eq!(v.fault, Some(AuditFault::Missing));
}

#[tokio::test]
async fn at_rest_checks_search_the_whole_memory_state() {
    let store = Memory.fresh().await;
    let dump = bankflow_core::testkit::raw_dump(&store).await;
    assert!(dump.expect("registered").starts_with("MemoryState"));
}
