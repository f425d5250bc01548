//! Fraud context data: rules, black/white lists, per-transaction assessments (velocity
//! history and score lookups) and cases.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::string_enum;
use crate::fraud_port::{FraudAction, RiskLevel};
use crate::ids::{AccountId, CaseId, ListEntryId, RuleId, TransactionId, UserId};
use crate::money::Money;

string_enum!(
    /// Kinds of fraud rule (the seed's `rule_type`).
    RuleType, "rule_type" {
        /// Amount at or above a threshold. Conditions: `{"min_amount": "10000.00", "score": 40}`.
        AmountThreshold = "AMOUNT_THRESHOLD",
        /// Too many transfers from one account in a window.
        /// Conditions: `{"max_count": 10, "window_minutes": 60, "score": 30}`.
        VelocityCount = "VELOCITY_COUNT",
        /// Too much money out of one account in a window (this one included).
        /// Conditions: `{"max_amount": "20000.00", "window_minutes": 1440, "score": 30}`.
        VelocityAmount = "VELOCITY_AMOUNT",
        /// An account, counterparty, email, domain, IP or device is blacklisted.
        /// Conditions: `{"score": 100}`.
        BlacklistHit = "BLACKLIST_HIT",
        /// Large transfer out of a recently opened account.
        /// Conditions: `{"max_account_age_days": 7, "min_amount": "1000.00", "score": 40}`.
        NewAccountLargeTransfer = "NEW_ACCOUNT_LARGE_TRANSFER",
        /// Large transfer to a payee this account never paid before.
        /// Conditions: `{"min_amount": "5000.00", "score": 35}`.
        FirstTimePayeeLargeTransfer = "FIRST_TIME_PAYEE_LARGE_TRANSFER",
    }
);

/// A fraud rule as stored (the seed's `fraud_rules`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudRule {
    /// Id.
    pub id: RuleId,
    /// Unique name (shown in a decision's flags).
    pub rule_name: String,
    /// Kind.
    pub rule_type: RuleType,
    /// Parameters as JSON (validated against `rule_type` before it is stored).
    pub conditions: serde_json::Value,
    /// The least action taken when the rule fires (the score may demand more).
    pub action: FraudAction,
    /// Higher runs first.
    pub priority: i32,
    /// Inactive rules are kept but not evaluated.
    pub is_active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

string_enum!(
    /// Which list an entry is on.
    ListKind, "list" {
        /// Always block.
        Black = "BLACK",
        /// Allow despite the score and REVIEW rules; never despite a blacklist hit or a
        /// BLOCK rule.
        White = "WHITE",
    }
);

string_enum!(
    /// What a list entry matches.
    ListEntryType, "entry_type" {
        /// A customer account id (either side of a transfer).
        Account = "ACCOUNT",
        /// An external counterparty (payee account, IBAN...).
        Counterparty = "COUNTERPARTY",
        /// An exact email address (lower-case).
        Email = "EMAIL",
        /// An email domain (lower-case).
        EmailDomain = "EMAIL_DOMAIN",
        /// A client IP address.
        Ip = "IP",
        /// A device fingerprint.
        Device = "DEVICE",
    }
);

/// A black- or whitelist entry; `(list, entry_type, value)` is unique.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// Id.
    pub id: ListEntryId,
    /// Which list.
    pub list: ListKind,
    /// What it matches.
    pub entry_type: ListEntryType,
    /// The normalised value (trimmed; lower-case for emails and domains).
    pub value: String,
    /// Why it was listed.
    pub reason: Option<String>,
    /// Added.
    pub created_at: DateTime<Utc>,
}

/// The fraud verdict on one transaction, kept for score lookups and as velocity history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The transaction scored; unique.
    pub transaction_id: TransactionId,
    /// Debited customer account.
    pub from_account_id: Option<AccountId>,
    /// Credited customer account.
    pub to_account_id: Option<AccountId>,
    /// Payee key for first-time-payee rules: the credited account id, or the external
    /// counterparty.
    pub payee: Option<String>,
    /// Amount.
    pub amount: Money,
    /// 0–100.
    pub score: u8,
    /// Level of the score.
    pub risk_level: RiskLevel,
    /// Action decided.
    pub action: FraudAction,
    /// Rules that fired (and list hits).
    pub flags: Vec<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Transfers out of one account in a window (attempts that were not blocked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VelocityStats {
    /// How many.
    pub count: u32,
    /// Their total amount.
    pub total: Decimal,
}

string_enum!(
    /// A fraud case's status.
    CaseStatus, "case_status" {
        /// Awaiting a decision; the transaction's funds are held.
        Open = "OPEN",
        /// Released: the transfer completed.
        Released = "RELEASED",
        /// Rejected: the hold was voided, the transaction FAILED.
        Rejected = "REJECTED",
    }
);

/// A fraud case (the seed's `fraud_cases`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudCase {
    /// Id.
    pub id: CaseId,
    /// Transaction under review; unique.
    pub transaction_id: TransactionId,
    /// Debited account.
    pub account_id: AccountId,
    /// Score.
    pub fraud_score: u8,
    /// Level.
    pub risk_level: RiskLevel,
    /// Rules that fired.
    pub flags: Vec<String>,
    /// Status.
    pub status: CaseStatus,
    /// Who resolved it.
    pub resolved_by: Option<UserId>,
    /// Resolution note.
    pub resolution_note: Option<String>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Opened.
    pub created_at: DateTime<Utc>,
}
