//! Back-office use cases, translated: fraud rules, lists and cases; notification history
//! and preferences; audit-log verification. JSON-valued fields (rule conditions, audit
//! detail) are plain JS values.

use bankflow_core::audit::AuditRecord;
use bankflow_core::fraud::{
    CaseDecision, CaseStatus, FraudCase as CoreCase, FraudRule as CoreRule, FraudRulePatch,
    ListEntry as CoreEntry, ListEntryType, ListKind, NewFraudRule, RuleType,
};
use bankflow_core::ids::{CaseId, ListEntryId, NotificationId, RuleId};
use bankflow_core::notify::{Channel, NotificationRecord, Preference};
use bankflow_core::{BankError, FraudAction};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::convert::ts;
use crate::types::Transaction;
use crate::{list, settle, Bank, PAGE_LIMIT_DEFAULT};

/// A fraud rule.
#[napi(object)]
pub struct FraudRule {
    pub id: String,
    pub rule_name: String,
    pub rule_type: String,
    pub conditions: Value,
    /// `ALLOW`, `REVIEW` or `BLOCK`.
    pub action: String,
    pub priority: i32,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CoreRule> for FraudRule {
    fn from(r: CoreRule) -> Self {
        FraudRule {
            id: r.id.to_string(),
            rule_name: r.rule_name,
            rule_type: r.rule_type.as_str().to_string(),
            conditions: r.conditions,
            action: r.action.as_str().to_string(),
            priority: r.priority,
            is_active: r.is_active,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

/// A blacklist / whitelist entry.
#[napi(object)]
pub struct ListEntry {
    pub id: String,
    pub list: String,
    pub entry_type: String,
    pub value: String,
    pub reason: Option<String>,
    pub created_at: String,
}

impl From<CoreEntry> for ListEntry {
    fn from(e: CoreEntry) -> Self {
        ListEntry {
            id: e.id.to_string(),
            list: e.list.as_str().to_string(),
            entry_type: e.entry_type.as_str().to_string(),
            value: e.value,
            reason: e.reason,
            created_at: ts(e.created_at),
        }
    }
}

/// A fraud case: a transaction held for review.
#[napi(object)]
pub struct FraudCase {
    pub id: String,
    pub transaction_id: String,
    pub account_id: String,
    pub fraud_score: u32,
    pub risk_level: String,
    pub flags: Vec<String>,
    /// `OPEN`, `RELEASED` or `REJECTED`.
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
    pub resolved_at: Option<String>,
    pub created_at: String,
}

impl From<CoreCase> for FraudCase {
    fn from(c: CoreCase) -> Self {
        FraudCase {
            id: c.id.to_string(),
            transaction_id: c.transaction_id.to_string(),
            account_id: c.account_id.to_string(),
            fraud_score: u32::from(c.fraud_score),
            risk_level: c.risk_level.as_str().to_string(),
            flags: c.flags,
            status: c.status.as_str().to_string(),
            resolved_by: c.resolved_by.map(|u| u.to_string()),
            resolution_note: c.resolution_note,
            resolved_at: c.resolved_at.map(ts),
            created_at: ts(c.created_at),
        }
    }
}

/// A decided case and its transaction.
#[napi(object)]
pub struct CaseResolution {
    pub case: FraudCase,
    pub transaction: Transaction,
}

/// A notification sent (or queued) to the acting user.
#[napi(object)]
pub struct Notification {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub template_id: String,
    pub status: String,
    pub attempts: u32,
    pub sent_at: Option<String>,
    pub read_at: Option<String>,
    pub created_at: String,
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
            sent_at: n.sent_at.map(ts),
            read_at: n.read_at.map(ts),
            created_at: ts(n.created_at),
        }
    }
}

/// Whether the acting user wants a category of notification on a channel.
#[napi(object)]
pub struct NotificationPreference {
    pub category: String,
    pub channel: String,
    pub enabled: bool,
    pub updated_at: String,
}

impl From<Preference> for NotificationPreference {
    fn from(p: Preference) -> Self {
        NotificationPreference {
            category: p.category,
            channel: p.channel.as_str().to_string(),
            enabled: p.enabled,
            updated_at: ts(p.updated_at),
        }
    }
}

/// One audit-log entry (hash-chained).
#[napi(object)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub outcome: String,
    pub detail: Value,
    pub hash: String,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        AuditEntry {
            seq: r.seq,
            id: r.id.to_string(),
            at: ts(r.at),
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            outcome: r.outcome.as_str().to_string(),
            detail: r.detail,
            hash: r.hash,
        }
    }
}

/// Result of checking the audit log's hash chain.
#[napi(object)]
pub struct AuditReport {
    pub entries_checked: i64,
    /// The first entry whose hash, link or position is wrong; absent when the chain is intact.
    pub first_tampered_seq: Option<i64>,
}

/// A new fraud rule.
#[napi(object)]
pub struct NewFraudRuleInput {
    pub rule_name: String,
    pub rule_type: String,
    pub conditions: Value,
    pub action: String,
    pub priority: Option<i32>,
    pub is_active: Option<bool>,
}

/// Changes to a fraud rule; omitted fields keep their value.
#[napi(object)]
pub struct FraudRulePatchInput {
    pub conditions: Option<Value>,
    pub action: Option<String>,
    pub priority: Option<i32>,
    pub is_active: Option<bool>,
}

/// Paging by id, with an optional filter.
#[napi(object)]
pub struct FilterPage {
    /// `list_entries`: `BLACK` or `WHITE`; `fraud_cases`: `OPEN`, `RELEASED` or `REJECTED`.
    pub filter: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

fn page(p: Option<FilterPage>) -> (Option<String>, Option<String>, u32) {
    p.map(|p| (p.filter, p.after, p.limit.unwrap_or(PAGE_LIMIT_DEFAULT)))
        .unwrap_or((None, None, PAGE_LIMIT_DEFAULT))
}

#[napi]
impl Bank {
    /// Creates a fraud rule (admin); `conditions` is validated against `ruleType`.
    #[napi]
    pub fn create_fraud_rule<'env>(
        &self,
        env: &'env Env,
        rule: NewFraudRuleInput,
    ) -> Result<PromiseRaw<'env, FraudRule>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let rule = NewFraudRule {
                rule_name: rule.rule_name,
                rule_type: RuleType::parse(&rule.rule_type)?,
                conditions: rule.conditions,
                action: FraudAction::parse(&rule.action)?,
                priority: rule.priority.unwrap_or(0),
                is_active: rule.is_active.unwrap_or(true),
            };
            b.fraud().create_fraud_rule(&a, rule).await
        };
        settle(env, fut, FraudRule::from)
    }

    /// Changes a fraud rule (admin).
    #[napi]
    pub fn update_fraud_rule<'env>(
        &self,
        env: &'env Env,
        rule_id: String,
        patch: FraudRulePatchInput,
    ) -> Result<PromiseRaw<'env, FraudRule>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let patch = FraudRulePatch {
                conditions: patch.conditions,
                action: patch
                    .action
                    .as_deref()
                    .map(FraudAction::parse)
                    .transpose()?,
                priority: patch.priority,
                is_active: patch.is_active,
            };
            b.fraud()
                .update_fraud_rule(&a, RuleId::parse(&rule_id)?, patch)
                .await
        };
        settle(env, fut, FraudRule::from)
    }

    /// Fraud rules, highest priority first (staff).
    #[napi]
    pub fn fraud_rules<'env>(
        &self,
        env: &'env Env,
        active_only: Option<bool>,
    ) -> Result<PromiseRaw<'env, Vec<FraudRule>>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.fraud()
                    .fraud_rules(&a, active_only.unwrap_or(false))
                    .await
            },
            list,
        )
    }

    /// Installs the engine's default rule set (admin); resolves to how many were added.
    #[napi]
    pub fn install_default_fraud_rules<'env>(
        &self,
        env: &'env Env,
    ) -> Result<PromiseRaw<'env, u32>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move { b.fraud().install_default_fraud_rules(&a).await },
            |n| u32::try_from(n).unwrap_or(u32::MAX),
        )
    }

    /// Adds a blacklist (`BLACK`) or whitelist (`WHITE`) entry (admin).
    #[napi]
    pub fn add_list_entry<'env>(
        &self,
        env: &'env Env,
        list_kind: String,
        entry_type: String,
        value: String,
        reason: Option<String>,
    ) -> Result<PromiseRaw<'env, ListEntry>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let (kind, ty) = (
                ListKind::parse(&list_kind)?,
                ListEntryType::parse(&entry_type)?,
            );
            b.fraud()
                .add_list_entry(&a, kind, ty, &value, reason.as_deref())
                .await
        };
        settle(env, fut, ListEntry::from)
    }

    /// Removes a list entry (admin).
    #[napi]
    pub fn remove_list_entry<'env>(
        &self,
        env: &'env Env,
        entry_id: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.fraud()
                    .remove_list_entry(&a, ListEntryId::parse(&entry_id)?)
                    .await
            },
            |()| (),
        )
    }

    /// List entries by id, paged (staff); `filter`: `BLACK` or `WHITE`.
    #[napi]
    pub fn list_entries<'env>(
        &self,
        env: &'env Env,
        options: Option<FilterPage>,
    ) -> Result<PromiseRaw<'env, Vec<ListEntry>>> {
        let (b, a) = self.ctx();
        let (filter, after, limit) = page(options);
        let fut = async move {
            let kind = filter.as_deref().map(ListKind::parse).transpose()?;
            let after = after.as_deref().map(ListEntryId::parse).transpose()?;
            b.fraud().list_entries(&a, kind, after, limit).await
        };
        settle(env, fut, list)
    }

    /// Fraud cases by id, paged (staff); `filter`: `OPEN`, `RELEASED` or `REJECTED`.
    #[napi]
    pub fn fraud_cases<'env>(
        &self,
        env: &'env Env,
        options: Option<FilterPage>,
    ) -> Result<PromiseRaw<'env, Vec<FraudCase>>> {
        let (b, a) = self.ctx();
        let (filter, after, limit) = page(options);
        let fut = async move {
            let status = filter.as_deref().map(CaseStatus::parse).transpose()?;
            let after = after.as_deref().map(CaseId::parse).transpose()?;
            b.fraud().fraud_cases(&a, status, after, limit).await
        };
        settle(env, fut, list)
    }

    /// Decides a fraud case (admin): `release` completes the held transfer, `reject` voids it.
    #[napi]
    pub fn resolve_fraud_case<'env>(
        &self,
        env: &'env Env,
        case_id: String,
        decision: String,
        note: Option<String>,
    ) -> Result<PromiseRaw<'env, CaseResolution>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let decision = match decision.as_str() {
                "release" => CaseDecision::Release,
                "reject" => CaseDecision::Reject,
                other => {
                    return Err(BankError::validation(
                        "decision",
                        format!("{other:?}: expected release or reject"),
                    ))
                }
            };
            b.fraud()
                .resolve_fraud_case(&a, CaseId::parse(&case_id)?, decision, note.as_deref())
                .await
        };
        settle(env, fut, |(c, t)| CaseResolution {
            case: c.into(),
            transaction: t.into(),
        })
    }

    /// The acting user's notifications, newest first (`before`: a notification id).
    #[napi]
    pub fn notifications<'env>(
        &self,
        env: &'env Env,
        before: Option<String>,
        limit: Option<u32>,
    ) -> Result<PromiseRaw<'env, Vec<Notification>>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let before = before.as_deref().map(NotificationId::parse).transpose()?;
            b.notifications()
                .list(&a, before, limit.unwrap_or(PAGE_LIMIT_DEFAULT))
                .await
        };
        settle(env, fut, list)
    }

    /// Marks an in-app notification read.
    #[napi]
    pub fn mark_notification_read<'env>(
        &self,
        env: &'env Env,
        notification_id: String,
    ) -> Result<PromiseRaw<'env, Notification>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.notifications()
                    .mark_notification_read(&a, NotificationId::parse(&notification_id)?)
                    .await
            },
            Notification::from,
        )
    }

    /// Turns a category of notification on or off on a channel (`email`, `sms`, `push`,
    /// `in_app`) for the acting user.
    #[napi]
    pub fn set_notification_preference<'env>(
        &self,
        env: &'env Env,
        category: String,
        channel: String,
        enabled: bool,
    ) -> Result<PromiseRaw<'env, NotificationPreference>> {
        let (b, a) = self.ctx();
        let fut = async move {
            b.notifications()
                .set_notification_preference(&a, &category, Channel::parse(&channel)?, enabled)
                .await
        };
        settle(env, fut, NotificationPreference::from)
    }

    /// The acting user's explicit preferences (absent ones are enabled).
    #[napi]
    pub fn notification_preferences<'env>(
        &self,
        env: &'env Env,
    ) -> Result<PromiseRaw<'env, Vec<NotificationPreference>>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move { b.notifications().notification_preferences(&a).await },
            list,
        )
    }

    /// The audit log in chain order (staff), paged by `afterSeq`.
    #[napi]
    pub fn audit_log<'env>(
        &self,
        env: &'env Env,
        after_seq: Option<i64>,
        limit: Option<u32>,
    ) -> Result<PromiseRaw<'env, Vec<AuditEntry>>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.audit()
                    .audit_log(&a, after_seq, limit.unwrap_or(PAGE_LIMIT_DEFAULT))
                    .await
            },
            list,
        )
    }

    /// Re-computes the audit log's hash chain.
    #[napi]
    pub fn verify_audit<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, AuditReport>> {
        let b = self.bank.clone();
        let fut = async move { b.audit().verify_audit().await };
        settle(env, fut, |v| AuditReport {
            entries_checked: i64::try_from(v.entries_checked).unwrap_or(i64::MAX),
            first_tampered_seq: v.first_tampered_seq,
        })
    }
}
