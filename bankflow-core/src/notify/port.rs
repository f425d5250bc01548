//! The notifier port: delivery of one message on one channel (SendGrid, Twilio, FCM...
//! live in adapters outside core).

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{BankError, BankResult};
use crate::notify::Channel;

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

/// Port: delivers messages. An `Err` is retried by the engine with backoff.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Delivers one message.
    async fn send(&self, message: &OutgoingMessage) -> BankResult<()>;
}

/// Most messages a [`MemoryNotifier`] keeps (oldest dropped first).
pub const MEMORY_NOTIFIER_KEEP_MAX: usize = 10_000;

/// A notifier that keeps messages in memory: the default for embedded use and tests.
/// Failures can be injected to exercise retries.
#[derive(Default)]
pub struct MemoryNotifier {
    sent: Mutex<VecDeque<OutgoingMessage>>,
    fail_next: Mutex<u32>,
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
