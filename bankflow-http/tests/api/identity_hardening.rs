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
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

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
