//! Rule conditions (typed), scoring, and [`RulesFraudCheck`]: the engine's default fraud step.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::account::Account;
use crate::clock::Clock;
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventData, EventType};
use crate::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntryType, ListKind, RuleType,
};
use crate::fraud_port::{FraudAction, FraudCheck, FraudDecision, FraudInput, RiskLevel};
use crate::ids::{CaseId, EventId, IdGenerator, RuleId};
use crate::ports::UnitOfWork;

/// Most active rules evaluated per check (rules beyond it, by priority, are ignored).
pub const ACTIVE_RULES_MAX: u32 = 500;
/// Longest velocity window.
pub const WINDOW_MINUTES_MAX: i64 = 30 * 24 * 60;
/// Cases on one account within [`SUSPICIOUS_WINDOW_DAYS`] that mark it suspicious.
pub const SUSPICIOUS_CASES_MIN: u32 = 3;
/// Window for counting cases per account.
pub const SUSPICIOUS_WINDOW_DAYS: i64 = 30;

/// A rule's conditions, parsed and validated from its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleSpec {
    /// `amount >= min_amount`.
    AmountThreshold {
        /// Threshold.
        min_amount: Decimal,
        /// Points added when it fires.
        score: u8,
    },
    /// More than `max_count` transfers out of the account within the window (this one included).
    VelocityCount {
        /// Allowed count.
        max_count: u32,
        /// Window.
        window_minutes: i64,
        /// Points.
        score: u8,
    },
    /// More than `max_amount` out of the account within the window (this one included).
    VelocityAmount {
        /// Allowed total.
        max_amount: Decimal,
        /// Window.
        window_minutes: i64,
        /// Points.
        score: u8,
    },
    /// Any blacklist entry matches.
    BlacklistHit {
        /// Points.
        score: u8,
    },
    /// The debited account is younger than `max_account_age_days` and `amount >= min_amount`.
    NewAccountLargeTransfer {
        /// Age limit.
        max_account_age_days: i64,
        /// Threshold.
        min_amount: Decimal,
        /// Points.
        score: u8,
    },
    /// `amount >= min_amount` to a payee this account never paid.
    FirstTimePayeeLargeTransfer {
        /// Threshold.
        min_amount: Decimal,
        /// Points.
        score: u8,
    },
}

fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> BankResult<&'a Value> {
    obj.get(name)
        .ok_or_else(|| BankError::validation("conditions", format!("missing {name:?}")))
}

fn positive_decimal(obj: &serde_json::Map<String, Value>, name: &str) -> BankResult<Decimal> {
    let v = field(obj, name)?;
    let text = match v {
        Value::String(s) => s.clone(),
        // Integers arrive exact; any other JSON number was read as binary floating point,
        // which cannot hold every decimal (98765432109876.54 reads as ...55): refused.
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => {
            return Err(BankError::validation(
                "conditions",
                format!("{name:?} must be a decimal string"),
            ))
        }
    };
    let d = Decimal::from_str(text.trim()).map_err(|_| {
        BankError::validation("conditions", format!("{name:?} must be a decimal string"))
    })?;
    if d <= Decimal::ZERO || d > crate::money::AMOUNT_ABS_MAX {
        return Err(BankError::validation(
            "conditions",
            format!("{name:?} must be positive"),
        ));
    }
    Ok(d)
}

fn int_in(obj: &serde_json::Map<String, Value>, name: &str, lo: i64, hi: i64) -> BankResult<i64> {
    let v = field(obj, name)?.as_i64().ok_or_else(|| {
        BankError::validation("conditions", format!("{name:?} must be an integer"))
    })?;
    if v < lo || v > hi {
        return Err(BankError::validation(
            "conditions",
            format!("{name:?} must be {lo}..={hi}"),
        ));
    }
    Ok(v)
}

fn score_of(obj: &serde_json::Map<String, Value>, default: u8) -> BankResult<u8> {
    match obj.get("score") {
        None => Ok(default),
        Some(_) => Ok(int_in(obj, "score", 0, 100)? as u8),
    }
}

impl RuleSpec {
    /// Parses `conditions` for `rule_type`; unknown keys are refused (a typo must not make a
    /// rule silently weaker).
    pub fn parse(rule_type: RuleType, conditions: &Value) -> BankResult<RuleSpec> {
        let obj = conditions.as_object().ok_or_else(|| {
            BankError::validation("conditions", "conditions must be a JSON object")
        })?;
        let allowed: &[&str] = match rule_type {
            RuleType::AmountThreshold | RuleType::FirstTimePayeeLargeTransfer => {
                &["min_amount", "score"]
            }
            RuleType::VelocityCount => &["max_count", "window_minutes", "score"],
            RuleType::VelocityAmount => &["max_amount", "window_minutes", "score"],
            RuleType::BlacklistHit => &["score"],
            RuleType::NewAccountLargeTransfer => &["max_account_age_days", "min_amount", "score"],
        };
        if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(BankError::validation(
                "conditions",
                format!("unknown key {k:?} for {rule_type}"),
            ));
        }
        Ok(match rule_type {
            RuleType::AmountThreshold => RuleSpec::AmountThreshold {
                min_amount: positive_decimal(obj, "min_amount")?,
                score: score_of(obj, 40)?,
            },
            RuleType::VelocityCount => RuleSpec::VelocityCount {
                max_count: int_in(obj, "max_count", 1, 100_000)? as u32,
                window_minutes: int_in(obj, "window_minutes", 1, WINDOW_MINUTES_MAX)?,
                score: score_of(obj, 30)?,
            },
            RuleType::VelocityAmount => RuleSpec::VelocityAmount {
                max_amount: positive_decimal(obj, "max_amount")?,
                window_minutes: int_in(obj, "window_minutes", 1, WINDOW_MINUTES_MAX)?,
                score: score_of(obj, 30)?,
            },
            RuleType::BlacklistHit => RuleSpec::BlacklistHit {
                score: score_of(obj, 100)?,
            },
            RuleType::NewAccountLargeTransfer => RuleSpec::NewAccountLargeTransfer {
                max_account_age_days: int_in(obj, "max_account_age_days", 1, 3650)?,
                min_amount: positive_decimal(obj, "min_amount")?,
                score: score_of(obj, 40)?,
            },
            RuleType::FirstTimePayeeLargeTransfer => RuleSpec::FirstTimePayeeLargeTransfer {
                min_amount: positive_decimal(obj, "min_amount")?,
                score: score_of(obj, 35)?,
            },
        })
    }

    fn score(&self) -> u8 {
        match self {
            RuleSpec::AmountThreshold { score, .. }
            | RuleSpec::VelocityCount { score, .. }
            | RuleSpec::VelocityAmount { score, .. }
            | RuleSpec::BlacklistHit { score }
            | RuleSpec::NewAccountLargeTransfer { score, .. }
            | RuleSpec::FirstTimePayeeLargeTransfer { score, .. } => *score,
        }
    }
}

/// The action a risk level calls for on its own: HIGH → REVIEW, CRITICAL → BLOCK.
pub fn action_for_level(level: RiskLevel) -> FraudAction {
    match level {
        RiskLevel::Low | RiskLevel::Medium => FraudAction::Allow,
        RiskLevel::High => FraudAction::Review,
        RiskLevel::Critical => FraudAction::Block,
    }
}

fn severity(a: FraudAction) -> u8 {
    match a {
        FraudAction::Allow => 0,
        FraudAction::Review => 1,
        FraudAction::Block => 2,
    }
}

/// The list keys a movement presents (account ids, counterparty, email, domain, IP, device).
pub(crate) fn list_keys(input: &FraudInput<'_>) -> Vec<(ListEntryType, String)> {
    let mut keys = Vec::with_capacity(8);
    for a in [input.from, input.to].into_iter().flatten() {
        keys.push((ListEntryType::Account, a.id.to_string()));
    }
    let c = input.context;
    if let Some(v) = c
        .counterparty
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        keys.push((ListEntryType::Counterparty, v.to_string()));
    }
    if let Some(e) = c
        .email
        .as_deref()
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
    {
        if let Some((_, d)) = e.split_once('@') {
            keys.push((ListEntryType::EmailDomain, d.to_string()));
        }
        keys.push((ListEntryType::Email, e));
    }
    if let Some(v) = c.ip.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        keys.push((ListEntryType::Ip, v.to_string()));
    }
    if let Some(v) = c
        .device_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        keys.push((ListEntryType::Device, v.to_string()));
    }
    keys
}

/// The payee key first-time-payee rules compare: the credited account, else the counterparty.
pub(crate) fn payee_of(input: &FraudInput<'_>) -> Option<String> {
    input.to.map(|a| a.id.to_string()).or_else(|| {
        input
            .context
            .counterparty
            .as_deref()
            .map(|c| c.trim().to_string())
    })
}

/// A rule ready to evaluate: its conditions parsed once.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    name: String,
    action: FraudAction,
    spec: RuleSpec,
    rule_type: RuleType,
    conditions: Value,
}

impl CompiledRule {
    pub(crate) fn compile(rule: &FraudRule) -> BankResult<CompiledRule> {
        Ok(CompiledRule {
            name: rule.rule_name.clone(),
            action: rule.action,
            spec: RuleSpec::parse(rule.rule_type, &rule.conditions)?,
            rule_type: rule.rule_type,
            conditions: rule.conditions.clone(),
        })
    }

    /// Still the compiled form of `rule` (compared by content, not by timestamp: two edits
    /// within one clock tick must not leave a stale rule behind).
    fn matches(&self, rule: &FraudRule) -> bool {
        self.rule_type == rule.rule_type
            && self.action == rule.action
            && self.name == rule.rule_name
            && self.conditions == rule.conditions
    }
}

/// Scores a movement against `rules` (already ordered by priority). Reads only.
pub(crate) async fn score(
    uow: &mut dyn UnitOfWork,
    input: &FraudInput<'_>,
    rules: &[Arc<CompiledRule>],
    now: DateTime<Utc>,
) -> BankResult<FraudDecision> {
    let hits = uow.find_list_entries(&list_keys(input)).await?;
    let white = hits.iter().find(|e| e.list == ListKind::White);
    let black: Vec<String> = hits
        .iter()
        .filter(|e| e.list == ListKind::Black)
        .map(|e| e.entry_type.to_string())
        .collect();
    let amount = input.amount.amount();
    let from: Option<&Account> = input.from;
    let mut velocity: HashMap<i64, crate::fraud::VelocityStats> = HashMap::new();
    // Scores combine like independent signals ("noisy OR"): score = 100 × (1 − Π(1 − sᵢ/100)),
    // so overlapping rules (a very large amount is also a large amount) raise the score
    // without overflowing it, and one 100-point rule alone makes it 100. Integer
    // parts-per-million keep it exact and portable.
    let mut keep_ppm: u64 = 1_000_000;
    let mut rule_action = FraudAction::Allow;
    let mut flags = Vec::new();
    for rule in rules {
        let spec = &rule.spec;
        let fired = match spec {
            RuleSpec::AmountThreshold { min_amount, .. } => amount >= *min_amount,
            RuleSpec::VelocityCount {
                max_count,
                window_minutes,
                ..
            } => match from {
                Some(a) => {
                    let v = velocity_in(uow, &mut velocity, a, now, *window_minutes).await?;
                    v.count + 1 > *max_count
                }
                None => false,
            },
            RuleSpec::VelocityAmount {
                max_amount,
                window_minutes,
                ..
            } => match from {
                Some(a) => {
                    let v = velocity_in(uow, &mut velocity, a, now, *window_minutes).await?;
                    v.total + amount > *max_amount
                }
                None => false,
            },
            RuleSpec::BlacklistHit { .. } => !black.is_empty(),
            RuleSpec::NewAccountLargeTransfer {
                max_account_age_days,
                min_amount,
                ..
            } => {
                amount >= *min_amount
                    && from
                        .is_some_and(|a| a.opened_at > now - Duration::days(*max_account_age_days))
            }
            RuleSpec::FirstTimePayeeLargeTransfer { min_amount, .. } => {
                if amount < *min_amount {
                    false
                } else {
                    match (from, payee_of(input)) {
                        (Some(a), Some(p)) => !uow.has_paid_before(a.id, &p, now).await?,
                        _ => false,
                    }
                }
            }
        };
        if !fired {
            continue;
        }
        keep_ppm = keep_ppm * u64::from(100 - spec.score().min(100)) / 100;
        if matches!(spec, RuleSpec::BlacklistHit { .. }) {
            flags.push(format!("{} ({})", rule.name, black.join(",")));
        } else {
            flags.push(rule.name.clone());
        }
        if severity(rule.action) > severity(rule_action) {
            rule_action = rule.action;
        }
        if rule_action == FraudAction::Block {
            // Nothing a lower-priority rule says can soften a block.
            break;
        }
    }
    // A whitelist entry vouches against the score, never against a blacklist hit or a rule
    // that blocks: both are decisions about this party that a trusted key must not undo.
    if let Some(w) = white {
        if black.is_empty() && rule_action != FraudAction::Block {
            return Ok(FraudDecision {
                score: 0,
                risk_level: RiskLevel::Low,
                action: FraudAction::Allow,
                flags: vec![format!("whitelist:{}", w.entry_type)],
            });
        }
    }
    let score = (100 - ((keep_ppm + 5_000) / 10_000).min(100)) as u8;
    let risk_level = RiskLevel::from_score(score);
    let level_action = action_for_level(risk_level);
    let action = if severity(level_action) >= severity(rule_action) {
        level_action
    } else {
        rule_action
    };
    Ok(FraudDecision {
        score,
        risk_level,
        action,
        flags,
    })
}

async fn velocity_in(
    uow: &mut dyn UnitOfWork,
    cache: &mut HashMap<i64, crate::fraud::VelocityStats>,
    account: &Account,
    now: DateTime<Utc>,
    window_minutes: i64,
) -> BankResult<crate::fraud::VelocityStats> {
    if let Some(v) = cache.get(&window_minutes) {
        return Ok(*v);
    }
    let v = uow
        .velocity(account.id, now - Duration::minutes(window_minutes))
        .await?;
    cache.insert(window_minutes, v);
    Ok(v)
}

/// The engine's default fraud step: evaluates the active rules and lists in the transfer's
/// own unit of work, records the assessment (velocity history, score lookups), and for a
/// REVIEW opens a case. With no active rule it allows everything and writes nothing, so an
/// engine without fraud configuration behaves exactly like [`crate::AllowAll`].
pub struct RulesFraudCheck {
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    /// Parsed conditions by rule id, reused while the rule's content is unchanged.
    compiled: Mutex<HashMap<RuleId, Arc<CompiledRule>>>,
}

impl RulesFraudCheck {
    /// A rules check using the engine's clock and id generator.
    pub fn new(clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        RulesFraudCheck {
            clock,
            ids,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    fn compile_cached(&self, rules: &[FraudRule]) -> BankResult<Vec<Arc<CompiledRule>>> {
        let mut cache = self
            .compiled
            .lock()
            .map_err(|_| BankError::internal("rule cache poisoned"))?;
        if cache.len() > 4 * ACTIVE_RULES_MAX as usize {
            // Deleted or deactivated rules linger otherwise; rebuilding is cheap.
            cache.clear();
        }
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            match cache.get(&r.id) {
                Some(c) if c.matches(r) => out.push(c.clone()),
                _ => {
                    let c = Arc::new(CompiledRule::compile(r)?);
                    cache.insert(r.id, c.clone());
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    fn event(
        &self,
        ty: EventType,
        aggregate: uuid::Uuid,
        now: DateTime<Utc>,
        data: Value,
    ) -> DomainEvent {
        DomainEvent {
            id: EventId(self.ids.next_uuid()),
            event_type: ty,
            aggregate_id: aggregate,
            time: now,
            data: EventData::Json(data),
        }
    }

    /// True when the transfer will go ahead to a hold if sent to review (otherwise the engine
    /// refuses it for funds, limits or status, and a case would point at a failed transaction).
    fn review_will_hold(input: &FraudInput<'_>, now: DateTime<Utc>) -> bool {
        let Some(from) = input.from else { return false };
        from.check_debit(input.amount.amount(), now.date_naive())
            .is_ok()
            && input
                .to
                .is_none_or(|t| t.ensure_open_for_movement().is_ok())
    }
}

#[async_trait]
impl FraudCheck for RulesFraudCheck {
    async fn assess(
        &self,
        uow: &mut dyn UnitOfWork,
        input: &FraudInput<'_>,
    ) -> BankResult<FraudDecision> {
        let rules = uow.list_rules(true, ACTIVE_RULES_MAX).await?;
        if rules.is_empty() {
            return Ok(FraudDecision::allow());
        }
        let now = self.clock.now();
        let now = now
            .duration_trunc(chrono::TimeDelta::microseconds(1))
            .unwrap_or(now);
        let compiled = self.compile_cached(&rules)?;
        let decision = score(uow, input, &compiled, now).await?;
        uow.insert_assessment(&Assessment {
            transaction_id: input.transaction_id,
            from_account_id: input.from.map(|a| a.id),
            to_account_id: input.to.map(|a| a.id),
            payee: payee_of(input),
            amount: input.amount,
            score: decision.score,
            risk_level: decision.risk_level,
            action: decision.action,
            flags: decision.flags.clone(),
            created_at: now,
        })
        .await?;
        let payload = json!({
            "transactionId": input.transaction_id.to_string(),
            "accountId": input.from.map(|a| a.id.to_string()),
            "amount": input.amount.amount().to_string(),
            "currency": input.amount.currency().code(),
            "fraudScore": decision.score,
            "riskLevel": decision.risk_level.as_str(),
            "action": decision.action.as_str(),
            "flags": decision.flags,
        });
        match decision.action {
            FraudAction::Allow => {}
            FraudAction::Block => {
                uow.append_events(&[self.event(
                    EventType::FraudDetected,
                    input.transaction_id.0,
                    now,
                    payload,
                )])
                .await?;
            }
            FraudAction::Review => {
                let Some(from) = input.from else {
                    return Ok(decision);
                };
                if !Self::review_will_hold(input, now) {
                    return Ok(decision);
                }
                let case = FraudCase {
                    id: CaseId(self.ids.next_uuid()),
                    transaction_id: input.transaction_id,
                    account_id: from.id,
                    fraud_score: decision.score,
                    risk_level: decision.risk_level,
                    flags: decision.flags.clone(),
                    status: CaseStatus::Open,
                    resolved_by: None,
                    resolution_note: None,
                    resolved_at: None,
                    created_at: now,
                };
                uow.insert_case(&case).await?;
                let mut payload = payload;
                payload["caseId"] = json!(case.id.to_string());
                let mut events =
                    vec![self.event(EventType::FraudHighRisk, case.id.0, now, payload)];
                let recent = uow
                    .count_cases_of_account(from.id, now - Duration::days(SUSPICIOUS_WINDOW_DAYS))
                    .await?;
                if recent >= SUSPICIOUS_CASES_MIN {
                    events.push(self.event(
                        EventType::AccountSuspicious,
                        from.id.0,
                        now,
                        json!({
                            "accountId": from.id.to_string(),
                            "customerId": from.customer_id.to_string(),
                            "casesInWindow": recent,
                            "windowDays": SUSPICIOUS_WINDOW_DAYS,
                        }),
                    ));
                }
                uow.append_events(&events).await?;
            }
        }
        Ok(decision)
    }
}

use chrono::DurationRound;

#[cfg(test)]
mod decimal_thresholds {
    use super::*;
    use serde_json::json;

    fn min_amount(spec: RuleSpec) -> Decimal {
        match spec {
            RuleSpec::AmountThreshold { min_amount, .. } => min_amount,
            other => panic!("unexpected spec {other:?}"),
        }
    }

    #[test]
    fn thresholds_are_exact_decimals_and_float_numbers_are_refused() {
        let exact = RuleSpec::parse(
            RuleType::AmountThreshold,
            &json!({"min_amount": "98765432109876.54"}),
        )
        .unwrap();
        assert_eq!(min_amount(exact).to_string(), "98765432109876.54");
        let integer =
            RuleSpec::parse(RuleType::AmountThreshold, &json!({"min_amount": 10000})).unwrap();
        assert_eq!(min_amount(integer), Decimal::from(10_000));
        let float: Value = serde_json::from_str(r#"{"min_amount": 98765432109876.54}"#).unwrap();
        let err = RuleSpec::parse(RuleType::AmountThreshold, &float).unwrap_err();
        assert_eq!(err.code(), "validation_error");
    }
}
