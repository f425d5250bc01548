//! Adapters that wind down on the edge's runtime.

use async_trait::async_trait;
use bankflow_core::customer::DocumentStore;
use bankflow_core::events::DomainEvent;
use bankflow_core::notify::{Notifier, OutgoingMessage};
use bankflow_core::{BankError, BankResult, EventSink};

/// How an edge runs code inside the tokio runtime it owns (a process-wide runtime in the
/// Python binding, napi's runtime in the Node one).
pub trait EdgeRuntime: Send + Sync + 'static {
    /// Runs `f` with the runtime entered on this thread (or as it is, when the edge has no
    /// runtime any more: the process is exiting).
    fn within<R>(&self, f: impl FnOnce() -> R) -> R;
}

/// An adapter dropped inside the edge's runtime: the host's garbage collector drops the
/// engine (and so its adapters) on a host thread, where the SMTP pool, the S3 client or the
/// Kafka client would otherwise find no runtime to wind down on (and panic).
pub struct OnRuntime<T, H: EdgeRuntime> {
    inner: Option<T>,
    runtime: H,
}

impl<T, H: EdgeRuntime> OnRuntime<T, H> {
    /// `inner`, to be dropped inside `runtime`.
    pub fn new(inner: T, runtime: H) -> OnRuntime<T, H> {
        OnRuntime {
            inner: Some(inner),
            runtime,
        }
    }

    /// The adapter (an error only while it is being dropped).
    pub fn inner(&self) -> BankResult<&T> {
        self.inner
            .as_ref()
            .ok_or_else(|| BankError::internal("adapter already dropped"))
    }
}

impl<T, H: EdgeRuntime> Drop for OnRuntime<T, H> {
    fn drop(&mut self) {
        let inner = self.inner.take();
        self.runtime.within(move || drop(inner));
    }
}

#[async_trait]
impl<T: Notifier, H: EdgeRuntime> Notifier for OnRuntime<T, H> {
    async fn send(&self, m: &OutgoingMessage) -> BankResult<()> {
        self.inner()?.send(m).await
    }
}

#[async_trait]
impl<T: DocumentStore, H: EdgeRuntime> DocumentStore for OnRuntime<T, H> {
    async fn put(&self, key: &str, bytes: &[u8]) -> BankResult<()> {
        self.inner()?.put(key, bytes).await
    }
    async fn get(&self, key: &str) -> BankResult<Option<Vec<u8>>> {
        self.inner()?.get(key).await
    }
    async fn delete(&self, key: &str) -> BankResult<()> {
        self.inner()?.delete(key).await
    }
}

#[async_trait]
impl<T: EventSink, H: EdgeRuntime> EventSink for OnRuntime<T, H> {
    async fn publish(&self, events: &[DomainEvent]) -> BankResult<()> {
        self.inner()?.publish(events).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    /// Records whether the adapter was dropped while the runtime was "entered".
    #[derive(Clone, Default)]
    struct Probe {
        entered: Arc<AtomicBool>,
        dropped_inside: Arc<AtomicBool>,
    }

    impl EdgeRuntime for Probe {
        fn within<R>(&self, f: impl FnOnce() -> R) -> R {
            self.entered.store(true, Ordering::SeqCst);
            let r = f();
            self.entered.store(false, Ordering::SeqCst);
            r
        }
    }

    struct Adapter(Probe);

    impl Drop for Adapter {
        fn drop(&mut self) {
            let inside = self.0.entered.load(Ordering::SeqCst);
            self.0.dropped_inside.store(inside, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_adapter_is_dropped_inside_the_runtime() {
        let probe = Probe::default();
        let wrapped = OnRuntime::new(Adapter(probe.clone()), probe.clone());
        assert!(wrapped.inner().is_ok());
        drop(wrapped);
        assert!(probe.dropped_inside.load(Ordering::SeqCst));
    }
}
