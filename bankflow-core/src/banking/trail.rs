//! Money movements by people (customers and staff) in the audit log.
//!
//! The entry is appended in the unit of work that moves the money, so state, outbox and audit
//! commit together: a rolled-back command leaves no entry and a committed movement always
//! has one. Under group commit the chain head is locked once per store transaction (the
//! group's first audited command) and every further entry is one more insert in it.

use serde_json::json;

use super::*;
use crate::audit::{AuditEvent, AuditOutcome};
use crate::auth::Actor;
use crate::error::BankResult;
use crate::fraud_port::RequestContext;
use crate::ports::UnitOfWork;
use crate::transaction::{Transaction, TransactionStatus};

impl MoneyService<'_> {
    /// Audits `txn` as `action` when a person (a customer or staff, not the embedding
    /// program) moved the money: every staff action is audited, and customers' movements are
    /// security events. A refused movement (a FAILED transaction) is recorded with outcome
    /// FAILURE.
    pub(crate) async fn audit_customer_movement(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        action: &str,
        txn: &Transaction,
        context: &RequestContext,
    ) -> BankResult<()> {
        if actor.system {
            return Ok(());
        }
        let outcome = if txn.status == TransactionStatus::Failed {
            AuditOutcome::Failure
        } else {
            AuditOutcome::Success
        };
        let detail = json!({
            "type": txn.transaction_type.as_str(),
            "status": txn.status.as_str(),
            "amount": txn.amount.amount().to_string(),
            "currency": txn.amount.currency().code(),
            "from_account_id": txn.from_account_id.map(|a| a.to_string()),
            "to_account_id": txn.to_account_id.map(|a| a.to_string()),
            "failure_code": txn.failure_code,
        });
        let mut ev = AuditEvent::new(action, "transaction", txn.id)
            .outcome(outcome)
            .detail(detail);
        // The request's own context when it carries one; else the adapter's installed one.
        if context.ip.is_some() || context.user_agent.is_some() {
            ev = ev.ctx(context);
        }
        self.audit(uow, actor, ev).await
    }
}
