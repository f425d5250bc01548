//! The one executor: every write of every context runs here.
//!
//! A write is a body run inside one unit of work; the executor begins the unit, runs the body,
//! appends the body's events to the outbox, commits, and only then publishes the events and
//! answers. Money commands ([`Command`]) go through the group committer when the store asks
//! for it (`crate::group`), other writes run in a unit of their own; both obey the one
//! [`RetryPolicy`]: bounded attempts, exponential backoff with full jitter, and only on errors
//! that may succeed on retry. Retries never nest: a group is tried once and its callers retry.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::audit::UnitTrail;
use crate::auth::Actor;
use crate::bank::Inner;
use crate::banking::{Command, Outcome, EVENTS_PER_COMMAND_TYPICAL};
use crate::clock::Runtime;
use crate::error::{BankError, BankResult};
use crate::events::DomainEvent;
use crate::group::GroupCommitter;
use crate::ports::{TxMode, UnitOfWork};

/// Attempts of one write (the first try included).
pub const WRITE_ATTEMPTS_MAX: u32 = 6;
/// Backoff before the second attempt, at most; doubles per attempt.
pub const RETRY_BACKOFF_BASE_MS: u64 = 2;
/// Longest single backoff.
pub const RETRY_BACKOFF_CAP_MS: u64 = 250;

/// Ties the lifetime of a write body's borrows (`'c`) to the unit it runs in (`'u`): the
/// argument's type implies `'c: 'u`, so a body may borrow its caller's data.
pub(crate) type Scope<'u, 'c> = &'u &'c ();

/// The one retry policy of the engine.
pub(crate) struct RetryPolicy;

impl RetryPolicy {
    /// Errors a fresh attempt may cure: transient store failures (serialization, busy), a lost
    /// race for an idempotency key (the retry replays the winner's response), a full queue.
    pub(crate) fn retryable(e: &BankError) -> bool {
        e.is_transient()
            || matches!(
                e,
                BankError::Duplicate("idempotency key") | BankError::Overloaded(_)
            )
    }

    /// True when `attempt` (1-based) failed with `e` and another attempt is allowed.
    pub(crate) fn again(attempt: u32, e: &BankError) -> bool {
        attempt < WRITE_ATTEMPTS_MAX && Self::retryable(e)
    }

    /// Full-jitter exponential backoff after `attempt` (1-based): uniform in
    /// `[0, min(cap, base * 2^(attempt-1))]` milliseconds.
    pub(crate) fn backoff(attempt: u32, random: u64) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        let ceiling_ms = RETRY_BACKOFF_BASE_MS
            .saturating_mul(1u64 << exp)
            .min(RETRY_BACKOFF_CAP_MS);
        Duration::from_millis(random % (ceiling_ms + 1))
    }
}

/// The executor's state: the group committer (when the store prefers group commit) and the
/// timer for backoff.
pub(crate) struct Executor {
    pub(crate) group: Option<GroupCommitter>,
    runtime: Arc<dyn Runtime>,
}

impl Executor {
    pub(crate) fn new(group: Option<GroupCommitter>, runtime: Arc<dyn Runtime>) -> Self {
        Executor { group, runtime }
    }
}

impl Inner {
    /// Waits out the backoff after a failed `attempt`.
    pub(crate) async fn back_off(&self, attempt: u32) {
        let delay = RetryPolicy::backoff(attempt, self.rng.next_u64());
        self.exec.runtime.sleep(delay).await;
    }

    /// Runs CPU-heavy `work` (password hashing) off the async workers and returns its result.
    pub(crate) async fn off_worker<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> BankResult<T> {
        let (tx, rx) = futures::channel::oneshot::channel();
        self.exec
            .runtime
            .blocking(Box::new(move || {
                let _ = tx.send(work());
            }))
            .await;
        rx.await
            .map_err(|_| BankError::internal("blocking work did not complete"))
    }

    /// Runs `body` in a write unit of its own under the retry policy: commit, then publish.
    /// The body pushes its events to the vector it is given; they are appended to the outbox
    /// in the same unit.
    pub(crate) async fn write<'c, T, F>(&self, mut body: F) -> BankResult<T>
    where
        F: for<'u> FnMut(
                &'u mut dyn UnitOfWork,
                &'u mut Vec<DomainEvent>,
                Scope<'u, 'c>,
            ) -> BoxFuture<'u, BankResult<T>>
            + Send,
        T: Send,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut events = Vec::with_capacity(EVENTS_PER_COMMAND_TYPICAL);
            let trail = UnitTrail::default();
            let result = match self.store.begin(TxMode::Write).await {
                Ok(mut uow) => match trail.scope(body(&mut *uow, &mut events, &&())).await {
                    Ok(out) => self.finish(uow, &events).await.map(|()| out),
                    Err(e) => {
                        uow.rollback().await.ok();
                        Err(e)
                    }
                },
                Err(e) => Err(e),
            };
            match result {
                Ok(out) => {
                    // After the commit only: the anchor never runs ahead of the table.
                    self.advance_audit_anchor(trail.last()).await;
                    self.publish(&events).await;
                    return Ok(out);
                }
                Err(e) if RetryPolicy::again(attempt, &e) => self.back_off(attempt).await,
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs one money command: through the group committer when the store prefers it, else in
    /// a unit of its own.
    pub(crate) async fn run(&self, actor: &Actor, cmd: Command) -> BankResult<Outcome> {
        if let Some(group) = &self.exec.group {
            // Boxed: the group path's future (queue, leader loop, a whole group's unit) is
            // several times the direct path's, and would be copied on every direct call too.
            return Box::pin(group.submit(self, actor.clone(), cmd)).await;
        }
        let money = self.money();
        let cmd = &cmd;
        self.write(|uow, events, _| Box::pin(money.exec(uow, actor, cmd, events)))
            .await
    }

    /// Appends the unit's events to the outbox and commits.
    pub(crate) async fn finish(
        &self,
        mut uow: Box<dyn UnitOfWork>,
        events: &[DomainEvent],
    ) -> BankResult<()> {
        if !events.is_empty() {
            uow.append_events(events).await?;
        }
        crate::telemetry::timed_commit(self.store.kind(), &*self.clock, uow.commit()).await
    }

    /// Pushes committed events to the sink. The outbox holds every event; a failed push is
    /// re-delivered by the relay.
    pub(crate) async fn publish(&self, events: &[DomainEvent]) {
        if !events.is_empty() {
            crate::telemetry::committed(events);
            let _ = self.sink.publish(events).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        assert_eq!(
            RetryPolicy::backoff(1, u64::MAX),
            Duration::from_millis(u64::MAX % 3)
        );
        for attempt in 1..=WRITE_ATTEMPTS_MAX + 20 {
            for r in [0, 1, 7, 1_000, u64::MAX] {
                let d = RetryPolicy::backoff(attempt, r);
                assert!(d <= Duration::from_millis(RETRY_BACKOFF_CAP_MS));
            }
        }
        assert_eq!(RetryPolicy::backoff(3, 8), Duration::from_millis(8));
        assert_eq!(RetryPolicy::backoff(3, 9), Duration::from_millis(0));
    }

    #[test]
    fn only_curable_errors_are_retried_and_attempts_are_bounded() {
        let transient = BankError::Transient("busy".into());
        assert!(RetryPolicy::again(1, &transient));
        assert!(!RetryPolicy::again(WRITE_ATTEMPTS_MAX, &transient));
        assert!(!RetryPolicy::again(1, &BankError::InsufficientFunds));
        assert!(!RetryPolicy::again(1, &BankError::internal("x")));
        assert!(RetryPolicy::again(1, &BankError::Overloaded("full".into())));
    }
}
