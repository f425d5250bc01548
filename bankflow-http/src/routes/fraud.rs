//! `/api/v1/fraud`: rules, black/white lists, cases, scores (staff; changes admin only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankflow_core::fraud::{
    Assessment, CaseDecision, CaseStatus, FraudCase, FraudProposal, FraudRule, FraudRulePatch,
    ListEntry, ListEntryType, ListKind, NewFraudRule, RuleType,
};
use bankflow_core::ids::{CaseId, ListEntryId, RuleId};
use bankflow_core::{
    AccountId, AccountNumber, BankError, BankResult, Destination, FraudAction, FraudDecision,
    TransactionId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{decode_cursor, encode_cursor, page_limit, Page};
use crate::error::ApiResult;
use crate::routes::{detached, CommonErrors};
use crate::schema::{
    AccountNumberText, Amount, CaseDecisionName, CaseStatusName, CurrencyCode, Cursor,
    FraudActionName, ListEntryTypeName, ListValue, Note, PageLimit, RuleName, RuleTypeName,
};
use crate::state::{AppState, Auth, Ctx, Json, PathId, Query};

/// A fraud verdict.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionDto {
    /// 0–100.
    pub score: u8,
    /// LOW, MEDIUM, HIGH, CRITICAL.
    #[schema(example = "LOW")]
    pub risk_level: String,
    /// ALLOW, REVIEW, BLOCK.
    #[schema(example = "ALLOW")]
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

/// The stored verdict on one transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssessmentDto {
    /// Transaction.
    pub transaction_id: Uuid,
    /// 0–100.
    pub score: u8,
    /// LOW, MEDIUM, HIGH, CRITICAL.
    pub risk_level: String,
    /// ALLOW, REVIEW, BLOCK.
    pub action: String,
    /// Rules that fired.
    pub flags: Vec<String>,
    /// Amount scored.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<Assessment> for AssessmentDto {
    fn from(a: Assessment) -> AssessmentDto {
        AssessmentDto {
            transaction_id: a.transaction_id.0,
            score: a.score,
            risk_level: a.risk_level.as_str().into(),
            action: a.action.as_str().into(),
            flags: a.flags,
            amount: a.amount.amount().to_string(),
            currency: a.amount.currency().code().into(),
            created_at: a.created_at,
        }
    }
}

/// A proposed transfer to score without moving money.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    /// Debited account.
    pub from_account_id: Uuid,
    /// Credited account by id …
    pub to_account_id: Option<Uuid>,
    /// … or by number; neither for a payment out of the bank.
    #[schema(value_type = Option<AccountNumberText>)]
    pub to_account_number: Option<String>,
    /// External counterparty (payments).
    pub counterparty: Option<String>,
    /// Positive decimal string.
    #[schema(value_type = Amount, example = "9000.00")]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(value_type = CurrencyCode)]
    pub currency: String,
}

/// A fraud rule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleDto {
    /// Id.
    pub id: Uuid,
    /// Unique name.
    pub rule_name: String,
    /// AMOUNT_THRESHOLD, VELOCITY_COUNT, VELOCITY_AMOUNT, BLACKLIST_HIT, NEW_ACCOUNT_LARGE_TRANSFER, FIRST_TIME_PAYEE_LARGE_TRANSFER.
    #[schema(example = "AMOUNT_THRESHOLD")]
    pub rule_type: String,
    /// Parameters, per rule type.
    #[schema(value_type = Object)]
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

/// A new rule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRuleBody {
    /// Unique name.
    #[schema(value_type = RuleName)]
    pub rule_name: String,
    /// Rule type.
    #[schema(value_type = RuleTypeName)]
    pub rule_type: String,
    /// Parameters, e.g. `{"min_amount": "10000.00", "score": 40}`.
    #[schema(value_type = Object)]
    pub conditions: serde_json::Value,
    /// ALLOW, REVIEW, BLOCK.
    #[schema(value_type = FraudActionName)]
    pub action: String,
    /// Higher runs first (default 0).
    pub priority: Option<i32>,
    /// Evaluated? (default true)
    pub is_active: Option<bool>,
}

impl NewRuleBody {
    /// The validated rule.
    pub fn try_into_domain(self) -> BankResult<NewFraudRule> {
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

/// Changes to a rule (absent fields are kept).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RulePatchBody {
    /// New parameters.
    #[schema(value_type = Option<Object>)]
    pub conditions: Option<serde_json::Value>,
    /// New action.
    #[schema(value_type = Option<FraudActionName>)]
    pub action: Option<String>,
    /// New priority.
    pub priority: Option<i32>,
    /// Activate / deactivate.
    pub is_active: Option<bool>,
}

/// A black/white-list entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

/// A new list entry.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEntryBody {
    /// ACCOUNT, COUNTERPARTY, EMAIL, EMAIL_DOMAIN, IP, DEVICE.
    #[schema(value_type = ListEntryTypeName)]
    #[serde(alias = "entry_type")]
    pub list_type: String,
    /// The value to match.
    #[schema(value_type = ListValue)]
    pub value: String,
    /// Why.
    pub reason: Option<String>,
}

/// A fraud case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseDto {
    /// Id.
    pub id: Uuid,
    /// Transaction under review.
    pub transaction_id: Uuid,
    /// Debited account.
    pub account_id: Uuid,
    /// Score 0–100.
    pub fraud_score: u8,
    /// LOW, MEDIUM, HIGH, CRITICAL.
    pub risk_level: String,
    /// Rules that fired.
    pub flags: Vec<String>,
    /// OPEN, RELEASED, REJECTED.
    pub status: String,
    /// Who resolved it.
    pub resolved_by: Option<Uuid>,
    /// Resolution note.
    pub resolution_note: Option<String>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Opened.
    pub created_at: DateTime<Utc>,
}

impl From<FraudCase> for CaseDto {
    fn from(c: FraudCase) -> CaseDto {
        CaseDto {
            id: c.id.0,
            transaction_id: c.transaction_id.0,
            account_id: c.account_id.0,
            fraud_score: c.fraud_score,
            risk_level: c.risk_level.as_str().into(),
            flags: c.flags,
            status: c.status.as_str().into(),
            resolved_by: c.resolved_by.map(|u| u.0),
            resolution_note: c.resolution_note,
            resolved_at: c.resolved_at,
            created_at: c.created_at,
        }
    }
}

/// Resolves a case.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// RELEASE (not fraud: the transfer completes) or REJECT (fraud: the hold is voided).
    #[schema(value_type = CaseDecisionName)]
    pub decision: String,
    /// Note for the record.
    #[schema(value_type = Option<Note>)]
    pub note: Option<String>,
}

/// Case filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseParams {
    /// OPEN, RELEASED or REJECTED.
    #[param(value_type = Option<CaseStatusName>)]
    pub status: Option<String>,
    /// Page size 1..=100.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// Opaque cursor.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
}

/// Rule filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleParams {
    /// Only active rules.
    pub active_only: Option<bool>,
}

fn cursor_id(cursor: Option<&str>) -> BankResult<Option<Uuid>> {
    match cursor {
        None | Some("") => Ok(None),
        Some(c) => Uuid::parse_str(&decode_cursor(c)?)
            .map(Some)
            .map_err(|_| BankError::validation("cursor", "malformed cursor")),
    }
}

fn page_of<T, D: From<T>>(items: Vec<T>, limit: u32, id: impl Fn(&T) -> Uuid) -> Page<D> {
    let next_cursor = (items.len() as u32 == limit)
        .then(|| items.last().map(|i| encode_cursor(&id(i).to_string())))
        .flatten();
    Page {
        items: items.into_iter().map(D::from).collect(),
        next_cursor,
    }
}

/// Scores a proposed transfer without moving money.
#[utoipa::path(post, path = "/api/v1/fraud/analyze", tag = "fraud", request_body = AnalyzeBody,
    responses((status = 200, description = "The verdict", body = DecisionDto), CommonErrors), security(("bearer" = [])))]
pub async fn analyze(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(mut context): Ctx,
    Json(b): Json<AnalyzeBody>,
) -> ApiResult<axum::Json<DecisionDto>> {
    let to = match (b.to_account_id, b.to_account_number.as_deref()) {
        (Some(id), None) => Some(Destination::Account(AccountId(id))),
        (None, Some(n)) => Some(Destination::Number(AccountNumber::parse(n)?)),
        (None, None) => None,
        _ => {
            return Err(BankError::validation(
                "to_account_id",
                "give at most one of to_account_id and to_account_number",
            )
            .into())
        }
    };
    context.counterparty = b.counterparty;
    let amount = bankflow_core::Money::parse_positive(
        &b.amount,
        bankflow_core::Currency::parse(&b.currency)?,
    )?;
    let p = FraudProposal {
        from_account_id: AccountId(b.from_account_id),
        to,
        amount,
        context,
    };
    Ok(axum::Json(
        s.bank
            .fraud()
            .analyze_transaction(&auth.actor, &p)
            .await?
            .into(),
    ))
}

/// The stored fraud verdict of a transaction (staff).
#[utoipa::path(get, path = "/api/v1/fraud/score/{txn_id}", tag = "fraud", params(("txn_id" = Uuid, Path, description = "Transaction id")),
    responses((status = 200, description = "The assessment", body = AssessmentDto), CommonErrors), security(("bearer" = [])))]
pub async fn score(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<TransactionId>,
) -> ApiResult<axum::Json<AssessmentDto>> {
    Ok(axum::Json(
        s.bank.fraud().fraud_score(&auth.actor, id).await?.into(),
    ))
}

/// Creates a rule (admin).
#[utoipa::path(post, path = "/api/v1/fraud/rules", tag = "fraud", request_body = NewRuleBody,
    responses((status = 201, description = "Created", body = RuleDto), CommonErrors), security(("bearer" = [])))]
pub async fn create_rule(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<NewRuleBody>,
) -> ApiResult<Response> {
    let rule = b.try_into_domain()?;
    let bank = s.bank.clone();
    let r =
        detached(async move { bank.fraud().create_fraud_rule(&auth.actor, rule).await }).await?;
    Ok((StatusCode::CREATED, axum::Json(RuleDto::from(r))).into_response())
}

/// Lists rules, highest priority first (staff).
#[utoipa::path(get, path = "/api/v1/fraud/rules", tag = "fraud", params(RuleParams),
    responses((status = 200, description = "Rules", body = Page<RuleDto>), CommonErrors), security(("bearer" = [])))]
pub async fn list_rules(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<RuleParams>,
) -> ApiResult<axum::Json<Page<RuleDto>>> {
    let rules = s
        .bank
        .fraud()
        .fraud_rules(&auth.actor, p.active_only.unwrap_or(false))
        .await?;
    Ok(axum::Json(Page {
        items: rules.into_iter().map(RuleDto::from).collect(),
        next_cursor: None,
    }))
}

/// Changes a rule (admin).
#[utoipa::path(put, path = "/api/v1/fraud/rules/{id}", tag = "fraud", params(("id" = Uuid, Path, description = "Rule id")),
    request_body = RulePatchBody,
    responses((status = 200, description = "The rule", body = RuleDto), CommonErrors), security(("bearer" = [])))]
pub async fn update_rule(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
    Json(b): Json<RulePatchBody>,
) -> ApiResult<axum::Json<RuleDto>> {
    let patch = FraudRulePatch {
        conditions: b.conditions,
        action: b.action.as_deref().map(FraudAction::parse).transpose()?,
        priority: b.priority,
        is_active: b.is_active,
    };
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move {
            bank.fraud()
                .update_fraud_rule(&auth.actor, RuleId(id), patch)
                .await
        })
        .await?
        .into(),
    ))
}

/// Installs the engine's default rule set (admin); returns how many were added.
#[utoipa::path(post, path = "/api/v1/fraud/rules/defaults", tag = "fraud",
    responses((status = 200, description = "Rules, after installing the defaults", body = Page<RuleDto>), CommonErrors), security(("bearer" = [])))]
pub async fn install_defaults(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<Page<RuleDto>>> {
    let bank = s.bank.clone();
    let actor = auth.actor.clone();
    detached(async move { bank.fraud().install_default_fraud_rules(&actor).await }).await?;
    let rules = s.bank.fraud().fraud_rules(&auth.actor, false).await?;
    Ok(axum::Json(Page {
        items: rules.into_iter().map(RuleDto::from).collect(),
        next_cursor: None,
    }))
}

async fn add_entry(
    s: AppState,
    auth: Auth,
    list: ListKind,
    b: ListEntryBody,
) -> ApiResult<Response> {
    let entry_type = ListEntryType::parse(&b.list_type)?;
    let bank = s.bank.clone();
    let e = detached(async move {
        bank.fraud()
            .add_list_entry(&auth.actor, list, entry_type, &b.value, b.reason.as_deref())
            .await
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(ListEntryDto::from(e))).into_response())
}

/// Adds a whitelist entry (admin).
#[utoipa::path(post, path = "/api/v1/fraud/whitelist", tag = "fraud", request_body = ListEntryBody,
    responses((status = 201, description = "Added", body = ListEntryDto), CommonErrors), security(("bearer" = [])))]
pub async fn add_whitelist(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<ListEntryBody>,
) -> ApiResult<Response> {
    add_entry(s, auth, ListKind::White, b).await
}

/// Adds a blacklist entry (admin).
#[utoipa::path(post, path = "/api/v1/fraud/blacklist", tag = "fraud", request_body = ListEntryBody,
    responses((status = 201, description = "Added", body = ListEntryDto), CommonErrors), security(("bearer" = [])))]
pub async fn add_blacklist(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<ListEntryBody>,
) -> ApiResult<Response> {
    add_entry(s, auth, ListKind::Black, b).await
}

async fn entries(
    s: AppState,
    auth: Auth,
    list: ListKind,
    p: CaseParams,
) -> ApiResult<axum::Json<Page<ListEntryDto>>> {
    // Staff only: refuse others before reading their query (403, not a 400 on a bad cursor).
    auth.actor.require_staff()?;
    let limit = page_limit(p.limit)?;
    let after = cursor_id(p.cursor.as_deref())?.map(ListEntryId);
    let items = s
        .bank
        .fraud()
        .list_entries(&auth.actor, Some(list), after, limit)
        .await?;
    Ok(axum::Json(page_of(items, limit, |e: &ListEntry| e.id.0)))
}

/// Whitelist entries (staff).
#[utoipa::path(get, path = "/api/v1/fraud/whitelist", tag = "fraud", params(CaseParams),
    responses((status = 200, description = "Entries", body = Page<ListEntryDto>), CommonErrors), security(("bearer" = [])))]
pub async fn whitelist(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<CaseParams>,
) -> ApiResult<axum::Json<Page<ListEntryDto>>> {
    entries(s, auth, ListKind::White, p).await
}

/// Blacklist entries (staff).
#[utoipa::path(get, path = "/api/v1/fraud/blacklist", tag = "fraud", params(CaseParams),
    responses((status = 200, description = "Entries", body = Page<ListEntryDto>), CommonErrors), security(("bearer" = [])))]
pub async fn blacklist(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<CaseParams>,
) -> ApiResult<axum::Json<Page<ListEntryDto>>> {
    entries(s, auth, ListKind::Black, p).await
}

/// Removes a list entry (admin).
#[utoipa::path(delete, path = "/api/v1/fraud/lists/{id}", tag = "fraud", params(("id" = Uuid, Path, description = "Entry id")),
    responses((status = 204, description = "Removed"), CommonErrors), security(("bearer" = [])))]
pub async fn remove_entry(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
) -> ApiResult<StatusCode> {
    let bank = s.bank.clone();
    detached(async move {
        bank.fraud()
            .remove_list_entry(&auth.actor, ListEntryId(id))
            .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fraud cases (staff).
#[utoipa::path(get, path = "/api/v1/fraud/cases", tag = "fraud", params(CaseParams),
    responses((status = 200, description = "Cases", body = Page<CaseDto>), CommonErrors), security(("bearer" = [])))]
pub async fn cases(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<CaseParams>,
) -> ApiResult<axum::Json<Page<CaseDto>>> {
    auth.actor.require_staff()?;
    let limit = page_limit(p.limit)?;
    let status = p.status.as_deref().map(CaseStatus::parse).transpose()?;
    let after = cursor_id(p.cursor.as_deref())?.map(CaseId);
    let items = s
        .bank
        .fraud()
        .fraud_cases(&auth.actor, status, after, limit)
        .await?;
    Ok(axum::Json(page_of(items, limit, |c: &FraudCase| c.id.0)))
}

/// One fraud case (staff).
#[utoipa::path(get, path = "/api/v1/fraud/cases/{id}", tag = "fraud", params(("id" = Uuid, Path, description = "Case id")),
    responses((status = 200, description = "The case", body = CaseDto), CommonErrors), security(("bearer" = [])))]
pub async fn case(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
) -> ApiResult<axum::Json<CaseDto>> {
    Ok(axum::Json(
        s.bank
            .fraud()
            .fraud_case(&auth.actor, CaseId(id))
            .await?
            .into(),
    ))
}

/// Resolves a case (admin): RELEASE completes the held transfer, REJECT voids it.
#[utoipa::path(post, path = "/api/v1/fraud/cases/{id}/resolve", tag = "fraud", params(("id" = Uuid, Path, description = "Case id")),
    request_body = ResolveBody,
    responses((status = 200, description = "The resolved case", body = CaseDto), CommonErrors), security(("bearer" = [])))]
pub async fn resolve(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
    Json(b): Json<ResolveBody>,
) -> ApiResult<axum::Json<CaseDto>> {
    let decision = match b.decision.as_str() {
        "RELEASE" => CaseDecision::Release,
        "REJECT" => CaseDecision::Reject,
        _ => return Err(BankError::validation("decision", "RELEASE or REJECT").into()),
    };
    let bank = s.bank.clone();
    let (case, _txn) = detached(async move {
        bank.fraud()
            .resolve_fraud_case(&auth.actor, CaseId(id), decision, b.note.as_deref())
            .await
    })
    .await?;
    Ok(axum::Json(case.into()))
}
