//! Subscriptions and deliveries as stored, and their limits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::string_enum;
use crate::crypto::Sealed;
use crate::events::EventType;
use crate::ids::{EventId, UserId};

/// Subscriptions the engine keeps, at most (every relayed batch is matched against all).
pub const WEBHOOKS_MAX: u32 = 100;
/// Longest accepted endpoint URL.
pub const WEBHOOK_URL_LEN_MAX: usize = 2_048;
/// Most deliveries one page of a delivery log holds.
pub const DELIVERY_PAGE_MAX: u32 = 100;
/// How long the previous secret still signs after a rotation, so receivers can switch over.
pub const SECRET_OVERLAP_HOURS: i64 = 24;
/// Longest error text kept on a delivery (a receiver's or the network's message, clipped).
pub const DELIVERY_ERROR_LEN_MAX: usize = 500;

string_enum!(
    /// Where a delivery stands.
    DeliveryStatus, "webhook_delivery_status" {
        /// Owed: sent when `next_attempt_at` comes.
        Pending = "PENDING",
        /// The endpoint answered 2xx.
        Delivered = "DELIVERED",
        /// Every attempt failed (or the subscription went away); staff may redeliver.
        Failed = "FAILED",
    }
);

/// A staff-managed webhook subscription as stored (secrets sealed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    /// Id.
    pub id: Uuid,
    /// Endpoint (https, or http to a loopback host).
    pub url: String,
    /// Event types delivered (non-empty, no duplicates).
    pub event_types: Vec<EventType>,
    /// Inactive subscriptions get no new deliveries and send none.
    pub active: bool,
    /// The signing key (32 random bytes), sealed with the engine's key provider.
    pub secret: Sealed,
    /// The key before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<Sealed>,
    /// End of the rotation overlap.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// The staff user who created it.
    pub created_by: Option<UserId>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl WebhookSubscription {
    /// True when this subscription wants events of type `t`.
    pub fn wants(&self, t: EventType) -> bool {
        self.active && self.event_types.contains(&t)
    }
}

/// One event owed to one subscription, with its delivery history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Id.
    pub id: Uuid,
    /// The subscription.
    pub subscription_id: Uuid,
    /// The event (unique per subscription): also the `webhook-id` header.
    pub event_id: EventId,
    /// The event's type.
    pub event_type: EventType,
    /// The request body: the event's CloudEvent JSON, rendered once at enqueue.
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (while PENDING).
    pub next_attempt_at: DateTime<Utc>,
    /// A worker owns it until then.
    pub lease_until: Option<DateTime<Utc>>,
    /// HTTP status of the last answer, if the endpoint answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// First 2xx answer.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
}

/// A subscription as staff see it: no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    /// Id.
    pub id: Uuid,
    /// Endpoint.
    pub url: String,
    /// Event types delivered.
    pub event_types: Vec<EventType>,
    /// Active flag.
    pub active: bool,
    /// End of the rotation overlap, while the previous secret still signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Creator.
    pub created_by: Option<UserId>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&WebhookSubscription> for WebhookView {
    fn from(w: &WebhookSubscription) -> Self {
        WebhookView {
            id: w.id,
            url: w.url.clone(),
            event_types: w.event_types.clone(),
            active: w.active,
            previous_secret_until: w.previous_secret_until,
            created_by: w.created_by,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A subscription with its secret in full: returned only by create and rotate.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookWithSecret {
    /// The subscription.
    pub webhook: WebhookView,
    /// `whsec_` + base64 of the 32-byte key.
    pub secret: String,
}

impl std::fmt::Debug for WebhookWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log through Debug.
        f.debug_struct("WebhookWithSecret")
            .field("webhook", &self.webhook)
            .field("secret", &"<redacted>")
            .finish()
    }
}
