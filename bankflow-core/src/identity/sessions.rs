//! Identity use cases after sign-in: refresh-token rotation, logout and session revocation,
//! password reset, and MFA enrolment.

use chrono::Duration;
use serde_json::json;

use crate::audit::{AuditEvent, AuditOutcome};
use crate::auth::Actor;
use crate::bank::Inner;
use crate::crypto::{random_token, seal};
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::identity::secrets::{new_totp_secret, otpauth_url, totp_secret_base32};
use crate::identity::{
    Claims, CodePurpose, Email, LiveSession, Password, PasswordHash, SessionRecord, UserRecord,
};
use crate::ids::{SessionId, UserId};
use crate::notify::{vars, Delivery};
use crate::ports::{TxMode, UnitOfWork};

use super::service::*;

impl IdentityService<'_> {
    /// Exchanges a refresh token for new tokens, rotating it. Presenting an already rotated
    /// token again revokes the whole session family (it was stolen or replayed); so does a
    /// token unused for [`REFRESH_IDLE_TIMEOUT_MINUTES`] (the session went idle).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        ctx: &RequestContext,
    ) -> BankResult<AuthTokens> {
        let hash = refresh_hash(refresh_token);
        let result: BankResult<AuthTokens> = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let now = self.now_us();
                    let invalid = || Err(BankError::Unauthorized("invalid refresh token".into()));
                    let Some(mut s) = uow.session_by_token_hash(&hash).await? else {
                        return Ok(invalid());
                    };
                    let who = Actor::customer(s.user_id, None);
                    if s.revoked_at.is_some() || s.expires_at <= now {
                        return Ok(invalid());
                    }
                    // Each refresh issues a new row, so `created_at` is the family's last use.
                    let idle_until = s.created_at + Duration::minutes(REFRESH_IDLE_TIMEOUT_MINUTES);
                    if s.rotated_at.is_none() && idle_until <= now {
                        uow.revoke_session_family(s.user_id, s.family_id, now)
                            .await?;
                        let ev = AuditEvent::new("auth.session_idle", "session", s.family_id)
                            .outcome(AuditOutcome::Failure)
                            .ctx(ctx);
                        self.audit(uow, &who, ev).await?;
                        return Ok(invalid());
                    }
                    if s.rotated_at.is_some() {
                        let n = uow
                            .revoke_session_family(s.user_id, s.family_id, now)
                            .await?;
                        let ev = AuditEvent::new("auth.refresh_reuse", "session", s.family_id)
                            .outcome(AuditOutcome::Failure)
                            .detail(json!({"revoked": n}))
                            .ctx(ctx);
                        self.audit(uow, &who, ev).await?;
                        return Ok(invalid());
                    }
                    let user = Inner::load_user(uow, s.user_id).await?;
                    if !user.is_active {
                        return Ok(invalid());
                    }
                    s.rotated_at = Some(now);
                    uow.update_session(&s).await?;
                    Ok(Ok(self.start_session(uow, &user, ctx, Some(&s)).await?))
                })
            })
            .await?;
        result
    }

    /// Ends the session the refresh token belongs to. Idempotent: an unknown or already
    /// revoked token is not an error.
    pub async fn logout(&self, refresh_token: &str, ctx: &RequestContext) -> BankResult<()> {
        let hash = refresh_hash(refresh_token);
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                let Some(s) = uow.session_by_token_hash(&hash).await? else {
                    return Ok(());
                };
                if s.revoked_at.is_some() {
                    return Ok(());
                }
                uow.revoke_session_family(s.user_id, s.family_id, self.now_us())
                    .await?;
                let who = Actor::customer(s.user_id, None);
                self.audit(
                    uow,
                    &who,
                    AuditEvent::new("auth.logout", "session", s.family_id).ctx(ctx),
                )
                .await
            })
        })
        .await
    }

    /// The caller's live sessions, newest first.
    pub async fn sessions(&self, actor: &Actor) -> BankResult<Vec<SessionView>> {
        let uid = actor_user(actor)?;
        let rows = self
            .store
            .begin(TxMode::Read)
            .await?
            .active_sessions(uid, self.now(), SESSIONS_LIST_MAX)
            .await?;
        Ok(rows
            .into_iter()
            .map(|s| SessionView {
                id: s.family_id,
                last_refreshed_at: s.created_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// The session an access token names, as it stands now, for the edge to check on every
    /// authenticated request: `Unauthorized` once the session family was revoked (logout,
    /// revocation, refresh-token reuse, password reset) or expired, or the user is gone or
    /// deactivated. One read unit; edges may cache the answer for a bounded few seconds.
    pub async fn live_session(&self, user: UserId, session: SessionId) -> BankResult<LiveSession> {
        let mut uow = self.store.begin(TxMode::Read).await?;
        if !uow.session_family_live(user, session, self.now()).await? {
            return Err(BankError::Unauthorized(
                "the session has ended; sign in again".into(),
            ));
        }
        let c = Inner::claims_in(&mut *uow, user).await?;
        let pending = Inner::load_user(&mut *uow, user).await?;
        Ok(LiveSession {
            user_id: c.sub,
            roles: c.roles,
            customer_id: c.customer_id,
            mfa_enrolment_pending: self.staff_mfa_pending(&pending),
        })
    }

    /// Revokes one of the caller's sessions (`not_found` for anyone else's).
    pub async fn revoke_session(
        &self,
        actor: &Actor,
        session: SessionId,
        ctx: &RequestContext,
    ) -> BankResult<()> {
        let uid = actor_user(actor)?;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                if uow
                    .revoke_session_family(uid, session, self.now_us())
                    .await?
                    == 0
                {
                    return Err(BankError::NotFound {
                        resource: "session",
                    });
                }
                self.audit(
                    uow,
                    actor,
                    AuditEvent::new("auth.session_revoke", "session", session).ctx(ctx),
                )
                .await
            })
        })
        .await
    }

    /// Starts a password reset: when the email belongs to a user, a single-use token valid
    /// for 30 minutes is emailed. Always succeeds the same way, so it reveals nothing.
    pub async fn forgot_password(&self, email: &str, ctx: &RequestContext) -> BankResult<()> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let deliveries = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let Some(user) = uow.user_by_email(&email).await? else {
                        return Ok(Vec::new());
                    };
                    if !user.is_active {
                        return Ok(Vec::new());
                    }
                    let token = self
                        .issue_code(uow, user.id, CodePurpose::PasswordReset)
                        .await?;
                    let who = Actor::customer(user.id, None);
                    self.audit(
                        uow,
                        &who,
                        AuditEvent::new("auth.password_reset_requested", "user", user.id).ctx(ctx),
                    )
                    .await?;
                    let v = vars([
                        ("token", token),
                        ("minutes", RESET_TOKEN_TTL_MINUTES.to_string()),
                    ]);
                    self.enqueue_notification(uow, &user, "password_reset", &v, None)
                        .await
                })
            })
            .await?;
        self.deliver(deliveries).await;
        Ok(())
    }

    /// Completes a password reset with the emailed token: sets the new password, clears any
    /// lockout and revokes every session.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        ctx: &RequestContext,
    ) -> BankResult<()> {
        let password = Password::parse(new_password)?;
        let hash = self.hash_off_worker(&password).await?;
        let th = reset_hash(token);
        let deliveries = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let now = self.now_us();
                    let invalid = BankError::Unauthorized("invalid or expired reset token".into());
                    let Some(mut code) = uow.code_by_hash(CodePurpose::PasswordReset, &th).await?
                    else {
                        return Err(invalid);
                    };
                    if code.used_at.is_some() || code.expires_at <= now {
                        return Err(invalid);
                    }
                    code.used_at = Some(now);
                    uow.update_code(&code).await?;
                    let mut user = Inner::load_user(uow, code.user_id).await?;
                    user.password_hash = hash.clone();
                    user.failed_logins = 0;
                    user.locked_until = None;
                    user.updated_at = now;
                    uow.update_user(&user).await?;
                    let revoked = uow.revoke_user_sessions(user.id, now).await?;
                    let who = Actor::customer(user.id, None);
                    let ev = AuditEvent::new("auth.password_reset", "user", user.id)
                        .detail(json!({"sessions_revoked": revoked}))
                        .ctx(ctx);
                    self.audit(uow, &who, ev).await?;
                    self.enqueue_notification(
                        uow,
                        &user,
                        "password_changed",
                        &vars([("time", now.to_rfc3339())]),
                        None,
                    )
                    .await
                })
            })
            .await?;
        self.deliver(deliveries).await;
        Ok(())
    }

    /// Starts TOTP enrolment: a new secret (sealed at rest) to load into an authenticator.
    /// MFA is enforced only after [`IdentityService::mfa_enable`] proves the app has it.
    /// Needs the current password: a bearer token alone must not change sign-in factors.
    pub async fn mfa_setup(
        &self,
        actor: &Actor,
        password: &str,
        ctx: &RequestContext,
    ) -> BankResult<MfaSetup> {
        let uid = actor_user(actor)?;
        let proof = self.password_proof(uid, password).await?;
        let secret = new_totp_secret()?;
        let email: BankResult<String> = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let mut user = Inner::load_user(uow, uid).await?;
                    if let Err(e) = self
                        .reauthenticate(uow, &mut user, &proof, actor, "auth.mfa_setup", ctx)
                        .await?
                    {
                        return Ok(Err(e));
                    }
                    if user.mfa_enabled {
                        return Err(BankError::InvalidState(
                            "multi-factor authentication is already enabled".into(),
                        ));
                    }
                    user.mfa_secret = Some(seal(&*self.keys, &secret, &totp_aad(uid))?);
                    user.mfa_last_step = None;
                    user.updated_at = self.now_us();
                    uow.update_user(&user).await?;
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new("auth.mfa_setup", "user", uid).ctx(ctx),
                    )
                    .await?;
                    Ok(Ok(user.email.to_string()))
                })
            })
            .await?;
        let email = email?;
        let b32 = totp_secret_base32(&secret);
        Ok(MfaSetup {
            otpauth_url: otpauth_url(TOTP_ISSUER, &email, &b32),
            secret: b32,
        })
    }

    /// Turns MFA on with the current password and a valid code from the authenticator.
    /// Returns the user's [`crate::identity::RECOVERY_CODES_PER_SET`] recovery codes (shown
    /// once; each works once instead of a TOTP code).
    pub async fn mfa_enable(
        &self,
        actor: &Actor,
        password: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> BankResult<Vec<String>> {
        self.mfa_change(actor, (password, code), true, ctx).await
    }

    /// Turns MFA off; needs the current password and a valid code.
    pub async fn mfa_disable(
        &self,
        actor: &Actor,
        password: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> BankResult<()> {
        self.mfa_change(actor, (password, code), false, ctx)
            .await
            .map(|_| ())
    }
}

/// A password checked (off the async workers) against the hash stored when it was read.
pub(super) struct PasswordProof {
    hash: PasswordHash,
    ok: bool,
}

impl Inner {
    /// Inserts a session row (a new family unless `family` continues one) and builds tokens.
    pub(super) async fn start_session(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &UserRecord,
        ctx: &RequestContext,
        family: Option<&SessionRecord>,
    ) -> BankResult<AuthTokens> {
        let now = self.now_us();
        let token = random_token()?;
        let id = SessionId(self.new_uuid());
        let row = SessionRecord {
            id,
            user_id: user.id,
            family_id: family.map_or(id, |f| f.family_id),
            token_hash: refresh_hash(&token),
            created_at: now,
            expires_at: family.map_or(now + Duration::days(REFRESH_TTL_DAYS), |f| f.expires_at),
            rotated_at: None,
            revoked_at: None,
            ip: family.map_or_else(|| ctx.ip.clone(), |f| f.ip.clone()),
            user_agent: family.map_or_else(|| ctx.user_agent.clone(), |f| f.user_agent.clone()),
        };
        uow.insert_session(&row).await?;
        let customer_id = uow.customer_by_user(user.id).await?.map(|c| c.id);
        Ok(AuthTokens {
            claims: Claims {
                sub: user.id,
                email: user.email.to_string(),
                roles: user.roles.clone(),
                customer_id,
            },
            refresh_token: token,
            refresh_expires_at: row.expires_at,
            session_id: row.family_id,
        })
    }

    /// Checks `password` against `user`'s stored hash with no lock held (Argon2 is slow).
    pub(super) async fn password_proof(
        &self,
        user: UserId,
        password: &str,
    ) -> BankResult<PasswordProof> {
        let hash = Inner::load_user(&mut *self.store.begin(TxMode::Read).await?, user)
            .await?
            .password_hash;
        let ok = self.verify_off_worker(password, &hash).await?;
        Ok(PasswordProof { hash, ok })
    }

    /// Re-authentication inside a write unit: `Ok(Err(AccountLocked))` while locked out,
    /// `Ok(Err(Unauthorized))` for a wrong password (counted toward the lockout, audited as
    /// a failed `action`). The caller commits either refusal so the count sticks.
    pub(super) async fn reauthenticate(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &mut UserRecord,
        proof: &PasswordProof,
        actor: &Actor,
        action: &str,
        ctx: &RequestContext,
    ) -> BankResult<Result<(), BankError>> {
        if let Some(until) = user.locked_until.filter(|t| *t > self.now_us()) {
            return Ok(Err(BankError::AccountLocked(until.to_rfc3339())));
        }
        // A password changed since it was verified counts as wrong.
        if proof.ok && proof.hash == user.password_hash {
            return Ok(Ok(()));
        }
        let ev = AuditEvent::new(action, "user", user.id)
            .outcome(AuditOutcome::Failure)
            .detail(json!({"reason": "wrong password"}))
            .ctx(ctx);
        self.audit(uow, actor, ev).await?;
        self.count_failed_proof(uow, user, actor, ctx).await?;
        Ok(Err(BankError::Unauthorized("invalid password".into())))
    }

    pub(super) async fn mfa_change(
        &self,
        actor: &Actor,
        (password, code): (&str, &str),
        enable: bool,
        ctx: &RequestContext,
    ) -> BankResult<Vec<String>> {
        let uid = actor_user(actor)?;
        let action = if enable {
            "auth.mfa_enable"
        } else {
            "auth.mfa_disable"
        };
        let proof = self.password_proof(uid, password).await?;
        let result: BankResult<(Vec<Delivery>, Vec<String>)> = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let now = self.now_us();
                    let mut user = Inner::load_user(uow, uid).await?;
                    if let Err(e) = self
                        .reauthenticate(uow, &mut user, &proof, actor, action, ctx)
                        .await?
                    {
                        return Ok(Err(e));
                    }
                    if user.mfa_enabled == enable {
                        return Err(BankError::InvalidState(format!(
                            "multi-factor authentication is already {}",
                            if enable { "enabled" } else { "disabled" }
                        )));
                    }
                    if user.mfa_secret.is_none() {
                        return Err(BankError::InvalidState("run MFA setup first".into()));
                    }
                    let Some(step) = self.mfa_change_factor(uow, &user, code, enable).await? else {
                        self.audit(
                            uow,
                            actor,
                            AuditEvent::new(action, "user", uid)
                                .outcome(AuditOutcome::Failure)
                                .ctx(ctx),
                        )
                        .await?;
                        // TOTP guesses count like wrong passwords (finding 10).
                        self.count_failed_proof(uow, &mut user, actor, ctx).await?;
                        return Ok(Err(BankError::Unauthorized(
                            "invalid multi-factor code".into(),
                        )));
                    };
                    user.mfa_enabled = enable;
                    user.mfa_last_step = step;
                    user.failed_logins = 0;
                    if !enable {
                        user.mfa_secret = None;
                    }
                    user.updated_at = now;
                    uow.update_user(&user).await?;
                    // A new set on enable; none left working once MFA is off.
                    let recovery = if enable {
                        self.issue_recovery_codes(uow, uid).await?
                    } else {
                        uow.consume_codes(uid, CodePurpose::MfaRecovery, now)
                            .await?;
                        Vec::new()
                    };
                    self.audit(uow, actor, AuditEvent::new(action, "user", uid).ctx(ctx))
                        .await?;
                    let state = if enable { "enabled" } else { "disabled" };
                    let v = vars([("state", state.to_string()), ("time", now.to_rfc3339())]);
                    let out = self
                        .enqueue_notification(uow, &user, "mfa_changed", &v, None)
                        .await?;
                    Ok(Ok((out, recovery)))
                })
            })
            .await?;
        let (deliveries, recovery) = result?;
        self.deliver(deliveries).await;
        Ok(recovery)
    }
}
