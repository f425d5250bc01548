//! Back-office use cases, translated: fraud rules, lists and cases; notification history
//! and preferences; audit-log verification. JSON-valued fields (rule conditions, audit
//! detail) cross as Python dicts through the `json` module.

use bankflow_core::audit::{AuditRecord, AuditVerification};
use bankflow_core::fraud::{
    CaseDecision, CaseStatus, FraudCase, FraudRule, FraudRulePatch, ListEntry, ListEntryType,
    ListKind, NewFraudRule, RuleType,
};
use bankflow_core::ids::{CaseId, ListEntryId, NotificationId, RuleId};
use bankflow_core::notify::{Channel, NotificationRecord, Preference};
use bankflow_core::{BankError, FraudAction};
use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::bank::Bank;
use crate::convert::ok;
use crate::types::Transaction;

/// Python object → JSON value, via `json.dumps` (so any JSON-able mapping works).
fn to_json(py: Python<'_>, obj: &Bound<'_, PyAny>, field: &str) -> PyResult<serde_json::Value> {
    let text: String = py
        .import("json")?
        .call_method1("dumps", (obj,))?
        .extract()?;
    ok(
        py,
        serde_json::from_str(&text)
            .map_err(|e| BankError::validation(field, format!("not JSON: {e}"))),
    )
}

/// JSON value → Python object, via `json.loads`.
fn from_json(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    Ok(py
        .import("json")?
        .call_method1("loads", (v.to_string(),))?
        .unbind())
}

fn parse<T>(py: Python<'_>, r: bankflow_core::BankResult<T>) -> PyResult<T> {
    ok(py, r)
}

/// A fraud rule.
#[pyclass(frozen, get_all, module = "bankflow", name = "FraudRule")]
pub struct FraudRuleInfo {
    id: String,
    rule_name: String,
    rule_type: String,
    conditions: Py<PyAny>,
    action: String,
    priority: i32,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl FraudRuleInfo {
    fn new(py: Python<'_>, r: FraudRule) -> PyResult<Self> {
        Ok(FraudRuleInfo {
            id: r.id.to_string(),
            rule_name: r.rule_name,
            rule_type: r.rule_type.as_str().to_string(),
            conditions: from_json(py, &r.conditions)?,
            action: r.action.as_str().to_string(),
            priority: r.priority,
            is_active: r.is_active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A blacklist / whitelist entry.
#[pyclass(frozen, get_all, module = "bankflow", name = "ListEntry")]
pub struct ListEntryInfo {
    id: String,
    list: String,
    entry_type: String,
    value: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<ListEntry> for ListEntryInfo {
    fn from(e: ListEntry) -> Self {
        ListEntryInfo {
            id: e.id.to_string(),
            list: e.list.as_str().to_string(),
            entry_type: e.entry_type.as_str().to_string(),
            value: e.value,
            reason: e.reason,
            created_at: e.created_at,
        }
    }
}

/// A fraud case: a transaction held for review.
#[pyclass(frozen, get_all, module = "bankflow", name = "FraudCase")]
pub struct FraudCaseInfo {
    id: String,
    transaction_id: String,
    account_id: String,
    fraud_score: u8,
    risk_level: String,
    flags: Vec<String>,
    status: String,
    resolved_by: Option<String>,
    resolution_note: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<FraudCase> for FraudCaseInfo {
    fn from(c: FraudCase) -> Self {
        FraudCaseInfo {
            id: c.id.to_string(),
            transaction_id: c.transaction_id.to_string(),
            account_id: c.account_id.to_string(),
            fraud_score: c.fraud_score,
            risk_level: c.risk_level.as_str().to_string(),
            flags: c.flags,
            status: c.status.as_str().to_string(),
            resolved_by: c.resolved_by.map(|u| u.to_string()),
            resolution_note: c.resolution_note,
            resolved_at: c.resolved_at,
            created_at: c.created_at,
        }
    }
}

/// A notification sent (or queued) to the acting user.
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct Notification {
    id: String,
    channel: String,
    recipient: String,
    subject: Option<String>,
    body: String,
    template_id: String,
    status: String,
    attempts: u32,
    sent_at: Option<DateTime<Utc>>,
    read_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<NotificationRecord> for Notification {
    fn from(n: NotificationRecord) -> Self {
        Notification {
            id: n.id.to_string(),
            channel: n.channel.as_str().to_string(),
            recipient: n.recipient,
            subject: n.subject,
            body: n.body,
            template_id: n.template_id,
            status: n.status.as_str().to_string(),
            attempts: n.attempts,
            sent_at: n.sent_at,
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

/// Whether the acting user wants a category of notification on a channel.
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct NotificationPreference {
    category: String,
    channel: String,
    enabled: bool,
    updated_at: DateTime<Utc>,
}

impl From<Preference> for NotificationPreference {
    fn from(p: Preference) -> Self {
        NotificationPreference {
            category: p.category,
            channel: p.channel.as_str().to_string(),
            enabled: p.enabled,
            updated_at: p.updated_at,
        }
    }
}

/// One audit-log entry (hash-chained).
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct AuditEntry {
    seq: i64,
    id: String,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    target_type: String,
    target_id: Option<String>,
    outcome: String,
    detail: Py<PyAny>,
    hash: String,
}

/// Result of checking the audit log's hash chain.
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct AuditReport {
    entries_checked: u64,
    /// The first entry whose hash, link or position is wrong; `None` when the chain is intact.
    first_tampered_seq: Option<i64>,
}

impl From<AuditVerification> for AuditReport {
    fn from(v: AuditVerification) -> Self {
        AuditReport {
            entries_checked: v.entries_checked,
            first_tampered_seq: v.first_tampered_seq,
        }
    }
}

#[pymethods]
impl Bank {
    // ------------------------------------------------------------------ fraud

    /// Creates a fraud rule (admin); `conditions` is validated against `rule_type`.
    #[pyo3(signature = (*, rule_name, rule_type, conditions, action, priority=0, is_active=true))]
    #[allow(clippy::too_many_arguments)]
    fn create_fraud_rule(
        &self,
        py: Python<'_>,
        rule_name: String,
        rule_type: &str,
        conditions: &Bound<'_, PyAny>,
        action: &str,
        priority: i32,
        is_active: bool,
    ) -> PyResult<FraudRuleInfo> {
        let rule = NewFraudRule {
            rule_name,
            rule_type: parse(py, RuleType::parse(rule_type))?,
            conditions: to_json(py, conditions, "conditions")?,
            action: parse(py, FraudAction::parse(action))?,
            priority,
            is_active,
        };
        let r = self.run(py, |b, a| async move {
            b.fraud().create_fraud_rule(&a, rule).await
        })?;
        FraudRuleInfo::new(py, r)
    }

    /// Changes a fraud rule (admin); omitted fields keep their value.
    #[pyo3(signature = (rule_id, *, conditions=None, action=None, priority=None, is_active=None))]
    fn update_fraud_rule(
        &self,
        py: Python<'_>,
        rule_id: &str,
        conditions: Option<&Bound<'_, PyAny>>,
        action: Option<&str>,
        priority: Option<i32>,
        is_active: Option<bool>,
    ) -> PyResult<FraudRuleInfo> {
        let id = parse(py, RuleId::parse(rule_id))?;
        let patch = FraudRulePatch {
            conditions: conditions
                .map(|c| to_json(py, c, "conditions"))
                .transpose()?,
            action: action
                .map(|a| parse(py, FraudAction::parse(a)))
                .transpose()?,
            priority,
            is_active,
        };
        let r = self.run(py, |b, a| async move {
            b.fraud().update_fraud_rule(&a, id, patch).await
        })?;
        FraudRuleInfo::new(py, r)
    }

    /// Fraud rules, highest priority first (staff).
    #[pyo3(signature = (*, active_only=false))]
    fn fraud_rules(&self, py: Python<'_>, active_only: bool) -> PyResult<Vec<FraudRuleInfo>> {
        let rules = self.run(py, |b, a| async move {
            b.fraud().fraud_rules(&a, active_only).await
        })?;
        rules
            .into_iter()
            .map(|r| FraudRuleInfo::new(py, r))
            .collect()
    }

    /// Installs the engine's default rule set (admin); returns how many were added.
    fn install_default_fraud_rules(&self, py: Python<'_>) -> PyResult<usize> {
        self.run(py, |b, a| async move {
            b.fraud().install_default_fraud_rules(&a).await
        })
    }

    /// Adds a blacklist (`BLACK`) or whitelist (`WHITE`) entry (admin).
    #[pyo3(signature = (list, entry_type, value, *, reason=None))]
    fn add_list_entry(
        &self,
        py: Python<'_>,
        list: &str,
        entry_type: &str,
        value: String,
        reason: Option<String>,
    ) -> PyResult<ListEntryInfo> {
        let list = parse(py, ListKind::parse(list))?;
        let kind = parse(py, ListEntryType::parse(entry_type))?;
        self.run(py, |b, a| async move {
            b.fraud()
                .add_list_entry(&a, list, kind, &value, reason.as_deref())
                .await
        })
        .map(ListEntryInfo::from)
    }

    /// Removes a list entry (admin).
    fn remove_list_entry(&self, py: Python<'_>, entry_id: &str) -> PyResult<()> {
        let id = parse(py, ListEntryId::parse(entry_id))?;
        self.run(py, |b, a| async move {
            b.fraud().remove_list_entry(&a, id).await
        })
    }

    /// List entries by id, paged (staff).
    #[pyo3(signature = (*, list=None, after=None, limit=50))]
    fn list_entries(
        &self,
        py: Python<'_>,
        list: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> PyResult<Vec<ListEntryInfo>> {
        let list = list.map(|l| parse(py, ListKind::parse(l))).transpose()?;
        let after = after
            .map(|s| parse(py, ListEntryId::parse(s)))
            .transpose()?;
        let v = self.run(py, |b, a| async move {
            b.fraud().list_entries(&a, list, after, limit).await
        })?;
        Ok(v.into_iter().map(ListEntryInfo::from).collect())
    }

    /// Fraud cases by id, paged, optionally by status `OPEN`/`RELEASED`/`REJECTED` (staff).
    #[pyo3(signature = (*, status=None, after=None, limit=50))]
    fn fraud_cases(
        &self,
        py: Python<'_>,
        status: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> PyResult<Vec<FraudCaseInfo>> {
        let status = status
            .map(|s| parse(py, CaseStatus::parse(s)))
            .transpose()?;
        let after = after.map(|s| parse(py, CaseId::parse(s))).transpose()?;
        let v = self.run(py, |b, a| async move {
            b.fraud().fraud_cases(&a, status, after, limit).await
        })?;
        Ok(v.into_iter().map(FraudCaseInfo::from).collect())
    }

    /// Decides a fraud case (admin): `release` completes the held transfer, `reject` voids
    /// it. Returns the case and the transaction.
    #[pyo3(signature = (case_id, decision, *, note=None))]
    fn resolve_fraud_case(
        &self,
        py: Python<'_>,
        case_id: &str,
        decision: &str,
        note: Option<String>,
    ) -> PyResult<(FraudCaseInfo, Transaction)> {
        let id = parse(py, CaseId::parse(case_id))?;
        let decision = match decision {
            "release" => CaseDecision::Release,
            "reject" => CaseDecision::Reject,
            other => {
                return ok(
                    py,
                    Err(BankError::validation(
                        "decision",
                        format!("{other:?}: expected release or reject"),
                    )),
                )
            }
        };
        let (c, t) = self.run(py, |b, a| async move {
            b.fraud()
                .resolve_fraud_case(&a, id, decision, note.as_deref())
                .await
        })?;
        Ok((c.into(), t.into()))
    }

    // ------------------------------------------------------------------ notifications

    /// The acting user's notifications, newest first (`before`: a notification id).
    #[pyo3(signature = (*, before=None, limit=50))]
    fn notifications(
        &self,
        py: Python<'_>,
        before: Option<&str>,
        limit: u32,
    ) -> PyResult<Vec<Notification>> {
        let before = before
            .map(|s| parse(py, NotificationId::parse(s)))
            .transpose()?;
        let v = self.run(py, |b, a| async move {
            b.notifications().list(&a, before, limit).await
        })?;
        Ok(v.into_iter().map(Notification::from).collect())
    }

    /// Marks an in-app notification read.
    fn mark_notification_read(
        &self,
        py: Python<'_>,
        notification_id: &str,
    ) -> PyResult<Notification> {
        let id = parse(py, NotificationId::parse(notification_id))?;
        self.run(py, |b, a| async move {
            b.notifications().mark_notification_read(&a, id).await
        })
        .map(Notification::from)
    }

    /// Turns a category of notification on or off on a channel (`email`, `sms`, `push`,
    /// `in_app`) for the acting user.
    fn set_notification_preference(
        &self,
        py: Python<'_>,
        category: String,
        channel: &str,
        enabled: bool,
    ) -> PyResult<NotificationPreference> {
        let channel = parse(py, Channel::parse(channel))?;
        self.run(py, |b, a| async move {
            b.notifications()
                .set_notification_preference(&a, &category, channel, enabled)
                .await
        })
        .map(NotificationPreference::from)
    }

    /// The acting user's explicit preferences (absent ones are enabled).
    fn notification_preferences(&self, py: Python<'_>) -> PyResult<Vec<NotificationPreference>> {
        let v = self.run(py, |b, a| async move {
            b.notifications().notification_preferences(&a).await
        })?;
        Ok(v.into_iter().map(NotificationPreference::from).collect())
    }

    // ------------------------------------------------------------------ audit

    /// The audit log in chain order (staff), paged by `after_seq`.
    #[pyo3(signature = (*, after_seq=None, limit=50))]
    fn audit_log(
        &self,
        py: Python<'_>,
        after_seq: Option<i64>,
        limit: u32,
    ) -> PyResult<Vec<AuditEntry>> {
        let v: Vec<AuditRecord> = self.run(py, |b, a| async move {
            b.audit().audit_log(&a, after_seq, limit).await
        })?;
        v.into_iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.seq,
                    id: r.id.to_string(),
                    at: r.at,
                    actor: r.actor,
                    action: r.action,
                    target_type: r.target_type,
                    target_id: r.target_id,
                    outcome: r.outcome.as_str().to_string(),
                    detail: from_json(py, &r.detail)?,
                    hash: r.hash,
                })
            })
            .collect()
    }

    /// Re-computes the audit log's hash chain.
    fn verify_audit(&self, py: Python<'_>) -> PyResult<AuditReport> {
        self.run(py, |b, _| async move { b.audit().verify_audit().await })
            .map(AuditReport::from)
    }
}
