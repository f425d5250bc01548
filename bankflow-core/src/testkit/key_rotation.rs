//! Finding 7 (keys): after a data-key rotation every sealed value is re-sealed under the new
//! key, so the retired key can be dropped from the ring.

use std::sync::Arc;

use super::engine_ctx::{profile, ADMIN_PW};
use crate::crypto::{DataKey, KeyProvider, StaticKeyRing};
use crate::customer::{DocumentStore, DocumentType, MemoryDocumentStore};
use crate::identity::LoginRequest;
use crate::ports::{Store, TxMode};
use crate::webhook::{CreateWebhook, WEBHOOKS_MAX};
use crate::{Actor, Bank, BankConfig, RequestContext};

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
const ADMIN: &str = "keys-admin@example.com";
const CTX: fn() -> RequestContext = RequestContext::default;

fn bank(store: &Arc<dyn Store>, keys: StaticKeyRing, docs: &Arc<MemoryDocumentStore>) -> Bank {
    let config = BankConfig {
        require_kyc: false,
        ..BankConfig::default()
    };
    Bank::builder(store.clone())
        .config(config)
        .keys(Arc::new(keys) as Arc<dyn KeyProvider>)
        .documents(docs.clone() as Arc<dyn DocumentStore>)
        .build()
}

async fn admin(bank: &Bank) -> Actor {
    let id = match bank.identity().ensure_admin(ADMIN, ADMIN_PW).await.unwrap() {
        Some(id) => id,
        None => {
            let req = LoginRequest {
                email: ADMIN.into(),
                password: ADMIN_PW.into(),
                mfa_code: None,
            };
            bank.identity().login(req, &CTX()).await.unwrap().claims.sub
        }
    };
    bank.identity().actor_for_user(id).await.unwrap()
}

/// The key ids of every sealed value in the store: TOTP secrets, SSNs, webhook secrets.
async fn sealed_key_ids(store: &Arc<dyn Store>) -> Vec<String> {
    let mut uow = store.begin(TxMode::Read).await.unwrap();
    let mut ids = vec![];
    for u in uow.users_after(None, 1_000).await.unwrap() {
        ids.extend(u.mfa_secret.map(|s| s.key_id));
    }
    let all = crate::customer::CustomerSearch {
        limit: 100,
        ..Default::default()
    };
    for c in uow.search_customers(&all).await.unwrap() {
        ids.extend(c.ssn.map(|s| s.sealed.key_id));
    }
    for w in uow.list_webhooks(WEBHOOKS_MAX).await.unwrap() {
        ids.push(w.secret.key_id);
    }
    ids
}

/// Sealed under `k1`, rotated to `k2` (`k1` retired), walked: every value is under `k2`, a
/// second walk finds nothing, a document read re-wraps it, and a ring with `k2` alone then
/// opens everything.
pub async fn finding_7_data_key_rotation_reseals_every_sealed_value(store: Arc<dyn Store>) {
    let (k1, k2) = (DataKey::random().unwrap(), DataKey::random().unwrap());
    let docs = Arc::new(MemoryDocumentStore::default());
    let old = bank(&store, StaticKeyRing::new("k1", k1.clone()).unwrap(), &docs);
    let staff = admin(&old).await;
    let c = old
        .customers()
        .create_customer(&staff, None, profile("Kim", Some("123-45-6789")))
        .await
        .unwrap();
    let doc = old
        .customers()
        .upload_document(&staff, c.id, DocumentType::Passport, PNG)
        .await
        .unwrap();
    old.identity()
        .mfa_setup(&staff, ADMIN_PW, &CTX())
        .await
        .unwrap();
    let hook = CreateWebhook {
        url: "https://hooks.example.com/in".into(),
        event_types: vec!["user.registered".into()],
        active: None,
    };
    old.webhooks().create_webhook(&staff, hook).await.unwrap();
    let before = sealed_key_ids(&store).await;
    assert!(
        before.len() >= 3 && before.iter().all(|k| k == "k1"),
        "{before:?}"
    );

    let rotated = StaticKeyRing::new("k1", k1)
        .unwrap()
        .rotate_to("k2", k2.clone())
        .unwrap();
    let new = bank(&store, rotated, &docs);
    let report = new.maintenance().reseal_all().await.unwrap();
    assert_eq!(
        (report.totp_secrets, report.ssns, report.webhook_secrets),
        (1, 1, 1),
        "{report:?}"
    );
    let after = sealed_key_ids(&store).await;
    assert!(after.iter().all(|k| k == "k2"), "{after:?}");
    assert_eq!(new.maintenance().reseal_all().await.unwrap().total(), 0);
    // A document is re-wrapped when read.
    let (_, bytes) = new
        .customers()
        .document_content(&staff, c.id, doc.id)
        .await
        .unwrap();
    assert_eq!(bytes, PNG);

    // The retired key can go: a ring with k2 alone opens every value.
    let only_new = bank(&store, StaticKeyRing::new("k2", k2).unwrap(), &docs);
    let staff = admin(&only_new).await;
    let (_, bytes) = only_new
        .customers()
        .document_content(&staff, c.id, doc.id)
        .await
        .unwrap();
    assert_eq!(bytes, PNG);
    let customers = only_new.customers();
    assert!(customers
        .verify_customer_ssn(&staff, c.id, "123-45-6789")
        .await
        .unwrap());
    assert_eq!(
        only_new.maintenance().reseal_all().await.unwrap().total(),
        0
    );
    let audit = only_new.audit().audit_log(&staff, None, 100).await;
    let resealed = audit
        .unwrap()
        .iter()
        .filter(|e| e.action == "data_key.reseal")
        .count();
    // One entry per page that re-sealed something: the users', customers' and webhooks' page.
    assert_eq!(resealed, 3);
}
