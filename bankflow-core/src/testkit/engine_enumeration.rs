//! Issue #16 finding 6 (no user enumeration through sign-up or login, a lockout the owner can
//! lift) and MFA recovery codes, through the `Bank` facade on any store.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::identity::secrets::totp_code_base32;
use crate::identity::{Email, LOGIN_FAILURES_MAX, RECOVERY_CODES_PER_SET, RESET_START_PATH};
use crate::ports::{Store, TxMode};
use crate::*;
use chrono::Duration;

use super::engine_ctx::{bank_on, refusal_code, Ctx, PW};

const CTX: fn() -> RequestContext = RequestContext::default;
const WRONG_PW: &str = "not-the-password-at-all";
const NEW_PW: &str = "copper-meadow-window-77";

fn login_req(email: &str, password: &str, mfa: Option<&str>) -> LoginRequest {
    LoginRequest {
        email: email.into(),
        password: password.into(),
        mfa_code: mfa.map(Into::into),
    }
}

fn sign_up_req(email: &str, phone: Option<&str>) -> RegisterRequest {
    RegisterRequest {
        email: email.into(),
        password: PW.into(),
        phone: phone.map(Into::into),
    }
}

/// The templates of the notifications `user` has, oldest first.
async fn templates_of(t: &Ctx, user: &Actor) -> Vec<String> {
    let mut v: Vec<String> = t
        .bank
        .notifications()
        .list(user, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.template_id)
        .collect();
    v.reverse();
    v
}

async fn lock_out(t: &Ctx, email: &str) {
    for _ in 0..LOGIN_FAILURES_MAX {
        let r = t
            .bank
            .identity()
            .login(login_req(email, WRONG_PW, None), &CTX())
            .await;
        assert_eq!(refusal_code(r), "unauthorized");
    }
}

/// The last 64-hex reset token mailed to `recipient`.
fn last_reset_token(t: &Ctx, recipient: &str) -> String {
    let msgs = t.notifier.sent_to(recipient);
    let body = &msgs.last().expect("a message").body;
    body.split(|c: char| c.is_whitespace() || c == ':')
        .map(|w| w.trim_end_matches('.'))
        .rfind(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a reset token in the message")
        .to_string()
}

pub async fn finding_6_sign_up_answers_alike_for_taken_and_new_addresses(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let owner = t.register("owner@example.com", Some("+14155550111")).await;
    let id = t.bank.identity();
    let fresh = id
        .sign_up(sign_up_req("fresh@example.com", None), &CTX())
        .await
        .unwrap();
    let taken_email = id
        .sign_up(sign_up_req("Owner@Example.com", None), &CTX())
        .await
        .unwrap();
    let taken_phone = id
        .sign_up(
            sign_up_req("other@example.com", Some("+1 415 555 0111")),
            &CTX(),
        )
        .await
        .unwrap();
    // The receipts have the same shape; the taken ones name nobody.
    for r in [&fresh.receipt, &taken_email.receipt, &taken_phone.receipt] {
        assert_eq!(r.roles, vec![Role::Customer]);
        assert!(!r.is_verified && !r.mfa_enabled && r.customer_id.is_none());
    }
    assert_eq!(taken_email.receipt.email, "owner@example.com");
    assert_ne!(taken_email.receipt.id, owner.id);
    assert!(id.actor_for_user(taken_email.receipt.id).await.is_err());
    assert!(id.actor_for_user(taken_phone.receipt.id).await.is_err());
    assert!(id.actor_for_user(fresh.receipt.id).await.is_ok());
    let other = Email::parse("other@example.com").unwrap();
    let mut r = t.store.begin(TxMode::Read).await.unwrap();
    assert!(r.user_by_email(&other).await.unwrap().is_none());
    drop(r);
    // Messages go out only when sent: the owner is told instead of anyone signing up.
    let before = t.notifier.sent_to("owner@example.com").len();
    id.send_queued(taken_email.messages).await;
    id.send_queued(taken_phone.messages).await;
    id.send_queued(fresh.messages).await;
    let to_owner = t.notifier.sent_to("owner@example.com");
    assert_eq!(to_owner.len(), before + 2, "one notice per attempt");
    let notice = &to_owner.last().unwrap().body;
    assert!(notice.contains("phone number") && notice.contains(RESET_START_PATH));
    let me = id.actor_for_user(owner.id).await.unwrap();
    let kinds = templates_of(&t, &me).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "signup_attempt").count(),
        4,
        "email and in-app, twice: {kinds:?}"
    );
    assert!(!t.notifier.sent_to("fresh@example.com").is_empty());
    // The embedder's `register` still refuses a taken address outright.
    let again = id
        .register(sign_up_req("owner@example.com", None), &CTX())
        .await;
    assert_eq!(refusal_code(again), "conflict");
}

pub async fn finding_6_locked_login_answers_like_an_unknown_email(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let u = t.register("quinn@example.com", None).await;
    let id = t.bank.identity();
    lock_out(&t, "quinn@example.com").await;
    let locked = id
        .login(login_req("quinn@example.com", PW, None), &CTX())
        .await
        .unwrap_err();
    let unknown = id
        .login(login_req("nobody@example.com", PW, None), &CTX())
        .await
        .unwrap_err();
    assert_eq!(locked, unknown, "same code and message");
    // More tries while locked send no more notices: one per lock.
    lock_out(&t, "quinn@example.com").await;
    let me = id.actor_for_user(u.id).await.unwrap();
    let kinds = templates_of(&t, &me).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "account_locked").count(),
        2,
        "email and in-app, once: {kinds:?}"
    );
    // The notice (not secret) leaves by email with the worker's next pass.
    t.bank.notifications().retry_notifications().await.unwrap();
    let mail = t.notifier.sent_to("quinn@example.com");
    assert!(mail
        .iter()
        .any(|m| m.body.contains("locked") && m.body.contains(RESET_START_PATH)));
}

pub async fn finding_6_password_reset_lifts_a_lockout(store: Arc<dyn Store>) {
    let t = bank_on(store);
    t.register("rita@example.com", None).await;
    let id = t.bank.identity();
    lock_out(&t, "rita@example.com").await;
    id.forgot_password("rita@example.com", &CTX())
        .await
        .unwrap();
    let token = last_reset_token(&t, "rita@example.com");
    id.reset_password(&token, NEW_PW, &CTX()).await.unwrap();
    // No waiting out the 30 minutes: proof of the mailbox lifted the lock.
    id.login(login_req("rita@example.com", NEW_PW, None), &CTX())
        .await
        .unwrap();
}

/// A user with MFA on, their recovery codes and the TOTP secret.
async fn mfa_user(t: &Ctx, email: &str) -> (Actor, Vec<String>, String) {
    let u = t.register(email, None).await;
    let id = t.bank.identity();
    let me = id.actor_for_user(u.id).await.unwrap();
    let setup = id.mfa_setup(&me, PW, &CTX()).await.unwrap();
    let code = totp_code_base32(&setup.secret, t.clock.now().timestamp()).unwrap();
    let codes = id.mfa_enable(&me, PW, &code, &CTX()).await.unwrap();
    (me, codes, setup.secret)
}

pub async fn mfa_recovery_codes_work_once_instead_of_totp(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let (me, codes, _) = mfa_user(&t, "sara@example.com").await;
    assert_eq!(codes.len(), RECOVERY_CODES_PER_SET);
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len());
    let id = t.bank.identity();
    let ctx = CTX();
    let login = |code: String| id.login(login_req("sara@example.com", PW, Some(&code)), &ctx);
    login(codes[0].clone()).await.unwrap();
    // Typed loosely (lower case, no dashes) it still works; used, it never works again.
    login(codes[1].to_lowercase().replace('-', ""))
        .await
        .unwrap();
    assert_eq!(refusal_code(login(codes[0].clone()).await), "unauthorized");
    login(codes[2].clone()).await.unwrap();
    // A lost authenticator: a recovery code also turns MFA off (to enrol a new app), once.
    assert_eq!(
        refusal_code(id.mfa_disable(&me, PW, &codes[2], &CTX()).await),
        "unauthorized"
    );
    id.mfa_disable(&me, PW, &codes[3], &CTX()).await.unwrap();
    assert!(!id.me(&me).await.unwrap().mfa_enabled);
    // Enabling again needs the app's code, never a recovery code.
    id.mfa_setup(&me, PW, &CTX()).await.unwrap();
    assert_eq!(
        refusal_code(id.mfa_enable(&me, PW, &codes[4], &CTX()).await),
        "unauthorized"
    );
}

pub async fn mfa_recovery_codes_regenerate_with_the_password_and_are_audited(
    store: Arc<dyn Store>,
) {
    let t = bank_on(store);
    let admin = t.admin("root@example.com").await;
    let (me, old, secret) = mfa_user(&t, "tara@example.com").await;
    let id = t.bank.identity();
    assert_eq!(
        refusal_code(id.regenerate_recovery_codes(&me, WRONG_PW, &CTX()).await),
        "unauthorized"
    );
    let new = id.regenerate_recovery_codes(&me, PW, &CTX()).await.unwrap();
    assert_eq!(new.len(), RECOVERY_CODES_PER_SET);
    let ctx = CTX();
    let login = |code: &str| id.login(login_req("tara@example.com", PW, Some(code)), &ctx);
    assert_eq!(refusal_code(login(&old[0]).await), "unauthorized");
    login(&new[0]).await.unwrap();
    let log = t.bank.audit().audit_log(&admin, None, 100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"auth.mfa_recovery_codes"), "{actions:?}");
    assert!(actions.contains(&"auth.mfa_recovery_used"), "{actions:?}");
    // A user without MFA has no codes to regenerate.
    t.clock.advance(Duration::seconds(30));
    let code = totp_code_base32(&secret, t.clock.now().timestamp()).unwrap();
    id.mfa_disable(&me, PW, &code, &CTX()).await.unwrap();
    assert_eq!(
        refusal_code(id.regenerate_recovery_codes(&me, PW, &CTX()).await),
        "invalid_state"
    );
}

pub async fn mfa_recovery_code_guesses_count_toward_the_lockout(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let (_, codes, _) = mfa_user(&t, "uma@example.com").await;
    let id = t.bank.identity();
    for _ in 0..LOGIN_FAILURES_MAX {
        let r = id
            .login(
                login_req("uma@example.com", PW, Some("AAAA-BBBB-CCCC-DDDD")),
                &CTX(),
            )
            .await;
        assert_eq!(refusal_code(r), "unauthorized");
    }
    // Locked: a real recovery code no longer gets in, and it is not used up by the refusal.
    let r = id
        .login(login_req("uma@example.com", PW, Some(&codes[0])), &CTX())
        .await;
    assert_eq!(refusal_code(r), "unauthorized");
    t.clock
        .advance(Duration::minutes(crate::identity::LOCKOUT_MINUTES) + Duration::seconds(1));
    id.login(login_req("uma@example.com", PW, Some(&codes[0])), &CTX())
        .await
        .unwrap();
}
