//! Identity context data: users, sessions, single-use codes, and the newtypes that make
//! invalid emails, phones and passwords unrepresentable.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::string_enum;
use crate::auth::{Actor, Role};
use crate::crypto::Sealed;
use crate::error::{BankError, BankResult};
use crate::ids::{CodeId, CustomerId, SessionId, UserId};

/// Longest email accepted (RFC 5321 path limit).
pub const EMAIL_LEN_MAX: usize = 254;
/// Shortest password accepted (NIST SP 800-63B / OWASP ASVS: length, not composition).
pub const PASSWORD_LEN_MIN: usize = 12;
/// Longest password accepted (bounds the hashing work one request can cause).
pub const PASSWORD_LEN_MAX: usize = 128;

/// A normalised email address: trimmed, lower-cased, one `@`, a dotted domain.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an email address.
    pub fn parse(s: &str) -> BankResult<Email> {
        let e = s.trim().to_ascii_lowercase();
        let bad = |m: &str| Err(BankError::validation("email", m));
        if e.is_empty() || e.len() > EMAIL_LEN_MAX {
            return bad("an email has 3 to 254 characters");
        }
        if !e.is_ascii()
            || e.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
        {
            return bad("an email has no spaces or special characters");
        }
        let Some((local, domain)) = e.split_once('@') else {
            return bad("an email has an @");
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return bad("an email has one @ after a local part of 1 to 64 characters");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return bad("the domain must look like example.com");
        }
        Ok(Email(e))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl TryFrom<String> for Email {
    type Error = BankError;
    fn try_from(s: String) -> BankResult<Self> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

/// A phone number in E.164 form: `+` then 8 to 15 digits, the first not zero.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number; spaces, dashes, dots and parentheses people type are ignored.
    pub fn parse(s: &str) -> BankResult<Phone> {
        let p: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = p.strip_prefix('+').unwrap_or("");
        if digits.len() < 8
            || digits.len() > 15
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(BankError::validation(
                "phone",
                "use E.164 form, e.g. +14155550123",
            ));
        }
        Ok(Phone(p))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = BankError;
    fn try_from(s: String) -> BankResult<Self> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.0)
    }
}

/// The common-password list shipped with the engine (lower-case, one per line).
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A password that meets the policy: 12 to 128 characters, not a common password.
/// Never printed, never stored (only its Argon2id hash is).
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the policy. No composition rules (they make passwords weaker, per NIST).
    pub fn parse(s: &str) -> BankResult<Password> {
        let n = s.chars().count();
        if n < PASSWORD_LEN_MIN {
            return Err(BankError::validation(
                "password",
                format!("at least {PASSWORD_LEN_MIN} characters"),
            ));
        }
        if n > PASSWORD_LEN_MAX {
            return Err(BankError::validation(
                "password",
                format!("at most {PASSWORD_LEN_MAX} characters"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(BankError::validation(
                "password",
                "control characters are not allowed",
            ));
        }
        if is_common_password(s) {
            return Err(BankError::validation(
                "password",
                "this password is too common; choose another",
            ));
        }
        Ok(Password(s.to_string()))
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// True when `s` (case-insensitively) is on the shipped common-password list.
pub fn is_common_password(s: &str) -> bool {
    let lower = s.to_lowercase();
    COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#') && l == lower)
}

/// An Argon2id hash in PHC string form. Not secret by itself, but never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<argon2id>)")
    }
}

/// A user (login identity) as stored: the seed's `users` table plus lockout and MFA state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Normalised email; unique.
    pub email: Email,
    /// E.164 phone; unique when present.
    pub phone: Option<Phone>,
    /// Argon2id PHC string.
    pub password_hash: PasswordHash,
    /// Granted roles (at least one).
    pub roles: Vec<Role>,
    /// Email verified (the seed's `is_verified`).
    pub email_verified: bool,
    /// Phone verified.
    pub phone_verified: bool,
    /// False when an admin disabled the user.
    pub is_active: bool,
    /// Consecutive failed logins since the last success or lockout.
    pub failed_logins: u32,
    /// Logins are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last successful login.
    pub last_login: Option<DateTime<Utc>>,
    /// TOTP secret, sealed with the key provider (present from MFA setup on).
    pub mfa_secret: Option<Sealed>,
    /// MFA enforced at login.
    pub mfa_enabled: bool,
    /// Last accepted TOTP time step: a code is accepted only for a later step (no replay).
    pub mfa_last_step: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl UserRecord {
    /// A new active user with `roles`: no failed logins, no lock, no MFA, the phone (if any)
    /// unverified, created and updated at `now`.
    pub fn new_active(
        id: UserId,
        email: Email,
        phone: Option<Phone>,
        password_hash: PasswordHash,
        roles: Vec<Role>,
        email_verified: bool,
        now: DateTime<Utc>,
    ) -> UserRecord {
        UserRecord {
            id,
            email,
            phone,
            password_hash,
            roles,
            email_verified,
            phone_verified: false,
            is_active: true,
            failed_logins: 0,
            locked_until: None,
            last_login: None,
            mfa_secret: None,
            mfa_enabled: false,
            mfa_last_step: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// One refresh token of a session family, stored only as its SHA-256.
///
/// A login starts a family (`family_id` = the first session's id). Each refresh marks the
/// presented row `rotated_at` and inserts its successor in the same family; presenting a
/// rotated token again means it was stolen, and the whole family is revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// First session of the rotation chain.
    pub family_id: SessionId,
    /// Hex SHA-256 of the refresh token; unique.
    pub token_hash: String,
    /// Issued.
    pub created_at: DateTime<Utc>,
    /// Absolute expiry of this token.
    pub expires_at: DateTime<Utc>,
    /// When a refresh replaced it.
    pub rotated_at: Option<DateTime<Utc>>,
    /// When it was revoked (logout, reuse, password reset).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Client IP at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
}

string_enum!(
    /// What a single-use code is for.
    CodePurpose, "purpose" {
        /// Verify the email address (6 digits, sent by email).
        VerifyEmail = "VERIFY_EMAIL",
        /// Verify the phone number (6 digits, sent by SMS).
        VerifyPhone = "VERIFY_PHONE",
        /// Reset a forgotten password (256-bit token, sent by email).
        PasswordReset = "PASSWORD_RESET",
        /// An MFA recovery code (80 bits, shown once when MFA is enabled or the codes are
        /// regenerated; usable once instead of a TOTP code).
        MfaRecovery = "MFA_RECOVERY",
    }
);

/// A single-use, expiring code, stored only as a hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeCode {
    /// Id.
    pub id: CodeId,
    /// Whose.
    pub user_id: UserId,
    /// What for.
    pub purpose: CodePurpose,
    /// Hex SHA-256 of (user id, purpose, code).
    pub code_hash: String,
    /// Wrong guesses so far (a code dies after a few).
    pub attempts: u32,
    /// Dead after.
    pub expires_at: DateTime<Utc>,
    /// Used (or superseded by a newer code).
    pub used_at: Option<DateTime<Utc>>,
    /// Issued.
    pub created_at: DateTime<Utc>,
}

/// A live login session as it stands now ([`super::IdentityService::live_session`]): the
/// user's roles and customer profile as stored, not as they were when a token was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    /// The session's user.
    pub user_id: UserId,
    /// The user's roles now.
    pub roles: Vec<Role>,
    /// The user's customer profile now.
    pub customer_id: Option<CustomerId>,
    /// A staff user who has not enrolled TOTP yet (finding 9): [`LiveSession::actor`] refuses
    /// with `mfa_enrolment_required` until they do.
    pub mfa_enrolment_pending: bool,
}

impl LiveSession {
    /// Like [`LiveSession::actor`], but also for a staff user who has not enrolled TOTP yet:
    /// only for the calls that let them enrol (MFA setup and enable, their own profile,
    /// their sessions). Every other call goes through [`LiveSession::actor`].
    pub fn enrolment_actor(&self, granted: &[Role]) -> BankResult<Actor> {
        self.granted_actor(granted)
    }

    /// The actor an access token issued with `granted` roles acts as (see
    /// [`LiveSession::granted_actor`]); `MfaEnrolmentRequired` for a staff user who has not
    /// enrolled TOTP: PCI DSS v4 req. 8 wants MFA before any staff function works.
    pub fn actor(&self, granted: &[Role]) -> BankResult<Actor> {
        if self.mfa_enrolment_pending {
            return Err(BankError::MfaEnrolmentRequired);
        }
        self.granted_actor(granted)
    }

    /// The actor an access token issued with `granted` roles acts as: only the roles it was
    /// issued with that the user still holds. A demotion takes effect on the next request; a
    /// promotion needs a new token (sign-in or refresh), so a token never grants more than
    /// it said. `Unauthorized` when no role is left.
    fn granted_actor(&self, granted: &[Role]) -> BankResult<Actor> {
        let roles: Vec<Role> = self
            .roles
            .iter()
            .filter(|r| granted.contains(r))
            .copied()
            .collect();
        if roles.is_empty() {
            return Err(BankError::Unauthorized(
                "the user's roles changed; sign in again".into(),
            ));
        }
        Ok(Actor {
            user_id: Some(self.user_id),
            customer_id: self.customer_id,
            roles,
            system: false,
        })
    }
}

/// The claims an access token carries; the HTTP adapter signs them (and adds iat/exp/iss/aud).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: UserId,
    /// Email.
    pub email: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// The user's customer profile, if any.
    pub customer_id: Option<CustomerId>,
}
