//! Password hashing (Argon2id, OWASP parameters) and TOTP (RFC 6238).

use std::sync::OnceLock;

use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use totp_rs::{Secret, TOTP};

use crate::crypto::random_array;
use crate::error::{BankError, BankResult};
use crate::identity::{Password, PasswordHash};

/// Argon2id memory cost: 19 MiB (OWASP Password Storage Cheat Sheet minimum).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id iterations.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_PARALLELISM: u32 = 1;
/// TOTP time step.
pub const TOTP_STEP_SECONDS: u64 = 30;
/// TOTP digits.
pub const TOTP_DIGITS: usize = 6;
/// TOTP secret length (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_LEN: usize = 20;

fn argon2() -> BankResult<Argon2<'static>> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        None,
    )
    .map_err(|e| BankError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with Argon2id and a fresh 128-bit salt. CPU- and memory-heavy by
/// design (tens of milliseconds): adapters on an async runtime may want a blocking pool.
pub fn hash_password(password: &Password) -> BankResult<PasswordHash> {
    let salt = SaltString::encode_b64(&random_array::<16>()?)
        .map_err(|e| BankError::internal(format!("salt: {e}")))?;
    let phc = argon2()?
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| BankError::internal(format!("argon2: {e}")))?;
    Ok(PasswordHash(phc.to_string()))
}

/// Checks a password against a stored hash (parameters are read from the hash, so hashes
/// made with older parameters still verify).
pub fn verify_password(password: &str, hash: &PasswordHash) -> bool {
    let Ok(parsed) = PhcHash::new(&hash.0) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash of a random password, verified against when the email is unknown so that an
/// unknown email takes as long as a wrong password (no user enumeration by timing).
pub fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Password::parse(&hex::encode(random_array::<16>().unwrap_or([7; 16])))
            .and_then(|pw| hash_password(&pw))
            .unwrap_or_else(|_| PasswordHash(String::new()))
    })
}

/// A fresh TOTP secret.
pub fn new_totp_secret() -> BankResult<Vec<u8>> {
    Ok(random_array::<TOTP_SECRET_LEN>()?.to_vec())
}

/// Base32 (RFC 4648, no padding) of a secret, as authenticator apps take it.
pub fn totp_secret_base32(secret: &[u8]) -> String {
    match Secret::Raw(secret.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => String::new(),
    }
}

fn totp(secret: &[u8]) -> BankResult<TOTP> {
    TOTP::new(
        totp_rs::Algorithm::SHA1,
        TOTP_DIGITS,
        1,
        TOTP_STEP_SECONDS,
        secret.to_vec(),
    )
    .map_err(|e| BankError::internal(format!("totp: {e}")))
}

/// The code for a given time step (for tests and authenticator simulations).
pub fn totp_code_at_step(secret: &[u8], step: i64) -> BankResult<String> {
    let t = u64::try_from(step).map_err(|_| BankError::internal("negative TOTP step"))?
        * TOTP_STEP_SECONDS;
    Ok(totp(secret)?.generate(t))
}

/// The time step of a Unix time.
pub fn totp_step(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(TOTP_STEP_SECONDS as i64)
}

/// Checks `code` at the current step ±1 (clock drift), accepting only steps later than
/// `last_step` so that no code is ever accepted twice. Returns the matched step.
pub fn check_totp(
    secret: &[u8],
    code: &str,
    unix_seconds: i64,
    last_step: Option<i64>,
) -> BankResult<Option<i64>> {
    let code = code.trim();
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let now = totp_step(unix_seconds);
    for step in [now - 1, now, now + 1] {
        if last_step.is_some_and(|l| step <= l) || step < 0 {
            continue;
        }
        let expected = totp_code_at_step(secret, step)?;
        if crate::crypto::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

/// An `otpauth://` URI for authenticator apps (QR codes).
pub fn otpauth_url(issuer: &str, account: &str, secret_base32: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The current code for a base32 secret at a Unix time, as an authenticator app shows it
/// (for tests, simulations and scripted clients).
pub fn totp_code_base32(secret_base32: &str, unix_seconds: i64) -> BankResult<String> {
    let secret = Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .map_err(|_| BankError::validation("secret", "not base32"))?;
    totp_code_at_step(&secret, totp_step(unix_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        assert_eq!(totp_code_at_step(secret, totp_step(59)).unwrap(), "287082");
        assert_eq!(
            totp_code_at_step(secret, totp_step(1_111_111_109)).unwrap(),
            "081804"
        );
    }

    #[test]
    fn totp_window_and_replay() {
        let secret = new_totp_secret().unwrap();
        let t = 1_700_000_000;
        let step = totp_step(t);
        let code = totp_code_at_step(&secret, step - 1).unwrap();
        assert_eq!(check_totp(&secret, &code, t, None).unwrap(), Some(step - 1));
        assert_eq!(check_totp(&secret, &code, t, Some(step - 1)).unwrap(), None);
        let old = totp_code_at_step(&secret, step - 2).unwrap();
        if old != code
            && old != totp_code_at_step(&secret, step).unwrap()
            && old != totp_code_at_step(&secret, step + 1).unwrap()
        {
            assert_eq!(check_totp(&secret, &old, t, None).unwrap(), None);
        }
        assert_eq!(check_totp(&secret, "12345", t, None).unwrap(), None);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let pw = Password::parse("correct horse battery").unwrap();
        let h = hash_password(&pw).unwrap();
        assert!(h.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", dummy_hash()));
    }
}
