//! Identity through the `Bank` facade on any store: registration, verification,
//! login/lockout, TOTP, refresh rotation and reuse, logout, password reset, roles, bootstrap.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::identity::secrets::totp_code_base32;
use crate::identity::{VerifyChannel, LOCKOUT_MINUTES};
use crate::ports::Store;
use crate::*;
use chrono::Duration;

use super::at_rest::stored_text;
use super::engine_ctx::{bank_on, refusal_code, Ctx, PW};

type T = Ctx;

fn setup(store: Arc<dyn Store>) -> T {
    bank_on(store)
}

const CTX: fn() -> RequestContext = RequestContext::default;

fn ctx_ip(ip: &str) -> RequestContext {
    RequestContext {
        ip: Some(ip.into()),
        user_agent: Some("test-agent/1.0".into()),
        ..Default::default()
    }
}

fn login_req(email: &str, password: &str, mfa: Option<String>) -> LoginRequest {
    LoginRequest {
        email: email.into(),
        password: password.into(),
        mfa_code: mfa,
    }
}

/// The last code or token mailed to `recipient`: the last whitespace-separated word made of
/// digits (codes) or of 64 hex characters (reset tokens).
fn last_secret(t: &T, recipient: &str) -> String {
    let msgs = t.notifier.sent_to(recipient);
    let body = &msgs.last().expect("a message").body;
    body.split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')')
        .map(|w| w.trim_end_matches('.'))
        .rfind(|w| {
            (w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
                || (w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .expect("a code in the message")
        .to_string()
}

pub async fn register_normalises_and_enforces_uniqueness_and_policy(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t
        .register("  Alice@Example.COM ", Some("+1 (415) 555-0123"))
        .await;
    assert_eq!(u.email, "alice@example.com");
    assert_eq!(u.phone.as_deref(), Some("+14155550123"));
    assert_eq!(u.roles, vec![Role::Customer]);
    assert!(!u.is_verified);

    let again = t
        .bank
        .identity()
        .register(
            RegisterRequest {
                email: "alice@example.com".into(),
                password: PW.into(),
                phone: None,
            },
            &CTX(),
        )
        .await;
    assert_eq!(again.unwrap_err(), BankError::Duplicate("email"));
    let phone_taken = t
        .bank
        .identity()
        .register(
            RegisterRequest {
                email: "bob@example.com".into(),
                password: PW.into(),
                phone: Some("+14155550123".into()),
            },
            &CTX(),
        )
        .await;
    assert_eq!(phone_taken.unwrap_err(), BankError::Duplicate("phone"));

    for (email, pw, phone, field) in [
        ("carol@example.com", "short-pw-1", None, "password"),
        ("carol@example.com", "Password1234", None, "password"),
        ("carol@example.com", "qwertyuiop123", None, "password"),
        ("not-an-email", PW, None, "email"),
        ("carol@example.com", PW, Some("0123"), "phone"),
    ] {
        let r = t
            .bank
            .identity()
            .register(
                RegisterRequest {
                    email: email.into(),
                    password: pw.into(),
                    phone: phone.map(Into::into),
                },
                &CTX(),
            )
            .await;
        match r {
            Err(BankError::Validation { field: f, .. }) => assert_eq!(f, field, "{email} {pw}"),
            other => panic!("expected validation error on {field}, got {other:?}"),
        }
    }
    // user.registered is in the outbox, welcome and both codes were sent.
    let events = t.events(u.id.0).await;
    assert_eq!(events[0].event.event_type, EventType::UserRegistered);
    assert!(t
        .notifier
        .sent_to("alice@example.com")
        .iter()
        .any(|m| m.subject.as_deref() == Some("Welcome to BankFlow")));
    assert_eq!(t.notifier.sent_to("+14155550123").len(), 1);
}

pub async fn verification_codes_are_single_use_and_expire(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t.register("dave@example.com", Some("+14155550199")).await;
    let me = t.bank.identity().actor_for_user(u.id).await.unwrap();
    let code = last_secret(&t, "dave@example.com");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let err = t
        .bank
        .identity()
        .verify_contact(&me, VerifyChannel::Email, wrong, &CTX())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation_error");
    let v = t
        .bank
        .identity()
        .verify_contact(&me, VerifyChannel::Email, &code, &CTX())
        .await
        .unwrap();
    assert!(v.is_verified);
    // Single use.
    assert!(t
        .bank
        .identity()
        .verify_contact(&me, VerifyChannel::Email, &code, &CTX())
        .await
        .is_err());
    let events = t.events(u.id.0).await;
    assert!(events
        .iter()
        .any(|e| e.event.event_type == EventType::UserVerified));

    // The phone code expires after 15 minutes.
    let phone_code = last_secret(&t, "+14155550199");
    t.clock.advance(Duration::minutes(16));
    assert!(t
        .bank
        .identity()
        .verify_contact(&me, VerifyChannel::Phone, &phone_code, &CTX())
        .await
        .is_err());
    t.bank
        .identity()
        .resend_verification(&me, VerifyChannel::Phone)
        .await
        .unwrap();
    let fresh = last_secret(&t, "+14155550199");
    assert!(
        t.bank
            .identity()
            .verify_contact(&me, VerifyChannel::Phone, &fresh, &CTX())
            .await
            .unwrap()
            .phone_verified
    );
    // Already verified: resending is refused.
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .resend_verification(&me, VerifyChannel::Email)
                .await
        ),
        "invalid_state"
    );
}

pub async fn login_errors_are_generic_and_lockout_lasts_lockout_minutes(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t.register("erin@example.com", None).await;
    let unknown = t
        .bank
        .identity()
        .login(login_req("nobody@example.com", PW, None), &CTX())
        .await
        .unwrap_err();
    let wrong = t
        .bank
        .identity()
        .login(
            login_req("erin@example.com", "wrong-password-123", None),
            &CTX(),
        )
        .await
        .unwrap_err();
    assert_eq!(unknown, wrong, "no user enumeration by message");
    assert_eq!(unknown.code(), "unauthorized");

    // 1 wrong already; 4 more lock the account.
    for _ in 0..4 {
        t.bank
            .identity()
            .login(
                login_req("erin@example.com", "wrong-password-123", None),
                &CTX(),
            )
            .await
            .unwrap_err();
    }
    let locked = t
        .bank
        .identity()
        .login(login_req("erin@example.com", PW, None), &CTX())
        .await
        .unwrap_err();
    // Locked: even the right password is refused, exactly like an unknown email (finding 6).
    assert_eq!(locked.code(), "unauthorized");
    t.clock
        .advance(Duration::minutes(LOCKOUT_MINUTES) - Duration::seconds(1));
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .login(login_req("erin@example.com", PW, None), &CTX())
                .await
        ),
        "unauthorized"
    );
    t.clock.advance(Duration::seconds(2));
    let tokens = t
        .bank
        .identity()
        .login(
            login_req("ERIN@example.com", PW, None),
            &ctx_ip("203.0.113.9"),
        )
        .await
        .unwrap();
    assert_eq!(tokens.claims.sub, u.id);
    assert_eq!(tokens.claims.email, "erin@example.com");
    assert_eq!(tokens.claims.roles, vec![Role::Customer]);
    let me = t
        .bank
        .identity()
        .me(&t.bank.identity().actor_for_user(u.id).await.unwrap())
        .await
        .unwrap();
    assert_eq!(me.last_login, Some(t.clock.now()));
    // New-login security message, lockout and failures in the audit log.
    assert!(t
        .notifier
        .sent_to("erin@example.com")
        .iter()
        .any(|m| m.body.contains("203.0.113.9")));
    let log = t
        .bank
        .audit()
        .audit_log(&Actor::system(), None, 100)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == "auth.lockout"));
    assert!(log.iter().any(|e| e.action == "auth.login"
        && e.outcome == AuditOutcome::Failure
        && e.target_id.as_deref() == Some("nobody@example.com")));
    assert!(log.iter().any(|e| e.action == "auth.login"
        && e.outcome == AuditOutcome::Success
        && e.ip.as_deref() == Some("203.0.113.9")));
    assert_eq!(
        t.bank
            .audit()
            .verify_audit()
            .await
            .unwrap()
            .first_tampered_seq,
        None
    );
}

pub async fn totp_mfa_setup_enable_login_replay_and_disable(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t.register("frank@example.com", None).await;
    let me = t.bank.identity().actor_for_user(u.id).await.unwrap();
    let setup = t.bank.identity().mfa_setup(&me, PW, &CTX()).await.unwrap();
    assert!(setup
        .otpauth_url
        .starts_with("otpauth://totp/BankFlow:frank%40example.com?secret="));
    // Not enforced before enable.
    t.bank
        .identity()
        .login(login_req("frank@example.com", PW, None), &CTX())
        .await
        .unwrap();
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .mfa_enable(&me, PW, "000000x", &CTX())
                .await
        ),
        "unauthorized"
    );
    let now = || t.clock.now().timestamp();
    let code = totp_code_base32(&setup.secret, now()).unwrap();
    t.bank
        .identity()
        .mfa_enable(&me, PW, &code, &CTX())
        .await
        .unwrap();
    assert!(t.bank.identity().me(&me).await.unwrap().mfa_enabled);
    assert!(t
        .notifier
        .sent_to("frank@example.com")
        .iter()
        .any(|m| m.subject.as_deref() == Some("Two-factor authentication enabled")));

    assert_eq!(
        t.bank
            .identity()
            .login(login_req("frank@example.com", PW, None), &CTX())
            .await
            .unwrap_err(),
        BankError::MfaRequired
    );
    // The code used to enable is spent: never accepted twice.
    let replay = t
        .bank
        .identity()
        .login(
            login_req("frank@example.com", PW, Some(code.clone())),
            &CTX(),
        )
        .await
        .unwrap_err();
    assert_eq!(replay.code(), "unauthorized");
    t.clock.advance(Duration::seconds(30));
    let next = totp_code_base32(&setup.secret, now()).unwrap();
    t.bank
        .identity()
        .login(
            login_req("frank@example.com", PW, Some(next.clone())),
            &CTX(),
        )
        .await
        .unwrap();
    assert!(t
        .bank
        .identity()
        .login(login_req("frank@example.com", PW, Some(next)), &CTX())
        .await
        .is_err());
    // A code one step old is still accepted (clock drift), once.
    t.clock.advance(Duration::seconds(30));
    let drift = totp_code_base32(&setup.secret, now() - 30).unwrap();
    let current = totp_code_base32(&setup.secret, now()).unwrap();
    if drift != current {
        // The previous step was already used by the login above, so drift is refused...
        assert!(t
            .bank
            .identity()
            .login(login_req("frank@example.com", PW, Some(drift)), &CTX())
            .await
            .is_err());
    }
    t.clock.advance(Duration::seconds(30));
    // Disabling needs a valid code; a wrong one is refused.
    assert!(t
        .bank
        .identity()
        .mfa_disable(&me, PW, "123", &CTX())
        .await
        .is_err());
    let code = totp_code_base32(&setup.secret, now()).unwrap();
    t.bank
        .identity()
        .mfa_disable(&me, PW, &code, &CTX())
        .await
        .unwrap();
    t.bank
        .identity()
        .login(login_req("frank@example.com", PW, None), &CTX())
        .await
        .unwrap();
    // The TOTP secret was sealed at rest and is gone now.
    let dump = stored_text(&t.store, &[u.id]).await;
    assert!(!dump.contains(&setup.secret));
}

pub async fn refresh_rotates_and_reuse_revokes_the_family(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t.register("gina@example.com", None).await;
    let first = t
        .bank
        .identity()
        .login(
            login_req("gina@example.com", PW, None),
            &ctx_ip("198.51.100.7"),
        )
        .await
        .unwrap();
    let second = t
        .bank
        .identity()
        .refresh(&first.refresh_token, &CTX())
        .await
        .unwrap();
    assert_ne!(first.refresh_token, second.refresh_token);
    assert_eq!(first.session_id, second.session_id, "same family");
    assert_eq!(
        second.refresh_expires_at, first.refresh_expires_at,
        "absolute expiry"
    );
    let third = t
        .bank
        .identity()
        .refresh(&second.refresh_token, &CTX())
        .await
        .unwrap();

    // Replaying a rotated token: refused, and the whole family dies (third included).
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .refresh(&first.refresh_token, &CTX())
                .await
        ),
        "unauthorized"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .refresh(&third.refresh_token, &CTX())
                .await
        ),
        "unauthorized"
    );
    let me = t.bank.identity().actor_for_user(u.id).await.unwrap();
    assert!(t.bank.identity().sessions(&me).await.unwrap().is_empty());
    let log = t
        .bank
        .audit()
        .audit_log(&Actor::system(), None, 100)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == "auth.refresh_reuse"));

    // Tokens are stored only as hashes.
    let dump = stored_text(&t.store, &[u.id]).await;
    assert!(!dump.contains(&third.refresh_token));

    // Expiry after 7 days.
    let s = t
        .bank
        .identity()
        .login(login_req("gina@example.com", PW, None), &CTX())
        .await
        .unwrap();
    t.clock.advance(Duration::days(7));
    assert!(t
        .bank
        .identity()
        .refresh(&s.refresh_token, &CTX())
        .await
        .is_err());
}

pub async fn logout_and_session_revocation(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t.register("hank@example.com", None).await;
    let other = t.register("ivy@example.com", None).await;
    let a = t
        .bank
        .identity()
        .login(
            login_req("hank@example.com", PW, None),
            &ctx_ip("192.0.2.1"),
        )
        .await
        .unwrap();
    t.clock.advance(Duration::seconds(1));
    let b = t
        .bank
        .identity()
        .login(
            login_req("hank@example.com", PW, None),
            &ctx_ip("192.0.2.2"),
        )
        .await
        .unwrap();
    let me = t.bank.identity().actor_for_user(u.id).await.unwrap();
    let sessions = t.bank.identity().sessions(&me).await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, b.session_id, "newest first");
    assert_eq!(sessions[0].ip.as_deref(), Some("192.0.2.2"));

    // Another user cannot revoke my session: it does not exist for them.
    let them = t.bank.identity().actor_for_user(other.id).await.unwrap();
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .revoke_session(&them, a.session_id, &CTX())
                .await
        ),
        "not_found"
    );
    t.bank
        .identity()
        .revoke_session(&me, a.session_id, &CTX())
        .await
        .unwrap();
    assert!(t
        .bank
        .identity()
        .refresh(&a.refresh_token, &CTX())
        .await
        .is_err());

    t.bank
        .identity()
        .logout(&b.refresh_token, &CTX())
        .await
        .unwrap();
    t.bank
        .identity()
        .logout(&b.refresh_token, &CTX())
        .await
        .unwrap();
    assert!(t
        .bank
        .identity()
        .refresh(&b.refresh_token, &CTX())
        .await
        .is_err());
    assert!(t.bank.identity().sessions(&me).await.unwrap().is_empty());
}

pub async fn forgot_and_reset_password(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t.register("jack@example.com", None).await;
    let before = t.notifier.sent().len();
    t.bank
        .identity()
        .forgot_password("nobody@example.com", &CTX())
        .await
        .unwrap();
    t.bank
        .identity()
        .forgot_password("not an email", &CTX())
        .await
        .unwrap();
    assert_eq!(
        t.notifier.sent().len(),
        before,
        "nothing sent for unknown emails, same response"
    );

    let session = t
        .bank
        .identity()
        .login(login_req("jack@example.com", PW, None), &CTX())
        .await
        .unwrap();
    t.bank
        .identity()
        .forgot_password("Jack@Example.com", &CTX())
        .await
        .unwrap();
    let token = last_secret(&t, "jack@example.com");
    assert_eq!(token.len(), 64);
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .reset_password(&"f".repeat(64), "a-new-long-passphrase", &CTX())
                .await
        ),
        "unauthorized"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .reset_password(&token, "password", &CTX())
                .await
        ),
        "validation_error"
    );
    t.bank
        .identity()
        .reset_password(&token, "a-new-long-passphrase", &CTX())
        .await
        .unwrap();
    // Single use; every session revoked; the new password works, the old one does not.
    assert!(t
        .bank
        .identity()
        .reset_password(&token, "another-long-passphrase", &CTX())
        .await
        .is_err());
    assert!(t
        .bank
        .identity()
        .refresh(&session.refresh_token, &CTX())
        .await
        .is_err());
    assert!(t
        .bank
        .identity()
        .login(login_req("jack@example.com", PW, None), &CTX())
        .await
        .is_err());
    t.bank
        .identity()
        .login(
            login_req("jack@example.com", "a-new-long-passphrase", None),
            &CTX(),
        )
        .await
        .unwrap();

    // Tokens expire after 30 minutes; a newer token supersedes an older one.
    t.bank
        .identity()
        .forgot_password("jack@example.com", &CTX())
        .await
        .unwrap();
    let old = last_secret(&t, "jack@example.com");
    t.bank
        .identity()
        .forgot_password("jack@example.com", &CTX())
        .await
        .unwrap();
    let new = last_secret(&t, "jack@example.com");
    assert!(t
        .bank
        .identity()
        .reset_password(&old, "third-long-passphrase", &CTX())
        .await
        .is_err());
    t.clock.advance(Duration::minutes(31));
    assert!(t
        .bank
        .identity()
        .reset_password(&new, "third-long-passphrase", &CTX())
        .await
        .is_err());
    // The stored history keeps reset messages redacted.
    let dump = stored_text(&t.store, &[u.id]).await;
    assert!(!dump.contains(&new) && !dump.contains(&token));
}

pub async fn admin_bootstrap_roles_and_claims(store: Arc<dyn Store>) {
    let t = setup(store);
    let admin_id = t
        .bank
        .identity()
        .ensure_admin("root@bank.example", "bootstrap-admin-passphrase")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(
        t.bank
            .identity()
            .ensure_admin("other@bank.example", "bootstrap-admin-passphrase")
            .await
            .unwrap(),
        None
    );
    let tokens = t
        .bank
        .identity()
        .login(
            login_req("root@bank.example", "bootstrap-admin-passphrase", None),
            &CTX(),
        )
        .await
        .unwrap();
    assert_eq!(tokens.claims.roles, vec![Role::Admin]);
    let admin = t.bank.identity().actor_for_user(admin_id).await.unwrap();
    assert!(admin.is_admin());

    let u = t.register("kim@example.com", None).await;
    let me = t.bank.identity().actor_for_user(u.id).await.unwrap();
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .set_user_roles(&me, u.id, vec![Role::Admin])
                .await
        ),
        "forbidden"
    );
    let v = t
        .bank
        .identity()
        .set_user_roles(&admin, u.id, vec![Role::Support, Role::Customer])
        .await
        .unwrap();
    assert_eq!(v.roles.len(), 2);
    assert!(t
        .bank
        .identity()
        .actor_for_user(u.id)
        .await
        .unwrap()
        .is_staff());
    assert_eq!(
        refusal_code(
            t.bank
                .identity()
                .set_user_roles(&admin, admin_id, vec![Role::Customer])
                .await
        ),
        "validation_error"
    );
    let log = t.bank.audit().audit_log(&admin, None, 100).await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "auth.admin_bootstrap" && e.actor == "system"));
    assert!(log
        .iter()
        .any(|e| e.action == "user.roles_set" && e.actor_user_id == Some(admin_id)));
    assert_eq!(
        refusal_code(t.bank.audit().audit_log(&me, None, 10).await),
        "forbidden"
    );
}

pub async fn no_plaintext_password_in_stored_state(store: Arc<dyn Store>) {
    let t = setup(store);
    let u = t.register("lena@example.com", None).await;
    t.bank
        .identity()
        .login(login_req("lena@example.com", PW, None), &CTX())
        .await
        .unwrap();
    let dump = stored_text(&t.store, &[u.id]).await;
    assert!(!dump.contains(PW));
    assert!(dump.contains("PasswordHash(<argon2id>)"));
}

pub async fn racing_refreshes_of_one_token_cannot_both_win(store: Arc<dyn Store>) {
    let t = setup(store);
    t.register("race@example.com", None).await;
    let s = t
        .bank
        .identity()
        .login(login_req("race@example.com", PW, None), &CTX())
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for _ in 0..4 {
        let bank = t.bank.clone();
        let token = s.refresh_token.clone();
        jobs.push(tokio::spawn(async move {
            bank.identity()
                .refresh(&token, &RequestContext::default())
                .await
        }));
    }
    let mut winners = Vec::new();
    for j in jobs {
        if let Ok(tokens) = j.await.unwrap() {
            winners.push(tokens);
        }
    }
    // The first refresh rotates; every later one is a reuse and revokes the family, so even
    // the winner's new token is dead afterwards.
    assert_eq!(winners.len(), 1);
    assert!(t
        .bank
        .identity()
        .refresh(&winners[0].refresh_token, &CTX())
        .await
        .is_err());
}
