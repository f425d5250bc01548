//! Service clients: the OAuth2 token endpoint (client credentials, RFC 6749 §4.4), the admin
//! routes that manage clients, and the one table of what a client token may reach.
//!
//! A client token is our HS256 access token with `client_id` and `scope` claims and no
//! session. It reaches only the GET routes its scopes name ([`CLIENT_ROUTES`]); every other
//! route is 403 `forbidden`. Each request re-reads the client, so a deactivated client's
//! tokens are refused at once.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bankflow_core::identity::{ClientScope, ClientView, ClientWithSecret, NewClient};
use bankflow_core::ids::ClientId;
use bankflow_core::{Actor, BankError};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::jwt::{Claims, ACCESS_TOKEN_TTL_S};
use crate::routes::{detached, CommonErrors};
use crate::state::{AppState, Auth, Ctx, Json, PathId};

/// What a client token may reach: GET (and HEAD) under these paths (relative to `/api/v1`),
/// with the scope each needs. Everything else is refused: clients never write.
pub const CLIENT_ROUTES: [(&str, ClientScope); 3] = [
    ("/accounts", ClientScope::AccountsRead),
    ("/transactions", ClientScope::TransactionsRead),
    ("/customers", ClientScope::CustomersRead),
];

/// The scope `method path` needs from a client token, `None` when no client may call it.
pub fn scope_for(method: &Method, path: &str) -> Option<ClientScope> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    CLIENT_ROUTES
        .iter()
        .find(|(prefix, _)| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map(|(_, scope)| *scope)
}

/// The actor a verified client token acts as on `method path`: the client must be live
/// (active, not deactivated since the token was issued), and the route must be one its
/// token's scopes (and the client's current scopes) allow.
pub async fn client_actor(
    state: &AppState,
    claims: &Claims,
    method: &Method,
    path: &str,
) -> Result<Actor, ApiError> {
    let invalid = || ApiError::unauthorized("invalid or expired access token");
    let id = claims.client_id.as_deref().ok_or_else(invalid)?;
    let id = id.parse::<ClientId>().map_err(|_| invalid())?;
    let issued_at = DateTime::<Utc>::from_timestamp(claims.iat, 0).ok_or_else(invalid)?;
    let grant = state.bank.identity().live_client(id, issued_at).await?;
    let signed = claims.scope.as_deref().unwrap_or_default();
    let allowed = scope_for(method, path)
        .filter(|needed| grant.allows(*needed) && signed.split(' ').any(|s| s == needed.as_str()));
    match allowed {
        Some(_) => Ok(grant.actor()),
        None => {
            Err(BankError::Forbidden("the client's scopes do not allow this route".into()).into())
        }
    }
}

/// `POST /oauth/token` form body (credentials may instead come as HTTP Basic).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    pub grant_type: Option<String>,
    /// Space-separated scopes wanted (default: all the client's).
    pub scope: Option<String>,
    /// Client id, when not sent as HTTP Basic.
    pub client_id: Option<String>,
    /// Client secret, when not sent as HTTP Basic.
    pub client_secret: Option<String>,
}

/// RFC 6749 §5.1 access-token response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Space-separated granted scopes.
    pub scope: String,
}

/// RFC 6749 §5.2 error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type` or
    /// `invalid_scope`.
    pub error: String,
    /// Human-readable explanation.
    pub error_description: String,
}

/// Marks a response as an RFC 6749 error, which the problem+json fallback leaves alone.
#[derive(Debug, Clone, Copy)]
pub struct RfcError;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = OAuthError {
        error: error.into(),
        error_description: description.into(),
    };
    let mut r = (status, axum::Json(body)).into_response();
    r.extensions_mut().insert(RfcError);
    let h = r.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if status == StatusCode::UNAUTHORIZED {
        let challenge = header::HeaderValue::from_static("Basic realm=\"bankflow\"");
        h.insert(header::WWW_AUTHENTICATE, challenge);
    }
    r
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
}

/// `client_id:client_secret` from `Authorization: Basic …`: `Some(None)` when the header is
/// present but unreadable.
fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    Some(decoded.and_then(|s| {
        let (id, secret) = s.split_once(':')?;
        Some((id.to_string(), secret.to_string()))
    }))
}

/// The scopes granted: those asked for (all must be the client's), or all the client's.
fn granted_scopes(asked: Option<&str>, held: &[ClientScope]) -> Option<Vec<ClientScope>> {
    let Some(asked) = asked.map(str::trim).filter(|s| !s.is_empty()) else {
        return Some(held.to_vec());
    };
    let mut out = Vec::new();
    for s in asked.split(' ').filter(|s| !s.is_empty()) {
        let scope = ClientScope::parse(s).ok().filter(|s| held.contains(s))?;
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    Some(out)
}

/// Issues an access token to a service client (RFC 6749 §4.4).
#[utoipa::path(post, path = "/api/v1/oauth/token", operation_id = "oauth_token", tag = "auth",
    description = "Client credentials (RFC 6749 §4.4): authenticate with HTTP Basic `client_id:client_secret` or the body's `client_id`/`client_secret`.",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Token", body = TokenResponse),
        (status = 400, description = "invalid_request, unsupported_grant_type, invalid_scope", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError),
        (status = 429, description = "Too many credential attempts", body = crate::error::Problem),
        (status = 500, description = "Internal error", body = crate::error::Problem)),
    security(()))]
pub async fn token(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let bad = |e: &str, d: &str| oauth_error(StatusCode::BAD_REQUEST, e, d);
    let Ok(Form(form)) = form else {
        return bad(
            "invalid_request",
            "expected an application/x-www-form-urlencoded body",
        );
    };
    let (id, secret) = match (basic_credentials(&headers), &form.client_id) {
        (Some(_), Some(_)) => return bad("invalid_request", "credentials sent twice"),
        (Some(Some(c)), None) => c,
        (Some(None), None) => return invalid_client(),
        (None, Some(id)) => (id.clone(), form.client_secret.clone().unwrap_or_default()),
        (None, None) => return invalid_client(),
    };
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return bad(
                "unsupported_grant_type",
                "only client_credentials is supported",
            )
        }
        None => return bad("invalid_request", "grant_type is required"),
    }
    let bank = s.bank.clone();
    let grant = detached(async move {
        bank.identity()
            .authenticate_client(&id, &secret, &ctx)
            .await
    })
    .await;
    let grant = match grant {
        Ok(g) => g,
        Err(e) if e.code() == "unauthorized" => return invalid_client(),
        Err(e) => return e.into_response(),
    };
    let Some(scopes) = granted_scopes(form.scope.as_deref(), &grant.scopes) else {
        return bad(
            "invalid_scope",
            "a requested scope is unknown or not the client's",
        );
    };
    let scope = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let access_token = match s.jwt.issue_client(grant.client_id, &scope, Utc::now()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let body = TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_TTL_S,
        scope,
    };
    let mut r = axum::Json(body).into_response();
    let no_store = header::HeaderValue::from_static("no-store");
    r.headers_mut().insert(header::CACHE_CONTROL, no_store);
    r
}

/// A service client as admins see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientDto {
    /// The OAuth2 `client_id`.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Scopes (`accounts:read`, `transactions:read`, `customers:read`).
    pub scopes: Vec<String>,
    /// Active.
    pub active: bool,
    /// When the current secret was issued.
    pub secret_rotated_at: DateTime<Utc>,
    /// Until when the previous secret still works.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Creator.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ClientView> for ClientDto {
    fn from(c: ClientView) -> ClientDto {
        ClientDto {
            id: c.id.0,
            name: c.name,
            scopes: c.scopes.iter().map(|s| s.as_str().to_string()).collect(),
            active: c.active,
            secret_rotated_at: c.secret_rotated_at,
            previous_secret_until: c.previous_secret_until,
            created_by: c.created_by.map(|u| u.0),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A client and its new secret: shown once, never again.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientSecretDto {
    /// The client.
    pub client: ClientDto,
    /// The secret (send as HTTP Basic password or `client_secret`).
    pub client_secret: String,
}

impl From<ClientWithSecret> for ClientSecretDto {
    fn from(c: ClientWithSecret) -> ClientSecretDto {
        ClientSecretDto {
            client: c.client.into(),
            client_secret: c.client_secret,
        }
    }
}

/// `POST /admin/clients`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateClientBody {
    /// Name.
    pub name: String,
    /// Scopes: `accounts:read`, `transactions:read`, `customers:read`.
    pub scopes: Vec<String>,
}

/// Creates a service client (admin); the answer shows its secret once.
#[utoipa::path(post, path = "/api/v1/admin/clients", operation_id = "create_client", tag = "admin", request_body = CreateClientBody,
    responses((status = 201, description = "Created", body = ClientSecretDto), CommonErrors), security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    Json(body): Json<CreateClientBody>,
) -> ApiResult<(StatusCode, axum::Json<ClientSecretDto>)> {
    let scopes = body
        .scopes
        .iter()
        .map(|s| ClientScope::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let req = NewClient {
        name: body.name,
        scopes,
    };
    let bank = s.bank.clone();
    let c = detached(async move { bank.identity().create_client(&auth.actor, req, &ctx).await })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(c.into())))
}

/// Every service client (admin), oldest first.
#[utoipa::path(get, path = "/api/v1/admin/clients", operation_id = "list_clients", tag = "admin",
    responses((status = 200, description = "Clients", body = [ClientDto]), CommonErrors), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<axum::Json<Vec<ClientDto>>> {
    let bank = s.bank.clone();
    let list = detached(async move { bank.identity().list_clients(&auth.actor).await }).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// One service client (admin).
#[utoipa::path(get, path = "/api/v1/admin/clients/{id}", operation_id = "get_client", tag = "admin", params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The client", body = ClientDto), CommonErrors), security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<ClientId>,
) -> ApiResult<axum::Json<ClientDto>> {
    let bank = s.bank.clone();
    let c = detached(async move { bank.identity().get_client(&auth.actor, id).await }).await?;
    Ok(axum::Json(c.into()))
}

/// Issues a new secret (admin), shown once; the previous one works for the grace period.
#[utoipa::path(post, path = "/api/v1/admin/clients/{id}/rotate", operation_id = "rotate_client_secret", tag = "admin", params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The client and its new secret", body = ClientSecretDto), CommonErrors), security(("bearer" = [])))]
pub async fn rotate(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    PathId(id): PathId<ClientId>,
) -> ApiResult<axum::Json<ClientSecretDto>> {
    let bank = s.bank.clone();
    let c = detached(async move {
        bank.identity()
            .rotate_client_secret(&auth.actor, id, &ctx)
            .await
    })
    .await?;
    Ok(axum::Json(c.into()))
}

/// Deactivates a client (admin): its tokens are refused on their next request.
#[utoipa::path(post, path = "/api/v1/admin/clients/{id}/deactivate", operation_id = "deactivate_client", tag = "admin", params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The client", body = ClientDto), CommonErrors), security(("bearer" = [])))]
pub async fn deactivate(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    PathId(id): PathId<ClientId>,
) -> ApiResult<axum::Json<ClientDto>> {
    set_client_active(s, auth, ctx, id, false).await
}

/// Reactivates a client (admin); tokens issued before its deactivation stay refused.
#[utoipa::path(post, path = "/api/v1/admin/clients/{id}/reactivate", operation_id = "reactivate_client", tag = "admin", params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The client", body = ClientDto), CommonErrors), security(("bearer" = [])))]
pub async fn reactivate(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    PathId(id): PathId<ClientId>,
) -> ApiResult<axum::Json<ClientDto>> {
    set_client_active(s, auth, ctx, id, true).await
}

/// Deactivates or reactivates client `id` in the engine.
async fn set_client_active(
    s: AppState,
    auth: Auth,
    ctx: bankflow_core::RequestContext,
    id: ClientId,
    active: bool,
) -> ApiResult<axum::Json<ClientDto>> {
    let bank = s.bank.clone();
    let c = detached(async move {
        let identity = bank.identity();
        match active {
            true => identity.reactivate_client(&auth.actor, id, &ctx).await,
            false => identity.deactivate_client(&auth.actor, id, &ctx).await,
        }
    })
    .await?;
    Ok(axum::Json(c.into()))
}
