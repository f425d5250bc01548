//! Fraud context: rules, black/white lists, scoring, cases and their resolution.
//!
//! Scoring runs at the transfer pipeline's fraud step ([`RulesFraudCheck`], the engine's
//! default fraud port) inside the transfer's own unit of work: BLOCK fails the transaction
//! and emits `fraud.detected`; REVIEW holds the funds, opens a case and emits
//! `fraud.high_risk`; an admin then releases (the transfer completes) or rejects (the hold is
//! voided, the transaction FAILED). Repeated cases on one account emit `account.suspicious`.

mod model;
mod rules;

use serde_json::{json, Value};

pub use model::*;
pub use rules::{
    action_for_level, RuleSpec, RulesFraudCheck, ACTIVE_RULES_MAX, SUSPICIOUS_CASES_MIN,
    SUSPICIOUS_WINDOW_DAYS,
};

use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::banking::{Destination, Resolve};
use crate::error::{BankError, BankResult};
use crate::fraud_port::{FraudAction, FraudDecision, FraudInput, RequestContext};
use crate::ids::{AccountId, CaseId, ListEntryId, RuleId, TransactionId};
use crate::money::Money;
use crate::ports::TxMode;
use crate::transaction::{check_page_limit, Transaction, TransactionType};

crate::bank::context_service!(
    /// The fraud context's use cases (rules, lists, scores, cases): `bank.fraud()`.
    FraudService,
    fraud_service
);

/// Longest rule name.
pub const RULE_NAME_LEN_MAX: usize = 100;
/// Most rules the engine holds (active or not).
pub const RULES_MAX: u32 = 1000;
/// Longest list-entry value or reason.
pub const LIST_VALUE_LEN_MAX: usize = 255;
/// Longest case-resolution note.
pub const NOTE_LEN_MAX: usize = 500;

/// A new fraud rule (the seed's `POST /fraud/rules`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFraudRule {
    /// Unique name.
    pub rule_name: String,
    /// Kind.
    pub rule_type: RuleType,
    /// Parameters (see [`RuleType`] for each kind's keys).
    pub conditions: Value,
    /// Least action when it fires.
    pub action: FraudAction,
    /// Higher runs first.
    pub priority: i32,
    /// Evaluated?
    pub is_active: bool,
}

/// Changes to a rule; `None` keeps the field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FraudRulePatch {
    /// New conditions (validated against the rule's type).
    pub conditions: Option<Value>,
    /// New action.
    pub action: Option<FraudAction>,
    /// New priority.
    pub priority: Option<i32>,
    /// Activate / deactivate.
    pub is_active: Option<bool>,
}

/// How an admin resolves a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseDecision {
    /// Not fraud: post the held transfer.
    Release,
    /// Fraud: void the hold; the transaction FAILS.
    Reject,
}

/// A proposed transfer to score without moving money (the seed's `POST /fraud/analyze`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FraudProposal {
    /// Debited account.
    pub from_account_id: AccountId,
    /// Credited account, if internal.
    pub to: Option<Destination>,
    /// Amount.
    pub amount: Money,
    /// Context (IP, device, email, external counterparty).
    pub context: RequestContext,
}

/// The default rule set [`Bank::install_default_fraud_rules`] installs.
pub fn default_rules() -> Vec<NewFraudRule> {
    let r = |name: &str, ty: RuleType, conditions: Value, action: FraudAction, priority: i32| {
        NewFraudRule {
            rule_name: name.to_string(),
            rule_type: ty,
            conditions,
            action,
            priority,
            is_active: true,
        }
    };
    vec![
        r(
            "blacklisted party",
            RuleType::BlacklistHit,
            json!({"score": 100}),
            FraudAction::Block,
            1000,
        ),
        r(
            "very large amount",
            RuleType::AmountThreshold,
            json!({"min_amount": "50000.00", "score": 60}),
            FraudAction::Review,
            900,
        ),
        r(
            "large amount",
            RuleType::AmountThreshold,
            json!({"min_amount": "10000.00", "score": 15}),
            FraudAction::Allow,
            800,
        ),
        r(
            "new account large transfer",
            RuleType::NewAccountLargeTransfer,
            json!({"max_account_age_days": 7, "min_amount": "2000.00", "score": 30}),
            FraudAction::Allow,
            700,
        ),
        r(
            "first-time payee large transfer",
            RuleType::FirstTimePayeeLargeTransfer,
            json!({"min_amount": "5000.00", "score": 20}),
            FraudAction::Allow,
            600,
        ),
        r(
            "burst of transfers",
            RuleType::VelocityCount,
            json!({"max_count": 10, "window_minutes": 60, "score": 30}),
            FraudAction::Allow,
            500,
        ),
        r(
            "daily outflow",
            RuleType::VelocityAmount,
            json!({"max_amount": "25000.00", "window_minutes": 1440, "score": 20}),
            FraudAction::Allow,
            400,
        ),
    ]
}

fn validate_rule_name(name: &str) -> BankResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > RULE_NAME_LEN_MAX || n.chars().any(char::is_control) {
        return Err(BankError::validation(
            "rule_name",
            "1 to 100 printable characters",
        ));
    }
    Ok(n.to_string())
}

/// Normalises a list value: trimmed; emails and domains lower-case; account ids canonical.
pub fn normalize_list_value(entry_type: ListEntryType, value: &str) -> BankResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > LIST_VALUE_LEN_MAX || v.chars().any(char::is_control) {
        return Err(BankError::validation(
            "value",
            "1 to 255 printable characters",
        ));
    }
    Ok(match entry_type {
        ListEntryType::Account => AccountId::parse(v)?.to_string(),
        ListEntryType::Email => crate::identity::Email::parse(v)?.to_string(),
        ListEntryType::EmailDomain => v.trim_start_matches('@').to_ascii_lowercase(),
        ListEntryType::Counterparty | ListEntryType::Ip | ListEntryType::Device => v.to_string(),
    })
}

impl FraudService<'_> {
    /// Creates a fraud rule (admin). Conditions are validated against the rule type.
    pub async fn create_fraud_rule(
        &self,
        actor: &Actor,
        rule: NewFraudRule,
    ) -> BankResult<FraudRule> {
        actor.require_admin()?;
        let name = validate_rule_name(&rule.rule_name)?;
        RuleSpec::parse(rule.rule_type, &rule.conditions)?;
        let now = self.now_us();
        let row = FraudRule {
            id: RuleId(self.new_uuid()),
            rule_name: name,
            rule_type: rule.rule_type,
            conditions: rule.conditions,
            action: rule.action,
            priority: rule.priority,
            is_active: rule.is_active,
            created_at: now,
            updated_at: now,
        };
        let row_ref = &row;
        self.write(|uow, _ev, _| {
            Box::pin(async {
            let (uow, _ev) = (uow, _ev);
            {
                if uow.list_rules(false, RULES_MAX).await?.len() >= RULES_MAX as usize {
                    return Err(BankError::LimitExceeded(format!(
                        "at most {RULES_MAX} fraud rules"
                    )));
                }
                uow.insert_rule(row_ref).await?;
                let detail = json!({"rule_name": row_ref.rule_name, "rule_type": row_ref.rule_type.as_str(),
                    "action": row_ref.action.as_str(), "conditions": row_ref.conditions, "is_active": row_ref.is_active});
                self.audit(
                    uow,
                    actor,
                    AuditEvent::new("fraud.rule.create", "fraud_rule", row_ref.id).detail(detail),
                )
                .await
            }
        })
        })
        .await?;
        Ok(row)
    }

    /// Changes a rule (admin).
    pub async fn update_fraud_rule(
        &self,
        actor: &Actor,
        id: RuleId,
        patch: FraudRulePatch,
    ) -> BankResult<FraudRule> {
        actor.require_admin()?;
        let patch_ref = &patch;
        self.write(|uow, _ev, _| {
            Box::pin(async {
            let (uow, _ev) = (uow, _ev);
            {
                let mut rule = uow.rule(id).await?.ok_or(BankError::NotFound {
                    resource: "fraud rule",
                })?;
                if let Some(c) = &patch_ref.conditions {
                    RuleSpec::parse(rule.rule_type, c)?;
                    rule.conditions = c.clone();
                }
                if let Some(a) = patch_ref.action {
                    rule.action = a;
                }
                if let Some(p) = patch_ref.priority {
                    rule.priority = p;
                }
                if let Some(a) = patch_ref.is_active {
                    rule.is_active = a;
                }
                rule.updated_at = self.now_us();
                uow.update_rule(&rule).await?;
                let detail = json!({"action": rule.action.as_str(), "conditions": rule.conditions,
                    "priority": rule.priority, "is_active": rule.is_active});
                self.audit(
                    uow,
                    actor,
                    AuditEvent::new("fraud.rule.update", "fraud_rule", rule.id).detail(detail),
                )
                .await?;
                Ok(rule)
            }
        })
        })
        .await
    }

    /// Rules, highest priority first (staff).
    pub async fn fraud_rules(
        &self,
        actor: &Actor,
        active_only: bool,
    ) -> BankResult<Vec<FraudRule>> {
        actor.require_staff()?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .list_rules(active_only, RULES_MAX)
            .await
    }

    /// Installs [`default_rules`] that are not installed yet (by name); returns how many were
    /// added (admin). Until some rule exists, the fraud step allows everything.
    pub async fn install_default_fraud_rules(&self, actor: &Actor) -> BankResult<usize> {
        actor.require_admin()?;
        let existing: Vec<String> = self
            .store
            .begin(TxMode::Read)
            .await?
            .list_rules(false, RULES_MAX)
            .await?
            .into_iter()
            .map(|r| r.rule_name)
            .collect();
        let mut added = 0;
        for r in default_rules() {
            if existing.contains(&r.rule_name) {
                continue;
            }
            match self.create_fraud_rule(actor, r).await {
                Ok(_) => added += 1,
                // Another process installed it meanwhile.
                Err(BankError::Duplicate(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(added)
    }

    /// Adds a black- or whitelist entry (admin).
    pub async fn add_list_entry(
        &self,
        actor: &Actor,
        list: ListKind,
        entry_type: ListEntryType,
        value: &str,
        reason: Option<&str>,
    ) -> BankResult<ListEntry> {
        actor.require_admin()?;
        let value = normalize_list_value(entry_type, value)?;
        let reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| r.chars().take(LIST_VALUE_LEN_MAX).collect());
        let entry = ListEntry {
            id: ListEntryId(self.new_uuid()),
            list,
            entry_type,
            value,
            reason,
            created_at: self.now_us(),
        };
        let e = &entry;
        self.write(|uow, _ev, _| {
            Box::pin(async {
            let (uow, _ev) = (uow, _ev);
            {
                uow.insert_list_entry(e).await?;
                let detail = json!({"list": e.list.as_str(), "entry_type": e.entry_type.as_str(), "value": e.value});
                self.audit(
                    uow,
                    actor,
                    AuditEvent::new("fraud.list.add", "list_entry", e.id).detail(detail),
                )
                .await
            }
        })
        })
        .await?;
        Ok(entry)
    }

    /// Removes a list entry (admin); `not_found` if it does not exist.
    pub async fn remove_list_entry(&self, actor: &Actor, id: ListEntryId) -> BankResult<()> {
        actor.require_admin()?;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                {
                    if !uow.delete_list_entry(id).await? {
                        return Err(BankError::NotFound {
                            resource: "list entry",
                        });
                    }
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new("fraud.list.remove", "list_entry", id),
                    )
                    .await
                }
            })
        })
        .await
    }

    /// List entries, paged by id (staff).
    pub async fn list_entries(
        &self,
        actor: &Actor,
        list: Option<ListKind>,
        after: Option<ListEntryId>,
        limit: u32,
    ) -> BankResult<Vec<ListEntry>> {
        actor.require_staff()?;
        check_page_limit(limit)?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .list_entries(list, after, limit)
            .await
    }

    /// Fraud cases, paged by id (staff).
    pub async fn fraud_cases(
        &self,
        actor: &Actor,
        status: Option<CaseStatus>,
        after: Option<CaseId>,
        limit: u32,
    ) -> BankResult<Vec<FraudCase>> {
        actor.require_staff()?;
        check_page_limit(limit)?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .list_cases(status, after, limit)
            .await
    }

    /// One case (staff).
    pub async fn fraud_case(&self, actor: &Actor, id: CaseId) -> BankResult<FraudCase> {
        actor.require_staff()?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .case(id)
            .await?
            .ok_or(BankError::NotFound {
                resource: "fraud case",
            })
    }

    /// The stored fraud assessment of a transaction (the seed's `GET /fraud/score/:txnId`,
    /// staff).
    pub async fn fraud_score(&self, actor: &Actor, txn: TransactionId) -> BankResult<Assessment> {
        actor.require_staff()?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .assessment(txn)
            .await?
            .ok_or(BankError::NotFound {
                resource: "fraud assessment",
            })
    }

    /// Scores a proposed transfer without moving money or recording anything (staff only:
    /// scores, rule names and list hits teach a customer how to evade the rules, and the
    /// lookups would tell whether an account number exists). Refused before anything is read.
    pub async fn analyze_transaction(
        &self,
        actor: &Actor,
        p: &FraudProposal,
    ) -> BankResult<FraudDecision> {
        actor.require_staff()?;
        let mut uow = self.store.begin(TxMode::Read).await?;
        let from = uow
            .account(p.from_account_id)
            .await?
            .ok_or(BankError::NotFound {
                resource: "account",
            })?;
        let mut context = p.context.clone();
        let to = match &p.to {
            None => None,
            Some(Destination::External(x)) => {
                context
                    .counterparty
                    .get_or_insert_with(|| x.account.trim().to_string());
                None
            }
            Some(Destination::Account(id)) => {
                Some(uow.account(*id).await?.ok_or(BankError::NotFound {
                    resource: "account",
                })?)
            }
            Some(Destination::Number(n)) => {
                Some(uow.account_by_number(n).await?.ok_or(BankError::NotFound {
                    resource: "account",
                })?)
            }
        };
        let amount = p.amount.positive()?;
        if from.currency != amount.currency() {
            return Err(BankError::CurrencyMismatch {
                expected: from.currency,
                got: amount.currency(),
            });
        }
        let rules = uow.list_rules(true, ACTIVE_RULES_MAX).await?;
        if rules.is_empty() {
            return Ok(FraudDecision::allow());
        }
        let input = FraudInput {
            transaction_id: TransactionId(self.new_uuid()),
            transaction_type: if to.is_some() {
                TransactionType::Transfer
            } else {
                TransactionType::ExternalTransfer
            },
            from: Some(&from),
            to: to.as_ref(),
            amount,
            context: &context,
        };
        let compiled = rules
            .iter()
            .map(|r| rules::CompiledRule::compile(r).map(std::sync::Arc::new))
            .collect::<BankResult<Vec<_>>>()?;
        rules::score(&mut *uow, &input, &compiled, self.now_us()).await
    }

    /// Resolves an OPEN case (admin): `Release` posts the held transfer, `Reject` voids the
    /// hold and fails the transaction. Returns the case and the transaction.
    pub async fn resolve_fraud_case(
        &self,
        actor: &Actor,
        id: CaseId,
        decision: CaseDecision,
        note: Option<&str>,
    ) -> BankResult<(FraudCase, Transaction)> {
        actor.require_admin()?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > NOTE_LEN_MAX) {
            return Err(BankError::validation("note", "at most 500 characters"));
        }
        self.write(|uow, events, _| {
            Box::pin(async {
                let (uow, events) = (uow, events);
                {
                    let mut case = uow.case(id).await?.ok_or(BankError::NotFound {
                        resource: "fraud case",
                    })?;
                    if case.status != CaseStatus::Open {
                        return Err(BankError::InvalidState(format!("case is {}", case.status)));
                    }
                    let how = match decision {
                        CaseDecision::Release => Resolve::Post(None),
                        CaseDecision::Reject => Resolve::Void,
                    };
                    let txn = self
                        .money()
                        .resolve_hold(uow, actor, case.transaction_id, how, events)
                        .await?;
                    let now = self.now_us();
                    case.status = match decision {
                        CaseDecision::Release => CaseStatus::Released,
                        CaseDecision::Reject => CaseStatus::Rejected,
                    };
                    case.resolved_by = actor.user_id;
                    case.resolution_note = note.map(str::to_string);
                    case.resolved_at = Some(now);
                    uow.update_case(&case).await?;
                    let action = match decision {
                        CaseDecision::Release => "fraud.case.release",
                        CaseDecision::Reject => "fraud.case.reject",
                    };
                    let detail = json!({"transaction_id": txn.id.to_string(), "note": note});
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new(action, "fraud_case", case.id).detail(detail),
                    )
                    .await?;
                    Ok((case, txn))
                }
            })
        })
        .await
    }
}
