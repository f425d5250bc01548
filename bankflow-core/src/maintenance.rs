//! Housekeeping use cases: hold expiry and the outbox relay; the background workers of every
//! edge call these on a timer.

use chrono::Duration;

use crate::auth::Actor;
use crate::banking::{Command, Outcome};
use crate::error::{BankError, BankResult};
use crate::events::DomainEvent;

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
        let now = self.now();
        let claimed = self
            .write(|uow, _, _| uow.claim_events(now, now + lease, limit))
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let events: Vec<DomainEvent> = claimed.iter().map(|s| s.event.clone()).collect();
        self.sink.publish(&events).await?;
        let seqs: Vec<i64> = claimed.iter().map(|s| s.seq).collect();
        let at = self.now();
        self.write(|uow, _, _| uow.mark_published(&seqs, at))
            .await?;
        Ok(seqs.len())
    }
}
