//! Maker-checker for staff money movement: the stored request and its repository port.
//!
//! A staff member (not the embedding program) moving more than
//! [`crate::BankConfig::staff_approval_threshold`] does not move money: the command is parked
//! as an [`ApprovalRequest`] until a *different* admin approves it (it then runs through the
//! ordinary command path, in the approval's unit) or rejects it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Destination;
use crate::account::string_enum;
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::ids::{AccountId, ApprovalId, TransactionId, UserId};
use crate::money::Money;
use crate::transaction::TransactionType;

/// Most approval requests one listing returns.
pub const APPROVALS_PAGE_MAX: u32 = 100;
/// Longest rejection reason.
pub const APPROVAL_REASON_LEN_MAX: usize = 500;

string_enum!(
    /// Where an approval request stands. Approval and execution commit in one unit, so a
    /// request goes from PENDING straight to EXECUTED (or FAILED, with the refusal's code).
    ApprovalStatus, "approval_status" {
        /// Waiting for a second staff member.
        Pending = "PENDING",
        /// Approved, and the movement ran (its transaction may still be REVIEW or PENDING).
        Executed = "EXECUTED",
        /// Approved, but the engine refused the movement (`failure_code` says why).
        Failed = "FAILED",
        /// Rejected by a second staff member: nothing moved.
        Rejected = "REJECTED",
    }
);

/// The parked movement, as data (what runs when it is approved).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalCommand {
    /// A transfer (internal, or out of the bank: payment, ACH, wire), possibly two-phase.
    Transfer {
        /// Debited account.
        from_account_id: AccountId,
        /// Destination.
        to: Destination,
        /// Amount.
        amount: Money,
        /// Free text.
        description: Option<String>,
        /// Two-phase: reserve until then instead of posting.
        reserve_until: Option<DateTime<Utc>>,
    },
    /// A booking against a GL account (deposit, withdrawal, fee, interest...).
    Booking {
        /// Kind of booking.
        transaction_type: TransactionType,
        /// Customer account.
        account_id: AccountId,
        /// Amount.
        amount: Money,
        /// Free text.
        description: Option<String>,
    },
    /// A reversal of a completed transaction.
    Reverse {
        /// The transaction to reverse.
        transaction_id: TransactionId,
        /// Why.
        reason: String,
    },
    /// New overdraft and daily limits of an account.
    SetLimits {
        /// The account.
        account_id: AccountId,
        /// New overdraft limit.
        overdraft_limit: rust_decimal::Decimal,
        /// New daily outgoing limit.
        daily_limit: Option<rust_decimal::Decimal>,
    },
}

/// A staff money movement waiting for (or decided by) a second staff member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// Id.
    pub id: ApprovalId,
    /// What runs when approved.
    pub command: ApprovalCommand,
    /// The movement's kind (for lists); `None` for a limit change.
    pub transaction_type: Option<TransactionType>,
    /// The amount compared with the threshold (for a limit change: the larger new limit).
    pub amount: Money,
    /// The customer account the movement touches.
    pub account_id: Option<AccountId>,
    /// Status.
    pub status: ApprovalStatus,
    /// The staff member who asked (the maker).
    pub initiated_by: UserId,
    /// The staff member who approved or rejected (the checker).
    pub decided_by: Option<UserId>,
    /// When it was approved or rejected.
    pub decided_at: Option<DateTime<Utc>>,
    /// Rejection reason.
    pub reason: Option<String>,
    /// Stable code of the refusal when FAILED.
    pub failure_code: Option<String>,
    /// The transaction the approved movement produced (for a reversal: the reversed one).
    pub transaction_id: Option<TransactionId>,
    /// The maker's request context (fraud rules see it when the movement runs).
    #[serde(default)]
    pub context: RequestContext,
    /// Creation.
    pub created_at: DateTime<Utc>,
}

/// Filters for [`ApprovalRepo::list_approvals`]: newest first by `(created_at, id)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApprovalQuery {
    /// Only this status.
    pub status: Option<ApprovalStatus>,
    /// Page after this `(created_at, id)` position.
    pub after: Option<(DateTime<Utc>, ApprovalId)>,
    /// Page size, 1..=[`APPROVALS_PAGE_MAX`].
    pub limit: u32,
}

impl ApprovalQuery {
    /// Validates the page size.
    pub fn validate(&self) -> BankResult<()> {
        if self.limit == 0 || self.limit > APPROVALS_PAGE_MAX {
            return Err(BankError::validation(
                "limit",
                format!("limit must be 1..={APPROVALS_PAGE_MAX}"),
            ));
        }
        Ok(())
    }

    /// True when `a` passes the filters, paging included.
    pub fn matches(&self, a: &ApprovalRequest) -> bool {
        self.status.is_none_or(|s| a.status == s)
            && self
                .after
                .is_none_or(|(at, id)| (a.created_at, a.id) < (at, id))
    }
}

/// What a staff money command answered: it ran, or it waits for a second staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// The movement ran (below the threshold, or by a customer or the system).
    Done(crate::transaction::Transaction),
    /// Parked for approval: nothing moved yet.
    AwaitingApproval(ApprovalRequest),
}

/// A money movement a staff member may be asked to have approved ([`super::MoneyService::submit`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoneyMove {
    /// A transfer: internal, or a payment / ACH / wire out of the bank.
    Transfer(super::TransferRequest),
    /// A two-phase transfer's reservation (default expiry: the configured hold TTL).
    Pending {
        /// The transfer.
        req: super::TransferRequest,
        /// When the hold expires.
        expires_at: Option<DateTime<Utc>>,
    },
    /// A booking: deposit, withdrawal, or against another GL account.
    Book(TransactionType, super::BookingRequest),
    /// A reversal of a completed transaction.
    Reverse {
        /// The transaction.
        id: TransactionId,
        /// Why.
        reason: String,
        /// Idempotency key.
        key: crate::idempotency::IdempotencyKey,
    },
}

/// Money context: parked staff movements (table `approval_requests`).
#[async_trait]
pub trait ApprovalRepo: Send {
    /// Inserts a request. `Duplicate("approval request")` if the id exists.
    async fn insert_approval(&mut self, a: &ApprovalRequest) -> BankResult<()>;
    /// Reads a request.
    async fn approval(&mut self, id: ApprovalId) -> BankResult<Option<ApprovalRequest>>;
    /// Reads a request and locks it until the unit ends (a racing decision waits).
    async fn lock_approval(&mut self, id: ApprovalId) -> BankResult<Option<ApprovalRequest>>;
    /// Overwrites a request. `NotFound("approval request")` if absent.
    async fn update_approval(&mut self, a: &ApprovalRequest) -> BankResult<()>;
    /// Requests matching `q`, newest first, at most `q.limit`.
    async fn list_approvals(&mut self, q: &ApprovalQuery) -> BankResult<Vec<ApprovalRequest>>;
}
