//! `/api/v1/admin`: audit log, its verification, user roles, user deactivation.

use axum::extract::State;
use bankflow_core::audit::AuditRecord;
use bankflow_core::{BankError, Role, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{decode_cursor, encode_cursor, page_limit, Page};
use crate::error::ApiResult;
use crate::routes::auth::MeDto;
use crate::routes::{detached, CommonErrors};
use crate::schema::{Cursor, PageLimit, Roles};
use crate::state::{AppState, Auth, Ctx, Json, PathId, Query};

/// One audit-log entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditDto {
    /// Id.
    pub id: Uuid,
    /// Position in the hash chain.
    pub seq: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// `system`, `user:<id>` or `anonymous`.
    pub actor: String,
    /// Acting user.
    pub actor_id: Option<Uuid>,
    /// What was done.
    pub action: String,
    /// Kind of object acted on.
    pub entity_type: String,
    /// Its id.
    pub entity_id: Option<String>,
    /// SUCCESS or FAILURE.
    pub outcome: String,
    /// Extra facts.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Source IP.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// This entry's hash.
    pub hash: String,
    /// The previous entry's hash.
    pub prev_hash: String,
}

impl From<AuditRecord> for AuditDto {
    fn from(a: AuditRecord) -> AuditDto {
        AuditDto {
            id: a.id.0,
            seq: a.seq,
            occurred_at: a.at,
            actor: a.actor,
            actor_id: a.actor_user_id.map(|u| u.0),
            action: a.action,
            entity_type: a.target_type,
            entity_id: a.target_id,
            outcome: a.outcome.as_str().into(),
            details: a.detail,
            ip: a.ip,
            user_agent: a.user_agent,
            hash: a.hash,
            prev_hash: a.prev_hash,
        }
    }
}

/// Result of checking the audit hash chain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditVerificationDto {
    /// True when no entry was altered, removed or reordered.
    pub valid: bool,
    /// Entries checked.
    pub checked: u64,
    /// The first bad or missing entry.
    pub first_invalid_seq: Option<i64>,
    /// Why it is not valid: `altered` (an entry's hash or MAC, or a link, is wrong),
    /// `missing` (a gap, or entries gone after the last one: the anchor lies beyond the end),
    /// `anchor_invalid` (the anchored checkpoint's own MAC is wrong).
    pub fault: Option<String>,
    /// The seq of the signed checkpoint kept outside the database, when there is one.
    pub anchored_seq: Option<i64>,
}

/// Paging of the audit log (oldest first, by position in the chain).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Page size 1..=100.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// Opaque cursor.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
}

/// New roles for a user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    /// `customer`, `admin`, `support` (at least one; an admin keeps their own admin role).
    #[schema(value_type = Roles)]
    pub roles: Vec<String>,
}

/// The audit log (admin), in chain order.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditParams),
    responses((status = 200, description = "Entries", body = Page<AuditDto>), CommonErrors), security(("bearer" = [])))]
pub async fn audit(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<AuditParams>,
) -> ApiResult<axum::Json<Page<AuditDto>>> {
    // Admin only: refuse others before reading their query (403, not a 400 on a bad cursor).
    auth.actor.require_admin()?;
    let limit = page_limit(p.limit)?;
    let after = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            decode_cursor(c)?
                .parse::<i64>()
                .map_err(|_| BankError::validation("cursor", "malformed cursor"))?,
        ),
    };
    let items = s.bank.audit().audit_log(&auth.actor, after, limit).await?;
    let next_cursor = (items.len() as u32 == limit)
        .then(|| items.last().map(|a| encode_cursor(&a.seq.to_string())))
        .flatten();
    Ok(axum::Json(Page {
        items: items.into_iter().map(AuditDto::from).collect(),
        next_cursor,
    }))
}

/// Verifies the audit hash chain (admin).
#[utoipa::path(get, path = "/api/v1/admin/audit/verify", tag = "admin",
    responses((status = 200, description = "Verification", body = AuditVerificationDto), CommonErrors), security(("bearer" = [])))]
pub async fn verify_audit(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<AuditVerificationDto>> {
    auth.actor.require_admin()?;
    let v = s.bank.audit().verify_audit().await?;
    Ok(axum::Json(AuditVerificationDto {
        valid: v.valid,
        checked: v.entries_checked,
        first_invalid_seq: v.first_tampered_seq,
        fault: v.fault.map(|f| f.as_str().to_string()),
        anchored_seq: v.anchored_seq,
    }))
}

/// Replaces a user's roles (admin).
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/roles", tag = "admin", params(("id" = Uuid, Path, description = "User id")),
    request_body = RolesBody,
    responses((status = 200, description = "The user", body = MeDto), CommonErrors), security(("bearer" = [])))]
pub async fn set_roles(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<UserId>,
    Json(b): Json<RolesBody>,
) -> ApiResult<axum::Json<MeDto>> {
    let roles = b
        .roles
        .iter()
        .map(|r| Role::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let bank = s.bank.clone();
    let user =
        detached(async move { bank.identity().set_user_roles(&auth.actor, id, roles).await })
            .await?;
    // A demotion takes effect on the user's next request, not at their token's expiry.
    s.sessions.forget_all();
    Ok(axum::Json(user.into()))
}

/// Deactivates a user (admin; not oneself): sign-in and refresh refused, every session
/// revoked, so their access tokens are refused on the next request.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/deactivate", tag = "admin", params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = MeDto), CommonErrors), security(("bearer" = [])))]
pub async fn deactivate_user(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    PathId(id): PathId<UserId>,
) -> ApiResult<axum::Json<MeDto>> {
    set_user_active(s, auth, ctx, id, false).await
}

/// Reactivates a deactivated user (admin): they may sign in again.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reactivate", tag = "admin", params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = MeDto), CommonErrors), security(("bearer" = [])))]
pub async fn reactivate_user(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    PathId(id): PathId<UserId>,
) -> ApiResult<axum::Json<MeDto>> {
    set_user_active(s, auth, ctx, id, true).await
}

/// Deactivates or reactivates `id` in the engine, then drops this server's session cache:
/// a deactivation's revoked sessions are refused by the very next request.
async fn set_user_active(
    s: AppState,
    auth: Auth,
    ctx: bankflow_core::RequestContext,
    id: UserId,
    active: bool,
) -> ApiResult<axum::Json<MeDto>> {
    let bank = s.bank.clone();
    let user = detached(async move {
        let identity = bank.identity();
        match active {
            true => identity.reactivate_user(&auth.actor, id, &ctx).await,
            false => identity.deactivate_user(&auth.actor, id, &ctx).await,
        }
    })
    .await?;
    s.sessions.forget_all();
    Ok(axum::Json(user.into()))
}

/// Balances held in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CurrencyTotalDto {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of account balances (decimal string).
    pub balance: String,
    /// Accounts in that currency.
    pub accounts: u64,
}

/// Completed volume of one day in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayVolumeDto {
    /// Day (UTC), `YYYY-MM-DD`.
    pub date: chrono::NaiveDate,
    /// ISO 4217 code.
    pub currency: String,
    /// Completed transactions.
    pub count: u64,
    /// Sum of their amounts (decimal string).
    pub amount: String,
}

/// Transactions of one status among those scanned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusCountDto {
    /// Transaction status.
    pub status: String,
    /// How many.
    pub count: u64,
}

/// The bank at a glance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OverviewDto {
    /// Accounts (any status).
    pub accounts_total: u64,
    /// Frozen accounts.
    pub accounts_frozen: u64,
    /// Balances per currency.
    pub totals: Vec<CurrencyTotalDto>,
    /// KYC applications waiting for review.
    pub pending_kyc: u64,
    /// Fraud cases waiting for a decision.
    pub open_fraud_cases: u64,
    /// Completed volume per day, oldest first.
    pub volume_by_day: Vec<DayVolumeDto>,
    /// Scanned transactions per status.
    pub transactions_by_status: Vec<StatusCountDto>,
    /// How many recent transactions the figures cover.
    pub transactions_scanned: u64,
    /// True when a scan cap was hit: the figures cover only part of the bank.
    pub truncated: bool,
    /// When computed.
    pub generated_at: DateTime<Utc>,
}

impl From<bankflow_core::Overview> for OverviewDto {
    fn from(o: bankflow_core::Overview) -> Self {
        OverviewDto {
            accounts_total: o.accounts_total,
            accounts_frozen: o.accounts_frozen,
            totals: o
                .totals
                .into_iter()
                .map(|t| CurrencyTotalDto {
                    currency: t.currency.to_string(),
                    balance: t.balance.to_string(),
                    accounts: t.accounts,
                })
                .collect(),
            pending_kyc: o.pending_kyc,
            open_fraud_cases: o.open_fraud_cases,
            volume_by_day: o
                .volume_by_day
                .into_iter()
                .map(|d| DayVolumeDto {
                    date: d.date,
                    currency: d.currency.to_string(),
                    count: d.count,
                    amount: d.amount.to_string(),
                })
                .collect(),
            transactions_by_status: o
                .transactions_by_status
                .into_iter()
                .map(|(status, count)| StatusCountDto { status, count })
                .collect(),
            transactions_scanned: o.transactions_scanned,
            truncated: o.truncated,
            generated_at: o.generated_at,
        }
    }
}

/// Totals and activity for the admin dashboard (admin only; scans are capped, see `truncated`).
#[utoipa::path(get, path = "/api/v1/admin/overview", tag = "admin",
    responses((status = 200, description = "The overview", body = OverviewDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn overview(State(s): State<AppState>, auth: Auth) -> ApiResult<axum::Json<OverviewDto>> {
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move { bank.reporting().overview(&auth.actor).await })
            .await?
            .into(),
    ))
}
