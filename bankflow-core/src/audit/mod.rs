//! Audit context: the hash-chained log of admin actions and security events.
//!
//! Every entry is written in the same unit of work as the change it records (so a rolled
//! back command leaves no entry, and a committed one always has its entry). Refusals that
//! must be remembered even though the command fails — a wrong password, a lockout — are
//! committed by their use case on purpose before it returns the error.

mod anchor;
mod context;
mod model;
mod verify;

use chrono::{DurationRound, TimeDelta};
use serde_json::Value;

pub use anchor::{AuditAnchor, MemoryAuditAnchor};
pub(crate) use anchor::{AuditState, UnitTrail};
pub use context::{with_request_context, WithRequestContext};
pub use model::*;
pub use verify::AuditVerification;

use crate::auth::Actor;
use crate::bank::Inner;
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::ids::AuditId;
use crate::ports::{TxMode, UnitOfWork};

crate::bank::context_service!(
    /// The audit context's use cases (read and verify the log): `bank.audit()`.
    AuditService,
    audit_service
);

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

impl AuditService<'_> {
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
        let mut uow = self.store.begin(TxMode::Read).await?;
        uow.audit_entries(after_seq, limit).await
    }
}

impl Inner {
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
        // Keyed: the database holds no key, so whoever can edit the table cannot re-hash.
        let (key_id, key) = self
            .audit_state
            .key(&*self.keys, None)?
            .ok_or_else(|| BankError::internal("current data key unknown"))?;
        entry.hash = entry.keyed_hash(&key_id, &key);
        uow.append_audit(&entry).await?;
        UnitTrail::record(&entry);
        Ok(())
    }

    /// Appends an audit entry in its own unit of work (for refusals whose command fails).
    pub(crate) async fn audit_now(&self, actor: &Actor, ev: AuditEvent<'_>) -> BankResult<()> {
        self.write(|uow, _events, _| Box::pin(self.audit(uow, actor, ev.clone())))
            .await
    }
}

impl Inner {
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
