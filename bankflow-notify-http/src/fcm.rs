//! Push through FCM HTTP v1: `POST {base}/v1/projects/{project_id}/messages:send` with
//! `{"message":{"token":..,"notification":{"title":..,"body":..}}}` and
//! `Authorization: Bearer <access token>`. The access token is either given, or obtained from
//! a Google service-account key by the OAuth 2.0 JWT-bearer grant (an RS256 assertion POSTed
//! to the key's `token_uri`) and cached until shortly before it expires.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bankflow_core::{BankError, BankResult, Channel, Notifier, OutgoingMessage};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::{client, read_bounded, trim_base, DeliveryError, DeliveryErrorKind};

/// The OAuth scope FCM sends need.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// A cached access token is replaced this long before it expires, so a send never races
/// the expiry.
pub const OAUTH_REFRESH_MARGIN_SECONDS: u64 = 300;
/// Lifetime asked for in the JWT assertion (Google's maximum).
const ASSERTION_LIFETIME_SECONDS: u64 = 3600;
/// Longest service-account key file read.
const KEY_FILE_MAX_BYTES: u64 = 64 * 1024;

/// How the notifier authenticates to FCM.
#[derive(Clone)]
pub enum FcmAuth {
    /// A ready OAuth access token (e.g. from `gcloud auth print-access-token`).
    Static(String),
    /// A service-account key (the JSON file Google issues).
    ServiceAccount(ServiceAccountKey),
}

impl std::fmt::Debug for FcmAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FcmAuth::Static(_) => f.write_str("FcmAuth::Static(<redacted>)"),
            FcmAuth::ServiceAccount(k) => write!(f, "FcmAuth::ServiceAccount({})", k.client_email),
        }
    }
}

impl FcmAuth {
    /// Reads a service-account key file (`type`, `client_email`, `private_key`, `token_uri`).
    pub fn from_service_account_file(path: &std::path::Path) -> BankResult<Self> {
        let meta = std::fs::metadata(path)
            .map_err(|e| BankError::validation("fcm_service_account_file", e.to_string()))?;
        if meta.len() > KEY_FILE_MAX_BYTES {
            return Err(BankError::validation(
                "fcm_service_account_file",
                "file too large",
            ));
        }
        let text = std::fs::read(path)
            .map_err(|e| BankError::validation("fcm_service_account_file", e.to_string()))?;
        let key: ServiceAccountKey = serde_json::from_slice(&text).map_err(|e| {
            // serde's message names the field, never the value.
            BankError::validation(
                "fcm_service_account_file",
                format!("not a service-account key: {e}"),
            )
        })?;
        signing_key(&key.private_key).map_err(|_| {
            BankError::validation(
                "fcm_service_account_file",
                "private_key is not an RSA PEM key",
            )
        })?;
        Ok(FcmAuth::ServiceAccount(key))
    }
}

/// The parts of a Google service-account key the token exchange needs.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// The account (`iss` of the assertion).
    pub client_email: String,
    /// PEM RSA private key (a secret).
    pub private_key: String,
    /// Key id, sent as the JWT `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// Where the assertion is exchanged (`aud` of the assertion).
    pub token_uri: String,
}

/// FCM configuration.
#[derive(Clone, Debug)]
pub struct FcmConfig {
    /// API base, `https://fcm.googleapis.com` in production.
    pub base_url: String,
    /// Firebase project id.
    pub project_id: String,
    /// Credentials.
    pub auth: FcmAuth,
    /// Whole-request timeout (send and token exchange each).
    pub request_timeout_ms: u64,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

struct CachedToken {
    token: String,
    refresh_at: Instant,
}

/// The push notifier.
pub struct FcmNotifier {
    config: FcmConfig,
    http: reqwest::Client,
    cached: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for FcmNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmNotifier")
            .field("config", &self.config)
            .finish()
    }
}

impl FcmNotifier {
    /// A notifier for `config`.
    pub fn new(config: FcmConfig) -> BankResult<Self> {
        if config.project_id.is_empty() {
            return Err(BankError::validation("fcm_project_id", "required"));
        }
        let http = client(config.request_timeout_ms)?;
        Ok(FcmNotifier {
            config,
            http,
            cached: Mutex::new(None),
        })
    }

    /// Sends one push to `token`; the classified outcome.
    pub async fn send_push(
        &self,
        token: &str,
        title: Option<&str>,
        body: &str,
    ) -> Result<(), DeliveryError> {
        let access = self.access_token().await?;
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            trim_base(&self.config.base_url),
            self.config.project_id
        );
        let payload = json!({"message": {"token": token,
            "notification": {"title": title.unwrap_or_default(), "body": body}}});
        let resp = self
            .http
            .post(url)
            .bearer_auth(access)
            .json(&payload)
            .send()
            .await
            .map_err(|e| DeliveryError::network("fcm", &e))?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(());
        }
        if status == 401 {
            // A revoked or expired token: fetch a fresh one on the next attempt.
            *self.cached.lock().await = None;
        }
        let body = read_bounded("fcm", resp).await?;
        Err(classify_fcm(status, &body))
    }

    async fn access_token(&self) -> Result<String, DeliveryError> {
        let key = match &self.config.auth {
            FcmAuth::Static(t) => return Ok(t.clone()),
            FcmAuth::ServiceAccount(k) => k,
        };
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let (token, expires_in) = self.exchange(key).await?;
        let life = expires_in.saturating_sub(OAUTH_REFRESH_MARGIN_SECONDS);
        *cached = Some(CachedToken {
            token: token.clone(),
            refresh_at: Instant::now() + Duration::from_secs(life),
        });
        Ok(token)
    }

    /// The JWT-bearer grant (RFC 7523): returns the access token and its lifetime.
    async fn exchange(&self, key: &ServiceAccountKey) -> Result<(String, u64), DeliveryError> {
        let assertion = assertion(key)?;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ];
        let resp = self
            .http
            .post(&key.token_uri)
            .form(&form)
            .send()
            .await
            .map_err(|e| DeliveryError::network("fcm oauth", &e))?;
        let status = resp.status().as_u16();
        let ok = resp.status().is_success();
        let body = read_bounded("fcm oauth", resp).await?;
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        if !ok {
            let detail = v
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("no detail");
            return Err(DeliveryError::from_status("fcm oauth", status, detail));
        }
        let token = v
            .get("access_token")
            .and_then(|t| t.as_str())
            .ok_or_else(|| {
                DeliveryError::new(
                    DeliveryErrorKind::Retryable,
                    Some(status),
                    "fcm oauth: no access_token",
                )
            })?;
        let expires_in = v
            .get("expires_in")
            .and_then(|e| e.as_u64())
            .unwrap_or(ASSERTION_LIFETIME_SECONDS);
        Ok((token.to_string(), expires_in))
    }
}

fn assertion(key: &ServiceAccountKey) -> Result<String, DeliveryError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = Claims {
        iss: &key.client_email,
        scope: FCM_SCOPE,
        aud: &key.token_uri,
        iat: now,
        exp: now + ASSERTION_LIFETIME_SECONDS,
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = key.private_key_id.clone();
    let signing = signing_key(&key.private_key).map_err(|()| {
        DeliveryError::new(
            DeliveryErrorKind::Rejected,
            None,
            "fcm: private_key is not an RSA PEM key",
        )
    })?;
    jsonwebtoken::encode(&header, &claims, &signing).map_err(|e| {
        DeliveryError::new(
            DeliveryErrorKind::Rejected,
            None,
            format!("fcm: signing the assertion: {e}"),
        )
    })
}

/// The RS256 signing key of a PEM private key (PKCS#8, as Google issues, or PKCS#1).
fn signing_key(pem: &str) -> Result<jsonwebtoken::EncodingKey, ()> {
    use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| ())?;
    let der = key.to_pkcs1_der().map_err(|_| ())?;
    Ok(jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()))
}

/// FCM error bodies: `{"error":{"code":404,"status":"NOT_FOUND","message":..,
/// "details":[{"@type":"...FcmError","errorCode":"UNREGISTERED"}, {"@type":"...BadRequest",
/// "fieldViolations":[{"field":"message.token",..}]}]}}`.
fn classify_fcm(status: u16, body: &[u8]) -> DeliveryError {
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    let err = v.get("error").cloned().unwrap_or_default();
    let message = err
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or("no detail");
    let details = err
        .get("details")
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    let error_code = details
        .iter()
        .find_map(|d| d.get("errorCode").and_then(|c| c.as_str()))
        .unwrap_or_default();
    let token_field = details.iter().any(|d| {
        d.get("fieldViolations")
            .and_then(|f| f.as_array())
            .is_some_and(|f| {
                f.iter()
                    .any(|x| x.get("field").and_then(|s| s.as_str()) == Some("message.token"))
            })
    });
    let gone = (status == 404 && error_code == "UNREGISTERED")
        || (status == 400
            && error_code == "INVALID_ARGUMENT"
            && (token_field || message.contains("registration token")));
    if gone {
        return DeliveryError::new(
            DeliveryErrorKind::TokenGone,
            Some(status),
            format!("fcm: {error_code}"),
        );
    }
    DeliveryError::from_status("fcm", status, &format!("{error_code} {message}"))
}

#[async_trait]
impl Notifier for FcmNotifier {
    async fn send(&self, message: &OutgoingMessage) -> BankResult<()> {
        if message.channel != Channel::Push {
            return Err(BankError::validation("channel", "fcm delivers push only"));
        }
        let r = self
            .send_push(
                &message.recipient,
                message.subject.as_deref(),
                &message.body,
            )
            .await;
        if let Err(e) = &r {
            // Never the device token (a credential of sorts) nor the body.
            tracing::warn!(status = ?e.status, kind = ?e.kind, "fcm push refused");
        }
        r.map_err(BankError::from)
    }
}
