//! `/api/v1/notifications/devices`: the caller's push devices (the tokens pushes fan out
//! to). The token goes in once, at registration; answers carry only its last characters, so
//! a leaked response or log line cannot address the install.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankflow_core::ids::DeviceId;
use bankflow_core::notify::PushDevice;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dto::Page;
use crate::error::ApiResult;
use crate::routes::{detached, CommonErrors};
use crate::state::{AppState, Auth, Json, PathId};

/// The platforms a device may report (the engine's `Platform`; documented here for clients).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlatformName {
    /// Android (FCM).
    Android,
    /// iOS (FCM over APNs).
    Ios,
    /// A browser (FCM web push).
    Web,
}

/// A push device of the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceDto {
    /// Id (for DELETE).
    pub id: Uuid,
    /// android, ios or web.
    #[schema(value_type = PlatformName)]
    pub platform: String,
    /// The token's last characters, to tell devices apart (the whole token is never
    /// returned).
    pub token_hint: String,
    /// First registered by the caller.
    pub created_at: DateTime<Utc>,
    /// Last registered (re-registering the same token refreshes it).
    pub updated_at: DateTime<Utc>,
}

impl From<PushDevice> for DeviceDto {
    fn from(d: PushDevice) -> DeviceDto {
        DeviceDto {
            id: d.id.0,
            platform: d.platform.as_str().into(),
            token_hint: d.token_hint(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A push token to register for the caller.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    /// android, ios or web.
    #[schema(value_type = PlatformName)]
    pub platform: String,
    /// The provider's registration token (FCM: what `getToken()` returns); 1 to 4096
    /// printable ASCII characters without spaces.
    #[schema(min_length = 1, max_length = 4096)]
    pub token: String,
}

impl std::fmt::Debug for DeviceBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token addresses the install: never in logs.
        write!(f, "DeviceBody({}, <token>)", self.platform)
    }
}

/// Registers a push token for the caller (201 with the device). Re-registering a token the
/// caller has refreshes it; a token of another user moves to the caller; more than 10
/// devices is `limit_exceeded`.
#[utoipa::path(post, path = "/api/v1/notifications/devices", tag = "notifications", request_body = DeviceBody,
    responses((status = 201, description = "Registered", body = DeviceDto), CommonErrors), security(("bearer" = [])))]
pub async fn register_device(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<DeviceBody>,
) -> ApiResult<Response> {
    let bank = s.bank.clone();
    let d = detached(async move {
        bank.notifications()
            .register_device(&auth.actor, &b.platform, &b.token)
            .await
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(DeviceDto::from(d))).into_response())
}

/// The caller's push devices, oldest first (at most 10, so one page).
#[utoipa::path(get, path = "/api/v1/notifications/devices", tag = "notifications",
    responses((status = 200, description = "Devices", body = Page<DeviceDto>), CommonErrors), security(("bearer" = [])))]
pub async fn devices(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<Page<DeviceDto>>> {
    let items = s.bank.notifications().devices(&auth.actor).await?;
    Ok(axum::Json(Page {
        items: items.into_iter().map(DeviceDto::from).collect(),
        next_cursor: None,
    }))
}

/// Unregisters one of the caller's devices (another user's is 404).
#[utoipa::path(delete, path = "/api/v1/notifications/devices/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "Device id")),
    responses((status = 204, description = "Unregistered"), CommonErrors), security(("bearer" = [])))]
pub async fn unregister_device(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
) -> ApiResult<StatusCode> {
    let bank = s.bank.clone();
    detached(async move {
        bank.notifications()
            .unregister_device(&auth.actor, DeviceId(id))
            .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
