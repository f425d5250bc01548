//! # bankflow-http
//!
//! BankFlow's reference REST server: the seed's `/api/v1` over the [`bankflow_core::Bank`]
//! engine, with JWT authentication, per-caller rate limits, problem+json errors, an OpenAPI
//! 3.1 document and Swagger UI. [`app`] builds the whole [`axum::Router`] so tests drive it
//! without a socket; the `bankflow` binary serves it.
//!
//! Architecture invariant: handlers only translate. Every rule (who may see what, what may
//! move) lives in the engine, which receives the caller as an [`bankflow_core::Actor`].
#![warn(missing_docs)]

pub mod access_log;
pub mod adapters;
pub mod audit_anchor;
pub mod config;
pub mod doctor;
pub mod document_store;
pub mod dto;
pub mod error;
pub mod events;
pub mod identity;
pub mod jwt;
pub mod kafka;
pub mod metrics;
pub mod notifiers;
pub mod openapi;
pub mod ratelimit;
pub mod ratelimit_redis;
pub mod render;
pub mod routes;
pub mod schema;
pub mod serve;
pub mod sessions;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod webhook_transport;
pub mod worker;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, ApiResult, Problem};
pub use state::{AppState, Auth, HttpConfig};

use ratelimit::{LimitClass, Verdict};
use routes::{
    accounts, admin, approvals, auth, customers, devices, fraud, notifications, oauth, scheduled,
    system, transactions, webhooks,
};
use state::ClientIp;

/// Largest request body accepted outside document uploads.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// Largest document upload request (a 10 MB document plus multipart framing).
pub const UPLOAD_LIMIT_BYTES: usize = 12 * 1024 * 1024;

/// Content-Security-Policy for everything we serve: our own scripts only; inline styles are
/// allowed because the SPA's component library and Swagger UI inject them.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The API routes, relative to `/api/v1`.
fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/oauth/token", post(oauth::token))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/forgot", post(auth::forgot))
        .route("/auth/reset", post(auth::reset))
        .route("/auth/verify", post(auth::verify))
        .route("/auth/verify/resend", post(auth::resend))
        .route("/auth/mfa/setup", post(auth::mfa_setup))
        .route("/auth/mfa/enable", post(auth::mfa_enable))
        .route("/auth/mfa/disable", post(auth::mfa_disable))
        .route("/auth/mfa/recovery-codes", post(auth::mfa_recovery_codes))
        .route("/auth/sessions", get(auth::sessions))
        .route("/auth/sessions/{id}", delete(auth::revoke_session))
        .route("/customers", post(customers::create))
        .route("/customers/search", get(customers::search))
        .route(
            "/customers/{id}",
            get(customers::get).put(customers::update),
        )
        .route(
            "/customers/{id}/documents",
            post(customers::upload)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES))
                .get(customers::documents),
        )
        .route(
            "/customers/{id}/documents/{doc_id}/content",
            get(customers::document_content),
        )
        .route("/customers/{id}/kyc", post(customers::submit_kyc))
        .route("/customers/{id}/kyc/status", get(customers::kyc_status))
        .route(
            "/admin/customers/{id}/kyc/approve",
            post(customers::approve_kyc),
        )
        .route(
            "/admin/customers/{id}/kyc/reject",
            post(customers::reject_kyc),
        )
        .route("/admin/kyc/queue", get(customers::kyc_queue))
        .route("/admin/overview", get(admin::overview))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit/verify", get(admin::verify_audit))
        .route("/admin/approvals", get(approvals::list))
        .route("/admin/approvals/{id}", get(approvals::get))
        .route("/admin/approvals/{id}/approve", post(approvals::approve))
        .route("/admin/approvals/{id}/reject", post(approvals::reject))
        .route("/admin/users/{id}/roles", put(admin::set_roles))
        .route("/admin/clients", post(oauth::create).get(oauth::list))
        .route("/admin/clients/{id}", get(oauth::get))
        .route("/admin/clients/{id}/rotate", post(oauth::rotate))
        .route("/admin/clients/{id}/deactivate", post(oauth::deactivate))
        .route("/admin/clients/{id}/reactivate", post(oauth::reactivate))
        .route("/admin/users/{id}/deactivate", post(admin::deactivate_user))
        .route("/admin/users/{id}/reactivate", post(admin::reactivate_user))
        .route(
            "/admin/webhooks",
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            "/admin/webhooks/{id}",
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::remove),
        )
        .route("/admin/webhooks/{id}/rotate-secret", post(webhooks::rotate))
        .route("/admin/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/notifications", get(notifications::mine))
        .route("/notifications/user/{user_id}", get(notifications::of_user))
        .route("/notifications/{id}/read", post(notifications::read))
        .route(
            "/notifications/preferences",
            get(notifications::preferences).put(notifications::set_preferences),
        )
        .route(
            "/notifications/devices",
            post(devices::register_device).get(devices::devices),
        )
        .route(
            "/notifications/devices/{id}",
            delete(devices::unregister_device),
        )
        .route("/notifications/templates", get(notifications::templates))
        .route("/notifications/stream", get(notifications::stream))
        .route(
            "/notifications/stream/ticket",
            post(notifications::stream_ticket),
        )
        .route("/notifications/email", post(notifications::send_email))
        .route("/notifications/sms", post(notifications::send_sms))
        .route("/notifications/push", post(notifications::send_push))
        .route("/notifications/in_app", post(notifications::send_in_app))
        .route("/accounts", post(accounts::open).get(accounts::list))
        .route("/accounts/{id}", get(accounts::get).delete(accounts::close))
        .route("/accounts/user/{user_id}", get(accounts::of_user))
        .route(
            "/accounts/customer/{customer_id}",
            get(accounts::of_customer),
        )
        .route("/accounts/{id}/balance", get(accounts::balance))
        .route("/accounts/{id}/statement", get(accounts::statement))
        .route("/accounts/{id}/freeze", post(accounts::freeze))
        .route("/accounts/{id}/unfreeze", post(accounts::unfreeze))
        .route("/accounts/{id}/limits", put(accounts::limits))
        .route("/transactions/deposit", post(transactions::deposit))
        .route("/transactions/withdraw", post(transactions::withdraw))
        .route("/transactions/transfer", post(transactions::transfer))
        .route("/transactions/pending", post(transactions::pending))
        .route("/transactions/batch", post(transactions::batch))
        .route("/transactions/payment", post(transactions::payment))
        .route("/transactions/external", post(transactions::external))
        .route(
            "/transactions/scheduled",
            post(scheduled::create).get(scheduled::list),
        )
        .route(
            "/transactions/scheduled/{id}",
            get(scheduled::get).delete(scheduled::cancel),
        )
        .route("/transactions/search", get(transactions::search))
        .route(
            "/transactions/account/{account_id}",
            get(transactions::of_account),
        )
        .route("/transactions/{id}", get(transactions::get))
        .route("/transactions/{id}/post", post(transactions::post_pending))
        .route("/transactions/{id}/void", post(transactions::void_pending))
        .route("/transactions/{id}/reverse", post(transactions::reverse))
        .route("/fraud/analyze", post(fraud::analyze))
        .route("/fraud/score/{txn_id}", get(fraud::score))
        .route(
            "/fraud/rules",
            post(fraud::create_rule).get(fraud::list_rules),
        )
        .route("/fraud/rules/defaults", post(fraud::install_defaults))
        .route("/fraud/rules/{id}", put(fraud::update_rule))
        .route(
            "/fraud/whitelist",
            post(fraud::add_whitelist).get(fraud::whitelist),
        )
        .route(
            "/fraud/blacklist",
            post(fraud::add_blacklist).get(fraud::blacklist),
        )
        .route("/fraud/lists/{id}", delete(fraud::remove_entry))
        .route("/fraud/cases", get(fraud::cases))
        .route("/fraud/cases/{id}", get(fraud::case))
        .route("/fraud/cases/{id}/resolve", post(fraud::resolve))
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let api = api_routes()
        .fallback(routes::api_not_found)
        .layer(middleware::from_fn(problem_fallback))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit));

    let mut router = Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .merge(docs_router(state.clone()))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    if !state.config.metrics_elsewhere {
        router = router.merge(public_metrics_router(state.clone()));
    }

    if let Some(dir) = state.config.static_dir.clone() {
        let index = dir.join("index.html");
        // Vite puts content-hashed files under /assets: a name never changes content, so
        // browsers may keep them; everything else (index.html) is always revalidated.
        let assets = tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ))
            .service(ServeDir::new(dir.join("assets")));
        router = router
            .nest_service("/assets", assets)
            .fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)));
    }

    // Outermost but for the headers: every request gets an id, a span, a latency sample and
    // one access-log line, whichever layer inside answered it.
    let mut router = with_panic_guard(router)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access_log::observe,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), client_ip))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    if state.config.hsts {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(tls::HSTS),
        ));
    }
    match cors(&state.config.cors_origins) {
        Some(c) => router.layer(c).with_state(state),
        None => router.with_state(state),
    }
}

/// A panic in a handler answers 500 `internal_error` (problem+json) and is logged; the worker
/// thread and the connection's other requests carry on. Engine calls run in their own task
/// (`routes::detached`), so this guards what the handlers themselves do.
pub fn with_panic_guard<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(tower_http::catch_panic::CatchPanicLayer::custom(
        |_panic: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            axum::response::IntoResponse::into_response(error::ApiError::internal(
                "handler panicked",
            ))
        },
    ))
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    if list.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static(state::IDEMPOTENCY_KEY),
            ])
            .expose_headers([header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Every error under the API is problem+json, including those axum produces itself
/// (405, 415, extractor rejections); other headers (such as `Allow`) are kept.
async fn problem_fallback(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    // The OAuth2 token endpoint answers RFC 6749 §5.2 errors, which clients parse as such.
    let is_oauth = resp.extensions().get::<oauth::RfcError>().is_some();
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_oauth {
        return resp;
    }
    let (mut parts, _) = resp.into_parts();
    let mut problem = ApiError::from_status(status).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in problem.headers() {
        parts.headers.insert(name.clone(), value.clone());
    }
    std::mem::swap(problem.headers_mut(), &mut parts.headers);
    problem
}

/// Puts the client address (when served over a socket) where extractors find it: the peer,
/// or behind a trusted proxy the client its `X-Forwarded-For` names.
async fn client_ip(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(addr)) = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .copied()
    {
        let ip = s.config.trusted_proxies.client_ip(addr.ip(), req.headers());
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// Paths whose stricter limit applies (credential guessing targets: passwords, emailed
/// codes, TOTP codes, refresh tokens).
fn limit_class(path: &str) -> LimitClass {
    const AUTH_PATHS: [&str; 12] = [
        "/auth/login",
        "/auth/register",
        "/auth/forgot",
        "/auth/reset",
        "/auth/verify",
        "/auth/verify/resend",
        "/auth/refresh",
        "/auth/mfa/setup",
        "/auth/mfa/enable",
        "/auth/mfa/disable",
        "/auth/mfa/recovery-codes",
        "/oauth/token",
    ];
    if AUTH_PATHS.iter().any(|p| path.ends_with(p)) {
        LimitClass::Auth
    } else {
        LimitClass::General
    }
}

/// Per-caller token buckets: by user when a valid token is presented, else by client IP.
async fn rate_limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let claims = state::bearer_token(&parts).and_then(|t| s.jwt.verify(&t).ok());
    // A service client spends its own budget (`client:<id>`), not a person's.
    let client = claims.as_ref().and_then(|c| c.client_id.clone());
    let user = claims.map(|c| c.sub);
    let ip = parts
        .extensions
        .get::<ClientIp>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "unknown".into());
    let class = limit_class(parts.uri.path());
    let key = match (class, user) {
        (LimitClass::General, Some(u)) => format!("user:{u}"),
        _ => format!("ip:{ip}"),
    };
    let mut verdict = match (class, &client) {
        (LimitClass::General, Some(c)) => {
            let key = format!("client:{c}");
            s.client_limiter.check(LimitClass::General, &key).await
        }
        _ => s.limiter.check(class, &key).await,
    };
    if verdict == Verdict::Allowed && class == LimitClass::Auth {
        // Credential endpoints also count against the general budget.
        verdict = s.limiter.check(LimitClass::General, &key).await;
    }
    match verdict {
        Verdict::Allowed => next.run(Request::from_parts(parts, body)).await,
        Verdict::Limited(wait) => ApiError::rate_limited(wait.as_secs().max(1)).into_response(),
        Verdict::Unavailable => ApiError::from(bankflow_core::BankError::Overloaded(
            "the shared rate limiter is unavailable".into(),
        ))
        .into_response(),
    }
}

/// `/metrics`, behind the bearer token when one is configured; merged into [`app`] or served
/// alone on its own address (`--metrics-bind`).
pub fn metrics_router<S>(state: AppState) -> Router<S> {
    Router::new()
        .route("/metrics", get(system::metrics))
        .layer(middleware::from_fn_with_state(state.clone(), metrics_guard))
        .with_state(state)
}

/// The API documentation (Swagger UI), under the per-IP rate limit like the API itself.
fn docs_router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    Router::new()
        .merge(
            SwaggerUi::new("/docs")
                .external_url_unchecked("/api/v1/openapi.json", openapi::document()),
        )
        .layer(middleware::from_fn_with_state(state, rate_limit))
}

/// `/metrics` on the public listener: rate limited, and without a configured token served to
/// this host only (a scrape from elsewhere needs `--metrics-token` or `--metrics-bind`), so
/// the bank's internals are never readable by anyone on the internet.
fn public_metrics_router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    metrics_router(state.clone())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics_local_only,
        ))
        .layer(middleware::from_fn_with_state(state, rate_limit))
}

/// Without a metrics token, refuses scrapes whose client is not on this host (the client as
/// the trusted-proxy rule resolves it; in-process calls carry no address and pass).
async fn metrics_local_only(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let remote = req
        .extensions()
        .get::<ClientIp>()
        .is_some_and(|ip| !ip.0.is_loopback());
    if s.config.metrics_token.is_none() && remote {
        return ApiError::unauthorized(
            "metrics on the public listener need --metrics-token (or use --metrics-bind)",
        )
        .into_response();
    }
    next.run(req).await
}

/// Refuses a scrape without the configured token (compared in constant time).
async fn metrics_guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(expected) = s.config.metrics_token.as_deref() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let presented = state::bearer_token(&parts).unwrap_or_default();
    if !bankflow_core::crypto::constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return ApiError::unauthorized("metrics need the metrics bearer token").into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
