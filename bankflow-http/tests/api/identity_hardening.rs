//! Findings 9 and 10 of the security review, through the API: MFA changes need the current
//! password, and the routes that check emailed or TOTP codes share the credential limit.

use std::sync::Arc;

use axum::http::StatusCode;
use bankflow_core::identity::secrets::totp_code_base32;
use bankflow_core::MemoryStore;
use bankflow_http::ratelimit::RateLimits;
use chrono::Utc;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

const WRONG_PW: &str = "not-the-password-at-all";

#[tokio::test]
async fn finding_9_mfa_setup_enable_and_disable_need_the_current_password() {
    let app = TestApp::new();
    let (token, _) = app.customer_token().await;
    let setup = "/api/v1/auth/mfa/setup";
    // A bearer token alone is not enough any more.
    let bare = app
        .call(axum::http::Method::POST, setup, Some(&token), None, &[])
        .await;
    assert!(bare.status.is_client_error(), "{}", bare.text());
    let wrong = app.post(setup, &token, json!({"password": WRONG_PW})).await;
    wrong.assert_problem(401, "unauthorized");
    let ok = app.post(setup, &token, json!({"password": PASSWORD})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let secret = ok.json()["secret"].as_str().unwrap().to_string();
    let code = totp_code_base32(&secret, Utc::now().timestamp()).unwrap();

    let enable = "/api/v1/auth/mfa/enable";
    let no_pw = app.post(enable, &token, json!({"code": code})).await;
    assert!(no_pw.status.is_client_error(), "{}", no_pw.text());
    let wrong = app
        .post(enable, &token, json!({"password": WRONG_PW, "code": code}))
        .await;
    wrong.assert_problem(401, "unauthorized");
    let me = app.get("/api/v1/auth/me", &token).await.json();
    assert_eq!(me["mfa_enabled"], false);
    let r = app
        .post(enable, &token, json!({"password": PASSWORD, "code": code}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let disable = "/api/v1/auth/mfa/disable";
    let wrong = app
        .post(
            disable,
            &token,
            json!({"password": WRONG_PW, "code": "000000"}),
        )
        .await;
    wrong.assert_problem(401, "unauthorized");
    let me = app.get("/api/v1/auth/me", &token).await.json();
    assert_eq!(me["mfa_enabled"], true);
}

#[tokio::test]
async fn finding_10_resend_and_mfa_routes_are_under_the_credential_limit() {
    let limits = RateLimits {
        general_per_min: 100_000,
        auth_per_min: 2,
    };
    let app = TestApp::with(Arc::new(MemoryStore::new()), limits);
    // A fresh customer's email is unverified: there is a code to resend.
    let (token_c, _) = app.customer_token().await;
    let resend = "/api/v1/auth/verify/resend";
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.post(resend, &token_c, json!({})).await.status.as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");

    for path in [
        "/api/v1/auth/mfa/setup",
        "/api/v1/auth/mfa/enable",
        "/api/v1/auth/mfa/disable",
    ] {
        let app = TestApp::with(Arc::new(MemoryStore::new()), limits);
        let (t, _) = app.customer_token().await;
        let body = if path.ends_with("setup") {
            json!({"password": WRONG_PW})
        } else {
            json!({"password": WRONG_PW, "code": "000000"})
        };
        let mut last = 0;
        for _ in 0..3 {
            last = app.post(path, &t, body.clone()).await.status.as_u16();
        }
        assert_eq!(last, 429, "{path}");
    }
}

/// POSTs a registration and answers (status, body).
async fn register_raw(app: &TestApp, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let r = app
        .call(
            axum::http::Method::POST,
            "/api/v1/auth/register",
            None,
            Some(body),
            &[],
        )
        .await;
    (r.status, r.json())
}

/// The sorted field names of a JSON object.
fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn finding_6_registration_answers_alike_for_taken_and_new_addresses() {
    let app = TestApp::new();
    let owner_email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let phone = "+14155550199";
    let (s, owner) = register_raw(
        &app,
        json!({"email": owner_email, "password": PASSWORD, "phone": phone}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let fresh = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let (s_new, new) = register_raw(&app, json!({"email": fresh, "password": PASSWORD})).await;
    let (s_email, taken_email) = register_raw(
        &app,
        json!({"email": owner_email.to_uppercase(), "password": PASSWORD}),
    )
    .await;
    let other = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let (s_phone, taken_phone) = register_raw(
        &app,
        json!({"email": other, "password": PASSWORD, "phone": phone}),
    )
    .await;
    // Same status, same shape, same visible fields; the taken ones' ids name nobody.
    for (s, v) in [(s_email, &taken_email), (s_phone, &taken_phone)] {
        assert_eq!(s, s_new, "{v}");
        assert_eq!(keys(v), keys(&new));
        assert_eq!(v["roles"], new["roles"]);
        assert_eq!(v["is_verified"], new["is_verified"]);
        assert_ne!(v["id"], owner["id"]);
    }
    assert_eq!(taken_email["email"], owner_email);
    // The owner gets the notice instead (the in-app copy is there at once).
    let token = app.sign_in(&owner_email).await;
    let mine = app
        .get("/api/v1/notifications?limit=100", &token)
        .await
        .json();
    let attempts = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "signup_attempt" && n["channel"] == "in_app")
        .count();
    assert_eq!(attempts, 2, "{mine}");
}

#[tokio::test]
async fn finding_6_login_answers_alike_for_locked_and_unknown_users() {
    let app = TestApp::new();
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    app.register(&email).await;
    let login = |email: String, password: &'static str| {
        let app = &app;
        async move {
            app.call(
                axum::http::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
                &[],
            )
            .await
        }
    };
    for _ in 0..bankflow_core::identity::LOGIN_FAILURES_MAX {
        login(email.clone(), WRONG_PW)
            .await
            .assert_problem(401, "unauthorized");
    }
    // Locked: the right password is refused exactly as an unknown email is.
    let locked = login(email.clone(), PASSWORD).await;
    let unknown = login("nobody-at-all@example.com".into(), PASSWORD).await;
    assert_eq!(locked.status, unknown.status);
    let (l, u) = (locked.json(), unknown.json());
    for field in ["status", "code", "title", "detail"] {
        assert_eq!(l[field], u[field], "{field}: {l} vs {u}");
    }
    locked.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn mfa_recovery_codes_are_shown_once_and_work_instead_of_totp() {
    let app = TestApp::new();
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    app.register(&email).await;
    let token = app.sign_in(&email).await;
    let setup = app
        .post(
            "/api/v1/auth/mfa/setup",
            &token,
            json!({"password": PASSWORD}),
        )
        .await
        .json();
    let code = totp_code_base32(setup["secret"].as_str().unwrap(), Utc::now().timestamp()).unwrap();
    let enabled = app
        .post(
            "/api/v1/auth/mfa/enable",
            &token,
            json!({"password": PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.text());
    let codes = enabled.json()["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(codes.len(), bankflow_core::identity::RECOVERY_CODES_PER_SET);
    let with_code = |c: &serde_json::Value| json!({"email": email, "password": PASSWORD, "mfa_code": c.as_str().unwrap()});
    let login = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.call(
                axum::http::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(body),
                &[],
            )
            .await
        }
    };
    let ok = login(with_code(&codes[0])).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    login(with_code(&codes[0]))
        .await
        .assert_problem(401, "unauthorized");
    // Regenerating needs the password and replaces the set.
    let path = "/api/v1/auth/mfa/recovery-codes";
    app.post(path, &token, json!({"password": WRONG_PW}))
        .await
        .assert_problem(401, "unauthorized");
    let again = app.post(path, &token, json!({"password": PASSWORD})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    let fresh = again.json()["recovery_codes"].as_array().unwrap().clone();
    login(with_code(&codes[1]))
        .await
        .assert_problem(401, "unauthorized");
    let ok = login(with_code(&fresh[0])).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
}
