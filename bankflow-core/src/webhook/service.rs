//! The webhook use cases: staff management (admin only, audited), enqueueing from the outbox
//! relay, and the delivery pass.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

use super::model::*;
use super::port::{WebhookRequest, WebhookTransport};
use super::sign::{render_secret, signature_header};
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::bank::Bank;
use crate::crypto::{open, random_array, seal};
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventSink, EventType};
use crate::ports::TxMode;

crate::bank::context_service!(
    /// Outgoing webhooks: `bank.webhooks()`.
    WebhookService,
    webhooks
);

/// Attempts a delivery policy may allow, at most.
pub const DELIVERY_ATTEMPTS_MAX: u32 = 20;
/// Deliveries sent at once, at most: a dead endpoint holds only its own slots.
pub const DELIVERY_CONCURRENCY_MAX: usize = 64;
/// Deliveries one pass claims, at most.
pub const DELIVERIES_PER_PASS_MAX: u32 = 500;
/// Longest backoff between two attempts a policy may ask for.
pub const DELIVERY_BACKOFF_CAP_MS_MAX: u64 = 24 * 3_600_000;

/// How deliveries are retried and how much runs at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Attempts before a delivery is FAILED (clamped to 1..=[`DELIVERY_ATTEMPTS_MAX`]).
    pub attempts_max: u32,
    /// Wait after the first failure; doubles after each further one.
    pub backoff_base_ms: u64,
    /// Longest wait (clamped to [`DELIVERY_BACKOFF_CAP_MS_MAX`]).
    pub backoff_cap_ms: u64,
    /// Requests in flight at once (clamped to 1..=[`DELIVERY_CONCURRENCY_MAX`]).
    pub concurrency: usize,
    /// Deliveries claimed per pass (clamped to 1..=[`DELIVERIES_PER_PASS_MAX`]).
    pub batch: u32,
    /// How long a claimed delivery stays ours: longer than a pass can take.
    pub lease_s: i64,
}

impl Default for DeliveryPolicy {
    /// Eight attempts over about two hours (30 s, 1 min, 2 min ... capped at one hour).
    fn default() -> Self {
        DeliveryPolicy {
            attempts_max: 8,
            backoff_base_ms: 30_000,
            backoff_cap_ms: 3_600_000,
            concurrency: 16,
            batch: 100,
            lease_s: 300,
        }
    }
}

impl DeliveryPolicy {
    fn backoff(&self, attempts: u32) -> Duration {
        let cap = self.backoff_cap_ms.min(DELIVERY_BACKOFF_CAP_MS_MAX);
        let factor = 1u64 << attempts.saturating_sub(1).min(30);
        let ms = self.backoff_base_ms.saturating_mul(factor).min(cap);
        Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

/// Creates a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateWebhook {
    /// Endpoint.
    pub url: String,
    /// Event type names (as [`EventType`] renders them).
    pub event_types: Vec<String>,
    /// Defaults to true.
    pub active: Option<bool>,
}

/// Changes a subscription; absent fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookPatch {
    /// New endpoint.
    pub url: Option<String>,
    /// New filter.
    pub event_types: Option<Vec<String>>,
    /// New active flag.
    pub active: Option<bool>,
}

/// What one delivery pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Answered 2xx.
    pub delivered: usize,
    /// Failed and scheduled for a retry.
    pub retrying: usize,
    /// Failed for the last time.
    pub failed: usize,
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<core::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Accepts `https://host[:port]/...`, or `http://` to a loopback host (local receivers and
/// tests): a webhook carries customer data and must not travel in clear across a network.
pub fn validate_url(url: &str) -> BankResult<String> {
    let bad = |m: &str| Err(BankError::validation("url", m));
    let url = url.trim();
    if url.is_empty() || url.len() > WEBHOOK_URL_LEN_MAX {
        return bad("must be 1..=2048 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces or control characters");
    }
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(r), _) => (true, r),
        (None, Some(r)) => (false, r),
        _ => return bad("must be an https:// URL"),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return bad("must not carry credentials");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, rest)) => (&authority[..h.len() + 2], rest.strip_prefix(':')),
            None => return bad("has an unclosed IPv6 host"),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return bad("has an invalid port");
    }
    if host.is_empty() {
        return bad("must name a host");
    }
    if !https && !is_loopback(host) {
        return bad("plain http is allowed only to a loopback host; use https");
    }
    Ok(url.to_string())
}

/// Parses a filter: non-empty, every name a known event type, duplicates dropped.
pub fn parse_event_types(names: &[String]) -> BankResult<Vec<EventType>> {
    if names.is_empty() || names.len() > EventType::ALL.len() * 2 {
        return Err(BankError::validation(
            "event_types",
            "must list 1 or more event types",
        ));
    }
    let mut out: Vec<EventType> = Vec::new();
    for n in names {
        let t = EventType::parse(n).map_err(|_| {
            let shown: String = n.chars().take(64).collect();
            BankError::validation("event_types", format!("unknown event type {shown:?}"))
        })?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

pub(crate) fn secret_aad(id: Uuid) -> String {
    format!("webhook-secret:{id}")
}

fn not_found() -> BankError {
    BankError::NotFound {
        resource: "webhook",
    }
}

fn clip(s: &str) -> String {
    s.chars().take(DELIVERY_ERROR_LEN_MAX).collect()
}

impl WebhookService<'_> {
    fn new_key(&self, id: Uuid) -> BankResult<(crate::crypto::Sealed, String)> {
        let key: [u8; 32] = random_array()?;
        Ok((
            seal(&*self.keys, &key, &secret_aad(id))?,
            render_secret(&key),
        ))
    }

    /// Registers an endpoint (admin). The secret is in the answer, and never again.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        req: CreateWebhook,
    ) -> BankResult<WebhookWithSecret> {
        actor.require_admin()?;
        let url = validate_url(&req.url)?;
        let event_types = parse_event_types(&req.event_types)?;
        let now = self.now_us();
        let id = self.new_uuid();
        let (secret, shown) = self.new_key(id)?;
        let w = WebhookSubscription {
            id,
            url,
            event_types,
            active: req.active.unwrap_or(true),
            secret,
            previous_secret: None,
            previous_secret_until: None,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
        };
        let w_ref = &w;
        self.write(|uow, _, _| {
            Box::pin(async move {
                if uow.list_webhooks(WEBHOOKS_MAX).await?.len() >= WEBHOOKS_MAX as usize {
                    return Err(BankError::LimitExceeded(format!(
                        "at most {WEBHOOKS_MAX} webhooks"
                    )));
                }
                uow.insert_webhook(w_ref).await?;
                let ev = AuditEvent::new("webhook.create", "webhook", w_ref.id)
                    .detail(audit_detail(w_ref));
                self.audit(uow, actor, ev).await
            })
        })
        .await?;
        Ok(WebhookWithSecret {
            webhook: WebhookView::from(&w),
            secret: shown,
        })
    }

    /// Every subscription, oldest first (admin).
    pub async fn webhooks(&self, actor: &Actor) -> BankResult<Vec<WebhookView>> {
        actor.require_admin()?;
        let mut uow = self.store.begin(TxMode::Read).await?;
        let all = uow.list_webhooks(WEBHOOKS_MAX).await?;
        Ok(all.iter().map(WebhookView::from).collect())
    }

    /// One subscription (admin).
    pub async fn webhook(&self, actor: &Actor, id: Uuid) -> BankResult<WebhookView> {
        actor.require_admin()?;
        let mut uow = self.store.begin(TxMode::Read).await?;
        let w = uow.webhook(id).await?.ok_or_else(not_found)?;
        Ok(WebhookView::from(&w))
    }

    /// Changes url, filter or active flag (admin).
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: WebhookPatch,
    ) -> BankResult<WebhookView> {
        actor.require_admin()?;
        let url = patch.url.as_deref().map(validate_url).transpose()?;
        let types = patch
            .event_types
            .as_deref()
            .map(parse_event_types)
            .transpose()?;
        let (url, types, active) = (&url, &types, patch.active);
        let now = self.now_us();
        self.write(|uow, _, _| {
            Box::pin(async move {
                let mut w = uow.webhook(id).await?.ok_or_else(not_found)?;
                if let Some(u) = url {
                    w.url = u.clone();
                }
                if let Some(t) = types {
                    w.event_types = t.clone();
                }
                if let Some(a) = active {
                    w.active = a;
                }
                w.updated_at = now;
                uow.update_webhook(&w).await?;
                let ev = AuditEvent::new("webhook.update", "webhook", id).detail(audit_detail(&w));
                self.audit(uow, actor, ev).await?;
                Ok(WebhookView::from(&w))
            })
        })
        .await
    }

    /// Deletes a subscription and its delivery log (admin).
    pub async fn delete_webhook(&self, actor: &Actor, id: Uuid) -> BankResult<()> {
        actor.require_admin()?;
        self.write(|uow, _, _| {
            Box::pin(async move {
                if !uow.delete_webhook(id).await? {
                    return Err(not_found());
                }
                self.audit(uow, actor, AuditEvent::new("webhook.delete", "webhook", id))
                    .await
            })
        })
        .await
    }

    /// A new secret (admin), shown once; the old one keeps signing for
    /// [`SECRET_OVERLAP_HOURS`] so receivers can switch without dropping messages.
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> BankResult<WebhookWithSecret> {
        actor.require_admin()?;
        let (secret, shown) = self.new_key(id)?;
        let secret = &secret;
        let now = self.now_us();
        let w = self
            .write(|uow, _, _| {
                Box::pin(async move {
                    let mut w = uow.webhook(id).await?.ok_or_else(not_found)?;
                    w.previous_secret = Some(std::mem::replace(&mut w.secret, secret.clone()));
                    w.previous_secret_until = Some(now + Duration::hours(SECRET_OVERLAP_HOURS));
                    w.updated_at = now;
                    uow.update_webhook(&w).await?;
                    let ev = AuditEvent::new("webhook.rotate_secret", "webhook", id)
                        .detail(json!({"previous_secret_until": w.previous_secret_until}));
                    self.audit(uow, actor, ev).await?;
                    Ok(w)
                })
            })
            .await?;
        Ok(WebhookWithSecret {
            webhook: WebhookView::from(&w),
            secret: shown,
        })
    }

    /// A subscription's delivery log, newest first, after the cursor `before` (admin).
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>> {
        actor.require_admin()?;
        if limit == 0 || limit > DELIVERY_PAGE_MAX {
            return Err(BankError::validation(
                "limit",
                format!("must be 1..={DELIVERY_PAGE_MAX}"),
            ));
        }
        let mut uow = self.store.begin(TxMode::Read).await?;
        uow.webhook(id).await?.ok_or_else(not_found)?;
        uow.deliveries_of_webhook(id, before, limit).await
    }

    /// Sends a delivery again from its first attempt (admin), whatever its state.
    pub async fn redeliver(
        &self,
        actor: &Actor,
        webhook: Uuid,
        delivery: Uuid,
    ) -> BankResult<WebhookDelivery> {
        actor.require_admin()?;
        let now = self.now_us();
        self.write(|uow, _, _| {
            Box::pin(async move {
                let mut d = uow
                    .delivery(delivery)
                    .await?
                    .filter(|d| d.subscription_id == webhook)
                    .ok_or(BankError::NotFound {
                        resource: "webhook delivery",
                    })?;
                d.status = DeliveryStatus::Pending;
                d.attempts = 0;
                d.next_attempt_at = now;
                d.lease_until = None;
                uow.update_delivery(&d).await?;
                let ev = AuditEvent::new("webhook.redeliver", "webhook_delivery", delivery)
                    .detail(json!({"webhook_id": webhook, "event_id": d.event_id.to_string()}));
                self.audit(uow, actor, ev).await?;
                Ok(d)
            })
        })
        .await
    }

    /// Enqueues one delivery per (active matching subscription, event); idempotent, so the
    /// relay may hand the same batch again. Returns how many rows were new.
    pub async fn enqueue_webhooks(&self, events: &[DomainEvent]) -> BankResult<usize> {
        let subs = {
            let mut uow = self.store.begin(TxMode::Read).await?;
            uow.list_webhooks(WEBHOOKS_MAX).await?
        };
        let now = self.now_us();
        let rows: Vec<WebhookDelivery> = events
            .iter()
            .flat_map(|e| {
                subs.iter()
                    .filter(|s| s.wants(e.event_type))
                    .map(move |s| (s, e))
            })
            .map(|(s, e)| WebhookDelivery {
                id: self.new_uuid(),
                subscription_id: s.id,
                event_id: e.id,
                event_type: e.event_type,
                payload: e.to_cloudevent().to_string(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: now,
                lease_until: None,
                last_status_code: None,
                last_error: None,
                last_attempt_at: None,
                delivered_at: None,
                created_at: now,
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        let rows = &rows;
        self.write(|uow, _, _| {
            Box::pin(async move {
                let mut new = 0;
                for d in rows {
                    new += usize::from(uow.insert_delivery(d).await?);
                }
                Ok(new)
            })
        })
        .await
    }

    /// One delivery pass: claims due deliveries under a lease and sends them, at most
    /// `policy.concurrency` at a time, recording each outcome as it comes.
    pub async fn deliver_due_webhooks(
        &self,
        transport: &dyn WebhookTransport,
        policy: &DeliveryPolicy,
    ) -> BankResult<DeliveryReport> {
        let now = self.now_us();
        let batch = policy.batch.clamp(1, DELIVERIES_PER_PASS_MAX);
        let lease = now + Duration::seconds(policy.lease_s.max(1));
        let claimed = self
            .write(|uow, _, _| Box::pin(uow.claim_due_deliveries(now, lease, batch)))
            .await?;
        let concurrency = policy.concurrency.clamp(1, DELIVERY_CONCURRENCY_MAX);
        let results: Vec<BankResult<DeliveryStatus>> = futures::stream::iter(claimed)
            .map(|d| self.attempt(transport, policy, d))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut report = DeliveryReport::default();
        for r in results {
            match r? {
                DeliveryStatus::Delivered => report.delivered += 1,
                DeliveryStatus::Pending => report.retrying += 1,
                DeliveryStatus::Failed => report.failed += 1,
            }
        }
        Ok(report)
    }

    /// The signing keys of `w` at `now`: the current one, and the previous one during the
    /// rotation overlap.
    fn signing_keys(
        &self,
        w: &WebhookSubscription,
        now: DateTime<Utc>,
    ) -> BankResult<Vec<Vec<u8>>> {
        let aad = secret_aad(w.id);
        let mut keys = vec![open(&*self.keys, &w.secret, &aad)?];
        if let (Some(prev), Some(until)) = (&w.previous_secret, w.previous_secret_until) {
            if now < until {
                keys.push(open(&*self.keys, prev, &aad)?);
            }
        }
        Ok(keys)
    }

    async fn attempt(
        &self,
        transport: &dyn WebhookTransport,
        policy: &DeliveryPolicy,
        mut d: WebhookDelivery,
    ) -> BankResult<DeliveryStatus> {
        let sub = {
            let mut uow = self.store.begin(TxMode::Read).await?;
            uow.webhook(d.subscription_id).await?
        };
        let now = self.now_us();
        let outcome = match sub.filter(|s| s.active) {
            None => Err("webhook inactive or deleted".to_string()),
            Some(s) => {
                let ts = now.timestamp();
                let msg_id = d.event_id.to_string();
                let sig = signature_header(&self.signing_keys(&s, now)?, &msg_id, ts, &d.payload);
                let req = WebhookRequest {
                    url: s.url.clone(),
                    headers: vec![
                        ("content-type".into(), "application/json".into()),
                        ("webhook-id".into(), msg_id),
                        ("webhook-timestamp".into(), ts.to_string()),
                        ("webhook-signature".into(), sig),
                    ],
                    body: d.payload.clone(),
                };
                transport.post(&req).await
            }
        };
        let done = self.now_us();
        d.attempts += 1;
        d.last_attempt_at = Some(done);
        d.lease_until = None;
        match outcome {
            Ok(code) if (200..300).contains(&code) => {
                d.status = DeliveryStatus::Delivered;
                d.last_status_code = Some(code);
                d.last_error = None;
                d.delivered_at = Some(done);
            }
            other => {
                let (code, err) = match other {
                    Ok(code) => (Some(code), format!("endpoint answered HTTP {code}")),
                    Err(e) => (None, e),
                };
                d.last_status_code = code;
                d.last_error = Some(clip(&err));
                if d.attempts >= policy.attempts_max.clamp(1, DELIVERY_ATTEMPTS_MAX) {
                    d.status = DeliveryStatus::Failed;
                } else {
                    d.next_attempt_at = done + policy.backoff(d.attempts);
                }
            }
        }
        let d = &d;
        self.write(|uow, _, _| Box::pin(uow.update_delivery(d)))
            .await?;
        Ok(d.status)
    }
}

fn audit_detail(w: &WebhookSubscription) -> serde_json::Value {
    json!({
        "url": w.url,
        "event_types": w.event_types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "active": w.active,
    })
}

/// The outbox relay's webhook sink: turns each relayed batch into delivery rows. Pass it to
/// `relay_outbox_to`; the batch is marked published only after the rows committed, so an
/// event is never lost between the outbox and the delivery queue.
pub struct WebhookFanout(pub Bank);

#[async_trait]
impl EventSink for WebhookFanout {
    async fn publish(&self, events: &[DomainEvent]) -> BankResult<()> {
        self.0.webhooks().enqueue_webhooks(events).await.map(|_| ())
    }
}
