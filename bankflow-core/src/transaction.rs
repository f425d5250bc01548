//! Transaction context: the transaction read model, folded from the transaction's events
//! (event sourcing + CQRS), and history queries.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::string_enum;
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventData, EventType};
use crate::ids::{AccountId, HoldId, TransactionId, UserId};
use crate::money::Money;

/// Page size cap for every list the engine serves.
pub const PAGE_LIMIT_MAX: u32 = 100;

/// The one page-size rule of every list: 1..=[`PAGE_LIMIT_MAX`], else `validation_error` on
/// `limit`.
pub fn check_page_limit(limit: u32) -> BankResult<()> {
    if limit == 0 || limit > PAGE_LIMIT_MAX {
        return Err(BankError::validation(
            "limit",
            format!("limit must be 1..={PAGE_LIMIT_MAX}"),
        ));
    }
    Ok(())
}

string_enum!(
    /// Kind of transaction.
    TransactionType, "transaction_type" {
        /// Teller deposit: cash GL → customer.
        Deposit = "DEPOSIT",
        /// Teller withdrawal: customer → cash GL.
        Withdrawal = "WITHDRAWAL",
        /// Internal transfer between two customer accounts.
        Transfer = "TRANSFER",
        /// Payment to a payee outside the bank: customer → external clearing.
        Payment = "PAYMENT",
        /// Outgoing ACH / wire: customer → external clearing.
        ExternalTransfer = "EXTERNAL_TRANSFER",
        /// Incoming ACH / wire: external clearing → customer.
        ExternalDeposit = "EXTERNAL_DEPOSIT",
        /// Compensating transaction of another one.
        Reversal = "REVERSAL",
        /// Fee charged: customer → fees income.
        Fee = "FEE",
        /// Interest paid: interest expense → customer.
        Interest = "INTEREST",
    }
);

string_enum!(
    /// Status of a transaction.
    TransactionStatus, "transaction_status" {
        /// Funds reserved by a hold, waiting to be posted or voided (two-phase).
        Pending = "PENDING",
        /// Funds held while fraud review decides.
        Review = "REVIEW",
        /// Money moved.
        Completed = "COMPLETED",
        /// Refused; no money moved.
        Failed = "FAILED",
        /// Completed, then compensated by a reversal.
        Reversed = "REVERSED",
        /// Pending, then released without moving money.
        Voided = "VOIDED",
        /// Pending, then released by expiry.
        Expired = "EXPIRED",
    }
);

impl TransactionStatus {
    /// True when no further transition is possible except a reversal of COMPLETED.
    pub fn is_final(&self) -> bool {
        !matches!(self, TransactionStatus::Pending | TransactionStatus::Review)
    }
}

/// The transaction read model (the seed's `transactions` table), always equal to the fold of
/// the transaction's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// Id.
    pub id: TransactionId,
    /// Human-facing unique reference.
    pub transaction_ref: TransactionRef,
    /// Debited customer account (none for deposits).
    pub from_account_id: Option<AccountId>,
    /// Credited customer account (none for withdrawals and payments out).
    pub to_account_id: Option<AccountId>,
    /// Amount: requested, or posted once completed.
    pub amount: Money,
    /// Kind.
    pub transaction_type: TransactionType,
    /// Status.
    pub status: TransactionStatus,
    /// Free text.
    pub description: Option<String>,
    /// Stable error code when FAILED.
    pub failure_code: Option<String>,
    /// Failure, void or reversal reason.
    pub reason: Option<String>,
    /// Hold of a pending/review transaction.
    pub hold_id: Option<HoldId>,
    /// For a reversal: the reversed transaction. For a reversed transaction: its reversal.
    pub parent_id: Option<TransactionId>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// When money moved (or the refusal was decided).
    pub processed_at: Option<DateTime<Utc>>,
    /// When it was reversed.
    pub reversed_at: Option<DateTime<Utc>>,
    /// The person who asked for the movement (none for the embedding program's own).
    #[serde(default)]
    pub initiated_by: Option<UserId>,
    /// The second staff member who approved it, when it needed approval (maker-checker).
    #[serde(default)]
    pub approved_by: Option<UserId>,
}

/// Bytes in a transaction reference: `TXN-` and the id's 32 hex digits.
const TRANSACTION_REF_LEN: usize = 36;

/// A transaction's human-facing reference, `TXN-` and the id in 32 uppercase hex digits.
/// Held inline (no heap): every transaction copy the engine makes (read model, idempotency
/// record, the caller's result) carried a heap string before.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TransactionRef([u8; TRANSACTION_REF_LEN]);

impl TransactionRef {
    /// The reference of a transaction id (unique because the id is).
    pub fn of(id: TransactionId) -> TransactionRef {
        let mut r = [0u8; TRANSACTION_REF_LEN];
        r[..4].copy_from_slice(b"TXN-");
        id.0.simple().encode_upper(&mut r[4..]);
        TransactionRef(r)
    }

    /// Parses a stored or typed reference (`TXN-` and 32 hex digits, any case).
    pub fn parse(s: &str) -> BankResult<TransactionRef> {
        let hex = s
            .strip_prefix("TXN-")
            .filter(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                BankError::validation("transaction_ref", "must be TXN- and 32 hex digits")
            })?;
        let mut r = [0u8; TRANSACTION_REF_LEN];
        r[..4].copy_from_slice(b"TXN-");
        r[4..].copy_from_slice(hex.to_ascii_uppercase().as_bytes());
        Ok(TransactionRef(r))
    }

    /// The reference text.
    pub fn as_str(&self) -> &str {
        // Only `of` and `parse` build the array, and both fill it with ASCII.
        #[allow(clippy::expect_used)]
        std::str::from_utf8(&self.0).expect("references are ASCII")
    }
}

impl TryFrom<String> for TransactionRef {
    type Error = BankError;
    fn try_from(s: String) -> BankResult<Self> {
        TransactionRef::parse(&s)
    }
}

impl From<TransactionRef> for String {
    fn from(r: TransactionRef) -> String {
        r.as_str().to_string()
    }
}

impl std::fmt::Display for TransactionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for TransactionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TransactionRef({})", self.as_str())
    }
}

impl Transaction {
    /// The reference derived from the id (unique because the id is).
    pub fn reference_for(id: TransactionId) -> TransactionRef {
        TransactionRef::of(id)
    }

    /// Folds events of one transaction into its read model. The first must be
    /// `transaction.initiated`.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = &'a DomainEvent>,
    ) -> BankResult<Transaction> {
        let mut txn: Option<Transaction> = None;
        for e in events {
            match txn.as_mut() {
                None => txn = Some(Transaction::initiated(e)?),
                Some(t) => t.apply(e)?,
            }
        }
        txn.ok_or_else(|| BankError::Invariant("no events for transaction".into()))
    }

    fn initiated(e: &DomainEvent) -> BankResult<Transaction> {
        let (EventType::TransactionInitiated, EventData::Transaction(d)) = (e.event_type, &e.data)
        else {
            return Err(BankError::Invariant(format!(
                "transaction stream starts with {}",
                e.event_type
            )));
        };
        Ok(Transaction {
            id: d.transaction_id,
            transaction_ref: Transaction::reference_for(d.transaction_id),
            from_account_id: d.from_account_id,
            to_account_id: d.to_account_id,
            amount: d.amount,
            transaction_type: d.transaction_type,
            status: d.status,
            description: d.description.clone(),
            failure_code: None,
            reason: None,
            hold_id: None,
            parent_id: d.parent_id,
            created_at: e.time,
            processed_at: None,
            reversed_at: None,
            initiated_by: d.initiated_by,
            approved_by: d.approved_by,
        })
    }

    /// Records who initiated (and approved) this transaction, on the read model and on its
    /// `transaction.initiated` event among `events`, so the fold stays equal to the row.
    pub(crate) fn mark_people(
        &mut self,
        events: &mut [DomainEvent],
        initiated_by: Option<UserId>,
        approved_by: Option<UserId>,
    ) {
        self.initiated_by = initiated_by;
        self.approved_by = approved_by;
        for e in events.iter_mut() {
            if e.event_type != EventType::TransactionInitiated {
                continue;
            }
            if let EventData::Transaction(d) = &mut e.data {
                if d.transaction_id == self.id {
                    d.initiated_by = initiated_by;
                    d.approved_by = approved_by;
                }
            }
        }
    }

    /// Applies one subsequent event.
    pub fn apply(&mut self, e: &DomainEvent) -> BankResult<()> {
        let EventData::Transaction(d) = &e.data else {
            return Err(BankError::Invariant(format!(
                "{} is not a transaction event",
                e.event_type
            )));
        };
        if d.transaction_id != self.id {
            return Err(BankError::Invariant("event of another transaction".into()));
        }
        self.status = d.status;
        match e.event_type {
            EventType::TransactionBalanceReserved => {
                if d.hold_id.is_some() {
                    self.hold_id = d.hold_id;
                }
            }
            EventType::TransactionProcessed => {
                self.amount = d.amount;
                self.processed_at = Some(e.time);
            }
            EventType::TransactionFailed => {
                self.failure_code = d.failure_code.clone();
                self.reason = d.reason.clone();
                self.processed_at = Some(e.time);
            }
            EventType::TransactionReversed => {
                self.reversed_at = Some(e.time);
                self.reason = d.reason.clone();
                self.parent_id = d.parent_id;
            }
            EventType::TransactionFraudCheckPassed | EventType::TransactionCompleted => {}
            other => {
                return Err(BankError::Invariant(format!(
                    "unexpected {other} in a transaction stream"
                )))
            }
        }
        Ok(())
    }

    /// The error a FAILED transaction stands for (used when replaying an idempotent request).
    pub fn refusal(&self) -> Option<BankError> {
        if self.status != TransactionStatus::Failed {
            return None;
        }
        let reason = self.reason.clone().unwrap_or_default();
        Some(match self.failure_code.as_deref() {
            Some("insufficient_funds") => BankError::InsufficientFunds,
            Some("account_frozen") => BankError::AccountFrozen(reason),
            Some("account_closed") => BankError::AccountClosed(reason),
            Some("daily_limit_exceeded") => BankError::DailyLimitExceeded,
            Some("fraud_blocked") => BankError::FraudBlocked(reason),
            _ => BankError::InvalidState(reason),
        })
    }

    /// The amount as seen from `account`: negative when it left, positive when it arrived.
    pub fn signed_amount_for(&self, account: AccountId) -> Decimal {
        if self.from_account_id == Some(account) {
            -self.amount.amount()
        } else {
            self.amount.amount()
        }
    }
}

/// Filters for history queries. Cursor paging is by (created_at, id), newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionQuery {
    /// Only transactions debiting or crediting this account.
    pub account_id: Option<AccountId>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Kind.
    pub transaction_type: Option<TransactionType>,
    /// Status.
    pub status: Option<TransactionStatus>,
    /// Amount at least.
    pub min_amount: Option<Decimal>,
    /// Amount at most.
    pub max_amount: Option<Decimal>,
    /// Page after this (created_at, id) position.
    pub after: Option<(DateTime<Utc>, TransactionId)>,
    /// Page size (1..=PAGE_LIMIT_MAX).
    pub limit: u32,
}

impl TransactionQuery {
    /// True when `t` passes every filter except paging.
    pub fn matches(&self, t: &Transaction) -> bool {
        let acc_ok = self
            .account_id
            .is_none_or(|a| t.from_account_id == Some(a) || t.to_account_id == Some(a));
        acc_ok
            && self.from.is_none_or(|f| t.created_at >= f)
            && self.to.is_none_or(|to| t.created_at < to)
            && self
                .transaction_type
                .is_none_or(|ty| t.transaction_type == ty)
            && self.status.is_none_or(|s| t.status == s)
            && self.min_amount.is_none_or(|m| t.amount.amount() >= m)
            && self.max_amount.is_none_or(|m| t.amount.amount() <= m)
            && self
                .after
                .is_none_or(|(at, id)| (t.created_at, t.id) < (at, id))
    }

    /// Validates the page size.
    pub fn validate(&self) -> BankResult<()> {
        check_page_limit(self.limit)?;
        if let (Some(a), Some(b)) = (self.min_amount, self.max_amount) {
            if a > b {
                return Err(BankError::validation(
                    "min_amount",
                    "min_amount is above max_amount",
                ));
            }
        }
        Ok(())
    }
}
