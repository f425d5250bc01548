//! One middleware for what every request leaves behind: a request id (the caller's
//! `x-request-id` when it is a sane token, else a fresh UUID; echoed on the response), a
//! tracing span (exported over OTLP when configured), the latency histogram and one access-log
//! line.
//!
//! What is logged is chosen, never the raw request: the route *template* (not the path, not
//! the query, which may carry an `access_token`), the user id from a verified token (not the
//! token), no header and no body. So no token, password, SSN or account number can reach the
//! log through this line.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::state::{bearer_token, AppState};

/// Header carrying the request id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest caller-chosen request id kept; longer ones are replaced.
pub const REQUEST_ID_LEN_MAX: usize = 128;
/// `tracing` target of access-log lines (filter with `RUST_LOG=bankflow::access=info`).
pub const TARGET: &str = "bankflow::access";

/// The request id of the request being served (an extension, for handlers that want it).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A caller's id is kept only when it is a short token of safe characters: anything else
/// (log-injection attempts, secrets pasted by mistake) is replaced by a fresh UUID.
fn accepted_request_id(value: Option<&HeaderValue>) -> String {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= REQUEST_ID_LEN_MAX
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    };
    match value.and_then(|v| v.to_str().ok()) {
        Some(s) if ok(s) => s.to_string(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

/// The layer function (see [`crate::app`]).
pub async fn observe(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = accepted_request_id(req.headers().get(&REQUEST_ID));
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let (parts, body) = req.into_parts();
    let user_id = bearer_token(&parts)
        .and_then(|t| s.jwt.verify(&t).ok())
        .map(|c| c.sub.to_string());
    let req = Request::from_parts(parts, body);

    let span = tracing::info_span!(
        "http.request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        request_id = %request_id,
    );
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    span.record("http.response.status_code", status);
    let elapsed = started.elapsed();
    crate::metrics::http_request(&method, &route, status, elapsed);
    tracing::info!(
        target: TARGET,
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1_000.0,
        request_id = %request_id,
        user_id = user_id.as_deref().unwrap_or("-"),
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_sane() {
        let keep = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(accepted_request_id(Some(&keep)), "abc-123_x.y:z");
        for bad in [
            "",
            "has space",
            "quote\"",
            &"x".repeat(REQUEST_ID_LEN_MAX + 1),
        ] {
            let v = HeaderValue::from_str(bad).unwrap();
            let got = accepted_request_id(Some(&v));
            assert_ne!(got, bad);
            assert!(uuid::Uuid::parse_str(&got).is_ok(), "{got}");
        }
        assert!(uuid::Uuid::parse_str(&accepted_request_id(None)).is_ok());
    }
}
