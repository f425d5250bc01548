//! Notification context: the notifier port, templates, preferences, history with retries,
//! and the in-app feed.
//!
//! Notification rows are written in the unit of work of the change that causes them (or,
//! for other contexts' events, by [`crate::Bank::notify_for_events`]); delivery happens after
//! commit, so a rolled-back change never sends a message. Bodies carrying a one-time code
//! or reset token are stored redacted and are never re-sent from storage.

mod devices;
mod model;
mod port;
mod service;
mod templates;

pub use model::*;
pub use port::{
    is_token_gone, no_provider, ChannelRouter, DeviceRepo, MemoryNotifier, Notifier,
    OutgoingMessage, MEMORY_NOTIFIER_KEEP_MAX, TOKEN_GONE_RESOURCE,
};
pub(crate) use service::{vars, Delivery};
pub use service::{
    NotificationService, DIRECT_BODY_LEN_MAX, DIRECT_SUBJECT_LEN_MAX, NOTIFY_ATTEMPTS_MAX,
    NOTIFY_BACKOFF_BASE_SECONDS, NOTIFY_EVENTS_MAX, NOTIFY_LEASE_SECONDS, NOTIFY_RETRY_BATCH_MAX,
};
pub use templates::{render, template, Template, REDACTED, TEMPLATES};
