//! The webhook context's ports: its repository and the HTTP transport.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{WebhookDelivery, WebhookSubscription};
use crate::error::BankResult;

/// Per-request timeout a [`WebhookTransport`] must enforce, so a slow endpoint holds one
/// concurrency slot for at most this long.
pub const WEBHOOK_TIMEOUT_MS: u64 = 10_000;
/// Most response-body bytes a transport reads (only kept for the error text).
pub const WEBHOOK_RESPONSE_BYTES_MAX: usize = 4_096;

/// Webhook context: subscriptions and their deliveries.
#[async_trait]
pub trait WebhookRepo: Send {
    /// Inserts a subscription; `Duplicate("webhook")` if the id exists.
    async fn insert_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()>;
    /// Reads a subscription.
    async fn webhook(&mut self, id: Uuid) -> BankResult<Option<WebhookSubscription>>;
    /// Overwrites a subscription; `NotFound("webhook")` if absent.
    async fn update_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()>;
    /// Deletes a subscription and its deliveries; false if it did not exist.
    async fn delete_webhook(&mut self, id: Uuid) -> BankResult<bool>;
    /// Subscriptions ordered by `(created_at, id)` ascending, at most `limit`.
    async fn list_webhooks(&mut self, limit: u32) -> BankResult<Vec<WebhookSubscription>>;
    /// Inserts a delivery unless one exists for `(subscription_id, event_id)`: true when
    /// inserted. A relay that re-publishes a batch therefore never enqueues twice.
    async fn insert_delivery(&mut self, d: &WebhookDelivery) -> BankResult<bool>;
    /// Reads a delivery.
    async fn delivery(&mut self, id: Uuid) -> BankResult<Option<WebhookDelivery>>;
    /// Overwrites a delivery; `NotFound("webhook delivery")` if absent.
    async fn update_delivery(&mut self, d: &WebhookDelivery) -> BankResult<()>;
    /// One subscription's deliveries newest first: ordered by `(created_at, id)` descending,
    /// only rows after the cursor row `before` in that order (an unknown cursor, or one of
    /// another subscription, gives an empty list), at most `limit`.
    async fn deliveries_of_webhook(
        &mut self,
        subscription: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>>;
    /// Claims due deliveries: PENDING, `next_attempt_at <= now`, lease free or expired;
    /// ordered by `(next_attempt_at, id)`, at most `limit`; sets `lease_until` on each
    /// (Postgres: `FOR UPDATE SKIP LOCKED`), so replicas never send one delivery together.
    async fn claim_due_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>>;
    /// Retention: deletes up to `limit` (at most `PURGE_BATCH_MAX`) DELIVERED or FAILED
    /// deliveries created before `before`, oldest first; the number deleted. A PENDING
    /// delivery is never removed, whatever its age.
    async fn purge_deliveries(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64>;
}

/// One signed POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Endpoint.
    pub url: String,
    /// Header name/value pairs (`webhook-id`, `webhook-timestamp`, `webhook-signature`,
    /// `content-type`).
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: String,
}

/// What the endpoint did: `Ok(status)` when it answered (any status), `Err(text)` when it
/// could not be reached or did not answer within [`WEBHOOK_TIMEOUT_MS`].
pub type WebhookOutcome = Result<u16, String>;

/// Port: sends webhook requests (an HTTP client in the adapter).
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// POSTs `req`, giving up after [`WEBHOOK_TIMEOUT_MS`] and reading at most
    /// [`WEBHOOK_RESPONSE_BYTES_MAX`] of the answer.
    async fn post(&self, req: &WebhookRequest) -> WebhookOutcome;
}
