//! Maker-checker: parking a staff movement above the threshold, and deciding it.
//!
//! Parking, approving and rejecting are money commands (they run through the executor like
//! any other), so the request, its outbox event, its audit entry and its idempotency record
//! commit together; an approval runs the parked movement inside its own unit, under a
//! savepoint, so "approved" and "executed" are never seen apart.

use serde_json::json;

use super::*;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventType};
use crate::executor::RetryPolicy;
use crate::idempotency::{fingerprint, IdempotencyKey, IdempotentResponse};
use crate::ids::{AccountId, ApprovalId, UserId};
use crate::money::Money;
use crate::movement::Reserve;
use crate::ports::UnitOfWork;
use crate::transaction::{TransactionStatus, TransactionType};

/// A staff member's decision on a parked movement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Approve,
    Reject(String),
}

/// What a parked command would do, and how much it moves.
struct Parked {
    command: ApprovalCommand,
    kind: Option<TransactionType>,
    amount: Money,
    account_id: Option<AccountId>,
}

impl MoneyService<'_> {
    /// Parks `cmd` when, by `actor`, it must wait for a second staff member: a person with a
    /// staff role (not the embedding program) moving more than the configured threshold.
    /// `None`: run it now.
    pub(crate) async fn park_if_needed(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Option<ApprovalRequest>> {
        match self.parked_movement(uow, actor, cmd).await? {
            Some(p) => self.exec_park(uow, actor, cmd, p, events).await.map(Some),
            None => Ok(None),
        }
    }

    async fn parked_movement(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
    ) -> BankResult<Option<Parked>> {
        let Some(threshold) = self.config.staff_approval_threshold else {
            return Ok(None);
        };
        if actor.system || !actor.is_staff() {
            return Ok(None);
        }
        let p = match cmd {
            Command::Transfer(req, reserve) => {
                let item = &req.item;
                Parked {
                    kind: Some(match &item.to {
                        Destination::External(p) => p.kind(),
                        _ => TransactionType::Transfer,
                    }),
                    amount: item.amount,
                    account_id: Some(item.from_account_id),
                    command: ApprovalCommand::Transfer {
                        from_account_id: item.from_account_id,
                        to: item.to.clone(),
                        amount: item.amount,
                        description: item.description.clone(),
                        reserve_until: match reserve {
                            Reserve::No => None,
                            Reserve::Until(t) => Some(*t),
                        },
                    },
                }
            }
            Command::Booking(req, kind) => Parked {
                kind: Some(*kind),
                amount: req.amount,
                account_id: Some(req.account_id),
                command: ApprovalCommand::Booking {
                    transaction_type: *kind,
                    account_id: req.account_id,
                    amount: req.amount,
                    description: req.description.clone(),
                },
            },
            Command::Reverse { id, reason, .. } => {
                // An unknown transaction is reported by the reversal itself.
                let Some(t) = uow.transaction(*id).await? else {
                    return Ok(None);
                };
                Parked {
                    kind: Some(TransactionType::Reversal),
                    amount: t.amount,
                    account_id: t.from_account_id.or(t.to_account_id),
                    command: ApprovalCommand::Reverse {
                        transaction_id: *id,
                        reason: reason.trim().to_string(),
                    },
                }
            }
            Command::SetLimits {
                id,
                overdraft_limit,
                daily_limit,
            } => {
                // Raising what an account may spend moves money as surely as a transfer.
                // An unknown account or a malformed limit is reported by the command itself.
                let Some(acct) = uow.account(*id).await? else {
                    return Ok(None);
                };
                let most = daily_limit.map_or(*overdraft_limit, |d| d.max(*overdraft_limit));
                let Ok(amount) = Money::new(most, acct.currency) else {
                    return Ok(None);
                };
                Parked {
                    kind: None,
                    amount,
                    account_id: Some(*id),
                    command: ApprovalCommand::SetLimits {
                        account_id: *id,
                        overdraft_limit: *overdraft_limit,
                        daily_limit: *daily_limit,
                    },
                }
            }
            Command::Batch { items, .. } => {
                // A linked batch cannot be parked item by item: staff send such amounts
                // one by one, each through its own approval.
                if items.iter().any(|i| i.amount.amount() > threshold) {
                    return Err(BankError::Forbidden(
                        "a staff transfer above the approval threshold must be sent on its own"
                            .into(),
                    ));
                }
                return Ok(None);
            }
            _ => return Ok(None),
        };
        Ok((p.amount.amount() > threshold).then_some(p))
    }

    /// Parks `cmd` as an approval request (replaying the first answer for its key).
    async fn exec_park(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
        p: Parked,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<ApprovalRequest> {
        actor.require_admin()?;
        let maker = actor
            .user_id
            .ok_or_else(|| BankError::Forbidden("a person must initiate".into()))?;
        // A limit change takes no idempotency key: each call parks a new request.
        let key = cmd.idempotency_key();
        if !matches!(p.command, ApprovalCommand::SetLimits { .. }) {
            p.amount.positive()?;
        }
        let scope = actor.idempotency_scope();
        let text = serde_json::to_string(&p.command).map_err(BankError::internal)?;
        let fp = fingerprint(&["approval", &text]);
        if let Some(key) = key {
            if let Some(resp) = self.idem_lookup(uow, &scope, key, &fp).await? {
                return Self::replay_approval(resp);
            }
        }
        if let Some(a) = p.account_id {
            uow.account(a).await?.ok_or(BankError::NotFound {
                resource: "account",
            })?;
        }
        let context = match cmd {
            Command::Transfer(req, _) => req.context.clone(),
            _ => Default::default(),
        };
        let a = ApprovalRequest {
            id: ApprovalId(self.new_uuid()),
            command: p.command,
            transaction_type: p.kind,
            amount: p.amount,
            account_id: p.account_id,
            status: ApprovalStatus::Pending,
            initiated_by: maker,
            decided_by: None,
            decided_at: None,
            reason: None,
            failure_code: None,
            transaction_id: None,
            context,
            created_at: self.now_us(),
        };
        uow.insert_approval(&a).await?;
        if let Some(key) = key {
            let resp = IdempotentResponse::Approval(Box::new(a.clone()));
            self.idem_save(uow, scope, key, fp, resp).await?;
        }
        events.push(self.approval_event(EventType::ApprovalRequested, &a));
        let ev = AuditEvent::new("approval.request", "approval_request", a.id)
            .detail(approval_detail(&a));
        self.audit(uow, actor, ev).await?;
        Ok(a)
    }

    /// Approves (runs the parked movement) or rejects a pending request. Admin only; the
    /// initiator cannot approve their own request.
    pub(crate) async fn exec_decide(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: ApprovalId,
        decision: &Decision,
        key: &IdempotencyKey,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<ApprovalRequest> {
        actor.require_admin()?;
        let checker = actor
            .user_id
            .ok_or_else(|| BankError::Forbidden("a person must decide".into()))?;
        let (verb, reason) = match decision {
            Decision::Approve => ("approve", ""),
            Decision::Reject(r) => ("reject", r.trim()),
        };
        if verb == "reject"
            && (reason.is_empty() || reason.chars().count() > APPROVAL_REASON_LEN_MAX)
        {
            return Err(BankError::validation(
                "reason",
                format!("a reason of 1 to {APPROVAL_REASON_LEN_MAX} characters is required"),
            ));
        }
        let scope = actor.idempotency_scope();
        let fp = fingerprint(&["approval.decide", &id.to_string(), verb, reason]);
        if let Some(resp) = self.idem_lookup(uow, &scope, key, &fp).await? {
            return Self::replay_approval(resp);
        }
        let mut a = uow.lock_approval(id).await?.ok_or(BankError::NotFound {
            resource: "approval request",
        })?;
        if a.status != ApprovalStatus::Pending {
            return Err(BankError::InvalidState(format!(
                "the approval request is already {}",
                a.status
            )));
        }
        if verb == "approve" && a.initiated_by == checker {
            return Err(BankError::Forbidden(
                "a second staff member must approve; the initiator cannot".into(),
            ));
        }
        if verb == "approve" {
            self.run_approved(uow, actor, &mut a, checker, events)
                .await?;
        } else {
            a.status = ApprovalStatus::Rejected;
            a.reason = Some(reason.to_string());
        }
        a.decided_by = Some(checker);
        a.decided_at = Some(self.now_us());
        uow.update_approval(&a).await?;
        let resp = IdempotentResponse::Approval(Box::new(a.clone()));
        self.idem_save(uow, scope, key, fp, resp).await?;
        events.push(self.approval_event(EventType::ApprovalDecided, &a));
        let action = if verb == "approve" {
            "approval.approve"
        } else {
            "approval.reject"
        };
        let ev = AuditEvent::new(action, "approval_request", a.id).detail(approval_detail(&a));
        self.audit(uow, actor, ev).await?;
        Ok(a)
    }

    /// Runs the parked movement as `checker` under a savepoint: a refusal leaves the request
    /// FAILED with its code (and, for a business refusal, the FAILED transaction), a fault
    /// that a retry may cure fails the whole unit.
    async fn run_approved(
        &self,
        uow: &mut dyn UnitOfWork,
        checker_actor: &Actor,
        a: &mut ApprovalRequest,
        checker: UserId,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<()> {
        let key = IdempotencyKey::parse(&format!("approval:{}", a.id))?;
        let cmd = a.to_command(key);
        uow.savepoint().await?;
        let mark = events.len();
        let out = Box::pin(self.exec_now(uow, checker_actor, &cmd, events)).await;
        let txn = match out {
            Ok(Outcome::Transaction(t)) => t,
            Ok(Outcome::Account(_)) => {
                // A limit change: no transaction to stamp; the audit entry names both people.
                uow.release_savepoint().await?;
                a.status = ApprovalStatus::Executed;
                return Ok(());
            }
            Ok(_) => return Err(BankError::internal("unexpected outcome")),
            Err(e) if RetryPolicy::retryable(&e) || is_fault(&e) => return Err(e),
            Err(e) => {
                uow.rollback_to_savepoint().await?;
                events.truncate(mark);
                a.status = ApprovalStatus::Failed;
                a.failure_code = Some(e.code().to_string());
                a.reason = Some(e.to_string());
                return Ok(());
            }
        };
        uow.release_savepoint().await?;
        // The transaction the movement created: for a reversal, the compensating one.
        let created = match a.command {
            ApprovalCommand::Reverse { .. } => txn.parent_id,
            _ => Some(txn.id),
        };
        if let Some(id) = created {
            let mut t = uow.transaction(id).await?.ok_or(BankError::NotFound {
                resource: "transaction",
            })?;
            t.mark_people(&mut events[mark..], Some(a.initiated_by), Some(checker));
            uow.update_transaction(&t).await?;
        }
        a.transaction_id = Some(txn.id);
        if txn.status == TransactionStatus::Failed {
            a.status = ApprovalStatus::Failed;
            a.failure_code = txn.failure_code.clone();
            a.reason = txn.reason.clone();
        } else {
            a.status = ApprovalStatus::Executed;
        }
        Ok(())
    }

    fn approval_event(&self, ty: EventType, a: &ApprovalRequest) -> DomainEvent {
        let data = json!({
            "approvalId": a.id.to_string(),
            "status": a.status.as_str(),
            "transactionType": a.transaction_type.map(|t| t.as_str()),
            "amount": a.amount.amount().to_string(),
            "currency": a.amount.currency().code(),
            "accountId": a.account_id.map(|x| x.to_string()),
            "initiatedBy": a.initiated_by.to_string(),
            "decidedBy": a.decided_by.map(|u| u.to_string()),
            "transactionId": a.transaction_id.map(|t| t.to_string()),
        });
        self.json_event(ty, a.id.0, data)
    }

    fn replay_approval(resp: IdempotentResponse) -> BankResult<ApprovalRequest> {
        match resp {
            IdempotentResponse::Approval(a) => Ok(*a),
            _ => Err(BankError::IdempotencyConflict),
        }
    }
}

/// Errors that are engine or port faults, never a refusal to record on the request.
fn is_fault(e: &BankError) -> bool {
    matches!(e, BankError::Internal(_) | BankError::Invariant(_))
}

/// What an approval's audit entries say: both people, and what moved.
fn approval_detail(a: &ApprovalRequest) -> serde_json::Value {
    json!({
        "status": a.status.as_str(),
        "type": a.transaction_type.map(|t| t.as_str()),
        "amount": a.amount.amount().to_string(),
        "currency": a.amount.currency().code(),
        "account_id": a.account_id.map(|x| x.to_string()),
        "initiated_by": a.initiated_by.to_string(),
        "approved_by": a.decided_by.map(|u| u.to_string()),
        "transaction_id": a.transaction_id.map(|t| t.to_string()),
        "failure_code": a.failure_code,
        "reason": a.reason,
    })
}

impl ApprovalRequest {
    /// The money command this request runs when approved, under `key`.
    pub(crate) fn to_command(&self, key: IdempotencyKey) -> Command {
        match &self.command {
            ApprovalCommand::Transfer {
                from_account_id,
                to,
                amount,
                description,
                reserve_until,
            } => Command::Transfer(
                TransferRequest {
                    item: TransferItem {
                        from_account_id: *from_account_id,
                        to: to.clone(),
                        amount: *amount,
                        description: description.clone(),
                    },
                    idempotency_key: key,
                    context: self.context.clone(),
                },
                reserve_until.map_or(Reserve::No, Reserve::Until),
            ),
            ApprovalCommand::Booking {
                transaction_type,
                account_id,
                amount,
                description,
            } => Command::Booking(
                BookingRequest {
                    account_id: *account_id,
                    amount: *amount,
                    description: description.clone(),
                    idempotency_key: key,
                },
                *transaction_type,
            ),
            ApprovalCommand::Reverse {
                transaction_id,
                reason,
            } => Command::Reverse {
                id: *transaction_id,
                reason: reason.clone(),
                key,
            },
            ApprovalCommand::SetLimits {
                account_id,
                overdraft_limit,
                daily_limit,
            } => Command::SetLimits {
                id: *account_id,
                overdraft_limit: *overdraft_limit,
                daily_limit: *daily_limit,
            },
        }
    }
}

impl MoneyService<'_> {
    // ---------------------------------------------------------------- public commands

    /// Runs a money movement, or parks it for a second staff member when a staff person moves
    /// more than [`crate::BankConfig::staff_approval_threshold`]. Business refusals are
    /// returned as their error, as by the single-purpose commands.
    pub async fn submit(&self, actor: &Actor, m: MoneyMove) -> BankResult<Submitted> {
        let cmd = match m {
            MoneyMove::Transfer(req) => Command::Transfer(req, Reserve::No),
            MoneyMove::Pending { req, expires_at } => {
                let until = expires_at.unwrap_or_else(|| self.now() + self.config.hold_ttl);
                Command::Transfer(req, Reserve::Until(until))
            }
            MoneyMove::Book(kind, req) => Command::Booking(req, kind),
            MoneyMove::Reverse { id, reason, key } => Command::Reverse { id, reason, key },
        };
        match self.run(actor, cmd).await? {
            Outcome::Approval(a) => Ok(Submitted::AwaitingApproval(a)),
            out => out.txn().map(Submitted::Done),
        }
    }

    /// Approves a pending request: its movement runs now, in the same unit, recorded with
    /// both people. Admin only, and not the request's initiator (`forbidden`); a decided
    /// request is `invalid_state`; a replay of `key` answers the first result.
    pub async fn approve(
        &self,
        actor: &Actor,
        id: ApprovalId,
        key: IdempotencyKey,
    ) -> BankResult<ApprovalRequest> {
        self.decide_approval(actor, id, Decision::Approve, key)
            .await
    }

    /// Rejects a pending request with a reason: nothing moves. Admin only (the initiator may
    /// withdraw their own request this way).
    pub async fn reject(
        &self,
        actor: &Actor,
        id: ApprovalId,
        reason: &str,
        key: IdempotencyKey,
    ) -> BankResult<ApprovalRequest> {
        self.decide_approval(actor, id, Decision::Reject(reason.to_string()), key)
            .await
    }

    async fn decide_approval(
        &self,
        actor: &Actor,
        id: ApprovalId,
        decision: Decision,
        key: IdempotencyKey,
    ) -> BankResult<ApprovalRequest> {
        match self
            .run(actor, Command::Decide { id, decision, key })
            .await?
        {
            Outcome::Approval(a) => Ok(a),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Approval requests, newest first (staff).
    pub async fn approvals(
        &self,
        actor: &Actor,
        q: &ApprovalQuery,
    ) -> BankResult<Vec<ApprovalRequest>> {
        actor.require_staff()?;
        q.validate()?;
        self.read().await?.list_approvals(q).await
    }

    /// One approval request (staff).
    pub async fn approval(&self, actor: &Actor, id: ApprovalId) -> BankResult<ApprovalRequest> {
        actor.require_staff()?;
        self.read()
            .await?
            .approval(id)
            .await?
            .ok_or(BankError::NotFound {
                resource: "approval request",
            })
    }
}
