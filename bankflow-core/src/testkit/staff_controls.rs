//! Issue #16's staff controls on any store: staff enrol TOTP before any staff function works
//! through a session (finding 9), an unverified email blocks KYC submission (finding 12), and
//! an admin deactivates or reactivates a user with their sessions revoked at once.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::identity::secrets::totp_code_base32;
use crate::identity::VerifyChannel;
use crate::ports::Store;
use crate::*;

use super::engine_ctx::{bank_on, bank_with, refusal_code, Ctx, WithAdmin, PW};

const CTX: fn() -> RequestContext = RequestContext::default;
const PDF: &[u8] = b"%PDF-1.7\n%...";

/// The last 6-digit code mailed to `recipient`.
pub(crate) fn last_code(t: &Ctx, recipient: &str) -> String {
    let msgs = t.notifier.sent_to(recipient);
    let body = &msgs.last().expect("a message").body;
    body.split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')')
        .map(|w| w.trim_end_matches('.'))
        .rfind(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code in the message")
        .to_string()
}

fn login_req(email: &str) -> LoginRequest {
    LoginRequest {
        email: email.into(),
        password: PW.into(),
        mfa_code: None,
    }
}

/// Signs `email` up with `roles` (granted by the system) and signs them in.
async fn signed_in(t: &Ctx, email: &str, roles: Vec<Role>) -> AuthTokens {
    let u = t.register(email, None).await;
    let id = t.bank.identity();
    id.set_user_roles(&Actor::system(), u.id, roles)
        .await
        .unwrap();
    id.login(login_req(email), &CTX()).await.unwrap()
}

pub async fn finding_9_staff_must_enrol_totp_before_any_staff_function(store: Arc<dyn Store>) {
    let t = bank_on(store.clone());
    let id = t.bank.identity();
    for (email, role) in [
        ("root@example.com", Role::Admin),
        ("help@example.com", Role::Support),
    ] {
        // Signing in works (it is how they enrol), but the session acts as nobody staff.
        let s = signed_in(&t, email, vec![role]).await;
        let live = id.live_session(s.claims.sub, s.session_id).await.unwrap();
        assert!(live.mfa_enrolment_pending, "{email}");
        assert_eq!(refusal_code(live.actor(&[role])), "mfa_enrolment_required");
        // The enrolment calls themselves act for the user.
        let me = live.enrolment_actor(&[role]).unwrap();
        assert_eq!(id.me(&me).await.unwrap().email, email);
        let setup = id.mfa_setup(&me, PW, &CTX()).await.unwrap();
        let code = totp_code_base32(&setup.secret, t.clock.now().timestamp()).unwrap();
        id.mfa_enable(&me, PW, &code, &CTX()).await.unwrap();
        // Once enrolled, the same session works as staff.
        let live = id.live_session(s.claims.sub, s.session_id).await.unwrap();
        assert!(!live.mfa_enrolment_pending);
        assert!(live.actor(&[role]).unwrap().is_staff());
    }
    // Customers are not asked to enrol.
    let s = signed_in(&t, "cora@example.com", vec![Role::Customer]).await;
    let live = id.live_session(s.claims.sub, s.session_id).await.unwrap();
    assert!(!live.mfa_enrolment_pending);
    live.actor(&[Role::Customer]).unwrap();
    // The switch for embedded and development use.
    let relaxed = BankConfig {
        staff_mfa_required: false,
        ..BankConfig::default()
    };
    let dev = bank_with(store, relaxed, None);
    let s = signed_in(&dev, "dev@example.com", vec![Role::Admin]).await;
    let live = dev
        .bank
        .identity()
        .live_session(s.claims.sub, s.session_id)
        .await
        .unwrap();
    assert!(live.actor(&[Role::Admin]).unwrap().is_admin());
}

pub async fn finding_12_unverified_email_blocks_kyc_submission(store: Arc<dyn Store>) {
    let t = WithAdmin::new(bank_on(store), "admin@bank.example").await;
    let user = t.user("ursula@example.com").await;
    let (me, c) = super::security::profile_of(&t, user, "Ursula").await;
    let customers = t.bank.customers();
    customers
        .upload_document(&me, c.id, DocumentType::Passport, PDF)
        .await
        .unwrap();
    assert_eq!(
        refusal_code(customers.submit_kyc(&me, c.id).await),
        "email_unverified"
    );
    // Staff cannot submit around it either.
    assert_eq!(
        refusal_code(customers.submit_kyc(&t.admin, c.id).await),
        "email_unverified"
    );
    assert_eq!(
        customers.kyc_status(&me, c.id).await.unwrap().kyc_status,
        KycStatus::Pending
    );
    let code = last_code(&t, "ursula@example.com");
    t.bank
        .identity()
        .verify_contact(&me, VerifyChannel::Email, &code, &CTX())
        .await
        .unwrap();
    let kyc = customers.submit_kyc(&me, c.id).await.unwrap();
    assert_eq!(kyc.kyc_status, KycStatus::Submitted);
}

pub async fn staff_deactivation_revokes_sessions_and_blocks_sign_in(store: Arc<dyn Store>) {
    let t = WithAdmin::new(bank_on(store), "admin@bank.example").await;
    let id = t.bank.identity();
    let s = signed_in(&t, "dana@example.com", vec![Role::Customer]).await;
    let dana = s.claims.sub;
    let customer = Actor::customer(dana, None);
    assert_eq!(
        refusal_code(id.deactivate_user(&customer, dana, &CTX()).await),
        "forbidden"
    );
    let admin_id = t.admin.user_id.unwrap();
    assert_eq!(
        refusal_code(id.deactivate_user(&t.admin, admin_id, &CTX()).await),
        "validation_error"
    );

    id.deactivate_user(&t.admin, dana, &CTX()).await.unwrap();
    // The session is over at once: access tokens (through the live-session check) and the
    // refresh token are refused.
    assert_eq!(
        refusal_code(id.live_session(dana, s.session_id).await),
        "unauthorized"
    );
    assert_eq!(
        refusal_code(id.refresh(&s.refresh_token, &CTX()).await),
        "unauthorized"
    );
    // Signing in is refused exactly like a wrong password (no enumeration).
    let refused = id.login(login_req("dana@example.com"), &CTX()).await;
    let wrong = id
        .login(
            LoginRequest {
                password: "not-the-password-at-all".into(),
                ..login_req("nobody@example.com")
            },
            &CTX(),
        )
        .await;
    let (a, b) = (refused.unwrap_err(), wrong.unwrap_err());
    assert_eq!((a.code(), a.to_string()), (b.code(), b.to_string()));
    assert_eq!(
        refusal_code(id.deactivate_user(&t.admin, dana, &CTX()).await),
        "invalid_state"
    );

    id.reactivate_user(&t.admin, dana, &CTX()).await.unwrap();
    let again = id
        .login(login_req("dana@example.com"), &CTX())
        .await
        .unwrap();
    id.live_session(dana, again.session_id).await.unwrap();
    // The sessions revoked at deactivation stay revoked.
    assert!(id.live_session(dana, s.session_id).await.is_err());

    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e.actor_user_id == Some(admin_id))
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("user."))
        .collect();
    assert_eq!(actions, ["user.deactivated", "user.reactivated"]);
}
