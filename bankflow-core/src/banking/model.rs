//! The money context's requests, results and input limits.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::{AccountNumber, AccountType};
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::idempotency::{Fingerprinter, IdempotencyKey};
use crate::ids::{AccountId, CustomerId, TransactionId};
use crate::money::{Currency, Money};
use crate::movement::Side;
use crate::transaction::TransactionType;

/// Longest free-text description accepted.
pub const DESCRIPTION_LEN_MAX: usize = 500;
/// Longest payee name or payee reference of an external payment.
pub const PAYEE_TEXT_LEN_MAX: usize = 140;
/// Most transfers in one linked batch.
pub const BATCH_LEN_MAX: usize = 100;
/// Most transfers one [`Bank::submit_transfers`] call takes: a bound on one write unit's
/// size and on the memory a call holds (TigerBeetle's batch limit is of the same order).
pub const SUBMIT_TRANSFERS_MAX: usize = 8_190;
/// Most accounts one customer holds that are not closed (a closed account frees its place).
/// Persons (customers and staff) are held to it; the system actor, trusted like a batch job,
/// is not. Bounds what one self-service user can make the bank store and list.
pub const ACCOUNTS_PER_CUSTOMER_MAX: u32 = 10;
/// Most lines in one statement.
pub const STATEMENT_LINES_MAX: usize = 10_000;
/// Events a transfer emits (initiated, fraud passed, reserved, completed, balance x2...):
/// the capacity reserved for a command's event list.
pub(crate) const EVENTS_PER_COMMAND_TYPICAL: usize = 8;
/// Holds expired per call of [`crate::MaintenanceService::expire_holds`].
pub const EXPIRE_BATCH_MAX: u32 = 500;

/// Where a transfer goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Destination {
    /// By account id.
    Account(AccountId),
    /// By account number (to another customer).
    Number(AccountNumber),
    /// Out of the bank (bill payment, ACH, wire), booked against the external clearing GL
    /// account until the payment rail settles it.
    External(ExternalPayee),
}

/// How money leaves the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentRail {
    /// A bill payment to a payee (seed: "Payment processing").
    Payment,
    /// An outgoing ACH transfer.
    Ach,
    /// An outgoing wire.
    Wire,
}

/// The beneficiary of money leaving the bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalPayee {
    /// Rail.
    pub rail: PaymentRail,
    /// Beneficiary name (1..=140 characters).
    pub name: String,
    /// Beneficiary account: IBAN, account number or routing/account (4..=34 letters, digits, `-`, `/`).
    pub account: String,
    /// Reference for the beneficiary (invoice number...), at most 140 characters.
    pub reference: Option<String>,
}

impl ExternalPayee {
    pub(crate) fn validate(&self) -> BankResult<()> {
        let name = self.name.trim();
        if name.is_empty()
            || name.chars().count() > PAYEE_TEXT_LEN_MAX
            || name.chars().any(char::is_control)
        {
            return Err(BankError::validation(
                "payee_name",
                "a payee name of 1 to 140 characters is required",
            ));
        }
        let acct = self.account.trim();
        if !(4..=34).contains(&acct.len())
            || !acct
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
        {
            return Err(BankError::validation(
                "payee_account",
                "4 to 34 letters, digits, '-' or '/'",
            ));
        }
        if self.reference.as_ref().is_some_and(|r| {
            r.chars().count() > PAYEE_TEXT_LEN_MAX || r.chars().any(char::is_control)
        }) {
            return Err(BankError::validation("reference", "at most 140 characters"));
        }
        Ok(())
    }

    pub(crate) fn kind(&self) -> TransactionType {
        match self.rail {
            PaymentRail::Payment => TransactionType::Payment,
            PaymentRail::Ach | PaymentRail::Wire => TransactionType::ExternalTransfer,
        }
    }

    pub(crate) fn fingerprint_text(&self) -> String {
        format!(
            "{:?}|{}|{}|{}",
            self.rail,
            self.name.trim(),
            self.account.trim(),
            self.reference.as_deref().unwrap_or("")
        )
    }
}

/// The credited side of a resolved destination.
pub(crate) struct Resolved {
    pub(crate) credit: Side,
    pub(crate) kind: TransactionType,
    pub(crate) counterparty: Option<String>,
    pub(crate) default_description: Option<String>,
}

/// One transfer between customer accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferItem {
    /// Debited account (must belong to the actor unless admin).
    pub from_account_id: AccountId,
    /// Credited account.
    pub to: Destination,
    /// Positive amount in the accounts' currency.
    pub amount: Money,
    /// Free text (≤ 500 characters).
    pub description: Option<String>,
}

impl TransferItem {
    /// Adds this item's fields to a request fingerprint. Ids and amounts go in as bytes (16
    /// each), not as formatted text: formatting them was the costliest step of a transfer's
    /// fingerprint. The destination's kind is tagged so an id can never read as a number.
    pub(crate) fn fingerprint_into(&self, fp: &mut Fingerprinter) {
        fp.bytes(self.from_account_id.0.as_bytes());
        match &self.to {
            Destination::Account(id) => fp.bytes(b"account").bytes(id.0.as_bytes()),
            Destination::Number(n) => fp.bytes(b"number").bytes(n.as_str().as_bytes()),
            Destination::External(p) => fp.bytes(b"external").part(p.fingerprint_text()),
        };
        fp.bytes(&self.amount.amount().serialize())
            .bytes(self.amount.currency().code().as_bytes())
            .bytes(self.description.as_deref().unwrap_or("").as_bytes());
    }
}

/// An internal transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferRequest {
    /// What moves.
    pub item: TransferItem,
    /// Idempotency key.
    pub idempotency_key: IdempotencyKey,
    /// Caller context for fraud rules.
    pub context: RequestContext,
}

/// A teller deposit or withdrawal (against the cash GL account), or a booking against
/// another GL account (external clearing, fees, interest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingRequest {
    /// Customer account.
    pub account_id: AccountId,
    /// Positive amount.
    pub amount: Money,
    /// Free text.
    pub description: Option<String>,
    /// Idempotency key.
    pub idempotency_key: IdempotencyKey,
}

/// Opens an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAccountRequest {
    /// Owner.
    pub customer_id: CustomerId,
    /// CHECKING or SAVINGS.
    pub account_type: AccountType,
    /// Currency (USD by default at the edges).
    pub currency: Currency,
    /// Overdraft (checking only; admin only).
    pub overdraft_limit: Option<Decimal>,
    /// Daily outgoing limit.
    pub daily_limit: Option<Decimal>,
}

/// Commands the engine executes inside a unit of work. Data, so that concurrent commands
/// can be queued and group-committed.
/// A statement line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    /// Transaction booked.
    pub transaction_id: TransactionId,
    /// Booking time.
    pub posted_at: DateTime<Utc>,
    /// Description.
    pub description: Option<String>,
    /// Signed from the account's view.
    pub amount: Money,
    /// Balance after this line.
    pub balance_after: Money,
}

/// An account statement for `from <= day <= to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Account.
    pub account_id: AccountId,
    /// Account number.
    pub account_number: AccountNumber,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Balance at the start of `from`.
    pub opening_balance: Money,
    /// Balance at the end of `to`.
    pub closing_balance: Money,
    /// Lines in booking order.
    pub entries: Vec<StatementLine>,
}

/// Balance snapshot: ledger and available balance read together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Account.
    pub account_id: AccountId,
    /// Sum of postings.
    pub balance: Money,
    /// Balance minus active holds.
    pub available_balance: Money,
}

/// Result of a whole-ledger audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReport {
    /// Customer accounts checked.
    pub accounts_checked: usize,
    /// Sum of all customer balances per currency.
    pub customer_totals: Vec<(Currency, Decimal)>,
}

pub(crate) fn validate_description(d: &Option<String>) -> BankResult<()> {
    match d {
        Some(s) if s.chars().count() > DESCRIPTION_LEN_MAX => Err(BankError::validation(
            "description",
            format!("at most {DESCRIPTION_LEN_MAX} characters"),
        )),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => Err(BankError::validation(
            "description",
            "control characters are not allowed",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn sorted_ids(ids: impl IntoIterator<Item = AccountId>) -> Vec<AccountId> {
    let mut v: Vec<AccountId> = ids.into_iter().collect();
    v.sort();
    v.dedup();
    v
}
