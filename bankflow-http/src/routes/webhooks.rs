//! `/api/v1/admin/webhooks`: staff-managed outgoing webhooks (admin only; every change is
//! audited by the engine). A secret is in the answer of create and rotate, and nowhere else.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankflow_core::webhook::{
    CreateWebhook, WebhookDelivery, WebhookPatch, WebhookView, WebhookWithSecret,
};
use bankflow_core::BankError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dto::{decode_cursor, encode_cursor, page_limit, Page, PageParams};
use crate::error::{ApiError, ApiResult};
use crate::routes::{detached, CommonErrors};
use crate::state::{AppState, Auth, Json, PathId, Query};

/// A webhook subscription (no secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDto {
    /// Id.
    pub id: Uuid,
    /// Endpoint.
    pub url: String,
    /// Event types delivered (e.g. `transaction.completed`).
    pub event_types: Vec<String>,
    /// Inactive subscriptions get and send nothing.
    pub active: bool,
    /// While set and in the future, the previous secret still signs too.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// The staff user who created it.
    pub created_by: Option<Uuid>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookView> for WebhookDto {
    fn from(w: WebhookView) -> Self {
        WebhookDto {
            id: w.id,
            url: w.url,
            event_types: w.event_types.iter().map(|t| t.as_str().into()).collect(),
            active: w.active,
            previous_secret_until: w.previous_secret_until,
            created_by: w.created_by.map(|u| u.0),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A subscription with its signing secret, shown only this once.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookSecretDto {
    /// The subscription.
    pub webhook: WebhookDto,
    /// `whsec_` + base64 of 32 random bytes (the Standard Webhooks form).
    pub secret: String,
}

impl From<WebhookWithSecret> for WebhookSecretDto {
    fn from(w: WebhookWithSecret) -> Self {
        WebhookSecretDto {
            webhook: w.webhook.into(),
            secret: w.secret,
        }
    }
}

/// A new subscription.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// `https://…` (plain `http://` only to a loopback host).
    pub url: String,
    /// At least one event type name.
    pub event_types: Vec<String>,
    /// Defaults to true.
    pub active: Option<bool>,
}

/// Changes to a subscription; absent fields stay.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookBody {
    /// New endpoint.
    pub url: Option<String>,
    /// New filter.
    pub event_types: Option<Vec<String>>,
    /// New active flag.
    pub active: Option<bool>,
}

/// One delivery of one event to one subscription.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryDto {
    /// Id.
    pub id: Uuid,
    /// The subscription.
    pub webhook_id: Uuid,
    /// The event (also the `webhook-id` header).
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// PENDING, DELIVERED or FAILED.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Next attempt (while PENDING).
    pub next_attempt_at: DateTime<Utc>,
    /// HTTP status of the last answer.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// First 2xx answer.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
}

impl From<WebhookDelivery> for WebhookDeliveryDto {
    fn from(d: WebhookDelivery) -> Self {
        WebhookDeliveryDto {
            id: d.id,
            webhook_id: d.subscription_id,
            event_id: d.event_id.0,
            event_type: d.event_type.as_str().into(),
            status: d.status.as_str().into(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            last_attempt_at: d.last_attempt_at,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

/// Registers a webhook (admin); the answer carries the secret, shown only this once.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", operation_id = "create_webhook", tag = "admin",
    request_body = CreateWebhookBody,
    responses((status = 201, description = "Created", body = WebhookSecretDto), CommonErrors), security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<CreateWebhookBody>,
) -> ApiResult<Response> {
    auth.actor.require_admin()?;
    let req = CreateWebhook {
        url: b.url,
        event_types: b.event_types,
        active: b.active,
    };
    let bank = s.bank.clone();
    let made =
        detached(async move { bank.webhooks().create_webhook(&auth.actor, req).await }).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookSecretDto::from(made)),
    )
        .into_response())
}

/// Every webhook (admin), oldest first.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", operation_id = "list_webhooks", tag = "admin",
    responses((status = 200, description = "Webhooks", body = Vec<WebhookDto>), CommonErrors), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<axum::Json<Vec<WebhookDto>>> {
    let all = s.bank.webhooks().webhooks(&auth.actor).await?;
    Ok(axum::Json(all.into_iter().map(WebhookDto::from).collect()))
}

/// One webhook (admin).
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}", operation_id = "get_webhook", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook", body = WebhookDto), CommonErrors), security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
) -> ApiResult<axum::Json<WebhookDto>> {
    Ok(axum::Json(
        s.bank.webhooks().webhook(&auth.actor, id).await?.into(),
    ))
}

/// Changes a webhook's url, filter or active flag (admin).
#[utoipa::path(put, path = "/api/v1/admin/webhooks/{id}", operation_id = "update_webhook", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook id")), request_body = UpdateWebhookBody,
    responses((status = 200, description = "The webhook", body = WebhookDto), CommonErrors), security(("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
    Json(b): Json<UpdateWebhookBody>,
) -> ApiResult<axum::Json<WebhookDto>> {
    auth.actor.require_admin()?;
    let patch = WebhookPatch {
        url: b.url,
        event_types: b.event_types,
        active: b.active,
    };
    let bank = s.bank.clone();
    let w = detached(async move { bank.webhooks().update_webhook(&auth.actor, id, patch).await })
        .await?;
    Ok(axum::Json(w.into()))
}

/// Deletes a webhook and its delivery log (admin).
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", operation_id = "delete_webhook", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted"), CommonErrors), security(("bearer" = [])))]
pub async fn remove(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
) -> ApiResult<StatusCode> {
    let bank = s.bank.clone();
    detached(async move { bank.webhooks().delete_webhook(&auth.actor, id).await }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret (admin), shown only this once; the previous one keeps signing for
/// 24 hours.
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/rotate-secret", operation_id = "rotate_webhook_secret", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses((status = 200, description = "The new secret", body = WebhookSecretDto), CommonErrors), security(("bearer" = [])))]
pub async fn rotate(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
) -> ApiResult<axum::Json<WebhookSecretDto>> {
    let bank = s.bank.clone();
    let w = detached(async move { bank.webhooks().rotate_webhook_secret(&auth.actor, id).await })
        .await?;
    Ok(axum::Json(w.into()))
}

/// A webhook's delivery log (admin), newest first.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook id"), PageParams),
    responses((status = 200, description = "Deliveries", body = Page<WebhookDeliveryDto>), CommonErrors), security(("bearer" = [])))]
pub async fn deliveries(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<Page<WebhookDeliveryDto>>> {
    auth.actor.require_admin()?;
    let limit = page_limit(p.limit)?;
    let before = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            Uuid::parse_str(&decode_cursor(c)?)
                .map_err(|_| BankError::validation("cursor", "malformed cursor"))?,
        ),
    };
    let items = s
        .bank
        .webhooks()
        .webhook_deliveries(&auth.actor, id, before, limit)
        .await?;
    let next_cursor = (items.len() as u32 == limit)
        .then(|| items.last().map(|d| encode_cursor(&d.id.to_string())))
        .flatten();
    Ok(axum::Json(Page {
        items: items.into_iter().map(WebhookDeliveryDto::from).collect(),
        next_cursor,
    }))
}

/// Sends one delivery again, from its first attempt (admin).
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver", operation_id = "redeliver_webhook", tag = "admin",
    params(("id" = Uuid, Path, description = "Webhook id"), ("delivery_id" = Uuid, Path, description = "Delivery id")),
    responses((status = 202, description = "Queued again", body = WebhookDeliveryDto), CommonErrors), security(("bearer" = [])))]
pub async fn redeliver(
    State(s): State<AppState>,
    auth: Auth,
    axum::extract::Path((id, delivery)): axum::extract::Path<(String, String)>,
) -> ApiResult<Response> {
    let (Ok(id), Ok(delivery)) = (Uuid::parse_str(&id), Uuid::parse_str(&delivery)) else {
        return Err(ApiError::not_found("webhook delivery"));
    };
    let bank = s.bank.clone();
    let d =
        detached(async move { bank.webhooks().redeliver(&auth.actor, id, delivery).await }).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(WebhookDeliveryDto::from(d)),
    )
        .into_response())
}
