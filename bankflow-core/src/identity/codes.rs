//! One-time codes: issuing verification codes and reset tokens (a new one supersedes the
//! old), and the guess budget a resent code carries over, so resending never buys fresh
//! guesses.

use chrono::{DateTime, Duration, Utc};

use crate::bank::Inner;
use crate::crypto::{random_digits, random_token};
use crate::error::{BankError, BankResult};
use crate::identity::service::{
    code_hash, reset_hash, VerifyChannel, CODE_ATTEMPTS_MAX, RESET_TOKEN_TTL_MINUTES,
    VERIFY_CODE_TTL_MINUTES,
};
use crate::identity::{CodePurpose, OneTimeCode, UserRecord};
use crate::ids::{CodeId, UserId};
use crate::notify::{vars, Delivery};
use crate::ports::UnitOfWork;

impl Inner {
    /// Issues a fresh single-use code (older ones of the same purpose die) and returns it.
    pub(super) async fn issue_code(
        &self,
        uow: &mut dyn UnitOfWork,
        user: UserId,
        purpose: CodePurpose,
    ) -> BankResult<String> {
        let now = self.now_us();
        let attempts = Self::carried_attempts(uow, user, purpose, now).await?;
        uow.consume_codes(user, purpose, now).await?;
        let (code, hash, ttl) = match purpose {
            CodePurpose::PasswordReset => {
                let t = random_token()?;
                let h = reset_hash(&t);
                (t, h, Duration::minutes(RESET_TOKEN_TTL_MINUTES))
            }
            CodePurpose::MfaRecovery => {
                return Err(BankError::Invariant(
                    "recovery codes are issued as a set (recovery.rs)".into(),
                ))
            }
            CodePurpose::VerifyEmail | CodePurpose::VerifyPhone => {
                let c = random_digits(6)?;
                let h = code_hash(user, purpose, &c);
                (c, h, Duration::minutes(VERIFY_CODE_TTL_MINUTES))
            }
        };
        uow.insert_code(&OneTimeCode {
            id: CodeId(self.new_uuid()),
            user_id: user,
            purpose,
            code_hash: hash,
            attempts,
            expires_at: now + ttl,
            used_at: None,
            created_at: now,
        })
        .await?;
        Ok(code)
    }

    /// Wrong guesses a new code starts with: those of the code it supersedes when that one
    /// was issued within a code lifetime, so resending never buys fresh guesses.
    async fn carried_attempts(
        uow: &mut dyn UnitOfWork,
        user: UserId,
        purpose: CodePurpose,
        now: DateTime<Utc>,
    ) -> BankResult<u32> {
        if purpose == CodePurpose::PasswordReset {
            return Ok(0);
        }
        let window_start = now - Duration::minutes(VERIFY_CODE_TTL_MINUTES);
        Ok(uow
            .latest_code(user, purpose)
            .await?
            .filter(|c| c.created_at > window_start)
            .map_or(0, |c| c.attempts))
    }

    /// `RateLimited` while the last code of `purpose` has used up its guesses and a resent
    /// code would still carry them: the caller waits out a code lifetime instead.
    pub(super) async fn refuse_exhausted_resend(
        &self,
        uow: &mut dyn UnitOfWork,
        user: UserId,
        purpose: CodePurpose,
    ) -> BankResult<()> {
        let carried = Self::carried_attempts(uow, user, purpose, self.now_us()).await?;
        if carried >= CODE_ATTEMPTS_MAX {
            return Err(BankError::RateLimited);
        }
        Ok(())
    }

    pub(super) async fn send_verification(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &UserRecord,
        channel: VerifyChannel,
    ) -> BankResult<Vec<Delivery>> {
        let (purpose, template) = match channel {
            VerifyChannel::Email => (CodePurpose::VerifyEmail, "verify_email"),
            VerifyChannel::Phone => (CodePurpose::VerifyPhone, "verify_phone"),
        };
        let code = self.issue_code(uow, user.id, purpose).await?;
        let v = vars([
            ("code", code),
            ("minutes", VERIFY_CODE_TTL_MINUTES.to_string()),
        ]);
        self.enqueue_notification(uow, user, template, &v, None)
            .await
    }
}
