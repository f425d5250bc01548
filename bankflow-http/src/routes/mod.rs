//! Handlers. Each one only translates: parse the request into engine types, call one `Bank`
//! use case as the caller's [`bankflow_core::Actor`], map the result to a response.

pub mod accounts;
pub mod admin;
pub mod approvals;
pub mod auth;
pub mod customers;
pub mod devices;
pub mod fraud;
pub mod notifications;
pub mod oauth;
pub mod scheduled;
pub mod system;
pub mod transactions;
pub mod webhooks;

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use axum::response::IntoResponse;
use bankflow_core::BankResult;

use crate::error::{ApiError, ApiResult, Problem};

/// Runs an engine call on its own task and waits for it. A client that disconnects drops
/// the handler's future, but not this task: the engine's group committer and units of
/// work always run to completion, so a command is never cut in half.
///
/// Each call is one `engine.command` span (a child of the request's span) and one sample of
/// the engine command latency histogram, labelled with the use case: the handler that called.
pub async fn detached<T, F>(fut: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: Future<Output = BankResult<T>> + Send + 'static,
{
    let use_case = use_case_of::<F>();
    let span = tracing::info_span!(
        "engine.command",
        otel.name = use_case,
        use_case,
        outcome = tracing::field::Empty
    );
    let started = Instant::now();
    let result = match tokio::spawn(fut.instrument(span.clone())).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::internal(format!("engine task failed: {e}"))),
    };
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    };
    span.record("outcome", outcome);
    crate::metrics::engine_command(use_case, outcome, started.elapsed());
    result
}

/// `transactions::transfer` for the future an `async` block in
/// `routes::transactions::transfer` makes: handlers need not name their use case, and the
/// label set stays the (bounded) set of handlers.
fn use_case_of<F>() -> &'static str {
    let name = std::any::type_name::<F>();
    let name = name.strip_prefix("bankflow_http::routes::").unwrap_or(name);
    name.split("::{{closure}}").next().unwrap_or(name)
}

/// The error responses most routes can give (documented once, referenced by every path).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum CommonErrors {
    /// Malformed request.
    #[response(
        status = 400,
        description = "Malformed request (bad JSON, header or query)",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    /// Missing, invalid or expired token.
    #[response(
        status = 401,
        description = "Missing, invalid or expired access token",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    /// Not allowed for the caller's role.
    #[response(
        status = 403,
        description = "The caller's role does not allow this",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// No such resource, or not the caller's.
    #[response(
        status = 404,
        description = "No such resource (or not the caller's)",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// Conflict with the current state.
    #[response(
        status = 409,
        description = "Conflict: duplicate, idempotency conflict, invalid state",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    /// Validation error or business-rule refusal.
    #[response(
        status = 422,
        description = "Invalid input or business-rule refusal (insufficient_funds, account_frozen, ...)",
        content_type = "application/problem+json"
    )]
    Unprocessable(Problem),
    /// Rate limited.
    #[response(
        status = 429,
        description = "Rate limited; see Retry-After",
        content_type = "application/problem+json"
    )]
    TooMany(Problem),
    /// Internal error.
    #[response(
        status = 500,
        description = "Internal error (no details)",
        content_type = "application/problem+json"
    )]
    Internal(Problem),
    /// Store busy.
    #[response(
        status = 503,
        description = "Store temporarily unavailable; retry",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// Unknown routes under the API answer problem+json too.
pub async fn api_not_found() -> impl IntoResponse {
    ApiError::not_found("route")
}
