//! Money commands: what the executor runs (alone or in a group) inside a unit of work.

use rust_decimal::Decimal;

use super::*;
use crate::account::{Account, AccountStatus};
use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::events::DomainEvent;
use crate::fraud_port::RequestContext;
use crate::idempotency::IdempotencyKey;
use crate::ids::{AccountId, TransactionId};
use crate::money::Money;
use crate::movement::Reserve;
use crate::ports::UnitOfWork;
use crate::transaction::{Transaction, TransactionType};

#[derive(Clone, Debug)]
pub(crate) enum Command {
    OpenAccount(OpenAccountRequest),
    Transfer(TransferRequest, Reserve),
    Booking(BookingRequest, TransactionType),
    PostPending {
        id: TransactionId,
        amount: Option<Money>,
        key: IdempotencyKey,
    },
    VoidPending {
        id: TransactionId,
        key: IdempotencyKey,
    },
    Reverse {
        id: TransactionId,
        reason: String,
        key: IdempotencyKey,
    },
    Batch {
        items: Vec<TransferItem>,
        key: IdempotencyKey,
        context: RequestContext,
    },
    SetStatus {
        id: AccountId,
        status: AccountStatus,
    },
    SetLimits {
        id: AccountId,
        overdraft_limit: Decimal,
        daily_limit: Option<Decimal>,
    },
    ExpireHolds,
    /// Approve or reject a parked staff movement (maker-checker).
    Decide {
        id: crate::ids::ApprovalId,
        decision: super::approvals::Decision,
        key: IdempotencyKey,
    },
}

impl Command {
    /// The idempotency key the command is recorded under, if it takes one (always in the
    /// actor's scope).
    pub(crate) fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        match self {
            Command::Transfer(r, _) => Some(&r.idempotency_key),
            Command::Booking(r, _) => Some(&r.idempotency_key),
            Command::PostPending { key, .. }
            | Command::VoidPending { key, .. }
            | Command::Reverse { key, .. }
            | Command::Batch { key, .. }
            | Command::Decide { key, .. } => Some(key),
            Command::OpenAccount(_)
            | Command::SetStatus { .. }
            | Command::SetLimits { .. }
            | Command::ExpireHolds => None,
        }
    }
}

/// What a command produced.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Account(Account),
    Transaction(Transaction),
    Transactions(Vec<Transaction>),
    Count(usize),
    /// A staff movement parked for a second staff member, or a decided request.
    Approval(ApprovalRequest),
}

impl Outcome {
    pub(crate) fn txn(self) -> BankResult<Transaction> {
        match self {
            Outcome::Transaction(t) => t.refusal().map_or(Ok(t), Err),
            // Callers of the single-purpose commands learn which request waits.
            Outcome::Approval(a) => Err(BankError::ApprovalRequired(a.id)),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }
}

impl MoneyService<'_> {
    /// in the same unit of work).
    ///
    /// A future is as large as its largest arm and is copied whole at every await boundary
    /// that builds it, so the commands off the hot path are boxed: the transfer and booking
    /// arms (the traffic) stay inline and small.
    pub(crate) async fn exec(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Outcome> {
        // Only staff persons can be parked; a customer's or the system's command skips the
        // check without a store read.
        if actor.is_staff() && !actor.system {
            let parked = Box::pin(self.park_if_needed(uow, actor, cmd, events)).await?;
            if let Some(a) = parked {
                return Ok(Outcome::Approval(a));
            }
        }
        self.exec_now(uow, actor, cmd, events).await
    }

    /// Runs `cmd` without the maker-checker check (an approved request runs this way).
    pub(crate) async fn exec_now(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Outcome> {
        match cmd {
            Command::Transfer(req, reserve) => self
                .exec_transfer(uow, actor, req, *reserve, events)
                .await
                .map(Outcome::Transaction),
            Command::Booking(req, kind) => self
                .exec_booking(uow, actor, req, *kind, events)
                .await
                .map(Outcome::Transaction),
            _ => Box::pin(self.exec_cold(uow, actor, cmd, events)).await,
        }
    }

    /// The commands [`Bank::exec`] boxes.
    pub(crate) async fn exec_cold(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        cmd: &Command,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Outcome> {
        match cmd {
            Command::Transfer(..) | Command::Booking(..) => {
                Err(BankError::internal("hot command routed to the cold path"))
            }
            Command::OpenAccount(req) => self
                .exec_open(uow, actor, req, events)
                .await
                .map(Outcome::Account),
            Command::PostPending { id, amount, key } => self
                .exec_resolve(uow, actor, *id, Resolve::Post(*amount), key, events)
                .await
                .map(Outcome::Transaction),
            Command::VoidPending { id, key } => self
                .exec_resolve(uow, actor, *id, Resolve::Void, key, events)
                .await
                .map(Outcome::Transaction),
            Command::Reverse { id, reason, key } => self
                .exec_reverse(uow, actor, *id, reason, key, events)
                .await
                .map(Outcome::Transaction),
            Command::Batch {
                items,
                key,
                context,
            } => self
                .exec_batch(uow, actor, items, key, context, events)
                .await
                .map(Outcome::Transactions),
            Command::SetStatus { id, status } => self
                .exec_set_status(uow, actor, *id, *status, events)
                .await
                .map(Outcome::Account),
            Command::SetLimits {
                id,
                overdraft_limit,
                daily_limit,
            } => self
                .exec_set_limits(uow, actor, *id, *overdraft_limit, *daily_limit)
                .await
                .map(Outcome::Account),
            Command::ExpireHolds => self.exec_expire(uow, events).await.map(Outcome::Count),
            Command::Decide { id, decision, key } => self
                .exec_decide(uow, actor, *id, decision, key, events)
                .await
                .map(Outcome::Approval),
        }
    }
}
