//! Issue #16 findings 9 and 10 through the `Bank` facade on any store: lockout length,
//! refresh-token idle timeout, re-authentication for MFA changes, TOTP guess counting and
//! verification-code guesses that survive a resend.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::identity::secrets::totp_code_base32;
use crate::identity::{
    VerifyChannel, CODE_ATTEMPTS_MAX, LOCKOUT_MINUTES, LOGIN_FAILURES_MAX,
    REFRESH_IDLE_TIMEOUT_MINUTES, VERIFY_CODE_TTL_MINUTES,
};
use crate::ports::Store;
use crate::*;
use chrono::Duration;

use super::engine_ctx::{bank_on, refusal_code, Ctx, PW};

const CTX: fn() -> RequestContext = RequestContext::default;
const WRONG_PW: &str = "not-the-password-at-all";

fn login_req(email: &str, password: &str, mfa: Option<String>) -> LoginRequest {
    LoginRequest {
        email: email.into(),
        password: password.into(),
        mfa_code: mfa,
    }
}

/// The last 6-digit code mailed to `recipient`.
fn last_code(t: &Ctx, recipient: &str) -> String {
    let msgs = t.notifier.sent_to(recipient);
    let body = &msgs.last().expect("a message").body;
    body.split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')')
        .map(|w| w.trim_end_matches('.'))
        .rfind(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code in the message")
        .to_string()
}

/// A 6-digit code that is not `code`.
fn other_than(code: &str) -> String {
    if code == "000000" { "111111" } else { "000000" }.to_string()
}

pub async fn finding_9_lockout_lasts_thirty_minutes(store: Arc<dyn Store>) {
    const { assert!(LOCKOUT_MINUTES >= 30, "PCI DSS v4 8.3.4") };
    let t = bank_on(store);
    t.register("lena@example.com", None).await;
    for _ in 0..LOGIN_FAILURES_MAX {
        let r = t
            .bank
            .identity()
            .login(login_req("lena@example.com", WRONG_PW, None), &CTX())
            .await;
        assert!(r.is_err());
    }
    t.clock.advance(Duration::minutes(29));
    let locked = t
        .bank
        .identity()
        .login(login_req("lena@example.com", PW, None), &CTX())
        .await;
    // Still locked: the right password is refused (as for an unknown email, finding 6).
    assert_eq!(refusal_code(locked), "unauthorized");
    t.clock.advance(Duration::minutes(1) + Duration::seconds(1));
    t.bank
        .identity()
        .login(login_req("lena@example.com", PW, None), &CTX())
        .await
        .unwrap();
}

pub async fn finding_9_idle_refresh_token_ends_the_session(store: Arc<dyn Store>) {
    let t = bank_on(store);
    t.register("mona@example.com", None).await;
    let id = t.bank.identity();
    let mut s = id
        .login(login_req("mona@example.com", PW, None), &CTX())
        .await
        .unwrap();
    // A session in use lives on past the idle timeout, one refresh at a time.
    let step = Duration::minutes(REFRESH_IDLE_TIMEOUT_MINUTES) - Duration::seconds(1);
    for _ in 0..3 {
        t.clock.advance(step);
        s = id.refresh(&s.refresh_token, &CTX()).await.unwrap();
    }
    t.clock
        .advance(Duration::minutes(REFRESH_IDLE_TIMEOUT_MINUTES));
    assert_eq!(
        refusal_code(id.refresh(&s.refresh_token, &CTX()).await),
        "unauthorized"
    );
    // The idle session is over for its access tokens too.
    assert!(id.live_session(s.claims.sub, s.session_id).await.is_err());
}

pub async fn finding_9_mfa_changes_need_the_current_password(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let u = t.register("nina@example.com", None).await;
    let id = t.bank.identity();
    let me = id.actor_for_user(u.id).await.unwrap();
    assert_eq!(
        refusal_code(id.mfa_setup(&me, WRONG_PW, &CTX()).await),
        "unauthorized"
    );
    let setup = id.mfa_setup(&me, PW, &CTX()).await.unwrap();
    let now = || t.clock.now().timestamp();
    let code = totp_code_base32(&setup.secret, now()).unwrap();
    assert_eq!(
        refusal_code(id.mfa_enable(&me, WRONG_PW, &code, &CTX()).await),
        "unauthorized"
    );
    assert!(!id.me(&me).await.unwrap().mfa_enabled);
    id.mfa_enable(&me, PW, &code, &CTX()).await.unwrap();
    t.clock.advance(Duration::seconds(30));
    let code = totp_code_base32(&setup.secret, now()).unwrap();
    assert_eq!(
        refusal_code(id.mfa_disable(&me, WRONG_PW, &code, &CTX()).await),
        "unauthorized"
    );
    assert!(id.me(&me).await.unwrap().mfa_enabled);
    id.mfa_disable(&me, PW, &code, &CTX()).await.unwrap();
    assert!(!id.me(&me).await.unwrap().mfa_enabled);
}

pub async fn finding_10_totp_guesses_lock_the_user_out(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let u = t.register("olga@example.com", None).await;
    let id = t.bank.identity();
    let me = id.actor_for_user(u.id).await.unwrap();
    let setup = id.mfa_setup(&me, PW, &CTX()).await.unwrap();
    let code = totp_code_base32(&setup.secret, t.clock.now().timestamp()).unwrap();
    for _ in 0..LOGIN_FAILURES_MAX {
        let r = id.mfa_enable(&me, PW, &other_than(&code), &CTX()).await;
        assert_eq!(refusal_code(r), "unauthorized");
    }
    // The right code no longer helps: the guesses locked the user, as wrong passwords do.
    assert_eq!(
        refusal_code(id.mfa_enable(&me, PW, &code, &CTX()).await),
        "account_locked"
    );
    assert_eq!(
        refusal_code(
            id.login(login_req("olga@example.com", PW, None), &CTX())
                .await
        ),
        "unauthorized"
    );
    t.clock
        .advance(Duration::minutes(LOCKOUT_MINUTES) + Duration::seconds(1));
    let code = totp_code_base32(&setup.secret, t.clock.now().timestamp()).unwrap();
    id.mfa_enable(&me, PW, &code, &CTX()).await.unwrap();
}

pub async fn finding_10_resend_gives_no_fresh_guesses(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let u = t.register("pia@example.com", None).await;
    let id = t.bank.identity();
    let me = id.actor_for_user(u.id).await.unwrap();
    let wrong = |c: &str| other_than(c);
    let first = last_code(&t, "pia@example.com");
    for _ in 0..CODE_ATTEMPTS_MAX - 1 {
        let r = id
            .verify_contact(&me, VerifyChannel::Email, &wrong(&first), &CTX())
            .await;
        assert!(r.is_err());
    }
    // The resent code inherits the wrong guesses: one left. (The clock moves so the codes'
    // issue times differ: the newest code is found by issue time.)
    t.clock.advance(Duration::seconds(1));
    id.resend_verification(&me, VerifyChannel::Email)
        .await
        .unwrap();
    let second = last_code(&t, "pia@example.com");
    let r = id
        .verify_contact(&me, VerifyChannel::Email, &wrong(&second), &CTX())
        .await;
    assert!(r.is_err());
    assert!(id
        .verify_contact(&me, VerifyChannel::Email, &second, &CTX())
        .await
        .is_err());
    // With the guesses used up, a resend is refused until a code lifetime has passed.
    assert_eq!(
        refusal_code(id.resend_verification(&me, VerifyChannel::Email).await),
        "rate_limited"
    );
    t.clock
        .advance(Duration::minutes(VERIFY_CODE_TTL_MINUTES) + Duration::seconds(1));
    id.resend_verification(&me, VerifyChannel::Email)
        .await
        .unwrap();
    let third = last_code(&t, "pia@example.com");
    let v = id
        .verify_contact(&me, VerifyChannel::Email, &third, &CTX())
        .await
        .unwrap();
    assert!(v.is_verified);
}
