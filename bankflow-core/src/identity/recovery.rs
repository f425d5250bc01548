//! MFA recovery codes: a set of one-time codes a user gets when MFA is enabled (and again
//! when they regenerate them with their password), each usable once instead of a TOTP code.
//!
//! They live in the one-time-code table (purpose `MFA_RECOVERY`), stored only as SHA-256 of
//! (user, purpose, code): each code carries 80 random bits, so a plain hash is beyond brute
//! force and needs no Argon2 (unlike a password, which a person chose).

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::bank::Inner;
use crate::crypto::{constant_time_eq, open, random_array};
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::identity::secrets::{check_totp, totp_secret_base32};
use crate::identity::service::{actor_user, code_hash, totp_aad, IdentityService};
use crate::identity::{CodePurpose, OneTimeCode, UserRecord};
use crate::ids::{CodeId, UserId};
use crate::ports::UnitOfWork;

/// Recovery codes in one set (regenerating replaces the whole set).
pub const RECOVERY_CODES_PER_SET: usize = 10;
/// Random bytes per recovery code (80 bits: 16 base32 characters).
const RECOVERY_CODE_BYTES: usize = 10;
/// A recovery code has no natural expiry (it lasts until used or replaced); the code table
/// needs one, so it is set this far ahead.
const RECOVERY_CODE_LIFETIME_DAYS: i64 = 3_650;

/// The second factor a login presented, as checked.
pub(super) enum SecondFactor {
    /// A TOTP code of this time step.
    Totp(i64),
    /// An unused recovery code (now used up).
    Recovery,
    /// Neither.
    Wrong,
}

/// Upper-case base32 without separators, or `None` when `code` cannot be a recovery code
/// (a 6-digit TOTP code, say). Users may type dashes, spaces and lower case.
fn normalise(code: &str) -> Option<String> {
    let s: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let base32 = |c: char| c.is_ascii_uppercase() || ('2'..='7').contains(&c);
    (s.len() == RECOVERY_CODE_BYTES * 8 / 5 && s.chars().all(base32)).then_some(s)
}

/// `ABCD-EFGH-IJKL-MNOP`: groups of four are easier to copy from paper.
fn display(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

fn recovery_hash(user: UserId, normalised: &str) -> String {
    code_hash(user, CodePurpose::MfaRecovery, normalised)
}

impl Inner {
    /// Replaces `user`'s recovery codes with a fresh set and returns it (shown once).
    pub(super) async fn issue_recovery_codes(
        &self,
        uow: &mut dyn UnitOfWork,
        user: UserId,
    ) -> BankResult<Vec<String>> {
        let now = self.now_us();
        uow.consume_codes(user, CodePurpose::MfaRecovery, now)
            .await?;
        let mut out = Vec::with_capacity(RECOVERY_CODES_PER_SET);
        for _ in 0..RECOVERY_CODES_PER_SET {
            let code = totp_secret_base32(&random_array::<RECOVERY_CODE_BYTES>()?);
            uow.insert_code(&self.recovery_row(user, &code, now))
                .await?;
            out.push(display(&code));
        }
        Ok(out)
    }

    fn recovery_row(&self, user: UserId, code: &str, now: DateTime<Utc>) -> OneTimeCode {
        OneTimeCode {
            id: CodeId(self.new_uuid()),
            user_id: user,
            purpose: CodePurpose::MfaRecovery,
            code_hash: recovery_hash(user, code),
            attempts: 0,
            expires_at: now + Duration::days(RECOVERY_CODE_LIFETIME_DAYS),
            used_at: None,
            created_at: now,
        }
    }

    /// Uses up `code` when it is one of `user`'s unused recovery codes; false otherwise.
    async fn use_recovery_code(
        &self,
        uow: &mut dyn UnitOfWork,
        user: UserId,
        code: &str,
    ) -> BankResult<bool> {
        let Some(code) = normalise(code) else {
            return Ok(false);
        };
        let hash = recovery_hash(user, &code);
        let now = self.now_us();
        let Some(mut row) = uow.code_by_hash(CodePurpose::MfaRecovery, &hash).await? else {
            return Ok(false);
        };
        let live = row.user_id == user && row.used_at.is_none() && row.expires_at > now;
        if !live || !constant_time_eq(row.code_hash.as_bytes(), hash.as_bytes()) {
            return Ok(false);
        }
        row.used_at = Some(now);
        uow.update_code(&row).await?;
        Ok(true)
    }

    /// Checks a login's second factor: a TOTP code (6 digits) or, failing that, a recovery
    /// code (used up when it matches). The caller counts `Wrong` toward the lockout.
    pub(super) async fn check_second_factor(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &UserRecord,
        code: &str,
    ) -> BankResult<SecondFactor> {
        let sealed = user
            .mfa_secret
            .clone()
            .ok_or_else(|| BankError::Invariant("MFA enabled without a secret".into()))?;
        let secret = open(&*self.keys, &sealed, &totp_aad(user.id))?;
        let now = self.now_us().timestamp();
        if let Some(step) = check_totp(&secret, code, now, user.mfa_last_step)? {
            return Ok(SecondFactor::Totp(step));
        }
        if self.use_recovery_code(uow, user.id, code).await? {
            return Ok(SecondFactor::Recovery);
        }
        Ok(SecondFactor::Wrong)
    }

    /// The proof an MFA change needs: `None` when `code` proves nothing, else the TOTP step
    /// to remember. Turning MFA on takes only the app's code (it proves the app holds the
    /// new secret); turning it off also takes a recovery code, so whoever lost the
    /// authenticator can sign in with one, turn MFA off and enrol a new app.
    pub(super) async fn mfa_change_factor(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &UserRecord,
        code: &str,
        enable: bool,
    ) -> BankResult<Option<Option<i64>>> {
        if enable {
            let sealed = user
                .mfa_secret
                .clone()
                .ok_or_else(|| BankError::InvalidState("run MFA setup first".into()))?;
            let secret = open(&*self.keys, &sealed, &totp_aad(user.id))?;
            let now = self.now_us().timestamp();
            return Ok(check_totp(&secret, code, now, user.mfa_last_step)?.map(Some));
        }
        Ok(match self.check_second_factor(uow, user, code).await? {
            SecondFactor::Totp(step) => Some(Some(step)),
            SecondFactor::Recovery => Some(user.mfa_last_step),
            SecondFactor::Wrong => None,
        })
    }
}

impl IdentityService<'_> {
    /// Replaces the caller's MFA recovery codes with a fresh set (shown once; the old set
    /// stops working). Needs the current password (counted toward the lockout when wrong)
    /// and MFA enabled. Audited.
    pub async fn regenerate_recovery_codes(
        &self,
        actor: &Actor,
        password: &str,
        ctx: &RequestContext,
    ) -> BankResult<Vec<String>> {
        const ACTION: &str = "auth.mfa_recovery_codes";
        let uid = actor_user(actor)?;
        let proof = self.password_proof(uid, password).await?;
        let result: BankResult<Vec<String>> = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let mut user = Inner::load_user(uow, uid).await?;
                    if let Err(e) = self
                        .reauthenticate(uow, &mut user, &proof, actor, ACTION, ctx)
                        .await?
                    {
                        return Ok(Err(e));
                    }
                    if !user.mfa_enabled {
                        return Err(BankError::InvalidState(
                            "multi-factor authentication is not enabled".into(),
                        ));
                    }
                    let codes = self.issue_recovery_codes(uow, uid).await?;
                    let ev = AuditEvent::new(ACTION, "user", uid)
                        .detail(json!({"codes": codes.len()}))
                        .ctx(ctx);
                    self.audit(uow, actor, ev).await?;
                    Ok(Ok(codes))
                })
            })
            .await?;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_told_from_totp_codes_and_typed_loosely() {
        assert_eq!(normalise("123456"), None);
        assert_eq!(
            normalise("abcd-efgh-ijkl-mnop").as_deref(),
            Some("ABCDEFGHIJKLMNOP")
        );
        assert_eq!(normalise("ABCD EFGH IJKL MNO1"), None);
        assert_eq!(display("ABCDEFGHIJKLMNOP"), "ABCD-EFGH-IJKL-MNOP");
    }
}
