//! Housekeeping use cases: hold expiry, the outbox relay and retention; the background
//! workers of every edge call these on a timer.

use chrono::Duration;

use crate::auth::Actor;
use crate::banking::{Command, Outcome};
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventSink};
use crate::ports::PURGE_BATCH_MAX;

/// What one retention pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Published outbox events older than the retention period.
    pub events: u64,
    /// Idempotency records older than both the retention period and the replay window.
    pub idempotency_records: u64,
    /// Sent or failed notifications older than the retention period.
    pub notifications: u64,
    /// Delivered or failed webhook deliveries older than the retention period.
    pub webhook_deliveries: u64,
}

crate::bank::context_service!(
    /// Housekeeping: `bank.maintenance()`.
    MaintenanceService,
    maintenance
);

impl MaintenanceService<'_> {
    /// Expires due holds (up to [`EXPIRE_BATCH_MAX`] per call); returns how many.
    pub async fn expire_holds(&self) -> BankResult<usize> {
        match self.run(&Actor::system(), Command::ExpireHolds).await? {
            Outcome::Count(n) => Ok(n),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Relay step: claims up to `limit` unpublished outbox events, hands them to the sink in
    /// order, marks them published. Safe to run from several processes at once: a claim is a
    /// lease, so a relay that dies mid-way leaves its events to the next after `lease`.
    pub async fn relay_outbox(&self, limit: u32, lease: Duration) -> BankResult<usize> {
        self.relay_outbox_to(&[], limit, lease).await
    }

    /// [`relay_outbox`](Self::relay_outbox) that also hands each batch to every sink of
    /// `also` (a Kafka producer, say), after the engine's own sink. Events are marked published
    /// only when every sink acknowledged them: one that fails leaves the whole batch in the
    /// outbox for a later step (at-least-once: a sink that did accept may see it again, so its
    /// consumers dedupe on the event id). These sinks are not called inline after commit, so
    /// a slow broker never delays a command.
    pub async fn relay_outbox_to(
        &self,
        also: &[&dyn EventSink],
        limit: u32,
        lease: Duration,
    ) -> BankResult<usize> {
        let now = self.now();
        let (claimed, oldest) = self
            .write(|uow, _, _| {
                Box::pin(async move {
                    let claimed = uow.claim_events(now, now + lease, limit).await?;
                    Ok((claimed, uow.oldest_unpublished_event_time().await?))
                })
            })
            .await?;
        // The oldest event still owed, leased or not: with a broker down the batch a relay
        // claimed stays leased and unpublished, and its age is the lag operators must see
        // grow (the first claimed event alone would read zero while the lease holds).
        let lag_at = |at: chrono::DateTime<chrono::Utc>| {
            oldest
                .map(|t| (at - t).to_std().unwrap_or_default())
                .unwrap_or_default()
        };
        crate::telemetry::outbox_lag(lag_at(now));
        if claimed.is_empty() {
            return Ok(0);
        }
        let events: Vec<DomainEvent> = claimed.iter().map(|s| s.event.clone()).collect();
        if let Err(e) = self.publish_to_all(&events, also).await {
            // A failed publish may have waited out a broker timeout: report the lag as it is
            // now, not as it was at the claim, until the next step measures again.
            crate::telemetry::outbox_lag(lag_at(self.now()));
            return Err(e);
        }
        let seqs: Vec<i64> = claimed.iter().map(|s| s.seq).collect();
        let at = self.now();
        self.write(|uow, _, _| uow.mark_published(&seqs, at))
            .await?;
        Ok(seqs.len())
    }

    async fn publish_to_all(
        &self,
        events: &[DomainEvent],
        also: &[&dyn EventSink],
    ) -> BankResult<()> {
        self.sink.publish(events).await?;
        for sink in also {
            sink.publish(events).await?;
        }
        Ok(())
    }

    /// One retention pass: removes up to `limit` (at most [`PURGE_BATCH_MAX`]) rows of each
    /// kind older than `BankConfig::retention` (default 90 days). Unpublished events and
    /// pending notifications and pending webhook deliveries are never removed, and an idempotency record is kept at least
    /// for its replay window whatever the retention says, so a retried request still replays.
    /// Each kind is purged in its own unit: a failure leaves the others done.
    pub async fn purge(&self, limit: u32) -> BankResult<PurgeReport> {
        let limit = limit.clamp(1, PURGE_BATCH_MAX);
        let now = self.now();
        let cfg = &self.config;
        let before = now - cfg.retention;
        let idem_before = now - cfg.retention.max(cfg.idempotency_replay_window);
        Ok(PurgeReport {
            events: self
                .write(|uow, _, _| uow.purge_published_events(before, limit))
                .await?,
            idempotency_records: self
                .write(|uow, _, _| uow.purge_idempotency(idem_before, limit))
                .await?,
            notifications: self
                .write(|uow, _, _| uow.purge_notifications(before, limit))
                .await?,
            webhook_deliveries: self
                .write(|uow, _, _| uow.purge_deliveries(before, limit))
                .await?,
        })
    }
}
