//! The JSON shapes of statements, audit, fraud and the other read-outs (split from `dto`,
//! which re-exports them: one module path for every shape).

use bankflow_core::account::AccountNumber;
use bankflow_core::fraud::{
    FraudProposal, FraudRule, ListEntry, ListEntryType, ListKind, NewFraudRule, RuleType,
};
use bankflow_core::ids::AccountId;
use bankflow_core::{
    BankError, BankResult, Destination, FraudAction, FraudDecision, LedgerReport, Money,
    RequestContext, Statement, StatementLine,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::*;

// ------------------------------------------------------------------------- statements, audit

/// A statement line (the server's `StatementLineDto`).
#[derive(Debug, Clone, Serialize)]
pub struct StatementLineDto {
    /// Transaction.
    pub transaction_id: Uuid,
    /// Booking time.
    pub posted_at: DateTime<Utc>,
    /// Description.
    pub description: Option<String>,
    /// Signed from the account's view.
    pub amount: String,
    /// Balance after this line.
    pub balance_after: String,
}

impl From<StatementLine> for StatementLineDto {
    fn from(l: StatementLine) -> StatementLineDto {
        StatementLineDto {
            transaction_id: l.transaction_id.0,
            posted_at: l.posted_at,
            description: l.description,
            amount: money_str(&l.amount),
            balance_after: money_str(&l.balance_after),
        }
    }
}

/// An account statement (the server's `StatementDto`).
#[derive(Debug, Clone, Serialize)]
pub struct StatementDto {
    /// Account.
    pub account_id: Uuid,
    /// Account number.
    pub account_number: String,
    /// ISO 4217 code.
    pub currency: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Balance at the start of `from`.
    pub opening_balance: String,
    /// Balance at the end of `to`.
    pub closing_balance: String,
    /// Lines in booking order.
    pub entries: Vec<StatementLineDto>,
}

impl From<Statement> for StatementDto {
    fn from(s: Statement) -> StatementDto {
        StatementDto {
            account_id: s.account_id.0,
            account_number: s.account_number.to_string(),
            currency: s.opening_balance.currency().code().to_string(),
            from: s.from,
            to: s.to,
            opening_balance: money_str(&s.opening_balance),
            closing_balance: money_str(&s.closing_balance),
            entries: s.entries.into_iter().map(StatementLineDto::from).collect(),
        }
    }
}

/// One currency's total over every customer account.
#[derive(Debug, Clone, Serialize)]
pub struct CurrencyTotal {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of customer balances.
    pub total: String,
}

/// Result of `verifyLedger()`: the audit passed (a failed audit rejects with
/// `invariant_violated`).
#[derive(Debug, Clone, Serialize)]
pub struct LedgerReportDto {
    /// Customer accounts checked.
    pub accounts_checked: usize,
    /// Sum of customer balances per currency.
    pub customer_totals: Vec<CurrencyTotal>,
}

impl From<LedgerReport> for LedgerReportDto {
    fn from(r: LedgerReport) -> LedgerReportDto {
        LedgerReportDto {
            accounts_checked: r.accounts_checked,
            customer_totals: r
                .customer_totals
                .into_iter()
                .map(|(c, total)| CurrencyTotal {
                    currency: c.code().to_string(),
                    // Shown at the currency's scale like every amount; a bank-wide total can
                    // exceed the per-command maximum Money enforces, and is then shown as is.
                    total: Money::new(total, c)
                        .map(|m| money_str(&m))
                        .unwrap_or_else(|_| total.to_string()),
                })
                .collect(),
        }
    }
}

/// A currency the engine accepts.
#[derive(Debug, Clone, Serialize)]
pub struct CurrencyDto {
    /// ISO 4217 code.
    pub code: String,
    /// Decimal places of the minor unit (USD 2, JPY 0, KWD 3).
    pub minor_units: u32,
}

// ------------------------------------------------------------------------- fraud preview

/// A fraud verdict (the server's `DecisionDto`).
#[derive(Debug, Clone, Serialize)]
pub struct DecisionDto {
    /// 0–100.
    pub score: u8,
    /// LOW, MEDIUM, HIGH, CRITICAL.
    pub risk_level: String,
    /// ALLOW, REVIEW, BLOCK.
    pub action: String,
    /// Rules that fired.
    pub flags: Vec<String>,
}

impl From<FraudDecision> for DecisionDto {
    fn from(d: FraudDecision) -> DecisionDto {
        DecisionDto {
            score: d.score,
            risk_level: d.risk_level.as_str().into(),
            action: d.action.as_str().into(),
            flags: d.flags,
        }
    }
}

/// `analyzeTransaction(body)`: the server's `AnalyzeBody` plus the request context the
/// server reads from headers (IP, device, user agent, email).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    /// Debited account.
    pub from_account_id: String,
    /// Credited account by id …
    pub to_account_id: Option<String>,
    /// … or by number; neither for a payment out of the bank.
    pub to_account_number: Option<String>,
    /// External counterparty (payments).
    pub counterparty: Option<String>,
    /// Positive decimal string.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Caller's IP address.
    pub ip: Option<String>,
    /// Caller's device id.
    pub device_id: Option<String>,
    /// Caller's user agent.
    pub user_agent: Option<String>,
    /// Caller's email.
    pub email: Option<String>,
}

impl AnalyzeBody {
    /// The proposal to score.
    pub fn into_domain(self) -> BankResult<FraudProposal> {
        let to = match (
            self.to_account_id.as_deref(),
            self.to_account_number.as_deref(),
        ) {
            (Some(id), None) => Some(Destination::Account(AccountId::parse(id)?)),
            (None, Some(n)) => Some(Destination::Number(AccountNumber::parse(n)?)),
            (None, None) => None,
            _ => {
                return Err(BankError::validation(
                    "to_account_id",
                    "give at most one of to_account_id and to_account_number",
                ))
            }
        };
        Ok(FraudProposal {
            from_account_id: AccountId::parse(&self.from_account_id)?,
            to,
            amount: positive_money(&self.amount, &self.currency)?,
            context: RequestContext {
                ip: self.ip,
                user_agent: self.user_agent,
                device_id: self.device_id,
                email: self.email,
                counterparty: self.counterparty,
            },
        })
    }
}

/// A fraud rule (the server's `RuleDto`).
#[derive(Debug, Clone, Serialize)]
pub struct RuleDto {
    /// Id.
    pub id: Uuid,
    /// Unique name.
    pub rule_name: String,
    /// AMOUNT_THRESHOLD, VELOCITY_COUNT, ...
    pub rule_type: String,
    /// Parameters, per rule type.
    pub conditions: serde_json::Value,
    /// ALLOW, REVIEW, BLOCK.
    pub action: String,
    /// Higher runs first.
    pub priority: i32,
    /// Evaluated?
    pub is_active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<FraudRule> for RuleDto {
    fn from(r: FraudRule) -> RuleDto {
        RuleDto {
            id: r.id.0,
            rule_name: r.rule_name,
            rule_type: r.rule_type.as_str().into(),
            conditions: r.conditions,
            action: r.action.as_str().into(),
            priority: r.priority,
            is_active: r.is_active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `createFraudRule(body)` (the server's `NewRuleBody`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRuleBody {
    /// Unique name.
    pub rule_name: String,
    /// Rule type.
    pub rule_type: String,
    /// Parameters, e.g. `{"min_amount": "10000.00", "score": 40}`.
    pub conditions: serde_json::Value,
    /// ALLOW, REVIEW, BLOCK.
    pub action: String,
    /// Higher runs first (default 0).
    pub priority: Option<i32>,
    /// Evaluated? (default true)
    pub is_active: Option<bool>,
}

impl NewRuleBody {
    /// The rule (its conditions are checked against its type by the engine).
    pub fn into_domain(self) -> BankResult<NewFraudRule> {
        Ok(NewFraudRule {
            rule_name: self.rule_name,
            rule_type: RuleType::parse(&self.rule_type)?,
            conditions: self.conditions,
            action: FraudAction::parse(&self.action)?,
            priority: self.priority.unwrap_or(0),
            is_active: self.is_active.unwrap_or(true),
        })
    }
}

/// A black/white-list entry (the server's `ListEntryDto`).
#[derive(Debug, Clone, Serialize)]
pub struct ListEntryDto {
    /// Id.
    pub id: Uuid,
    /// BLACK or WHITE.
    pub list: String,
    /// ACCOUNT, COUNTERPARTY, EMAIL, EMAIL_DOMAIN, IP, DEVICE.
    pub list_type: String,
    /// Normalised value.
    pub value: String,
    /// Why.
    pub reason: Option<String>,
    /// Added.
    pub created_at: DateTime<Utc>,
}

impl From<ListEntry> for ListEntryDto {
    fn from(e: ListEntry) -> ListEntryDto {
        ListEntryDto {
            id: e.id.0,
            list: e.list.as_str().into(),
            list_type: e.entry_type.as_str().into(),
            value: e.value,
            reason: e.reason,
            created_at: e.created_at,
        }
    }
}

/// `addListEntry(body)`: the server's `ListEntryBody` plus which list (the server has one
/// route per list).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntryBody {
    /// BLACK or WHITE.
    pub list: String,
    /// ACCOUNT, COUNTERPARTY, EMAIL, EMAIL_DOMAIN, IP, DEVICE.
    #[serde(alias = "entry_type")]
    pub list_type: String,
    /// The value to match.
    pub value: String,
    /// Why.
    pub reason: Option<String>,
}

impl ListEntryBody {
    /// (list, type, value, reason).
    pub fn into_domain(self) -> BankResult<(ListKind, ListEntryType, String, Option<String>)> {
        Ok((
            ListKind::parse(&self.list)?,
            ListEntryType::parse(&self.list_type)?,
            self.value,
            self.reason,
        ))
    }
}
