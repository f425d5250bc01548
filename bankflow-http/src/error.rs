//! The HTTP edge's one error type: every engine error becomes an RFC 9457
//! `application/problem+json` body carrying the engine's stable `code`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bankflow_core::BankError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The problem document every error response carries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:bankflow:problem:<code>`).
    #[serde(rename = "type")]
    pub type_: String,
    /// Short, human-readable summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// The engine's stable machine code (`insufficient_funds`, `not_found`, ...).
    pub code: String,
}

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    /// Seconds, for 429.
    retry_after_s: Option<u64>,
}

impl ApiError {
    /// A validation error of the HTTP layer itself (bad header, bad query, bad body).
    pub fn validation(field: &str, message: impl Into<String>) -> ApiError {
        BankError::validation(field, message).into()
    }

    /// A malformed request (bad JSON, bad header, bad query): 400 `validation_error`.
    pub fn bad_request(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "validation_error",
            detail: format!("invalid {field}: {}", message.into()),
            retry_after_s: None,
        }
    }

    /// Missing or invalid credentials.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            detail: detail.into(),
            retry_after_s: None,
        }
    }

    /// Too many requests; retry after `retry_after_s` seconds.
    pub fn rate_limited(retry_after_s: u64) -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            detail: format!("too many requests; retry in {retry_after_s} s"),
            retry_after_s: Some(retry_after_s),
        }
    }

    /// A route or resource that does not exist.
    pub fn not_found(resource: &'static str) -> ApiError {
        BankError::NotFound { resource }.into()
    }

    /// Request body over its size limit.
    pub fn payload_too_large(limit_bytes: usize) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "limit_exceeded",
            detail: format!("request body is larger than {limit_bytes} bytes"),
            retry_after_s: None,
        }
    }

    /// An unexpected failure; `cause` is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        BankError::internal(cause).into()
    }

    /// A problem for a bare HTTP error status produced below the handlers (routing, body
    /// limits, extractor rejections), so every API error has the same shape.
    pub fn from_status(status: StatusCode) -> ApiError {
        let code = match status.as_u16() {
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            409 => "conflict",
            413 => "limit_exceeded",
            429 => "rate_limited",
            500..=599 => "internal_error",
            _ => "validation_error",
        };
        let detail = status.canonical_reason().unwrap_or("error").to_string();
        ApiError {
            status,
            code,
            detail,
            retry_after_s: None,
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// The HTTP status of each engine error. Exhaustive on purpose: a new variant in core does
/// not compile here until someone decides its status.
pub fn status_of(e: &BankError) -> StatusCode {
    match e {
        BankError::Validation { .. } | BankError::CurrencyMismatch { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        BankError::LimitExceeded(_) => StatusCode::UNPROCESSABLE_ENTITY,
        BankError::NotFound { .. } => StatusCode::NOT_FOUND,
        BankError::Unauthorized(_) | BankError::MfaRequired => StatusCode::UNAUTHORIZED,
        BankError::Forbidden(_) | BankError::MfaEnrolmentRequired => StatusCode::FORBIDDEN,
        BankError::Duplicate(_)
        | BankError::IdempotencyConflict
        | BankError::InvalidState(_)
        | BankError::AlreadyReversed
        | BankError::AccountNotEmpty(_)
        // Only a single-purpose engine call answers it; the HTTP staff endpoints answer
        // 202 with the parked request instead.
        | BankError::ApprovalRequired(_) => StatusCode::CONFLICT,
        BankError::InsufficientFunds
        | BankError::AccountFrozen(_)
        | BankError::AccountClosed(_)
        | BankError::DailyLimitExceeded
        | BankError::KycRequired
        | BankError::EmailUnverified
        | BankError::FraudBlocked(_) => StatusCode::UNPROCESSABLE_ENTITY,
        BankError::AccountLocked(_) => StatusCode::LOCKED,
        BankError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        BankError::Transient(_) | BankError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
        BankError::Internal(_) | BankError::Invariant(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn title_of(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl From<BankError> for ApiError {
    fn from(e: BankError) -> ApiError {
        let status = status_of(&e);
        let detail = match &e {
            // Internals are for the log, never for the client.
            BankError::Internal(_) | BankError::Invariant(_) => {
                tracing::error!(error = %e, "internal error");
                "an internal error occurred".to_string()
            }
            BankError::Transient(_) => {
                tracing::warn!(error = %e, "transient store failure");
                "the service is busy; retry the request".to_string()
            }
            other => other.to_string(),
        };
        ApiError {
            status,
            code: e.code(),
            detail,
            retry_after_s: matches!(e, BankError::RateLimited).then_some(60),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            type_: format!("urn:bankflow:problem:{}", self.code),
            title: title_of(self.status).to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_string(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut resp = (self.status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_leak() {
        let e: ApiError = BankError::internal("password=hunter2 at db host").into();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.detail.contains("hunter2"));
    }

    #[test]
    fn business_refusals_are_unprocessable_and_conflicts_409() {
        assert_eq!(
            status_of(&BankError::InsufficientFunds),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            status_of(&BankError::IdempotencyConflict),
            StatusCode::CONFLICT
        );
        assert_eq!(status_of(&BankError::AlreadyReversed), StatusCode::CONFLICT);
        assert_eq!(
            status_of(&BankError::NotFound {
                resource: "account"
            }),
            StatusCode::NOT_FOUND
        );
    }
}
