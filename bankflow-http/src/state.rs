//! Shared server state and the request extractors every handler uses: the caller
//! ([`Auth`]), the idempotency key ([`IdemKey`]), the request context ([`Ctx`]) and
//! JSON/query bodies that answer problem+json on malformed input.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use bankflow_core::{Actor, Bank, BankBuilder, IdempotencyKey, RequestContext};
use tokio::sync::watch;

use crate::events::FeedSignal;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::jwt::{Claims, JwtKeys};
use crate::metrics::Metrics;
use crate::ratelimit::{Limiter, RateLimiter, RateLimits};
use crate::sessions::SessionCache;

/// Most password-reset requests worked on at once (they run after the 202 is sent).
pub const RESET_REQUESTS_IN_FLIGHT_MAX: usize = 1_024;

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub bank: Bank,
    /// Access-token keys.
    pub jwt: Arc<JwtKeys>,
    /// Rate limiter (in process, or shared in Redis).
    pub limiter: Arc<Limiter>,
    /// Service clients' own rate limiter (budget [`HttpConfig::client_rate_limit_per_min`],
    /// keys `client:<id>`).
    pub client_limiter: Arc<Limiter>,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// Server settings.
    pub config: Arc<HttpConfig>,
    /// Wakes notification streams.
    pub feed: Arc<FeedSignal>,
    /// Live-session answers, cached for a bounded few seconds.
    pub sessions: Arc<SessionCache>,
    /// Password-reset requests still being worked on in the background.
    pub reset_requests: Arc<tokio::sync::Semaphore>,
    /// Turns true when the server shuts down (ends long-lived streams).
    pub shutdown: watch::Receiver<bool>,
    shutdown_tx: Arc<watch::Sender<bool>>,
}

impl AppState {
    /// State over an engine with the given keys and settings. Notifications are made only
    /// by whoever drives [`Bank::notify_for_events`]; see [`AppState::start`].
    pub fn new(bank: Bank, jwt: JwtKeys, config: HttpConfig) -> AppState {
        let (shutdown_tx, shutdown) = watch::channel(false);
        AppState {
            bank,
            jwt: Arc::new(jwt),
            limiter: Arc::new(Limiter::Local(RateLimiter::new(config.rate_limits))),
            client_limiter: Arc::new(Limiter::Local(RateLimiter::new(config.client_limits()))),
            metrics: Arc::new(Metrics::init()),
            config: Arc::new(config),
            feed: Arc::new(FeedSignal::new()),
            sessions: Arc::new(SessionCache::default()),
            reset_requests: Arc::new(tokio::sync::Semaphore::new(RESET_REQUESTS_IN_FLIGHT_MAX)),
            shutdown,
            shutdown_tx: Arc::new(shutdown_tx),
        }
    }

    /// Builds the engine with the server's event sink and starts the pump that turns
    /// committed events into notifications (needs a tokio runtime).
    pub fn start(builder: BankBuilder, jwt: JwtKeys, config: HttpConfig) -> AppState {
        let (sink, pump) = crate::events::channel();
        let bank = builder.sink(Arc::new(sink)).build();
        let state = AppState::new(bank, jwt, config);
        pump.spawn(state.bank.clone(), state.feed.clone());
        state
    }

    /// Ends long-lived streams (server shutdown).
    pub fn shut_down(&self) {
        let _ = self.shutdown_tx.send(true);
    }
}

/// Settings of the HTTP layer (not of the engine).
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Requests per minute per caller.
    pub rate_limits: RateLimits,
    /// Origins allowed by CORS (empty: same-origin only).
    pub cors_origins: Vec<String>,
    /// Built single-page app to serve at `/` (with fallback to its index.html).
    pub static_dir: Option<std::path::PathBuf>,
    /// Send `Strict-Transport-Security` (the server speaks TLS).
    pub hsts: bool,
    /// Bearer token `/metrics` requires, when set.
    pub metrics_token: Option<String>,
    /// `/metrics` is served on its own address, not by [`crate::app`].
    pub metrics_elsewhere: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (rate limits, audit IP).
    pub trusted_proxies: crate::ratelimit::TrustedProxies,
    /// Requests per minute per service client (`None`: [`CLIENT_RATE_LIMIT_PER_MIN_DEFAULT`]).
    pub client_rate_limit_per_min: Option<u32>,
}

/// Default requests per minute per service client: integrations poll more than people click.
pub const CLIENT_RATE_LIMIT_PER_MIN_DEFAULT: u32 = 600;

impl HttpConfig {
    /// The service clients' budget as limits (every class the same).
    pub fn client_limits(&self) -> RateLimits {
        let per_min = self
            .client_rate_limit_per_min
            .unwrap_or(CLIENT_RATE_LIMIT_PER_MIN_DEFAULT);
        RateLimits {
            general_per_min: per_min,
            auth_per_min: per_min,
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The engine principal.
    pub actor: Actor,
    /// The verified token claims.
    pub claims: Claims,
}

/// The bearer token of a request: `Authorization: Bearer …`. Never the URL: a token in a
/// query string ends up in proxy logs and browser history (the notification stream takes a
/// short-lived stream ticket instead, see [`StreamAuth`]).
pub fn bearer_token(parts: &Parts) -> Option<String> {
    let v = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?;
    let mut it = v.splitn(2, ' ');
    let scheme = it.next().unwrap_or_default();
    let token = it.next().unwrap_or_default().trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The `ticket` query parameter of a request.
fn stream_ticket(parts: &Parts) -> Option<&str> {
    let q = parts.uri.query().unwrap_or_default();
    q.split('&')
        .find_map(|pair| pair.strip_prefix("ticket="))
        .filter(|t| !t.is_empty())
}

/// The caller of the notification stream: an access token in the header, or a stream ticket
/// (`?ticket=`, from `POST /notifications/stream/ticket`) for browsers' EventSource. Either
/// way the session must be live, as for [`Auth`].
#[derive(Debug, Clone)]
pub struct StreamAuth(pub Auth);

impl FromRequestParts<AppState> for StreamAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if bearer_token(parts).is_some() {
            return Auth::from_request_parts(parts, state).await.map(StreamAuth);
        }
        let ticket = stream_ticket(parts)
            .ok_or_else(|| ApiError::unauthorized("missing bearer token or stream ticket"))?;
        let claims = state.jwt.verify_stream_ticket(ticket)?;
        let actor = live_actor(state, &claims, parts.uri.path()).await?;
        Ok(StreamAuth(Auth { actor, claims }))
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(a) = parts.extensions.get::<Auth>() {
            return Ok(a.clone());
        }
        let token =
            bearer_token(parts).ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let claims = state.jwt.verify(&token)?;
        // A service client's token stands for the live client, not a login session.
        let actor = if claims.client_id.is_some() {
            let path = parts.uri.path();
            crate::routes::oauth::client_actor(state, &claims, &parts.method, path).await?
        } else {
            live_actor(state, &claims, parts.uri.path()).await?
        };
        let auth = Auth { actor, claims };
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

/// The principal a verified token acts as now: its session must still stand (logout,
/// revocation, password reset and refresh-token reuse end it), and it keeps only the roles it
/// was issued with that the user still holds, with the user's current customer profile.
async fn live_actor(state: &AppState, claims: &Claims, path: &str) -> Result<Actor, ApiError> {
    let signed = claims.actor()?;
    let (Some(user), Some(sid)) = (signed.user_id, claims.session_id()) else {
        return Err(ApiError::unauthorized(
            "the token names no session; sign in again",
        ));
    };
    let live = state.sessions.live(&state.bank, user, sid).await?;
    Ok(crate::sessions::actor_at(&live, &signed.roles, path)?)
}

/// The caller if a valid token is present; anonymous otherwise. Used where both are served.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Auth>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if bearer_token(parts).is_none() {
            return Ok(MaybeAuth(None));
        }
        Auth::from_request_parts(parts, state)
            .await
            .map(|a| MaybeAuth(Some(a)))
    }
}

/// The `Idempotency-Key` header, required on every money-moving POST.
#[derive(Debug, Clone)]
pub struct IdemKey(pub IdempotencyKey);

/// Header name.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

impl<S: Send + Sync> FromRequestParts<S> for IdemKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let v = parts.headers.get(IDEMPOTENCY_KEY).ok_or_else(|| {
            ApiError::bad_request("idempotency_key", "the Idempotency-Key header is required")
        })?;
        let s = v
            .to_str()
            .map_err(|_| ApiError::bad_request("idempotency_key", "must be printable ASCII"))?;
        IdempotencyKey::parse(s)
            .map(IdemKey)
            .map_err(|e| ApiError::bad_request("idempotency_key", e.to_string()))
    }
}

/// Caller context for fraud rules and the audit log. Extract it after [`Auth`]: the email
/// and the device (the session) come from the authenticated caller.
#[derive(Debug, Clone, Default)]
pub struct Ctx(pub RequestContext);

/// The client address the server saw (set by the connection layer; absent in tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header_text = |name: header::HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(256).collect::<String>())
        };
        let ip = parts.extensions.get::<ClientIp>().map(|c| c.0.to_string());
        let auth = parts.extensions.get::<Auth>();
        // The device fraud lists match is the login session the server issued (signed into
        // the token as `sid`, kept across refreshes), never a client header: a header would
        // let anyone claim a whitelisted device.
        let device_id = auth.and_then(|a| a.claims.sid.clone());
        let email = auth.map(|a| a.claims.email.clone());
        Ok(Ctx(RequestContext {
            ip,
            user_agent: header_text(header::USER_AGENT),
            device_id,
            email,
            counterparty: None,
        }))
    }
}

/// A JSON body whose syntax or shape errors are problem+json 400s.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::bad_request(
                "body",
                "expected Content-Type: application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::payload_too_large(crate::BODY_LIMIT_BYTES))
            }
            Err(e) => Err(ApiError::bad_request("body", e.body_text())),
        }
    }
}

/// Query parameters whose errors are problem+json 400s.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| ApiError::bad_request("query", e.body_text()))
    }
}

/// A path segment parsed as an engine id; malformed ids are 404 (no such resource), which
/// also keeps the answer identical to that for someone else's resource.
pub struct PathId<T>(pub T);

impl<T, S> FromRequestParts<S> for PathId<T>
where
    T: std::str::FromStr + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found("resource"))?;
        raw.parse::<T>()
            .map(PathId)
            .map_err(|_| ApiError::not_found("resource"))
    }
}

/// An optional JSON body: an empty body is `None` (for POSTs whose body may be omitted).
#[derive(Debug, Clone, Default)]
pub struct OptJson<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(crate::BODY_LIMIT_BYTES)
                } else {
                    ApiError::bad_request("body", e.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptJson(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptJson(Some(v)))
            .map_err(|e| ApiError::bad_request("body", e.to_string()))
    }
}
