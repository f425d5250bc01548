//! Notification context data: history rows (the seed's notification document) and
//! per-user, per-channel preferences.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, EventId, NotificationId, UserId};

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
        /// Nothing to deliver to (a push for a user with no registered device, or whose
        /// every token the provider reported gone): final, never retried.
        Skipped = "skipped",
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

lower_enum!(
    /// The platform of a push device (what the app reports; FCM serves all three).
    Platform, "platform" {
        /// Android (FCM).
        Android = "android",
        /// iOS (FCM over APNs).
        Ios = "ios",
        /// A browser (FCM web push).
        Web = "web",
    }
);

/// Active push devices a user may have at once. A registration beyond it is refused
/// `limit_exceeded` (rather than silently evicting the oldest, which would stop pushes to a
/// phone the user still has): unregister one first. It also bounds the push fan-out.
pub const DEVICES_PER_USER_MAX: u32 = 10;
/// Longest accepted push token (FCM tokens are about 160 characters; this leaves room for
/// other providers' formats without letting a client store kilobytes per row).
pub const DEVICE_TOKEN_LEN_MAX: usize = 4096;

/// One push token registered by a user. Present = active: an unregistered device, or one
/// whose token the provider reported gone, is deleted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushDevice {
    /// Id.
    pub id: DeviceId,
    /// Owner.
    pub user_id: UserId,
    /// Platform.
    pub platform: Platform,
    /// The provider's device token (unique across users: a token belongs to one install).
    pub token: String,
    /// First registered by this user.
    pub created_at: DateTime<Utc>,
    /// Last registered (re-registering a known token refreshes it).
    pub updated_at: DateTime<Utc>,
}

impl PushDevice {
    /// The token's last characters, enough for a user to tell devices apart: lists show
    /// this, never the whole token.
    pub fn token_hint(&self) -> String {
        let n = self.token.chars().count();
        self.token.chars().skip(n.saturating_sub(6)).collect()
    }
}

impl std::fmt::Debug for PushDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token addresses the install: not for logs.
        write!(
            f,
            "PushDevice({} of {}, {}, …{})",
            self.id,
            self.user_id,
            self.platform,
            self.token_hint()
        )
    }
}

/// Checks a push token: non-empty, at most [`DEVICE_TOKEN_LEN_MAX`] characters, printable
/// ASCII without spaces (every provider's token alphabet).
pub fn check_device_token(token: &str) -> crate::error::BankResult<()> {
    if token.is_empty()
        || token.len() > DEVICE_TOKEN_LEN_MAX
        || !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(crate::error::BankError::validation(
            "token",
            format!("1 to {DEVICE_TOKEN_LEN_MAX} printable ASCII characters without spaces"),
        ));
    }
    Ok(())
}
