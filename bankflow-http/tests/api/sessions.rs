//! Finding 5 of the security review: an access token stops working on the next request after
//! its session ends (logout, revocation from another session) or its roles are taken away,
//! not when it expires 15 minutes later.

use axum::http::{Method, StatusCode};
use bankflow_core::{Role, UserId};
use bankflow_http::jwt::Subject;
use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{TestApp, PASSWORD};

/// Registers `email` over HTTP and signs in: the token pair.
async fn sign_up(app: &TestApp, email: &str) -> Value {
    app.register(email).await;
    app.login(email, PASSWORD).await
}

fn access(pair: &Value) -> String {
    pair["access_token"].as_str().unwrap().to_string()
}

fn email() -> String {
    format!("{}@example.com", Uuid::new_v4().simple())
}

#[tokio::test]
async fn finding_5_logout_refuses_the_old_access_token_on_the_next_request() {
    let app = TestApp::new();
    let pair = sign_up(&app, &email()).await;
    let token = access(&pair);
    assert_eq!(
        app.get("/api/v1/auth/me", &token).await.status,
        StatusCode::OK
    );
    let out = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&token), None, &[])
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    app.get("/api/v1/auth/me", &token)
        .await
        .assert_problem(401, "unauthorized");
    // Its refresh token ended with it.
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": pair["refresh_token"]})),
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn finding_5_a_session_revoked_elsewhere_refuses_its_access_token() {
    let app = TestApp::new();
    let address = email();
    let laptop = access(&sign_up(&app, &address).await);
    let phone = access(&app.login(&address, PASSWORD).await);
    let sessions = app.get("/api/v1/auth/sessions", &laptop).await.json();
    let phone_session = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .expect("the phone's session is listed")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{phone_session}"),
            Some(&laptop),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    app.get("/api/v1/auth/me", &phone)
        .await
        .assert_problem(401, "unauthorized");
    // The session that revoked it goes on.
    assert_eq!(
        app.get("/api/v1/auth/me", &laptop).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn finding_5_a_demoted_support_user_loses_staff_access_at_once() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let address = email();
    let support = access(&sign_up(&app, &address).await);
    let me = app.get("/api/v1/auth/me", &support).await.json();
    let user = me["id"].as_str().unwrap().to_string();
    let promote = app
        .call(
            Method::PUT,
            &format!("/api/v1/admin/users/{user}/roles"),
            Some(&admin),
            Some(json!({"roles": ["support"]})),
            &[],
        )
        .await;
    assert_eq!(promote.status, StatusCode::OK, "{}", promote.text());
    // A promotion needs a fresh token (a token never grants more than it was issued with).
    let support = access(&app.login(&address, PASSWORD).await);
    app.enrol_totp(bankflow_core::UserId::parse(&user).unwrap())
        .await;
    assert_eq!(
        app.get("/api/v1/admin/kyc/queue", &support).await.status,
        StatusCode::OK,
        "support reads the KYC queue"
    );
    let demote = app
        .call(
            Method::PUT,
            &format!("/api/v1/admin/users/{user}/roles"),
            Some(&admin),
            Some(json!({"roles": ["customer"]})),
            &[],
        )
        .await;
    assert_eq!(demote.status, StatusCode::OK, "{}", demote.text());
    // The token was issued with `support` only: with it gone nothing is left.
    app.get("/api/v1/admin/kyc/queue", &support)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn finding_5_a_token_without_a_live_session_is_refused() {
    let app = TestApp::new();
    // Correctly signed, but names no session (or a session that never existed).
    for session_id in [None, Some(Uuid::now_v7())] {
        let subject = Subject {
            user_id: UserId(Uuid::now_v7()),
            email: email(),
            roles: vec![Role::Admin],
            customer_id: None,
            session_id,
        };
        let token = app.state.jwt.issue(&subject, Utc::now()).unwrap();
        app.get("/api/v1/auth/me", &token)
            .await
            .assert_problem(401, "unauthorized");
    }
}
