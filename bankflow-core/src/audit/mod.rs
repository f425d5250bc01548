//! Audit context: the hash-chained log of admin actions and security events.
//!
//! Every entry is written in the same unit of work as the change it records (so a rolled
//! back command leaves no entry, and a committed one always has its entry). Refusals that
//! must be remembered even though the command fails — a wrong password, a lockout — are
//! committed by their use case on purpose before it returns the error.

mod context;
mod model;

use chrono::{DurationRound, TimeDelta};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use context::{with_request_context, WithRequestContext};
pub use model::*;

use crate::auth::Actor;
use crate::bank::Bank;
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::ids::AuditId;
use crate::ports::{TxMode, UnitOfWork};

/// Entries read per page while verifying the chain.
pub const AUDIT_VERIFY_PAGE: u32 = 500;
/// Most entries returned by one listing.
pub const AUDIT_PAGE_MAX: u32 = 100;
/// Longest string field accepted in an audit entry (bounds what callers can make us store).
const AUDIT_FIELD_LEN_MAX: usize = 512;

/// What one audit entry says (the engine fills in actor, time, seq and hashes).
#[derive(Clone, Debug)]
pub(crate) struct AuditEvent<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<String>,
    pub outcome: AuditOutcome,
    pub detail: Value,
    pub ctx: Option<&'a RequestContext>,
}

impl<'a> AuditEvent<'a> {
    /// A successful `action` on `target_type` `target_id`.
    pub(crate) fn new(action: &'a str, target_type: &'a str, target_id: impl ToString) -> Self {
        AuditEvent {
            action,
            target_type,
            target_id: Some(target_id.to_string()),
            outcome: AuditOutcome::Success,
            detail: Value::Object(Default::default()),
            ctx: None,
        }
    }

    pub(crate) fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub(crate) fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    pub(crate) fn ctx(mut self, ctx: &'a RequestContext) -> Self {
        self.ctx = Some(ctx);
        self
    }
}

/// Result of [`Bank::verify_audit`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    /// Entries checked.
    pub entries_checked: u64,
    /// The first entry whose hash, link or position is wrong (`None`: the chain is intact).
    pub first_tampered_seq: Option<i64>,
}

fn clip(s: &str) -> String {
    s.chars().take(AUDIT_FIELD_LEN_MAX).collect()
}

fn actor_name(actor: &Actor) -> String {
    match (actor.system, actor.user_id) {
        (true, _) => "system".to_string(),
        (false, Some(u)) => format!("user:{u}"),
        (false, None) => "anonymous".to_string(),
    }
}

impl Bank {
    /// Now, truncated to microseconds: every store keeps µs, and hashed or compared
    /// timestamps must round-trip exactly.
    pub(crate) fn now_us(&self) -> chrono::DateTime<chrono::Utc> {
        let now = self.now();
        now.duration_trunc(TimeDelta::microseconds(1))
            .unwrap_or(now)
    }

    /// Appends an audit entry inside `uow`.
    pub(crate) async fn audit(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        ev: AuditEvent<'_>,
    ) -> BankResult<()> {
        let head = uow.lock_audit_head().await?;
        let (prev_seq, prev_hash) = head.unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
        // An explicit context wins; otherwise the adapter's `with_request_context`, if any.
        let installed = context::current_request_context();
        let ctx: Option<&RequestContext> = ev.ctx.or(installed.as_deref());
        let mut entry = AuditRecord {
            seq: prev_seq + 1,
            id: AuditId(self.new_uuid()),
            at: self.now_us(),
            actor: actor_name(actor),
            actor_user_id: actor.user_id,
            action: clip(ev.action),
            target_type: clip(ev.target_type),
            target_id: ev.target_id.as_deref().map(clip),
            outcome: ev.outcome,
            detail: ev.detail,
            ip: ctx.as_ref().and_then(|c| c.ip.as_deref()).map(clip),
            user_agent: ctx.as_ref().and_then(|c| c.user_agent.as_deref()).map(clip),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        uow.append_audit(&entry).await
    }

    /// Appends an audit entry in its own unit of work (for refusals whose command fails).
    pub(crate) async fn audit_now(&self, actor: &Actor, ev: AuditEvent<'_>) -> BankResult<()> {
        let mut uow = self.inner.store.begin(TxMode::Write).await?;
        self.audit(&mut *uow, actor, ev).await?;
        uow.commit().await
    }

    /// Audit entries after `after_seq`, oldest first (admin).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<AuditRecord>> {
        actor.require_admin()?;
        if limit == 0 || limit > AUDIT_PAGE_MAX {
            return Err(BankError::validation(
                "limit",
                format!("limit must be 1..={AUDIT_PAGE_MAX}"),
            ));
        }
        let mut uow = self.inner.store.begin(TxMode::Read).await?;
        uow.audit_entries(after_seq, limit).await
    }

    /// Re-computes the whole hash chain and reports the first entry that was altered,
    /// inserted, reordered or deleted (a gap in `seq` or a broken `prev_hash` link).
    pub async fn verify_audit(&self) -> BankResult<AuditVerification> {
        let mut uow = self.inner.store.begin(TxMode::Read).await?;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut prev_seq = 0i64;
        let mut checked = 0u64;
        loop {
            let page = uow.audit_entries(Some(prev_seq), AUDIT_VERIFY_PAGE).await?;
            if page.is_empty() {
                return Ok(AuditVerification {
                    entries_checked: checked,
                    first_tampered_seq: None,
                });
            }
            for e in page {
                checked += 1;
                if e.seq != prev_seq + 1 || e.prev_hash != prev_hash || e.compute_hash() != e.hash {
                    // A deleted entry shows up at the entry after the gap.
                    return Ok(AuditVerification {
                        entries_checked: checked,
                        first_tampered_seq: Some(e.seq.min(prev_seq + 1)),
                    });
                }
                prev_seq = e.seq;
                prev_hash = e.hash;
            }
        }
    }
}

/// Retries of a whole unit of work on transient store failures.
pub(crate) const UNIT_RETRIES_MAX: u32 = 8;

/// Runs a block as one write unit of work: `|uow, events| { ... }` where `uow: &mut dyn
/// UnitOfWork` and `events: &mut Vec<DomainEvent>`. The events are appended to the outbox in
/// the same unit, the unit commits, then the events go to the sink. A transient store
/// failure re-runs the whole block (its reads included). `?` inside the block aborts the
/// unit (rolled back) and returns the error. A macro rather than a closure so that the block
/// can borrow freely from the caller.
macro_rules! write_unit {
    ($bank:expr, |$uow:ident, $events:ident| $body:block) => {{
        let bank: &$crate::bank::Bank = $bank;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut unit = bank.inner.store.begin($crate::ports::TxMode::Write).await?;
            let mut pending: Vec<$crate::events::DomainEvent> = Vec::new();
            let result = {
                let $uow: &mut dyn $crate::ports::UnitOfWork = &mut *unit;
                let $events: &mut Vec<$crate::events::DomainEvent> = &mut pending;
                let _ = &$events;
                async { $body }.await
            };
            match bank.finish_unit(unit, result, &pending).await {
                Err(e) if e.is_transient() && attempt < $crate::audit::UNIT_RETRIES_MAX => continue,
                other => break other,
            }
        }
    }};
}
pub(crate) use write_unit;

impl Bank {
    /// Commits (or, on error, rolls back) a unit run by [`write_unit!`], then publishes.
    pub(crate) async fn finish_unit<T>(
        &self,
        mut uow: Box<dyn UnitOfWork>,
        result: BankResult<T>,
        events: &[crate::events::DomainEvent],
    ) -> BankResult<T> {
        match result {
            Ok(v) => {
                if !events.is_empty() {
                    uow.append_events(events).await?;
                }
                uow.commit().await?;
                self.publish(events).await;
                Ok(v)
            }
            Err(e) => {
                uow.rollback().await.ok();
                Err(e)
            }
        }
    }

    /// A domain event with a JSON payload.
    pub(crate) fn json_event(
        &self,
        event_type: crate::events::EventType,
        aggregate_id: uuid::Uuid,
        data: Value,
    ) -> crate::events::DomainEvent {
        crate::events::DomainEvent {
            id: crate::ids::EventId(self.new_uuid()),
            event_type,
            aggregate_id,
            time: self.now_us(),
            data: crate::events::EventData::Json(data),
        }
    }
}
