//! `/api/v1/admin/approvals`: staff money movements waiting for a second staff member
//! (maker-checker), and the 202 answer of a staff money endpoint that parked one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankflow_core::{ApprovalId, ApprovalQuery, ApprovalRequest, ApprovalStatus, BankError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{decode_cursor, encode_cursor, page_limit, Page};
use crate::error::ApiResult;
use crate::routes::{detached, CommonErrors};
use crate::schema::{Cursor, IdempotencyKeyHeader, PageLimit};
use crate::state::{AppState, Auth, IdemKey, Json, PathId, Query};

/// A staff money movement above the approval threshold, waiting for (or decided by) a
/// second staff member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApprovalDto {
    /// Id.
    pub id: Uuid,
    /// PENDING, EXECUTED, FAILED or REJECTED.
    #[schema(example = "PENDING")]
    pub status: String,
    /// The movement's kind: TRANSFER, PAYMENT, EXTERNAL_TRANSFER, DEPOSIT, WITHDRAWAL, REVERSAL...
    /// (null for a limit change; `command.kind` names every kind).
    #[schema(example = "TRANSFER")]
    pub transaction_type: Option<String>,
    /// Amount (decimal string).
    #[schema(example = "25000.00")]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(example = "USD")]
    pub currency: String,
    /// The customer account it touches.
    pub account_id: Option<Uuid>,
    /// The parked movement itself.
    #[schema(value_type = Object)]
    pub command: serde_json::Value,
    /// The staff member who asked (maker).
    pub initiated_by: Uuid,
    /// The staff member who approved or rejected (checker).
    pub decided_by: Option<Uuid>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Rejection reason, or the refusal's message when FAILED.
    pub reason: Option<String>,
    /// Stable error code when FAILED.
    pub failure_code: Option<String>,
    /// The transaction the approved movement produced (for a reversal: the reversed one).
    pub transaction_id: Option<Uuid>,
    /// Creation.
    pub created_at: DateTime<Utc>,
}

impl From<ApprovalRequest> for ApprovalDto {
    fn from(a: ApprovalRequest) -> ApprovalDto {
        ApprovalDto {
            id: a.id.0,
            status: a.status.as_str().into(),
            transaction_type: a.transaction_type.map(|t| t.as_str().into()),
            amount: a.amount.amount().to_string(),
            currency: a.amount.currency().code().into(),
            account_id: a.account_id.map(|x| x.0),
            command: serde_json::to_value(&a.command).unwrap_or_default(),
            initiated_by: a.initiated_by.0,
            decided_by: a.decided_by.map(|u| u.0),
            decided_at: a.decided_at,
            reason: a.reason,
            failure_code: a.failure_code,
            transaction_id: a.transaction_id.map(|t| t.0),
            created_at: a.created_at,
        }
    }
}

/// 202 with the parked request.
pub fn parked(a: ApprovalRequest) -> Response {
    (StatusCode::ACCEPTED, axum::Json(ApprovalDto::from(a))).into_response()
}

/// Filters and paging of the approval list (newest first).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalParams {
    /// Only PENDING, EXECUTED, FAILED or REJECTED.
    pub status: Option<String>,
    /// Page size 1..=100.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// Opaque cursor.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
}

impl ApprovalParams {
    fn try_into_domain(self) -> Result<ApprovalQuery, BankError> {
        let status = self
            .status
            .as_deref()
            .map(|s| ApprovalStatus::parse(&s.to_ascii_uppercase()))
            .transpose()?;
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(position_of(&decode_cursor(c)?)?),
        };
        Ok(ApprovalQuery {
            status,
            after,
            limit: page_limit(self.limit)?,
        })
    }
}

fn position_of(text: &str) -> Result<(DateTime<Utc>, ApprovalId), BankError> {
    let malformed = || BankError::validation("cursor", "malformed cursor");
    let (at, id) = text.split_once('|').ok_or_else(malformed)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| malformed())?;
    let id = id.parse::<Uuid>().map_err(|_| malformed())?;
    Ok((at.with_timezone(&Utc), ApprovalId(id)))
}

/// Why an approval request is rejected.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// 1 to 500 characters.
    pub reason: String,
}

/// Approval requests, newest first (staff).
#[utoipa::path(get, path = "/api/v1/admin/approvals", tag = "admin", params(ApprovalParams),
    responses((status = 200, description = "Approval requests", body = Page<ApprovalDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<ApprovalParams>,
) -> ApiResult<axum::Json<Page<ApprovalDto>>> {
    auth.actor.require_staff()?;
    let q = p.try_into_domain()?;
    let items = s.bank.money().approvals(&auth.actor, &q).await?;
    let next_cursor = (items.len() as u32 == q.limit)
        .then(|| {
            items
                .last()
                .map(|a| encode_cursor(&format!("{}|{}", a.created_at.to_rfc3339(), a.id)))
        })
        .flatten();
    Ok(axum::Json(Page {
        items: items.into_iter().map(ApprovalDto::from).collect(),
        next_cursor,
    }))
}

/// One approval request (staff).
#[utoipa::path(get, path = "/api/v1/admin/approvals/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Approval request id")),
    responses((status = 200, description = "The approval request", body = ApprovalDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<ApprovalId>,
) -> ApiResult<axum::Json<ApprovalDto>> {
    let a = s.bank.money().approval(&auth.actor, id).await?;
    Ok(axum::Json(a.into()))
}

/// Approves a pending request (an admin other than its initiator): the movement runs now.
/// EXECUTED, or FAILED with the refusal's code; a decided request is 409 `invalid_state`.
#[utoipa::path(post, path = "/api/v1/admin/approvals/{id}/approve", tag = "admin",
    params(("id" = Uuid, Path, description = "Approval request id"), IdempotencyKeyHeader),
    responses((status = 200, description = "The decided request", body = ApprovalDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn approve(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<ApprovalId>,
    IdemKey(key): IdemKey,
) -> ApiResult<axum::Json<ApprovalDto>> {
    let bank = s.bank.clone();
    let a = detached(async move { bank.money().approve(&auth.actor, id, key).await }).await?;
    Ok(axum::Json(a.into()))
}

/// Rejects a pending request with a reason (admin): nothing moves.
#[utoipa::path(post, path = "/api/v1/admin/approvals/{id}/reject", tag = "admin",
    params(("id" = Uuid, Path, description = "Approval request id"), IdempotencyKeyHeader),
    request_body = RejectBody,
    responses((status = 200, description = "The rejected request", body = ApprovalDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn reject(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<ApprovalId>,
    IdemKey(key): IdemKey,
    Json(body): Json<RejectBody>,
) -> ApiResult<axum::Json<ApprovalDto>> {
    let bank = s.bank.clone();
    let a = detached(async move {
        bank.money()
            .reject(&auth.actor, id, &body.reason, key)
            .await
    })
    .await?;
    Ok(axum::Json(a.into()))
}
