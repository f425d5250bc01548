//! The notifier port: delivery of one message on one channel (SendGrid, Twilio, FCM...
//! live in adapters outside core).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::{BankError, BankResult};
use crate::ids::{DeviceId, UserId};
use crate::notify::{Channel, PushDevice};

/// One message to deliver.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Channel (never `InApp`: the feed is the store itself).
    pub channel: Channel,
    /// Email address, E.164 phone or device token.
    pub recipient: String,
    /// Subject or push title.
    pub subject: Option<String>,
    /// Body, as the user will read it (may carry a one-time code).
    pub body: String,
}

impl std::fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Bodies may carry one-time codes: never in logs.
        write!(
            f,
            "OutgoingMessage({} to {}, {} chars)",
            self.channel,
            self.recipient,
            self.body.len()
        )
    }
}

/// Port: delivers messages. An `Err` is retried by the engine with backoff, except
/// `NotFound { resource: TOKEN_GONE_RESOURCE }` on a push, which drops the device.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Delivers one message.
    async fn send(&self, message: &OutgoingMessage) -> BankResult<()>;
}

/// Most messages a [`MemoryNotifier`] keeps (oldest dropped first).
pub const MEMORY_NOTIFIER_KEEP_MAX: usize = 10_000;

/// A notifier that keeps messages in memory: the default for embedded use and tests.
/// Failures can be injected to exercise retries, and push tokens declared gone the way a
/// provider reports an uninstalled app.
#[derive(Default)]
pub struct MemoryNotifier {
    sent: Mutex<VecDeque<OutgoingMessage>>,
    fail_next: Mutex<u32>,
    gone_tokens: Mutex<VecDeque<String>>,
}

impl MemoryNotifier {
    /// Every message delivered so far (at most the last 10 000).
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent
            .lock()
            .map(|v| v.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Messages delivered to `recipient`, oldest first.
    pub fn sent_to(&self, recipient: &str) -> Vec<OutgoingMessage> {
        self.sent()
            .into_iter()
            .filter(|m| m.recipient == recipient)
            .collect()
    }

    /// Makes the next `n` sends fail.
    pub fn fail_next(&self, n: u32) {
        if let Ok(mut f) = self.fail_next.lock() {
            *f = n;
        }
    }

    /// From now on, pushes to `token` answer `NotFound { resource: TOKEN_GONE_RESOURCE }`
    /// (remembers the last 10 000 such tokens).
    pub fn forget_token(&self, token: &str) {
        if let Ok(mut g) = self.gone_tokens.lock() {
            if g.len() >= MEMORY_NOTIFIER_KEEP_MAX {
                g.pop_front();
            }
            g.push_back(token.to_string());
        }
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn send(&self, message: &OutgoingMessage) -> BankResult<()> {
        {
            let mut f = self
                .fail_next
                .lock()
                .map_err(|_| BankError::internal("notifier lock poisoned"))?;
            if *f > 0 {
                *f -= 1;
                return Err(BankError::internal("notifier: injected delivery failure"));
            }
        }
        if message.channel == Channel::Push
            && self
                .gone_tokens
                .lock()
                .map_err(|_| BankError::internal("notifier lock poisoned"))?
                .contains(&message.recipient)
        {
            return Err(BankError::NotFound {
                resource: TOKEN_GONE_RESOURCE,
            });
        }
        let mut v = self
            .sent
            .lock()
            .map_err(|_| BankError::internal("notifier lock poisoned"))?;
        if v.len() >= MEMORY_NOTIFIER_KEEP_MAX {
            v.pop_front();
        }
        v.push_back(message.clone());
        Ok(())
    }
}

/// The `resource` of the `NotFound` a push notifier answers when the provider says the
/// device token no longer exists (FCM `UNREGISTERED`): the engine then deletes that device
/// and does not retry it.
pub const TOKEN_GONE_RESOURCE: &str = "push device token";

/// True when `e` is a push notifier's "this device token is gone" answer.
pub fn is_token_gone(e: &BankError) -> bool {
    matches!(e, BankError::NotFound { resource } if *resource == TOKEN_GONE_RESOURCE)
}

/// The error of a channel without a provider: a failed send (retried, then `failed` in the
/// history), so a missing configuration shows instead of messages vanishing.
pub fn no_provider(channel: Channel) -> BankError {
    BankError::internal(format!(
        "no provider is configured for the {channel} channel"
    ))
}

/// The one channel router: each message to the notifier of its channel. A channel left
/// `None` refuses with [`no_provider`]. Every edge composes its notifiers with this: the
/// server (`bankflow serve`) and the Python and Node bindings (through `bankflow-embed`).
#[derive(Clone, Default)]
pub struct ChannelRouter {
    /// Delivers [`Channel::Email`].
    pub email: Option<Arc<dyn Notifier>>,
    /// Delivers [`Channel::Sms`].
    pub sms: Option<Arc<dyn Notifier>>,
    /// Delivers [`Channel::Push`] (the recipient is one device token).
    pub push: Option<Arc<dyn Notifier>>,
}

impl ChannelRouter {
    /// Gives every channel still without a provider to `fallback`.
    pub fn or_else(mut self, fallback: &Arc<dyn Notifier>) -> ChannelRouter {
        for slot in [&mut self.email, &mut self.sms, &mut self.push] {
            if slot.is_none() {
                *slot = Some(Arc::clone(fallback));
            }
        }
        self
    }

    fn route(&self, channel: Channel) -> Option<&Arc<dyn Notifier>> {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.sms.as_ref(),
            Channel::Push => self.push.as_ref(),
            // The feed is the store itself: nothing is ever sent for it.
            Channel::InApp => None,
        }
    }
}

impl std::fmt::Debug for ChannelRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelRouter")
            .field("email", &self.email.is_some())
            .field("sms", &self.sms.is_some())
            .field("push", &self.push.is_some())
            .finish()
    }
}

#[async_trait]
impl Notifier for ChannelRouter {
    async fn send(&self, message: &OutgoingMessage) -> BankResult<()> {
        match self.route(message.channel) {
            Some(n) => n.send(message).await,
            None => Err(no_provider(message.channel)),
        }
    }
}

/// Notification context: the push device registry (at most [`crate::notify::DEVICES_PER_USER_MAX`]
/// per user, tokens unique across users).
#[async_trait]
pub trait DeviceRepo: Send {
    /// Inserts a device. `Duplicate("push device")` if the id or the token exists.
    async fn insert_device(&mut self, d: &PushDevice) -> BankResult<()>;
    /// Reads a device.
    async fn device(&mut self, id: DeviceId) -> BankResult<Option<PushDevice>>;
    /// The device holding `token`, whoever owns it.
    async fn device_by_token(&mut self, token: &str) -> BankResult<Option<PushDevice>>;
    /// A user's devices oldest first: ordered by `(created_at, id)`, at most `limit`.
    async fn devices_of_user(&mut self, user: UserId, limit: u32) -> BankResult<Vec<PushDevice>>;
    /// Overwrites a device. `NotFound("push device")` if absent.
    async fn update_device(&mut self, d: &PushDevice) -> BankResult<()>;
    /// Deletes a device; false if it did not exist.
    async fn delete_device(&mut self, id: DeviceId) -> BankResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(channel: Channel) -> OutgoingMessage {
        OutgoingMessage {
            channel,
            recipient: "r".into(),
            subject: None,
            body: "b".into(),
        }
    }

    #[tokio::test]
    async fn the_router_sends_each_channel_to_its_notifier_and_refuses_missing_ones() {
        let email = Arc::new(MemoryNotifier::default());
        let push = Arc::new(MemoryNotifier::default());
        let router = ChannelRouter {
            email: Some(email.clone()),
            sms: None,
            push: Some(push.clone()),
        };
        router.send(&msg(Channel::Email)).await.unwrap();
        router.send(&msg(Channel::Push)).await.unwrap();
        let refused = router.send(&msg(Channel::Sms)).await.unwrap_err();
        assert_eq!(refused.to_string(), no_provider(Channel::Sms).to_string());
        assert!(router.send(&msg(Channel::InApp)).await.is_err());
        assert_eq!(email.sent().len(), 1);
        assert_eq!(push.sent().len(), 1);
        assert_eq!(email.sent()[0].channel, Channel::Email);

        let fallback: Arc<dyn Notifier> = Arc::new(MemoryNotifier::default());
        let filled = router.or_else(&fallback);
        filled.send(&msg(Channel::Sms)).await.unwrap();
        assert_eq!(
            push.sent().len(),
            1,
            "configured channels keep their notifier"
        );
    }
}
