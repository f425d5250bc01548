//! Identity use cases: registration, verification, login, roles and claims.
//!
//! Password hashing (tens of milliseconds) always runs *outside* write units of work, so a
//! login never holds the store's write locks while Argon2 runs; the unit then re-reads the
//! user and applies the outcome.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{AuditEvent, AuditOutcome};
use crate::auth::{Actor, Role};
use crate::bank::Inner;
use crate::crypto::sha256_hex;
use crate::error::{BankError, BankResult};
use crate::events::EventType;
use crate::fraud_port::RequestContext;
use crate::identity::recovery::SecondFactor;
use crate::identity::secrets::{dummy_hash, hash_password, verify_password};
use crate::identity::{Claims, CodePurpose, Email, Password, UserRecord};
use crate::ids::{CustomerId, SessionId, UserId};
use crate::notify::{vars, Delivery};
use crate::ports::{TxMode, UnitOfWork};

crate::bank::context_service!(
    /// The identity context's use cases (users, sessions, passwords, MFA): `bank.identity()`.
    IdentityService,
    identity
);

/// Consecutive failed sign-in proofs (wrong passwords and wrong TOTP codes, at login or at
/// MFA enrolment) that lock the user out.
pub const LOGIN_FAILURES_MAX: u32 = 5;
/// How long a lockout lasts: PCI DSS v4 8.3.4 asks for at least 30 minutes.
pub const LOCKOUT_MINUTES: i64 = 30;
/// Refresh-token lifetime (absolute: rotation keeps the family's expiry).
pub const REFRESH_TTL_DAYS: i64 = 7;
/// A session whose refresh token was not used for this long is over (sign in again).
/// PCI DSS v4 8.2.8 asks for re-authentication after 15 idle minutes; access tokens live 15
/// minutes and an active client refreshes when one expires, so a refresh token unused for
/// 15 minutes beyond an access token's life means nobody used the session for 15 minutes.
pub const REFRESH_IDLE_TIMEOUT_MINUTES: i64 = 30;
/// Verification-code lifetime.
pub const VERIFY_CODE_TTL_MINUTES: i64 = 15;
/// Password-reset-token lifetime.
pub const RESET_TOKEN_TTL_MINUTES: i64 = 30;
/// Wrong guesses a verification code survives. The count carries over to a resent code
/// issued within [`VERIFY_CODE_TTL_MINUTES`] of the last one, so resending buys no guesses.
pub const CODE_ATTEMPTS_MAX: u32 = 5;
/// Most live sessions listed.
pub const SESSIONS_LIST_MAX: u32 = 100;
/// Issuer shown in authenticator apps.
pub const TOTP_ISSUER: &str = "BankFlow";

pub(super) const INVALID_CREDENTIALS: &str = "invalid email or password";

/// `POST /auth/register`.
#[derive(Clone, Debug)]
pub struct RegisterRequest {
    /// Email (normalised).
    pub email: String,
    /// Password (policy-checked).
    pub password: String,
    /// Optional E.164 phone.
    pub phone: Option<String>,
}

/// `POST /auth/login`.
#[derive(Clone)]
pub struct LoginRequest {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
    /// TOTP code, when MFA is enabled.
    pub mfa_code: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LoginRequest({}, <redacted>)", self.email)
    }
}

/// A user as shown to clients (`GET /auth/me`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
    /// The user's customer profile.
    pub customer_id: Option<CustomerId>,
    /// Email verified (the seed's `is_verified`).
    pub is_verified: bool,
    /// Phone verified.
    pub phone_verified: bool,
    /// TOTP enforced at login.
    pub mfa_enabled: bool,
    /// Last successful login.
    pub last_login: Option<DateTime<Utc>>,
    /// Registered.
    pub created_at: DateTime<Utc>,
}

/// What a login or refresh hands the HTTP adapter: claims to sign into a short-lived access
/// token, and the refresh token (shown once; only its hash is stored).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthTokens {
    /// Access-token claims.
    pub claims: Claims,
    /// Refresh token (256 bits, hex).
    pub refresh_token: String,
    /// When the refresh token (and its whole family) expires.
    pub refresh_expires_at: DateTime<Utc>,
    /// The session (family) id, for `GET /auth/sessions` and revocation.
    pub session_id: SessionId,
}

impl std::fmt::Debug for AuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AuthTokens({:?}, session {}, refresh <redacted>)",
            self.claims, self.session_id
        )
    }
}

/// A live login session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Session (family) id.
    pub id: SessionId,
    /// Last issued (login or refresh).
    pub last_refreshed_at: DateTime<Utc>,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// IP at login.
    pub ip: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
}

/// `POST /auth/mfa/setup` result: give the secret to an authenticator app.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaSetup {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI (QR code content).
    pub otpauth_url: String,
}

impl std::fmt::Debug for MfaSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaSetup(<redacted>)")
    }
}

/// Which contact a verification code is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerifyChannel {
    /// The email address.
    Email,
    /// The phone number.
    Phone,
}

pub(super) fn code_hash(user: UserId, purpose: CodePurpose, code: &str) -> String {
    sha256_hex(&[
        user.to_string().as_bytes(),
        purpose.as_str().as_bytes(),
        code.as_bytes(),
    ])
}

pub(super) fn reset_hash(token: &str) -> String {
    sha256_hex(&[b"password-reset", token.trim().as_bytes()])
}

pub(super) fn refresh_hash(token: &str) -> String {
    sha256_hex(&[b"refresh", token.trim().as_bytes()])
}

pub(crate) fn totp_aad(user: UserId) -> String {
    format!("totp:{user}")
}

pub(super) fn actor_user(actor: &Actor) -> BankResult<UserId> {
    actor
        .user_id
        .ok_or_else(|| BankError::Unauthorized("a user is required".into()))
}

impl IdentityService<'_> {
    /// Registers a customer user: unique normalised email (and phone), password policy,
    /// Argon2id hash; emits `user.registered`, sends the welcome message and verification
    /// code(s). For embedders: a taken email or phone is refused with `conflict`. Public
    /// sign-up goes through [`IdentityService::sign_up`], which answers alike (finding 6).
    pub async fn register(
        &self,
        req: RegisterRequest,
        ctx: &RequestContext,
    ) -> BankResult<UserView> {
        let (email, phone, password) = super::signup::parse_request(&req)?;
        let hash = self.hash_off_worker(&password).await?;
        let (user, deliveries) = self
            .write(|uow, events, _| {
                Box::pin(self.insert_customer_user(
                    uow,
                    events,
                    (&email, phone.as_ref(), &hash),
                    ctx,
                ))
            })
            .await?;
        self.deliver(deliveries).await;
        Ok(Inner::user_view(&user, None))
    }

    /// Sends a new verification code for the caller's email or phone. The new code inherits
    /// the wrong guesses of the last one (finding 10); `RateLimited` once they are used up.
    pub async fn resend_verification(
        &self,
        actor: &Actor,
        channel: VerifyChannel,
    ) -> BankResult<()> {
        let uid = actor_user(actor)?;
        let deliveries = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let user = Inner::load_user(uow, uid).await?;
                    match channel {
                        VerifyChannel::Email if user.email_verified => {
                            return Err(BankError::InvalidState("email already verified".into()))
                        }
                        VerifyChannel::Phone if user.phone.is_none() => {
                            return Err(BankError::validation("channel", "no phone on file"))
                        }
                        VerifyChannel::Phone if user.phone_verified => {
                            return Err(BankError::InvalidState("phone already verified".into()))
                        }
                        _ => {}
                    }
                    let purpose = match channel {
                        VerifyChannel::Email => CodePurpose::VerifyEmail,
                        VerifyChannel::Phone => CodePurpose::VerifyPhone,
                    };
                    self.refuse_exhausted_resend(uow, uid, purpose).await?;
                    self.send_verification(uow, &user, channel).await
                })
            })
            .await?;
        self.deliver(deliveries).await;
        Ok(())
    }

    /// Verifies the caller's email or phone with the code sent to it (single use, 15 minutes,
    /// 5 guesses, which a resend does not renew). Emits `user.verified`.
    pub async fn verify_contact(
        &self,
        actor: &Actor,
        channel: VerifyChannel,
        code: &str,
        ctx: &RequestContext,
    ) -> BankResult<UserView> {
        let uid = actor_user(actor)?;
        let purpose = match channel {
            VerifyChannel::Email => CodePurpose::VerifyEmail,
            VerifyChannel::Phone => CodePurpose::VerifyPhone,
        };
        let outcome: BankResult<UserRecord> = self
            .write(|uow, events, _| {
                Box::pin(async {
                    let (uow, events) = (uow, events);
                    let now = self.now_us();
                    let bad = Err(BankError::validation("code", "invalid or expired code"));
                    let Some(mut c) = uow.latest_code(uid, purpose).await? else {
                        return Ok(bad);
                    };
                    if c.used_at.is_some() || c.expires_at <= now || c.attempts >= CODE_ATTEMPTS_MAX
                    {
                        return Ok(bad);
                    }
                    if !crate::crypto::constant_time_eq(
                        code_hash(uid, purpose, code.trim()).as_bytes(),
                        c.code_hash.as_bytes(),
                    ) {
                        c.attempts += 1;
                        uow.update_code(&c).await?;
                        self.audit(
                            uow,
                            actor,
                            AuditEvent::new("auth.verify", "user", uid)
                                .outcome(AuditOutcome::Failure)
                                .ctx(ctx),
                        )
                        .await?;
                        return Ok(bad);
                    }
                    c.used_at = Some(now);
                    uow.update_code(&c).await?;
                    let mut user = Inner::load_user(uow, uid).await?;
                    match channel {
                        VerifyChannel::Email => user.email_verified = true,
                        VerifyChannel::Phone => user.phone_verified = true,
                    }
                    user.updated_at = now;
                    uow.update_user(&user).await?;
                    let which = if channel == VerifyChannel::Email {
                        "email"
                    } else {
                        "phone"
                    };
                    events.push(self.json_event(
                        EventType::UserVerified,
                        uid.0,
                        json!({"userId": uid.to_string(), "channel": which}),
                    ));
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new("auth.verify", "user", uid)
                            .detail(json!({"channel": which}))
                            .ctx(ctx),
                    )
                    .await?;
                    Ok(Ok(user))
                })
            })
            .await?;
        let user = outcome?;
        let customer = self.customer_id_of(user.id).await?;
        Ok(Inner::user_view(&user, customer))
    }

    /// Logs in: generic refusal for an unknown email or a wrong password (an unknown email
    /// costs the same Argon2 work), lockout for [`LOCKOUT_MINUTES`] after
    /// [`LOGIN_FAILURES_MAX`] consecutive failed proofs (wrong passwords or TOTP codes), TOTP
    /// when enabled (`mfa_required` without a code). Starts a session family.
    pub async fn login(&self, req: LoginRequest, ctx: &RequestContext) -> BankResult<AuthTokens> {
        let email = Email::parse(&req.email)
            .map_err(|_| BankError::Unauthorized(INVALID_CREDENTIALS.into()))?;
        let found = self
            .store
            .begin(TxMode::Read)
            .await?
            .user_by_email(&email)
            .await?;
        // The expensive check happens with no lock held.
        let password_ok = self
            .verify_off_worker(
                &req.password,
                found.as_ref().map_or(dummy_hash(), |u| &u.password_hash),
            )
            .await?;
        let Some(found) = found else {
            let anon = Actor {
                user_id: None,
                customer_id: None,
                roles: Vec::new(),
                system: false,
            };
            let ev = AuditEvent::new("auth.login", "user", email.as_str())
                .outcome(AuditOutcome::Failure)
                .detail(json!({"reason": "unknown email"}))
                .ctx(ctx);
            self.audit_now(&anon, ev).await?;
            return Err(BankError::Unauthorized(INVALID_CREDENTIALS.into()));
        };
        let result: BankResult<(AuthTokens, Vec<Delivery>)> = self.write(|uow, events, _| {
            Box::pin(async {
            let (uow, events) = (uow, events);
            let now = self.now_us();
            let mut user = Inner::load_user(uow, found.id).await?;
            let who = Actor::customer(user.id, None);
            let fail = |reason: &str| {
                AuditEvent::new("auth.login", "user", user.id)
                    .outcome(AuditOutcome::Failure)
                    .detail(json!({"reason": reason}))
                    .ctx(ctx)
            };
            // A locked account answers like an unknown email (finding 6): a distinct answer
            // would tell anyone which addresses have accounts. The owner learnt of the lock
            // by email when it began (`count_failed_proof`) and can lift it with a reset.
            if user.locked_until.is_some_and(|t| t > now) {
                self.audit(uow, &who, fail("locked")).await?;
                return Ok(Err(BankError::Unauthorized(INVALID_CREDENTIALS.into())));
            }
            // A password changed since it was verified counts as wrong.
            let password_ok = password_ok && user.password_hash == found.password_hash;
            if !user.is_active {
                self.audit(uow, &who, fail("inactive")).await?;
                return Ok(Err(BankError::Unauthorized(INVALID_CREDENTIALS.into())));
            }
            let mut mfa_step = None;
            let mut failure = None;
            if !password_ok {
                failure = Some((
                    "wrong password",
                    BankError::Unauthorized(INVALID_CREDENTIALS.into()),
                ));
            } else if user.mfa_enabled {
                match req.mfa_code.as_deref() {
                    None => {
                        self.audit(uow, &who, fail("mfa required")).await?;
                        return Ok(Err(BankError::MfaRequired));
                    }
                    // A TOTP code, or one of the user's recovery codes (used up here).
                    Some(code) => match self.check_second_factor(uow, &user, code).await? {
                        SecondFactor::Totp(step) => mfa_step = Some(step),
                        SecondFactor::Recovery => {
                            let ev = AuditEvent::new("auth.mfa_recovery_used", "user", user.id)
                                .ctx(ctx);
                            self.audit(uow, &who, ev).await?;
                        }
                        SecondFactor::Wrong => {
                            failure = Some((
                                "wrong mfa code",
                                BankError::Unauthorized("invalid multi-factor code".into()),
                            ))
                        }
                    },
                }
            }
            if let Some((reason, err)) = failure {
                self.audit(uow, &who, fail(reason)).await?;
                self.count_failed_proof(uow, &mut user, &who, ctx).await?;
                return Ok(Err(err));
            }
            user.failed_logins = 0;
            user.locked_until = None;
            user.last_login = Some(now);
            if mfa_step.is_some() {
                user.mfa_last_step = mfa_step;
            }
            user.updated_at = now;
            uow.update_user(&user).await?;
            let tokens = self.start_session(uow, &user, ctx, None).await?;
            events.push(self.json_event(
                EventType::UserLoggedIn,
                user.id.0,
                json!({"userId": user.id.to_string(), "sessionId": tokens.session_id.to_string(), "mfa": user.mfa_enabled}),
            ));
            self.audit(
                uow,
                &who,
                AuditEvent::new("auth.login", "user", user.id).ctx(ctx),
            )
            .await?;
            let v = vars([
                ("time", now.to_rfc3339()),
                (
                    "ip",
                    ctx.ip
                        .clone()
                        .unwrap_or_else(|| "an unknown address".into()),
                ),
            ]);
            let out = self
                .enqueue_notification(uow, &user, "new_login", &v, None)
                .await?;
            Ok(Ok((tokens, out)))
        })
        })
        .await?;
        let (tokens, deliveries) = result?;
        self.deliver(deliveries).await;
        Ok(tokens)
    }

    /// The caller (`GET /auth/me`).
    pub async fn me(&self, actor: &Actor) -> BankResult<UserView> {
        let uid = actor_user(actor)?;
        let mut uow = self.store.begin(TxMode::Read).await?;
        let user = Inner::load_user(&mut *uow, uid).await?;
        let customer = uow.customer_by_user(uid).await?.map(|c| c.id);
        Ok(Inner::user_view(&user, customer))
    }

    /// The claims for a user's access token (`Unauthorized` if the user is gone or disabled).
    pub async fn claims_for_user(&self, user: UserId) -> BankResult<Claims> {
        let mut uow = self.store.begin(TxMode::Read).await?;
        Inner::claims_in(&mut *uow, user).await
    }

    /// The [`Actor`] a user acts as, from current state (roles and customer profile as stored
    /// now, not as they were when a token was signed).
    pub async fn actor_for_user(&self, user: UserId) -> BankResult<Actor> {
        let c = self.claims_for_user(user).await?;
        Ok(Actor {
            user_id: Some(c.sub),
            customer_id: c.customer_id,
            roles: c.roles,
            system: false,
        })
    }

    /// Replaces a user's roles (admin).
    pub async fn set_user_roles(
        &self,
        actor: &Actor,
        user: UserId,
        roles: Vec<Role>,
    ) -> BankResult<UserView> {
        actor.require_admin()?;
        let mut roles = roles;
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        if roles.is_empty() {
            return Err(BankError::validation("roles", "at least one role"));
        }
        if actor.user_id == Some(user) && !roles.contains(&Role::Admin) {
            return Err(BankError::validation(
                "roles",
                "admins cannot remove their own admin role",
            ));
        }
        let u = self.write(|uow, _ev, _| {
            Box::pin(async {
            let (uow, _ev) = (uow, _ev);
            let mut u = Inner::load_user(uow, user).await?;
            let before: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            let detail = json!({"before": before, "after": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()});
            u.roles = roles.clone();
            u.updated_at = self.now_us();
            uow.update_user(&u).await?;
            self.audit(
                uow,
                actor,
                AuditEvent::new("user.roles_set", "user", user).detail(detail),
            )
            .await?;
            Ok(u)
        })
        })
        .await?;
        let customer = self.customer_id_of(u.id).await?;
        Ok(Inner::user_view(&u, customer))
    }

    /// First-start bootstrap: creates an admin with this email and password unless an admin
    /// exists already. Returns the new admin's id, or `None` when there was one.
    pub async fn ensure_admin(&self, email: &str, password: &str) -> BankResult<Option<UserId>> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        if self
            .store
            .begin(TxMode::Read)
            .await?
            .any_user_with_role(Role::Admin)
            .await?
        {
            return Ok(None);
        }
        let hash = self.hash_off_worker(&password).await?;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                if uow.any_user_with_role(Role::Admin).await? {
                    return Ok(None);
                }
                let now = self.now_us();
                let user = UserRecord::new_active(
                    UserId(self.new_uuid()),
                    email.clone(),
                    None,
                    hash.clone(),
                    vec![Role::Admin],
                    true,
                    now,
                );
                uow.insert_user(&user).await?;
                self.audit(
                    uow,
                    &Actor::system(),
                    AuditEvent::new("auth.admin_bootstrap", "user", user.id),
                )
                .await?;
                Ok(Some(user.id))
            })
        })
        .await
    }
}

impl Inner {
    /// Counts one failed sign-in proof (a wrong password or TOTP code) on `user` and saves
    /// it; the [`LOGIN_FAILURES_MAX`]th locks the user for [`LOCKOUT_MINUTES`] (audited).
    pub(super) async fn count_failed_proof(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &mut UserRecord,
        who: &Actor,
        ctx: &RequestContext,
    ) -> BankResult<()> {
        let now = self.now_us();
        user.failed_logins += 1;
        let locked = user.failed_logins >= LOGIN_FAILURES_MAX;
        if locked {
            user.failed_logins = 0;
            user.locked_until = Some(now + Duration::minutes(LOCKOUT_MINUTES));
        }
        user.updated_at = now;
        uow.update_user(user).await?;
        if locked {
            let ev = AuditEvent::new("auth.lockout", "user", user.id)
                .outcome(AuditOutcome::Failure)
                .detail(json!({"minutes": LOCKOUT_MINUTES}))
                .ctx(ctx);
            self.audit(uow, who, ev).await?;
            self.notify_locked(uow, user).await?;
        }
        Ok(())
    }

    /// Argon2id hashing (~tens of ms of CPU) runs on the runtime's blocking pool: on the
    /// async workers two logins would stall a 2-core server.
    pub(super) async fn hash_off_worker(
        &self,
        password: &Password,
    ) -> BankResult<crate::identity::PasswordHash> {
        let password = password.clone();
        self.off_worker(move || hash_password(&password)).await?
    }

    /// [`verify_password`] off the async workers, like [`Inner::hash_off_worker`].
    pub(super) async fn verify_off_worker(
        &self,
        password: &str,
        hash: &crate::identity::PasswordHash,
    ) -> BankResult<bool> {
        let (password, hash) = (password.to_string(), hash.clone());
        self.off_worker(move || verify_password(&password, &hash))
            .await
    }
}

impl Inner {
    pub(super) fn user_view(u: &UserRecord, customer_id: Option<CustomerId>) -> UserView {
        UserView {
            id: u.id,
            email: u.email.to_string(),
            phone: u.phone.as_ref().map(|p| p.to_string()),
            roles: u.roles.clone(),
            customer_id,
            is_verified: u.email_verified,
            phone_verified: u.phone_verified,
            mfa_enabled: u.mfa_enabled,
            last_login: u.last_login,
            created_at: u.created_at,
        }
    }

    /// A user's current claims in `uow` (`Unauthorized` if the user is gone or disabled).
    pub(super) async fn claims_in(uow: &mut dyn UnitOfWork, user: UserId) -> BankResult<Claims> {
        let u = uow
            .user(user)
            .await?
            .filter(|u| u.is_active)
            .ok_or_else(|| BankError::Unauthorized("unknown user".into()))?;
        let customer_id = uow.customer_by_user(user).await?.map(|c| c.id);
        Ok(Claims {
            sub: u.id,
            email: u.email.to_string(),
            roles: u.roles,
            customer_id,
        })
    }

    pub(super) async fn load_user(uow: &mut dyn UnitOfWork, id: UserId) -> BankResult<UserRecord> {
        uow.user(id)
            .await?
            .ok_or(BankError::NotFound { resource: "user" })
    }

    pub(super) async fn customer_id_of(&self, user: UserId) -> BankResult<Option<CustomerId>> {
        Ok(self
            .store
            .begin(TxMode::Read)
            .await?
            .customer_by_user(user)
            .await?
            .map(|c| c.id))
    }
}
