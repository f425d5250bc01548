//! The fraud-check port called at the transfer pipeline's fraud step.
//!
//! It runs inside the transfer's unit of work, so rules see velocity history consistently
//! and anything the fraud context records (cases, events) commits atomically with the
//! transfer's own outcome.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::account::{string_enum, Account};
use crate::error::BankResult;
use crate::ids::TransactionId;
use crate::money::Money;
use crate::ports::UnitOfWork;
use crate::transaction::TransactionType;

string_enum!(
    /// What the fraud step decided.
    FraudAction, "fraud_action" {
        /// Let the transaction proceed.
        Allow = "ALLOW",
        /// Hold the funds and open a case for a person to decide.
        Review = "REVIEW",
        /// Refuse the transaction.
        Block = "BLOCK",
    }
);

string_enum!(
    /// Risk level derived from the score.
    RiskLevel, "risk_level" {
        /// 0–29.
        Low = "LOW",
        /// 30–59.
        Medium = "MEDIUM",
        /// 60–84.
        High = "HIGH",
        /// 85–100.
        Critical = "CRITICAL",
    }
);

impl RiskLevel {
    /// The level of a 0–100 score.
    pub fn from_score(score: u8) -> RiskLevel {
        match score {
            0..=29 => RiskLevel::Low,
            30..=59 => RiskLevel::Medium,
            60..=84 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }
}

/// What the fraud step knows about a proposed movement.
#[derive(Clone, Debug)]
pub struct FraudInput<'a> {
    /// The transaction being decided.
    pub transaction_id: TransactionId,
    /// Kind.
    pub transaction_type: TransactionType,
    /// Debited customer account (locked), if any.
    pub from: Option<&'a Account>,
    /// Credited customer account (locked), if any.
    pub to: Option<&'a Account>,
    /// Amount.
    pub amount: Money,
    /// Request context (IP, device, email) when the caller supplied it.
    pub context: &'a RequestContext,
}

/// Who is asking and from where; used by fraud rules and the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// Client IP address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Device fingerprint.
    pub device_id: Option<String>,
    /// Email of the acting user.
    pub email: Option<String>,
    /// External counterparty (payee account, IBAN...) for payments out of the bank.
    pub counterparty: Option<String>,
}

/// What a customer is told when the fraud step blocks a movement (the whole `fraud_blocked`
/// message, also the FAILED transaction's reason): the same for every rule and list hit.
pub const FRAUD_REFUSAL: &str = "the transaction was declined by risk checks";

/// The fraud step's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudDecision {
    /// 0–100.
    pub score: u8,
    /// Level of the score.
    pub risk_level: RiskLevel,
    /// Action.
    pub action: FraudAction,
    /// Names of the rules that fired.
    pub flags: Vec<String>,
}

impl FraudDecision {
    /// The permissive verdict.
    pub fn allow() -> FraudDecision {
        FraudDecision {
            score: 0,
            risk_level: RiskLevel::Low,
            action: FraudAction::Allow,
            flags: Vec::new(),
        }
    }
}

/// Port: the fraud step.
#[async_trait]
pub trait FraudCheck: Send + Sync + 'static {
    /// Scores a proposed movement. May read and write the fraud context's own data through
    /// `uow` (velocity counters, cases, events), atomically with the transfer.
    async fn assess(
        &self,
        uow: &mut dyn UnitOfWork,
        input: &FraudInput<'_>,
    ) -> BankResult<FraudDecision>;
}

/// Allows everything. The engine's default until fraud rules are configured.
#[derive(Debug, Default)]
pub struct AllowAll;

#[async_trait]
impl FraudCheck for AllowAll {
    async fn assess(
        &self,
        _uow: &mut dyn UnitOfWork,
        _input: &FraudInput<'_>,
    ) -> BankResult<FraudDecision> {
        Ok(FraudDecision::allow())
    }
}
