//! `/api/v1/auth`: registration, login, token refresh, logout, verification, password reset,
//! MFA and sessions. Passwords, refresh tokens and codes are the engine's business; this
//! layer signs the access token from the claims the engine hands back.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankflow_core::identity::{
    AuthTokens, LoginRequest, RegisterRequest, SessionView, UserView, VerifyChannel,
};
use bankflow_core::ids::SessionId;
use bankflow_core::{BankError, BankResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dto::Page;
use crate::error::ApiResult;
use crate::jwt::{Subject, ACCESS_TOKEN_TTL_S};
use crate::routes::{detached, CommonErrors};
use crate::schema::{EmailAddress, OneTimeCode, Password, PhoneNumber, VerifyChannelName};
use crate::state::{AppState, Auth, Ctx, Json, OptJson, PathId};

/// A newly registered user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisteredDto {
    /// User id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Email verified.
    pub is_verified: bool,
    /// Roles (`customer`, `admin`, `support`).
    pub roles: Vec<String>,
}

/// The current user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeDto {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Customer profile, once created.
    pub customer_id: Option<Uuid>,
    /// Email verified.
    pub is_verified: bool,
    /// Phone verified.
    pub phone_verified: bool,
    /// TOTP required at login.
    pub mfa_enabled: bool,
    /// Last login.
    pub last_login: Option<DateTime<Utc>>,
    /// Registered.
    pub created_at: DateTime<Utc>,
}

fn roles(v: &UserView) -> Vec<String> {
    v.roles.iter().map(|r| r.as_str().to_string()).collect()
}

impl From<UserView> for MeDto {
    fn from(v: UserView) -> MeDto {
        MeDto {
            id: v.id.0,
            roles: roles(&v),
            email: v.email,
            phone: v.phone,
            customer_id: v.customer_id.map(|c| c.0),
            is_verified: v.is_verified,
            phone_verified: v.phone_verified,
            mfa_enabled: v.mfa_enabled,
            last_login: v.last_login,
            created_at: v.created_at,
        }
    }
}

/// Registration.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// Email.
    #[schema(value_type = EmailAddress)]
    pub email: String,
    /// At least 12 characters, not a common password.
    #[schema(value_type = Password)]
    pub password: String,
    /// Optional E.164 phone.
    #[schema(value_type = Option<PhoneNumber>)]
    pub phone: Option<String>,
}

/// Login.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Email.
    #[schema(value_type = EmailAddress)]
    pub email: String,
    /// Password.
    pub password: String,
    /// When MFA is enabled: a 6-digit TOTP code, or one of the user's recovery codes
    /// (`XXXX-XXXX-XXXX-XXXX`, each works once).
    pub mfa_code: Option<String>,
}

/// Tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPairDto {
    /// JWT for `Authorization: Bearer` (15 minutes).
    pub access_token: String,
    /// Single-use refresh token (rotated on every refresh).
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
}

/// A refresh token.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token.
    pub refresh_token: String,
}

/// Logout: the refresh token of the session to end.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct LogoutBody {
    /// The refresh token (optional: without it the caller's current session is ended).
    pub refresh_token: Option<String>,
}

/// Email for a password reset.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotBody {
    /// Email.
    #[schema(value_type = EmailAddress)]
    pub email: String,
}

/// New password with the emailed token.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    /// Token from the email.
    pub token: String,
    /// New password.
    #[schema(value_type = Password)]
    pub password: String,
}

/// A verification code.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The code.
    #[schema(value_type = OneTimeCode)]
    pub code: String,
    /// `email` (default) or `phone` (verification only).
    #[schema(value_type = Option<VerifyChannelName>)]
    pub channel: Option<String>,
}

/// Re-authentication for starting TOTP enrolment: the current password, so a stolen bearer
/// token alone cannot change sign-in factors (PCI DSS v4 req. 8).
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaSetupBody {
    /// The caller's current password.
    #[schema(format = Password)]
    pub password: String,
}

/// Turning TOTP on or off: the current password and a code from the authenticator app.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaChangeBody {
    /// The caller's current password.
    #[schema(format = Password)]
    pub password: String,
    /// A current TOTP code.
    #[schema(value_type = OneTimeCode)]
    pub code: String,
}

/// Which contact to re-send a code to.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendBody {
    /// `email` (default) or `phone`.
    #[schema(value_type = Option<VerifyChannelName>)]
    pub channel: Option<String>,
}

/// TOTP enrolment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaSetupDto {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI for a QR code.
    pub otpauth_url: String,
}

/// A live session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionDto {
    /// Session id.
    pub id: Uuid,
    /// Last login or refresh.
    pub created_at: DateTime<Utc>,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// IP at login.
    pub ip: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
    /// The session of the calling token.
    pub current: bool,
}

fn channel(c: Option<&str>) -> BankResult<VerifyChannel> {
    match c.unwrap_or("email") {
        "email" => Ok(VerifyChannel::Email),
        "phone" => Ok(VerifyChannel::Phone),
        _ => Err(BankError::validation("channel", "email or phone")),
    }
}

fn token_pair(s: &AppState, t: AuthTokens) -> ApiResult<TokenPairDto> {
    let subject = Subject::from_claims(t.claims, Some(t.session_id.0));
    Ok(TokenPairDto {
        access_token: s.jwt.issue(&subject, Utc::now())?,
        refresh_token: t.refresh_token,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_TTL_S,
    })
}

/// Most sign-ups whose messages are being sent after the answer; past it, a sign-up sends
/// its messages before answering (slower, never lost).
const SIGN_UP_SENDS_IN_FLIGHT_MAX: usize = 1_024;
static SIGN_UP_SENDS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(SIGN_UP_SENDS_IN_FLIGHT_MAX);

/// Registers a customer user. A taken email or phone answers exactly like a new one (the
/// owner is told instead; finding 6): check your email for the verification code.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterBody,
    responses((status = 201, description = "Registered, or the address was taken (same answer: the owner is notified); a verification code is on its way", body = RegisteredDto), CommonErrors))]
pub async fn register(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Json(b): Json<RegisterBody>,
) -> ApiResult<Response> {
    let req = RegisterRequest {
        email: b.email,
        password: b.password,
        phone: b.phone,
    };
    let bank = s.bank.clone();
    let signed = detached(async move { bank.identity().sign_up(req, &ctx).await }).await?;
    // Messages go out after the answer: a new address sends two or three, a taken one one,
    // and waiting for the provider would tell them apart.
    let bank = s.bank.clone();
    match SIGN_UP_SENDS.try_acquire() {
        Ok(permit) => {
            tokio::spawn(async move {
                let _permit = permit;
                bank.identity().send_queued(signed.messages).await;
            });
        }
        Err(_) => bank.identity().send_queued(signed.messages).await,
    }
    let v = signed.receipt;
    let dto = RegisteredDto {
        id: v.id.0,
        roles: roles(&v),
        email: v.email,
        phone: v.phone,
        is_verified: v.is_verified,
    };
    Ok((StatusCode::CREATED, axum::Json(dto)).into_response())
}

/// Logs in: tokens, or 401 `mfa_required` when MFA is on and no code was given. A wrong
/// password, an unknown email and a locked account all answer 401 `unauthorized` alike
/// (finding 6); the owner of a locked account is emailed and a password reset lifts it.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, description = "Tokens", body = TokenPairDto), CommonErrors))]
pub async fn login(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Json(b): Json<LoginBody>,
) -> ApiResult<axum::Json<TokenPairDto>> {
    let req = LoginRequest {
        email: b.email,
        password: b.password,
        mfa_code: b.mfa_code,
    };
    let bank = s.bank.clone();
    let t = detached(async move { bank.identity().login(req, &ctx).await }).await?;
    Ok(axum::Json(token_pair(&s, t)?))
}

/// Exchanges a refresh token for new tokens (rotation; a reused token revokes the session).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, description = "Tokens", body = TokenPairDto), CommonErrors))]
pub async fn refresh(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Json(b): Json<RefreshBody>,
) -> ApiResult<axum::Json<TokenPairDto>> {
    let bank = s.bank.clone();
    let t = detached(async move { bank.identity().refresh(&b.refresh_token, &ctx).await })
        .await
        // A refused refresh may be a reused token, which revokes its whole session.
        .inspect_err(|_| s.sessions.forget_all())?;
    Ok(axum::Json(token_pair(&s, t)?))
}

/// Ends a session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body(content = Option<LogoutBody>),
    responses((status = 204, description = "Logged out"), CommonErrors), security(("bearer" = [])))]
pub async fn logout(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    OptJson(body): OptJson<LogoutBody>,
) -> ApiResult<StatusCode> {
    let token = body.and_then(|b| b.refresh_token);
    let bank = s.bank.clone();
    let sid = auth.claims.session_id();
    let ended = detached(async move {
        match (token, sid) {
            (Some(t), _) => bank.identity().logout(&t, &ctx).await,
            (None, Some(sid)) => match bank.identity().revoke_session(&auth.actor, sid, &ctx).await
            {
                Err(BankError::NotFound { .. }) => Ok(()),
                other => other,
            },
            (None, None) => Ok(()),
        }
    })
    .await;
    // Whatever the outcome, the next request of any token re-reads its session.
    s.sessions.forget_all();
    ended?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, description = "The current user", body = MeDto), CommonErrors), security(("bearer" = [])))]
pub async fn me(State(s): State<AppState>, auth: Auth) -> ApiResult<axum::Json<MeDto>> {
    Ok(axum::Json(s.bank.identity().me(&auth.actor).await?.into()))
}

/// Starts a password reset; 202 whether or not the email exists.
#[utoipa::path(post, path = "/api/v1/auth/forgot", tag = "auth", request_body = ForgotBody,
    responses((status = 202, description = "Accepted"), CommonErrors))]
pub async fn forgot(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Json(b): Json<ForgotBody>,
) -> ApiResult<StatusCode> {
    // Answered before the engine runs (finding 6): a known email costs a token, an audit
    // entry and a delivery, an unknown one nothing, so waiting for the work would tell them
    // apart by timing. Bounded: past the limit every caller alike is asked to retry.
    let permit = s
        .reset_requests
        .clone()
        .try_acquire_owned()
        .map_err(|_| BankError::Overloaded("too many password resets in progress".into()))?;
    let bank = s.bank.clone();
    tokio::spawn(async move {
        let _permit = permit;
        if let Err(e) =
            detached(async move { bank.identity().forgot_password(&b.email, &ctx).await }).await
        {
            tracing::warn!(code = e.code(), "password reset request failed");
        }
    });
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the emailed token; every session is revoked.
#[utoipa::path(post, path = "/api/v1/auth/reset", tag = "auth", request_body = ResetBody,
    responses((status = 204, description = "Password changed"), CommonErrors))]
pub async fn reset(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Json(b): Json<ResetBody>,
) -> ApiResult<StatusCode> {
    let bank = s.bank.clone();
    detached(async move {
        bank.identity()
            .reset_password(&b.token, &b.password, &ctx)
            .await
    })
    .await?;
    // The reset revoked every session of the user.
    s.sessions.forget_all();
    Ok(StatusCode::NO_CONTENT)
}

/// Verifies the caller's email (or phone) with the code sent to it.
#[utoipa::path(post, path = "/api/v1/auth/verify", tag = "auth", request_body = CodeBody,
    responses((status = 204, description = "Verified"), CommonErrors), security(("bearer" = [])))]
pub async fn verify(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    Json(b): Json<CodeBody>,
) -> ApiResult<StatusCode> {
    let ch = channel(b.channel.as_deref())?;
    let bank = s.bank.clone();
    detached(async move {
        bank.identity()
            .verify_contact(&auth.actor, ch, &b.code, &ctx)
            .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a new verification code.
#[utoipa::path(post, path = "/api/v1/auth/verify/resend", tag = "auth", request_body(content = Option<ResendBody>),
    responses((status = 204, description = "Sent"), CommonErrors), security(("bearer" = [])))]
pub async fn resend(
    State(s): State<AppState>,
    auth: Auth,
    OptJson(body): OptJson<ResendBody>,
) -> ApiResult<StatusCode> {
    let ch = channel(body.and_then(|b| b.channel).as_deref())?;
    let bank = s.bank.clone();
    detached(async move { bank.identity().resend_verification(&auth.actor, ch).await }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts TOTP enrolment (needs the current password).
#[utoipa::path(post, path = "/api/v1/auth/mfa/setup", tag = "auth", request_body = MfaSetupBody,
    responses((status = 200, description = "Secret for the authenticator app", body = MfaSetupDto), CommonErrors), security(("bearer" = [])))]
pub async fn mfa_setup(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    Json(b): Json<MfaSetupBody>,
) -> ApiResult<axum::Json<MfaSetupDto>> {
    let bank = s.bank.clone();
    let m = detached(async move {
        bank.identity()
            .mfa_setup(&auth.actor, &b.password, &ctx)
            .await
    })
    .await?;
    Ok(axum::Json(MfaSetupDto {
        secret: m.secret.clone(),
        otpauth_url: m.otpauth_url.clone(),
    }))
}

/// MFA recovery codes: shown once, each usable once at login instead of a TOTP code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesDto {
    /// The codes (`XXXX-XXXX-XXXX-XXXX`); the server keeps only their hashes.
    pub recovery_codes: Vec<String>,
}

/// Regenerating recovery codes: the current password.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryCodesBody {
    /// The caller's current password.
    #[schema(format = Password)]
    pub password: String,
}

/// Turns MFA on (needs the current password and a valid code); answers the recovery codes.
#[utoipa::path(post, path = "/api/v1/auth/mfa/enable", tag = "auth", request_body = MfaChangeBody,
    responses((status = 200, description = "Enabled; the recovery codes, shown once", body = RecoveryCodesDto), CommonErrors), security(("bearer" = [])))]
pub async fn mfa_enable(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    Json(b): Json<MfaChangeBody>,
) -> ApiResult<axum::Json<RecoveryCodesDto>> {
    let bank = s.bank.clone();
    let recovery_codes = detached(async move {
        bank.identity()
            .mfa_enable(&auth.actor, &b.password, &b.code, &ctx)
            .await
    })
    .await?;
    Ok(axum::Json(RecoveryCodesDto { recovery_codes }))
}

/// Replaces the caller's MFA recovery codes (needs the current password; the old set stops
/// working). Audited.
#[utoipa::path(post, path = "/api/v1/auth/mfa/recovery-codes", tag = "auth", request_body = RecoveryCodesBody,
    responses((status = 200, description = "The new recovery codes, shown once", body = RecoveryCodesDto), CommonErrors), security(("bearer" = [])))]
pub async fn mfa_recovery_codes(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    Json(b): Json<RecoveryCodesBody>,
) -> ApiResult<axum::Json<RecoveryCodesDto>> {
    let bank = s.bank.clone();
    let recovery_codes = detached(async move {
        bank.identity()
            .regenerate_recovery_codes(&auth.actor, &b.password, &ctx)
            .await
    })
    .await?;
    Ok(axum::Json(RecoveryCodesDto { recovery_codes }))
}

/// Turns MFA off (needs the current password and a valid code).
#[utoipa::path(post, path = "/api/v1/auth/mfa/disable", tag = "auth", request_body = MfaChangeBody,
    responses((status = 204, description = "Disabled"), CommonErrors), security(("bearer" = [])))]
pub async fn mfa_disable(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    Json(b): Json<MfaChangeBody>,
) -> ApiResult<StatusCode> {
    let bank = s.bank.clone();
    detached(async move {
        bank.identity()
            .mfa_disable(&auth.actor, &b.password, &b.code, &ctx)
            .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's live sessions.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth",
    responses((status = 200, description = "Sessions", body = Page<SessionDto>), CommonErrors), security(("bearer" = [])))]
pub async fn sessions(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<Page<SessionDto>>> {
    let current = auth.claims.sid.clone();
    let items = s.bank.identity().sessions(&auth.actor).await?;
    let items = items
        .into_iter()
        .map(|v: SessionView| SessionDto {
            current: current.as_deref() == Some(v.id.to_string().as_str()),
            id: v.id.0,
            created_at: v.last_refreshed_at,
            expires_at: v.expires_at,
            ip: v.ip,
            user_agent: v.user_agent,
        })
        .collect();
    Ok(axum::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Revokes one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Revoked"), CommonErrors), security(("bearer" = [])))]
pub async fn revoke_session(
    State(s): State<AppState>,
    auth: Auth,
    Ctx(ctx): Ctx,
    PathId(id): PathId<Uuid>,
) -> ApiResult<StatusCode> {
    let bank = s.bank.clone();
    detached(async move {
        bank.identity()
            .revoke_session(&auth.actor, SessionId(id), &ctx)
            .await
    })
    .await?;
    s.sessions.forget_all();
    Ok(StatusCode::NO_CONTENT)
}
