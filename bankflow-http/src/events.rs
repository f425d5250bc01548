//! From committed events to notifications, and a wake-up signal for live streams.
//!
//! The engine hands committed events to its sink right after commit (and again through the
//! outbox relay, which retries until the sink accepts). The sink here only queues them; a
//! pump task turns them into notifications with [`Bank::notify_for_events`] (idempotent per
//! event, so the inline and relayed deliveries of one event notify once) and then wakes the
//! `/notifications/stream` connections. Keeping that work off the command's path keeps
//! transfers fast.

use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::{Bank, BankError, BankResult, DomainEvent, EventSink};
use tokio::sync::{mpsc, watch};

/// Event batches queued between the sink and the pump; when full the sink refuses, and the
/// outbox relay delivers those events later.
pub const QUEUE_BATCHES_MAX: usize = 1024;
/// Events per `notify_for_events` call (the engine's own cap).
pub const NOTIFY_CHUNK_MAX: usize = 500;

/// The sink side: queues committed events for the pump.
#[derive(Debug)]
pub struct QueueSink {
    tx: mpsc::Sender<Vec<DomainEvent>>,
}

#[async_trait]
impl EventSink for QueueSink {
    async fn publish(&self, events: &[DomainEvent]) -> BankResult<()> {
        self.tx.try_send(events.to_vec()).map_err(|_| {
            BankError::Transient("notification queue is full; the relay will retry".into())
        })
    }
}

/// Bumped each time notifications may have been created; streams wait on it.
#[derive(Debug)]
pub struct FeedSignal {
    tx: watch::Sender<u64>,
}

impl FeedSignal {
    /// A fresh signal.
    pub fn new() -> FeedSignal {
        FeedSignal {
            tx: watch::channel(0).0,
        }
    }
    /// Wakes every waiting stream.
    pub fn bump(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }
    /// A receiver to wait on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

impl Default for FeedSignal {
    fn default() -> Self {
        FeedSignal::new()
    }
}

/// The pump side, waiting for its engine.
pub struct EventPump {
    rx: mpsc::Receiver<Vec<DomainEvent>>,
}

/// A sink for the engine builder and the pump that drains it.
pub fn channel() -> (QueueSink, EventPump) {
    let (tx, rx) = mpsc::channel(QUEUE_BATCHES_MAX);
    (QueueSink { tx }, EventPump { rx })
}

impl EventPump {
    /// Runs until every sender is gone (the engine was dropped).
    pub fn spawn(mut self, bank: Bank, signal: Arc<FeedSignal>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while let Some(events) = self.rx.recv().await {
                for chunk in events.chunks(NOTIFY_CHUNK_MAX) {
                    match bank.notifications().notify_for_events(chunk).await {
                        Ok(n) if n > 0 => signal.bump(),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "turning events into notifications failed")
                        }
                    }
                }
            }
        })
    }
}
