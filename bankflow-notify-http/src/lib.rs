//! HTTP notifiers for the engine's [`bankflow_core::Notifier`] port: SMS through the Twilio
//! Messages API ([`TwilioNotifier`]) and push through FCM HTTP v1 ([`FcmNotifier`]).
//!
//! Every provider answer is classified into a [`DeliveryError`]: `Retryable` (429, 5xx,
//! network) is reported as `BankError::Transient` so the engine's backoff retries it,
//! `Rejected` (other 4xx) as a validation error, and `TokenGone` (FCM says the device token
//! is unregistered or invalid) as `BankError::NotFound { resource: TOKEN_GONE_RESOURCE }`,
//! the stable signal that the device should be deactivated rather than retried.
//! Credentials, tokens and message bodies are never logged.

mod fcm;
#[cfg(feature = "testing")]
pub mod testing;
mod twilio;

use bankflow_core::BankError;

pub use fcm::{
    FcmAuth, FcmConfig, FcmNotifier, ServiceAccountKey, FCM_SCOPE, OAUTH_REFRESH_MARGIN_SECONDS,
};
pub use twilio::{TwilioConfig, TwilioNotifier, TwilioSender};

/// Largest provider response body read (error details are short; anything longer is cut).
pub const RESPONSE_BODY_MAX_BYTES: usize = 64 * 1024;
/// Default whole-request timeout of a provider call.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// The `resource` of the `NotFound` error a notifier returns when the provider says the
/// device token no longer exists: the engine deletes the device instead of retrying. Defined
/// once, in core, where the fan-out reads it.
pub use bankflow_core::notify::TOKEN_GONE_RESOURCE;
/// Longest provider error text kept in an error message.
pub const ERROR_TEXT_MAX_CHARS: usize = 300;

/// How a provider call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryErrorKind {
    /// Network failure, timeout, 429 or 5xx: try again later.
    Retryable,
    /// The provider refused this message for good (bad number, bad credentials...).
    Rejected,
    /// The push token is unregistered or invalid: drop the device.
    TokenGone,
}

/// A classified provider failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    /// Classification.
    pub kind: DeliveryErrorKind,
    /// HTTP status, if the provider answered.
    pub status: Option<u16>,
    /// Provider message (never contains our credentials; may be cut).
    pub message: String,
}

impl DeliveryError {
    fn new(kind: DeliveryErrorKind, status: Option<u16>, message: impl Into<String>) -> Self {
        let message: String = message.into();
        DeliveryError {
            kind,
            status,
            message: message.chars().take(ERROR_TEXT_MAX_CHARS).collect(),
        }
    }

    /// Classification by status alone (used when the body says nothing more specific).
    fn from_status(provider: &str, status: u16, detail: &str) -> Self {
        let kind = if status == 429 || status >= 500 {
            DeliveryErrorKind::Retryable
        } else {
            DeliveryErrorKind::Rejected
        };
        DeliveryError::new(
            kind,
            Some(status),
            format!("{provider} HTTP {status}: {detail}"),
        )
    }

    fn network(provider: &str, e: &reqwest::Error) -> Self {
        // reqwest's Display carries the URL but never headers or bodies.
        DeliveryError::new(
            DeliveryErrorKind::Retryable,
            None,
            format!("{provider}: {}", redact_url(e)),
        )
    }
}

impl From<DeliveryError> for BankError {
    fn from(e: DeliveryError) -> Self {
        match e.kind {
            DeliveryErrorKind::Retryable => BankError::Transient(e.message),
            DeliveryErrorKind::Rejected => BankError::validation("recipient", e.message),
            DeliveryErrorKind::TokenGone => BankError::NotFound {
                resource: TOKEN_GONE_RESOURCE,
            },
        }
    }
}

/// Builds the HTTP client shared by a notifier: bounded total and connect timeouts.
fn client(timeout_ms: u64) -> Result<reqwest::Client, BankError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(timeout_ms))
        .connect_timeout(std::time::Duration::from_millis(timeout_ms))
        .build()
        .map_err(|e| BankError::internal(format!("http client: {e}")))
}

/// Reads at most [`RESPONSE_BODY_MAX_BYTES`] of a response body.
async fn read_bounded(
    provider: &str,
    mut resp: reqwest::Response,
) -> Result<Vec<u8>, DeliveryError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| DeliveryError::network(provider, &e))?
    {
        let room = RESPONSE_BODY_MAX_BYTES.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= RESPONSE_BODY_MAX_BYTES {
            break;
        }
    }
    Ok(out)
}

fn trim_base(base: &str) -> String {
    base.trim_end_matches('/').to_string()
}

/// A reqwest error's text without its URL (a Twilio URL carries the account SID).
fn redact_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect failed"
    } else {
        "request failed"
    };
    let source = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    format!("{kind} {source}")
}
