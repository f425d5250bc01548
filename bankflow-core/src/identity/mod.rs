//! Identity context: registration, login with lockout and TOTP, refresh-token sessions,
//! verification codes, password reset, roles and access-token claims.
//!
//! Secrets never reach the store in clear: passwords as Argon2id hashes, refresh tokens and
//! codes as SHA-256, the TOTP secret sealed with AES-256-GCM (see [`crate::crypto`]).

mod clients;
mod codes;
mod model;
mod recovery;
pub mod secrets;
mod service;
mod sessions;
mod signup;
mod staff;

pub use clients::{
    client_secret_hash, ClientGrant, ClientRepo, ClientScope, ClientView, ClientWithSecret,
    NewClient, ServiceClient, CLIENTS_MAX, CLIENT_NAME_LEN_MAX, CLIENT_SECRET_GRACE_HOURS,
};
pub use model::*;
pub use recovery::RECOVERY_CODES_PER_SET;
pub(crate) use service::totp_aad;
pub use service::{
    AuthTokens, IdentityService, LoginRequest, MfaSetup, RegisterRequest, SessionView, UserView,
    VerifyChannel, CODE_ATTEMPTS_MAX, LOCKOUT_MINUTES, LOGIN_FAILURES_MAX,
    REFRESH_IDLE_TIMEOUT_MINUTES, REFRESH_TTL_DAYS, RESET_TOKEN_TTL_MINUTES, SESSIONS_LIST_MAX,
    TOTP_ISSUER, VERIFY_CODE_TTL_MINUTES,
};
pub use signup::{QueuedMessages, SignUp, RESET_START_PATH};
