//! Notification context data: history rows (the seed's notification document) and
//! per-user, per-channel preferences.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, NotificationId, UserId};

macro_rules! lower_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $s)] $variant),+
        }
        impl $name {
            /// The wire/storage spelling.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            /// Parses the wire/storage spelling.
            pub fn parse(s: &str) -> crate::error::BankResult<Self> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(crate::error::BankError::validation($what, format!("unknown value {s:?}"))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

lower_enum!(
    /// Delivery channel (the seed's `type`, plus the in-app feed).
    Channel, "channel" {
        /// Email.
        Email = "email",
        /// SMS.
        Sms = "sms",
        /// Mobile push.
        Push = "push",
        /// The in-app feed (stored = delivered; streamed to the user's open sessions).
        InApp = "in_app",
    }
);

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 4] = [Channel::Email, Channel::Sms, Channel::Push, Channel::InApp];
}

lower_enum!(
    /// Delivery status.
    NotificationStatus, "notification_status" {
        /// Not delivered yet (first try or waiting for a retry).
        Pending = "pending",
        /// Delivered to the provider.
        Sent = "sent",
        /// Gave up.
        Failed = "failed",
    }
);

/// One notification (the seed's document: userId, type, recipient, subject, body,
/// templateId, status, metadata, sentAt, createdAt) plus delivery bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// Id (time-ordered: the in-app feed pages by it).
    pub id: NotificationId,
    /// Recipient user.
    pub user_id: UserId,
    /// Channel.
    pub channel: Channel,
    /// Address: email, phone, device token, or the user id for in-app.
    pub recipient: String,
    /// Subject (email, push title).
    pub subject: Option<String>,
    /// Body as stored. Messages carrying a secret (codes, reset tokens) are stored redacted.
    pub body: String,
    /// Template used.
    pub template_id: String,
    /// Delivery status.
    pub status: NotificationStatus,
    /// Template variables and context (never secrets).
    pub metadata: serde_json::Value,
    /// The event that caused it; `(source_event_id, user_id, channel)` is unique, so
    /// consuming an event twice notifies once.
    pub source_event_id: Option<EventId>,
    /// Delivery attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last provider error.
    pub last_error: Option<String>,
    /// Delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// Read by the user (in-app).
    pub read_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Whether a user wants a category of notification on a channel. Absent = enabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preference {
    /// User.
    pub user_id: UserId,
    /// Template category (e.g. `transaction.completed`).
    pub category: String,
    /// Channel.
    pub channel: Channel,
    /// Wanted.
    pub enabled: bool,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}
