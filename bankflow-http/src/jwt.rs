//! Access tokens: HS256 JWTs signed and checked here (the engine hands out the claims;
//! signing is the HTTP adapter's job). Only HS256 is accepted: a token whose header names
//! any other algorithm, `none` included, is refused before its signature is looked at.

use std::path::Path;

use bankflow_core::ids::SessionId;
use bankflow_core::{Actor, CustomerId, Role, UserId};
use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

/// Lifetime of an access token: short, so a stolen token is useful briefly and logout is
/// effective within minutes without a revocation list.
pub const ACCESS_TOKEN_TTL_S: i64 = 15 * 60;
/// Clock skew tolerated when checking `exp`/`iat`.
pub const LEEWAY_S: u64 = 5;
/// Bytes of a generated signing secret.
pub const SECRET_LEN_BYTES: usize = 32;
/// Shortest secret accepted from the environment (HS256 wants ≥ 256 bits of key).
pub const SECRET_LEN_MIN_BYTES: usize = 32;
/// Issuer and audience of our tokens.
pub const ISSUER: &str = "bankflow";
/// Audience of our access tokens.
pub const AUDIENCE: &str = "bankflow-api";
/// Audience of stream tickets: a ticket opens the notification stream and nothing else.
pub const STREAM_AUDIENCE: &str = "bankflow-stream";
/// Lifetime of a stream ticket: long enough to open an EventSource right after asking.
pub const STREAM_TICKET_TTL_S: i64 = 30;
/// File in the data dir holding the generated signing secret (hex).
pub const SECRET_FILE: &str = "jwt_secret";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id (UUID).
    pub sub: String,
    /// The user's email.
    pub email: String,
    /// Granted roles (`customer`, `admin`, `support`).
    pub roles: Vec<String>,
    /// The user's customer profile, if any.
    pub customer_id: Option<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Token id, distinct per token.
    pub jti: String,
    /// The login session (refresh-token family) this token was issued in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Set on a service client's token (OAuth2 client credentials): the client, which
    /// `sub` names too. Such a token has no session and no roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A client token's granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl Claims {
    /// The engine principal these claims stand for. Unknown roles make the token invalid
    /// rather than being dropped: a token we did not mint is not trusted in part.
    pub fn actor(&self) -> Result<Actor, ApiError> {
        let user = UserId::parse(&self.sub)
            .map_err(|_| ApiError::unauthorized("invalid token subject"))?;
        let customer = match &self.customer_id {
            Some(c) => Some(
                CustomerId::parse(c)
                    .map_err(|_| ApiError::unauthorized("invalid token customer"))?,
            ),
            None => None,
        };
        let roles = self
            .roles
            .iter()
            .map(|r| Role::parse(r).map_err(|_| ApiError::unauthorized("invalid token role")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Actor {
            user_id: Some(user),
            customer_id: customer,
            roles,
            system: false,
        })
    }

    /// The login session the token was issued in (`None`: no `sid`, or not a session id).
    pub fn session_id(&self) -> Option<SessionId> {
        self.sid.as_deref().and_then(|s| SessionId::parse(s).ok())
    }
}

/// What a new access token is about.
#[derive(Debug, Clone)]
pub struct Subject {
    /// User id.
    pub user_id: UserId,
    /// Email.
    pub email: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// Customer profile.
    pub customer_id: Option<CustomerId>,
    /// Login session, when issued by login/refresh.
    pub session_id: Option<Uuid>,
}

impl Subject {
    /// The subject of the engine's claims, in session `session_id`.
    pub fn from_claims(c: bankflow_core::identity::Claims, session_id: Option<Uuid>) -> Subject {
        Subject {
            user_id: c.sub,
            email: c.email,
            roles: c.roles,
            customer_id: c.customer_id,
            session_id,
        }
    }
}

/// HS256 signing and verification keys.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    stream_validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

impl JwtKeys {
    /// Keys from a secret of at least [`SECRET_LEN_MIN_BYTES`].
    pub fn from_secret(secret: &[u8]) -> Result<JwtKeys, String> {
        if secret.len() < SECRET_LEN_MIN_BYTES {
            return Err(format!(
                "the JWT secret must be at least {SECRET_LEN_MIN_BYTES} bytes"
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_S;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_exp = true;
        let mut stream_validation = validation.clone();
        stream_validation.set_audience(&[STREAM_AUDIENCE]);
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            stream_validation,
        })
    }

    /// A fresh random key (tests, ephemeral servers).
    pub fn random() -> JwtKeys {
        let secret = random_secret();
        JwtKeys::from_secret(&secret).expect("generated secrets are long enough")
    }

    /// The secret from `env_secret` if given, else the one kept in `data_dir` (created once,
    /// mode 0600, so restarts keep sessions valid).
    pub fn load_or_create(env_secret: Option<&str>, data_dir: &Path) -> std::io::Result<JwtKeys> {
        let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        if let Some(s) = env_secret {
            return JwtKeys::from_secret(s.as_bytes()).map_err(invalid);
        }
        let path = data_dir.join(SECRET_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let hex_text = String::from_utf8_lossy(&bytes);
                let secret = hex::decode(hex_text.trim())
                    .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
                JwtKeys::from_secret(&secret).map_err(invalid)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = random_secret();
                write_private(&path, hex::encode(&secret).as_bytes())?;
                JwtKeys::from_secret(&secret).map_err(invalid)
            }
            Err(e) => Err(e),
        }
    }

    /// Signs an access token for `subject`, valid from `now` for [`ACCESS_TOKEN_TTL_S`].
    pub fn issue(&self, subject: &Subject, now: DateTime<Utc>) -> Result<String, ApiError> {
        self.issue_with_ttl(subject, now, ACCESS_TOKEN_TTL_S)
    }

    /// Signs a token with an explicit lifetime (negative lifetimes make expired tokens for tests).
    pub fn issue_with_ttl(
        &self,
        subject: &Subject,
        now: DateTime<Utc>,
        ttl_s: i64,
    ) -> Result<String, ApiError> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: subject.user_id.to_string(),
            email: subject.email.clone(),
            roles: subject
                .roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            customer_id: subject.customer_id.map(|c| c.to_string()),
            iat,
            exp: iat + ttl_s,
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            jti: Uuid::new_v4().to_string(),
            sid: subject.session_id.map(|s| s.to_string()),
            client_id: None,
            scope: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// A stream ticket for the caller of `access`: the same subject and session, audience
    /// [`STREAM_AUDIENCE`], valid [`STREAM_TICKET_TTL_S`]. It may travel in a URL (browsers'
    /// EventSource sends no headers) because it is short-lived and no API route accepts it;
    /// the access token itself never goes into a URL.
    pub fn issue_stream_ticket(
        &self,
        access: &Claims,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let iat = now.timestamp();
        let ticket = Claims {
            iat,
            exp: iat + STREAM_TICKET_TTL_S,
            aud: STREAM_AUDIENCE.to_string(),
            jti: Uuid::new_v4().to_string(),
            ..access.clone()
        };
        encode(&Header::new(Algorithm::HS256), &ticket, &self.encoding).map_err(ApiError::internal)
    }

    /// Verifies a stream ticket (as [`JwtKeys::verify`], audience [`STREAM_AUDIENCE`]).
    pub fn verify_stream_ticket(&self, ticket: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(ticket, &self.decoding, &self.stream_validation)
            .map(|d| d.claims)
            .map_err(|_| ApiError::unauthorized("invalid or expired stream ticket"))
    }

    /// Signs a service client's access token (OAuth2 client credentials): `client_id` and
    /// `scope` claims, no session, no roles, valid [`ACCESS_TOKEN_TTL_S`].
    pub fn issue_client(
        &self,
        client: bankflow_core::ids::ClientId,
        scope: &str,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: client.to_string(),
            email: String::new(),
            roles: Vec::new(),
            customer_id: None,
            iat,
            exp: iat + ACCESS_TOKEN_TTL_S,
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            jti: Uuid::new_v4().to_string(),
            sid: None,
            client_id: Some(client.to_string()),
            scope: Some(scope.to_string()),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Verifies a token: HS256 signature, `exp`, `iss`, `aud`. Every failure is the same
    /// 401 so that clients learn nothing about which check failed.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|_| ApiError::unauthorized("invalid or expired access token"))
    }
}

fn random_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_LEN_BYTES];
    getrandom::fill(&mut secret).expect("the OS random source is available");
    secret
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            user_id: UserId(Uuid::now_v7()),
            email: "a@example.com".into(),
            roles: vec![Role::Customer],
            customer_id: None,
            session_id: None,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let keys = JwtKeys::random();
        let t = keys.issue(&subject(), Utc::now()).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!(c.roles, vec!["customer".to_string()]);
        assert!(c.actor().unwrap().roles.contains(&Role::Customer));
        // Another key.
        assert!(JwtKeys::random().verify(&t).is_err());
        // Expired.
        let old = keys.issue_with_ttl(&subject(), Utc::now(), -60).unwrap();
        assert!(keys.verify(&old).is_err());
        // Tampered payload.
        let mut parts: Vec<&str> = t.split('.').collect();
        parts[1] = "eyJzdWIiOiJ4In0";
        assert!(keys.verify(&parts.join(".")).is_err());
    }

    #[test]
    fn stream_tickets_and_access_tokens_are_not_interchangeable() {
        let keys = JwtKeys::random();
        let access = keys
            .verify(&keys.issue(&subject(), Utc::now()).unwrap())
            .unwrap();
        let ticket = keys.issue_stream_ticket(&access, Utc::now()).unwrap();
        let c = keys.verify_stream_ticket(&ticket).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.sid.as_deref()),
            (access.sub.as_str(), access.sid.as_deref())
        );
        assert!(c.exp - c.iat == STREAM_TICKET_TTL_S);
        assert!(keys.verify(&ticket).is_err(), "a ticket is no access token");
        let token = keys.issue(&subject(), Utc::now()).unwrap();
        assert!(
            keys.verify_stream_ticket(&token).is_err(),
            "an access token is no ticket"
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(JwtKeys::from_secret(b"short").is_err());
    }

    #[test]
    fn secret_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("bankflow-jwt-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = JwtKeys::load_or_create(None, &dir).unwrap();
        let t = a.issue(&subject(), Utc::now()).unwrap();
        let b = JwtKeys::load_or_create(None, &dir).unwrap();
        assert!(
            b.verify(&t).is_ok(),
            "the second start reuses the stored secret"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
