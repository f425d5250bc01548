//! Webhook repository and engine cases: validation, admin-only and audited management,
//! sealed secrets shown once, idempotent enqueueing from the outbox relay (only the filtered
//! types), signed delivery, retries with backoff to FAILED, redelivery, secret rotation with
//! an overlap, the paged delivery log and delivery claims under a lease.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Duration;
use uuid::Uuid;

use crate::events::EventSink;
use crate::identity::RegisterRequest;
use crate::ports::Store;
use crate::webhook::*;
use crate::*;

use super::engine_ctx::{bank_with, refusal_code, Ctx};

/// A transport that records every request and answers with the next scripted outcome
/// (200 once the script is used up).
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<WebhookRequest>>,
    script: Mutex<Vec<WebhookOutcome>>,
}

impl Recorder {
    fn sent(&self) -> Vec<WebhookRequest> {
        self.sent.lock().unwrap().clone()
    }
    fn answer(&self, outcomes: Vec<WebhookOutcome>) {
        *self.script.lock().unwrap() = outcomes;
    }
}

#[async_trait]
impl WebhookTransport for Recorder {
    async fn post(&self, req: &WebhookRequest) -> WebhookOutcome {
        self.sent.lock().unwrap().push(req.clone());
        let mut s = self.script.lock().unwrap();
        if s.is_empty() {
            Ok(200)
        } else {
            s.remove(0)
        }
    }
}

fn header<'a>(r: &'a WebhookRequest, name: &str) -> &'a str {
    r.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// A stored subscription `n` (created `n` seconds after t0).
fn stored_sub(n: u128) -> WebhookSubscription {
    let t0 = super::fixtures::t0();
    WebhookSubscription {
        id: Uuid::from_u128(n),
        url: "https://x.example.com".into(),
        event_types: vec![EventType::UserRegistered],
        active: true,
        secret: crate::crypto::Sealed {
            key_id: "k".into(),
            nonce: vec![1; 12],
            ciphertext: vec![2; 48],
        },
        previous_secret: None,
        previous_secret_until: None,
        created_by: None,
        created_at: t0 + Duration::seconds(n as i64),
        updated_at: t0,
    }
}

/// A PENDING delivery `n` of subscription `s` for event `ev`, created and due `n` s after t0.
fn stored_delivery(n: u128, s: u128, ev: u128) -> WebhookDelivery {
    let at = super::fixtures::t0() + Duration::seconds(n as i64);
    WebhookDelivery {
        id: Uuid::from_u128(n),
        subscription_id: Uuid::from_u128(s),
        event_id: EventId(Uuid::from_u128(ev)),
        event_type: EventType::UserRegistered,
        payload: "{}".into(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: at,
        lease_until: None,
        last_status_code: None,
        last_error: None,
        last_attempt_at: None,
        delivered_at: None,
        created_at: at,
    }
}

/// Conformance case: retention removes finished deliveries oldest first, never a pending one.
pub async fn webhook_delivery_retention_keeps_pending(store: Arc<dyn Store>) {
    let t0 = super::fixtures::t0();
    let finished = |n: u128, status: DeliveryStatus| WebhookDelivery {
        status,
        ..stored_delivery(n, 1, n + 100)
    };
    let mut u = store.begin(crate::ports::TxMode::Write).await.unwrap();
    u.insert_webhook(&stored_sub(1)).await.unwrap();
    for d in [
        finished(10, DeliveryStatus::Delivered),
        finished(11, DeliveryStatus::Failed),
        stored_delivery(12, 1, 112), // pending, as old as the others
        finished(30, DeliveryStatus::Delivered), // after the cutoff
    ] {
        assert!(u.insert_delivery(&d).await.unwrap());
    }
    u.commit().await.unwrap();
    let cutoff = t0 + Duration::seconds(20);
    let mut u = store.begin(crate::ports::TxMode::Write).await.unwrap();
    assert_eq!(u.purge_deliveries(cutoff, 1).await.unwrap(), 1);
    assert_eq!(
        u.delivery(Uuid::from_u128(10)).await.unwrap(),
        None,
        "oldest first"
    );
    assert_eq!(u.purge_deliveries(cutoff, 10).await.unwrap(), 1);
    assert_eq!(u.purge_deliveries(cutoff, 10).await.unwrap(), 0);
    u.commit().await.unwrap();
    let mut r = store.begin(crate::ports::TxMode::Read).await.unwrap();
    let left: Vec<u128> = r
        .deliveries_of_webhook(Uuid::from_u128(1), None, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id.as_u128())
        .collect();
    assert_eq!(left, [30, 12], "pending and recent deliveries stay");
    // A purged pair is free again, as after the event itself is purged.
    drop(r);
    let mut u = store.begin(crate::ports::TxMode::Write).await.unwrap();
    assert!(u
        .insert_delivery(&stored_delivery(40, 1, 110))
        .await
        .unwrap());
}

/// True when one of the request's signatures is the HMAC of `secret` (`whsec_…`).
fn verifies(r: &WebhookRequest, secret: &str) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap())
        .unwrap();
    let ts: i64 = header(r, "webhook-timestamp").parse().unwrap();
    let want = sign(&key, header(r, "webhook-id"), ts, &r.body);
    header(r, "webhook-signature").split(' ').any(|s| s == want)
}

fn setup(store: Arc<dyn Store>) -> Ctx {
    let config = BankConfig {
        require_kyc: false,
        ..BankConfig::default()
    };
    bank_with(store, config, None)
}

fn create(url: &str, types: &[&str]) -> CreateWebhook {
    CreateWebhook {
        url: url.into(),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        active: None,
    }
}

async fn relay(t: &Ctx) -> usize {
    let fanout = WebhookFanout(t.bank.clone());
    let sinks: [&dyn EventSink; 1] = [&fanout];
    t.bank
        .maintenance()
        .relay_outbox_to(&sinks, 500, Duration::seconds(30))
        .await
        .unwrap()
}

async fn register(t: &Ctx, email: &str) {
    let req = RegisterRequest {
        email: email.into(),
        password: super::engine_ctx::PW.into(),
        phone: None,
    };
    t.bank
        .identity()
        .register(req, &RequestContext::default())
        .await
        .unwrap();
}

fn fast() -> DeliveryPolicy {
    DeliveryPolicy {
        attempts_max: 3,
        backoff_base_ms: 1_000,
        ..DeliveryPolicy::default()
    }
}

pub async fn webhook_management_is_validated_admin_only_and_audited(store: Arc<dyn Store>) {
    let t = setup(store);
    let admin = t.admin("ops@example.com").await;
    let hooks = t.bank.webhooks();
    let customer = Actor::customer(UserId(Uuid::from_u128(5)), None);
    let ok = create("https://hooks.example.com/in", &["user.registered"]);
    assert_eq!(
        refusal_code(hooks.create_webhook(&customer, ok.clone()).await),
        "forbidden"
    );
    for (url, types) in [
        ("http://hooks.example.com/in", &["user.registered"][..]),
        ("ftp://hooks.example.com", &["user.registered"][..]),
        (
            "https://user:pw@hooks.example.com",
            &["user.registered"][..],
        ),
        ("https://", &["user.registered"][..]),
        ("https://hooks.example.com", &[][..]),
        ("https://hooks.example.com", &["user.exploded"][..]),
    ] {
        assert_eq!(
            refusal_code(hooks.create_webhook(&admin, create(url, types)).await),
            "validation_error",
            "{url} {types:?}"
        );
    }
    let local = hooks
        .create_webhook(&admin, create("http://127.0.0.1:9/x", &["kyc.approved"]))
        .await
        .unwrap();
    let made = hooks.create_webhook(&admin, ok).await.unwrap();
    let key = STANDARD
        .decode(made.secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(key.len(), 32, "a 32-byte key");
    assert_ne!(made.secret, local.secret);
    // The secret is sealed at rest: the stored row does not hold its bytes.
    let mut u = t.store.begin(crate::ports::TxMode::Read).await.unwrap();
    let row = u.webhook(made.webhook.id).await.unwrap().unwrap();
    assert!(!row.secret.ciphertext.windows(32).any(|w| w == &key[..]));
    drop(u);
    let listed = hooks.webhooks(&admin).await.unwrap();
    assert_eq!(listed.len(), 2);
    let upd = hooks
        .update_webhook(
            &admin,
            made.webhook.id,
            WebhookPatch {
                event_types: Some(vec!["kyc.approved".into(), "kyc.approved".into()]),
                active: Some(false),
                ..WebhookPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(upd.event_types, vec![EventType::KycApproved]);
    assert!(!upd.active);
    assert_eq!(hooks.webhook(&admin, made.webhook.id).await.unwrap(), upd);
    let bad = WebhookPatch {
        url: Some("http://10.0.0.1/x".into()),
        ..WebhookPatch::default()
    };
    assert_eq!(
        refusal_code(hooks.update_webhook(&admin, made.webhook.id, bad).await),
        "validation_error"
    );
    let rotated = hooks
        .rotate_webhook_secret(&admin, made.webhook.id)
        .await
        .unwrap();
    assert_ne!(rotated.secret, made.secret);
    hooks.delete_webhook(&admin, made.webhook.id).await.unwrap();
    assert_eq!(
        refusal_code(hooks.webhook(&admin, made.webhook.id).await),
        "not_found"
    );
    assert_eq!(
        refusal_code(hooks.delete_webhook(&admin, made.webhook.id).await),
        "not_found"
    );
    let log = t.bank.audit().audit_log(&admin, None, 100).await.unwrap();
    let actions: Vec<&str> = log
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("webhook."))
        .collect();
    assert_eq!(
        actions,
        [
            "webhook.create",
            "webhook.create",
            "webhook.update",
            "webhook.rotate_secret",
            "webhook.delete"
        ]
    );
    assert!(
        log.iter()
            .all(|e| !e.detail.to_string().contains(&made.secret)),
        "no secret in the audit log"
    );
}

pub async fn webhooks_deliver_filtered_signed_and_retry(store: Arc<dyn Store>) {
    let t = setup(store);
    let admin = t.admin("ops@example.com").await;
    let hooks = t.bank.webhooks();
    let a = hooks
        .create_webhook(
            &admin,
            create("https://a.example.com/in", &["user.registered"]),
        )
        .await
        .unwrap();
    let dead = hooks
        .create_webhook(
            &admin,
            create("https://dead.example.com/in", &["user.registered"]),
        )
        .await
        .unwrap();
    let other = hooks
        .create_webhook(
            &admin,
            create("https://b.example.com/in", &["kyc.approved"]),
        )
        .await
        .unwrap();
    relay(&t).await; // the admin's own events
    register(&t, "w1@example.com").await;
    assert!(relay(&t).await > 0);
    // A re-relayed batch (a relay that died before marking it published) enqueues nothing.
    let events: Vec<DomainEvent> = t.sink.events();
    assert_eq!(hooks.enqueue_webhooks(&events).await.unwrap(), 0);
    let rec = Recorder::default();
    let wire = Recorder::default();
    // The dead endpoint's requests are refused; the others answer 2xx.
    let split = Split {
        dead: "https://dead.example.com/in",
        refused: &wire,
        ok: &rec,
    };
    wire.answer(vec![Err("connection refused".into()); 10]);
    let r = hooks.deliver_due_webhooks(&split, &fast()).await.unwrap();
    let registered = |r: &WebhookRequest| r.body.contains("com.bankflow.user.registered");
    let sent = rec.sent();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(registered), "only the filtered type");
    assert!(sent.iter().all(|r| r.url == "https://a.example.com/in"));
    assert!(sent
        .iter()
        .all(|r| verifies(r, &a.secret) && !verifies(r, &other.secret)));
    assert_eq!(header(&sent[0], "content-type"), "application/json");
    let ce: serde_json::Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(ce["id"].as_str(), Some(header(&sent[0], "webhook-id")));
    assert_eq!(r.delivered, sent.len());
    assert_eq!(r.retrying, wire.sent().len());
    // Retries wait for the backoff: nothing is due at once, then 1 s, then 2 s.
    assert_eq!(
        hooks.deliver_due_webhooks(&split, &fast()).await.unwrap(),
        DeliveryReport::default()
    );
    t.clock.advance(Duration::seconds(1));
    assert_eq!(
        hooks
            .deliver_due_webhooks(&split, &fast())
            .await
            .unwrap()
            .retrying,
        r.retrying
    );
    t.clock.advance(Duration::seconds(1));
    assert_eq!(
        hooks.deliver_due_webhooks(&split, &fast()).await.unwrap(),
        DeliveryReport::default()
    );
    t.clock.advance(Duration::seconds(1));
    let last = hooks.deliver_due_webhooks(&split, &fast()).await.unwrap();
    assert_eq!(last.failed, r.retrying);
    let log = hooks
        .webhook_deliveries(&admin, dead.webhook.id, None, 100)
        .await
        .unwrap();
    assert!(!log.is_empty());
    for d in &log {
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert_eq!(d.attempts, 3);
        assert_eq!(d.last_error.as_deref(), Some("connection refused"));
        assert_eq!(d.last_status_code, None);
    }
    // The delivered log records the 200.
    let ok_log = hooks
        .webhook_deliveries(&admin, a.webhook.id, None, 100)
        .await
        .unwrap();
    assert!(ok_log.iter().all(|d| d.status == DeliveryStatus::Delivered
        && d.last_status_code == Some(200)
        && d.attempts == 1));
    // A 500 counts as a failure and keeps its status code.
    rec.answer(vec![Ok(500)]);
    let again = hooks
        .redeliver(&admin, a.webhook.id, ok_log[0].id)
        .await
        .unwrap();
    assert_eq!(again.status, DeliveryStatus::Pending);
    let before = rec.sent().len();
    hooks.deliver_due_webhooks(&split, &fast()).await.unwrap();
    assert_eq!(rec.sent().len(), before + 1, "redelivery sends once");
    let d = hooks
        .webhook_deliveries(&admin, a.webhook.id, None, 100)
        .await
        .unwrap();
    let d = d.iter().find(|d| d.id == ok_log[0].id).unwrap();
    assert_eq!(
        (d.status, d.last_status_code),
        (DeliveryStatus::Pending, Some(500))
    );
    assert_eq!(
        refusal_code(
            hooks
                .redeliver(&admin, other.webhook.id, ok_log[0].id)
                .await
        ),
        "not_found",
        "a delivery is reached only through its own webhook"
    );
    let customer = Actor::customer(UserId(Uuid::from_u128(5)), None);
    assert_eq!(
        refusal_code(
            hooks
                .webhook_deliveries(&customer, a.webhook.id, None, 10)
                .await
        ),
        "forbidden"
    );
}

pub async fn webhook_rotation_signs_with_both_secrets_during_the_overlap(store: Arc<dyn Store>) {
    let t = setup(store);
    let admin = t.admin("ops@example.com").await;
    let hooks = t.bank.webhooks();
    let made = hooks
        .create_webhook(
            &admin,
            create("https://a.example.com/in", &["user.registered"]),
        )
        .await
        .unwrap();
    let rotated = hooks
        .rotate_webhook_secret(&admin, made.webhook.id)
        .await
        .unwrap();
    let until = rotated.webhook.previous_secret_until.unwrap();
    assert_eq!(until - t.clock.now(), Duration::hours(SECRET_OVERLAP_HOURS));
    register(&t, "r1@example.com").await;
    relay(&t).await;
    let rec = Recorder::default();
    hooks.deliver_due_webhooks(&rec, &fast()).await.unwrap();
    let sent = rec.sent();
    assert_eq!(sent.len(), 1);
    assert!(verifies(&sent[0], &made.secret) && verifies(&sent[0], &rotated.secret));
    assert_eq!(header(&sent[0], "webhook-signature").split(' ').count(), 2);
    t.clock.advance(Duration::hours(SECRET_OVERLAP_HOURS));
    register(&t, "r2@example.com").await;
    relay(&t).await;
    hooks.deliver_due_webhooks(&rec, &fast()).await.unwrap();
    let after = rec.sent();
    assert_eq!(after.len(), 2);
    assert!(verifies(&after[1], &rotated.secret) && !verifies(&after[1], &made.secret));
}

pub async fn webhook_deliveries_unique_paged_and_leased(store: Arc<dyn Store>) {
    let t0 = super::fixtures::t0();
    let (sub, delivery) = (stored_sub, stored_delivery);
    let mut u = store.begin(crate::ports::TxMode::Write).await.unwrap();
    u.insert_webhook(&sub(1)).await.unwrap();
    u.insert_webhook(&sub(2)).await.unwrap();
    assert_eq!(
        u.insert_webhook(&sub(1)).await.unwrap_err(),
        BankError::Duplicate("webhook")
    );
    for n in 10..15 {
        assert!(u.insert_delivery(&delivery(n, 1, n + 100)).await.unwrap());
    }
    assert!(u.insert_delivery(&delivery(20, 2, 110)).await.unwrap());
    assert!(
        !u.insert_delivery(&delivery(21, 1, 110)).await.unwrap(),
        "one delivery per (subscription, event)"
    );
    u.commit().await.unwrap();
    let mut u = store.begin(crate::ports::TxMode::Write).await.unwrap();
    let ids = |v: Vec<WebhookDelivery>| v.iter().map(|d| d.id.as_u128()).collect::<Vec<_>>();
    let s1 = Uuid::from_u128(1);
    assert_eq!(
        ids(u.deliveries_of_webhook(s1, None, 2).await.unwrap()),
        [14, 13]
    );
    let page2 = u
        .deliveries_of_webhook(s1, Some(Uuid::from_u128(13)), 10)
        .await
        .unwrap();
    assert_eq!(ids(page2), [12, 11, 10]);
    assert!(
        u.deliveries_of_webhook(s1, Some(Uuid::from_u128(20)), 10)
            .await
            .unwrap()
            .is_empty(),
        "a cursor of another subscription gives nothing"
    );
    let now = t0 + Duration::seconds(12);
    let claimed = u
        .claim_due_deliveries(now, now + Duration::seconds(60), 2)
        .await
        .unwrap();
    assert_eq!(ids(claimed), [10, 11]);
    let rest = u
        .claim_due_deliveries(now, now + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        ids(rest),
        [12],
        "leased ones are skipped; later ones are not due"
    );
    let mut done = u.delivery(Uuid::from_u128(10)).await.unwrap().unwrap();
    assert_eq!(done.lease_until, Some(now + Duration::seconds(60)));
    done.status = DeliveryStatus::Delivered;
    done.last_status_code = Some(204);
    u.update_delivery(&done).await.unwrap();
    u.commit().await.unwrap();
    let mut u = store.begin(crate::ports::TxMode::Write).await.unwrap();
    let later = now + Duration::seconds(61);
    let expired = u
        .claim_due_deliveries(later, later + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        ids(expired),
        [11, 12, 13, 14, 20],
        "expired leases are claimable again"
    );
    assert_eq!(u.delivery(Uuid::from_u128(10)).await.unwrap(), Some(done));
    assert!(u.delete_webhook(s1).await.unwrap());
    assert!(!u.delete_webhook(s1).await.unwrap());
    assert_eq!(u.delivery(Uuid::from_u128(11)).await.unwrap(), None);
    assert!(u.delivery(Uuid::from_u128(20)).await.unwrap().is_some());
    drop(u); // rolled back: the subscription and its log are back
    let mut r = store.begin(crate::ports::TxMode::Read).await.unwrap();
    assert_eq!(r.list_webhooks(10).await.unwrap().len(), 2);
    assert_eq!(
        r.deliveries_of_webhook(s1, None, 10).await.unwrap().len(),
        5
    );
}

/// Sends requests to `dead` through `refused`, the rest through `ok`.
struct Split<'a> {
    dead: &'static str,
    refused: &'a Recorder,
    ok: &'a Recorder,
}

#[async_trait]
impl WebhookTransport for Split<'_> {
    async fn post(&self, req: &WebhookRequest) -> WebhookOutcome {
        if req.url == self.dead {
            self.refused.post(req).await
        } else {
            self.ok.post(req).await
        }
    }
}

/// Run by [`crate::engine_context_tests!`], where each store registers its raw dump.
pub async fn webhook_secrets_are_sealed_in_the_raw_store(store: Arc<dyn Store>) {
    let t = setup(store);
    let admin = t.admin("ops@example.com").await;
    let hooks = t.bank.webhooks();
    let made = hooks
        .create_webhook(
            &admin,
            create("https://a.example.com/in", &["user.registered"]),
        )
        .await
        .unwrap();
    let rotated = hooks
        .rotate_webhook_secret(&admin, made.webhook.id)
        .await
        .unwrap();
    let dump = super::at_rest::raw_dump(&t.store)
        .await
        .expect("the store registered a raw dump");
    // The dump reaches the subscription's row (its url is stored in clear)...
    assert!(
        dump.contains("https://a.example.com/in"),
        "the dump misses the webhook"
    );
    // ...but neither key, in any encoding.
    for secret in [&made.secret, &rotated.secret] {
        let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap();
        let key = STANDARD.decode(b64).unwrap();
        let as_json = serde_json::to_string(&key).unwrap();
        for needle in [b64.to_string(), hex::encode(&key), as_json] {
            assert!(!dump.contains(&needle), "a webhook key is in the raw store");
        }
    }
}
