//! The clock port. The engine never reads the system time directly, so tests can travel
//! in time (hold expiry, daily limits, lockouts, schedules) deterministically.

use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Port: the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Microseconds: what PostgreSQL's timestamptz keeps, so every store round-trips
        // every timestamp exactly (and hashes over timestamps stay stable).
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that only moves when told to: for tests and for users' own simulations.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(start))
    }

    /// Moves the clock forward (or backward with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .trunc_subsecs(6)
    }
}

/// A unit of CPU-heavy work handed to [`Runtime::blocking`].
pub type BlockingJob = Box<dyn FnOnce() + Send + 'static>;

/// Port: what the engine needs from the embedder's async runtime, which it does not own —
/// a timer for the retry policy's backoff, and a place to run CPU-heavy work (argon2id
/// password hashing) off the async workers. Every BankFlow edge passes [`TokioRuntime`].
pub trait Runtime: Send + Sync + 'static {
    /// A future that completes after about `duration`.
    fn sleep(&self, duration: std::time::Duration) -> futures::future::BoxFuture<'static, ()>;
    /// Runs `job` where it cannot stall the async workers; completes when it has run.
    fn blocking(&self, job: BlockingJob) -> futures::future::BoxFuture<'static, ()>;
}

/// The default [`Runtime`] of an engine built without one: `sleep` gives the scheduler one
/// turn instead of waiting (retries still happen, without real backoff) and `blocking` runs
/// the job in place. Right for single-threaded embedders (WASM); a server passes a real one.
#[derive(Debug, Default, Clone, Copy)]
pub struct InlineRuntime;

impl Runtime for InlineRuntime {
    fn sleep(&self, _duration: std::time::Duration) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(YieldNow(false))
    }
    fn blocking(&self, job: BlockingJob) -> futures::future::BoxFuture<'static, ()> {
        job();
        Box::pin(std::future::ready(()))
    }
}

/// A [`Runtime`] on tokio: its timer and its blocking pool. Needs a runtime with time
/// enabled (`enable_all`).
#[cfg(feature = "tokio-runtime")]
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioRuntime;

#[cfg(feature = "tokio-runtime")]
impl Runtime for TokioRuntime {
    fn sleep(&self, duration: std::time::Duration) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
    fn blocking(&self, job: BlockingJob) -> futures::future::BoxFuture<'static, ()> {
        let handle = tokio::task::spawn_blocking(job);
        Box::pin(async move {
            // A panicking job is the job's bug; its caller sees a missing result, not a panic.
            let _ = handle.await;
        })
    }
}

/// Gives the executor one turn: pending once, waking itself (a runtime-agnostic `yield_now`).
pub(crate) struct YieldNow(pub(crate) bool);

impl std::future::Future for YieldNow {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_keep_microseconds_only() {
        let t = SystemClock.now();
        assert_eq!(t.timestamp_subsec_nanos() % 1_000, 0);
        let m = ManualClock::new(t + Duration::nanoseconds(1_234_567));
        assert_eq!(m.now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
