//! Issue #16's staff controls through the API: staff enrol TOTP before any staff function
//! works (finding 9), KYC waits for a verified email (finding 12), and an admin deactivates a
//! user with their sessions refused on the next request.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use bankflow_core::identity::secrets::totp_code_base32;
use bankflow_core::{Actor, Bank, BankConfig, MemoryStore, Role, UserId};
use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{relaxed_limits, TestApp, PASSWORD};

fn email() -> String {
    format!("{}@example.com", Uuid::new_v4().simple())
}

/// Registers `address`, grants `roles` as the system and signs in over HTTP: the token pair
/// and the user id.
async fn staff(app: &TestApp, address: &str, roles: Vec<Role>) -> (Value, UserId) {
    app.register(address).await;
    let pair = app.login(address, PASSWORD).await;
    let token = pair["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me", token).await.json();
    let id = UserId::parse(me["id"].as_str().unwrap()).unwrap();
    app.state
        .bank
        .identity()
        .set_user_roles(&Actor::system(), id, roles)
        .await
        .unwrap();
    // A promotion needs a fresh token.
    (app.login(address, PASSWORD).await, id)
}

fn access(pair: &Value) -> String {
    pair["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn finding_9_staff_must_enrol_totp_before_any_staff_function() {
    let app = TestApp::new();
    let (pair, _) = staff(&app, &email(), vec![Role::Admin]).await;
    let admin = access(&pair);
    for path in [
        "/api/v1/admin/overview",
        "/api/v1/accounts",
        "/api/v1/admin/audit",
    ] {
        app.get(path, &admin)
            .await
            .assert_problem(403, "mfa_enrolment_required");
    }
    // Their own profile and the enrolment itself work.
    let me = app.get("/api/v1/auth/me", &admin).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let setup = app
        .post(
            "/api/v1/auth/mfa/setup",
            &admin,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.text());
    let secret = setup.json()["secret"].as_str().unwrap().to_string();
    let code = totp_code_base32(&secret, Utc::now().timestamp()).unwrap();
    let enable = app
        .post(
            "/api/v1/auth/mfa/enable",
            &admin,
            json!({"password": PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(enable.status, StatusCode::OK, "{}", enable.text());
    // The same token works as staff from the next request on.
    let r = app.get("/api/v1/admin/overview", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Support staff too; customers are not asked.
    let (pair, _) = staff(&app, &email(), vec![Role::Support]).await;
    app.get("/api/v1/admin/kyc/queue", &access(&pair))
        .await
        .assert_problem(403, "mfa_enrolment_required");
    let (customer, cid) = app.customer_token().await;
    let r = app
        .get(&format!("/api/v1/customers/{cid}"), &customer)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn finding_9_the_staff_mfa_gate_can_be_switched_off_for_development() {
    let config = BankConfig {
        staff_mfa_required: false,
        ..BankConfig::default()
    };
    let builder = Bank::builder(Arc::new(MemoryStore::new())).config(config);
    let app = TestApp::with_builder(builder, relaxed_limits());
    let (pair, _) = staff(&app, &email(), vec![Role::Admin]).await;
    let r = app.get("/api/v1/admin/overview", &access(&pair)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn finding_12_unverified_email_blocks_kyc_submission() {
    let app = TestApp::new();
    let address = email();
    app.register(&address).await;
    let token = access(&app.login(&address, PASSWORD).await);
    let body = json!({"first_name": "Ursula", "last_name": "Smith", "date_of_birth": "1990-04-01",
        "address_line1": "1 Main St", "city": "Springfield", "state": "IL", "zip_code": "62701", "country": "US"});
    let c = app.post("/api/v1/customers", &token, body).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text());
    let cid = c.json()["id"].as_str().unwrap().to_string();
    let d = app
        .upload(&token, &cid, "PASSPORT", crate::helpers::PNG)
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text());
    let kyc = format!("/api/v1/customers/{cid}/kyc");
    app.post(&kyc, &token, json!({}))
        .await
        .assert_problem(422, "email_unverified");
    let me = app.get("/api/v1/auth/me", &token).await.json();
    app.verify_email(UserId::parse(me["id"].as_str().unwrap()).unwrap())
        .await;
    let r = app.post(&kyc, &token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["kyc_status"], "SUBMITTED");
}

#[tokio::test]
async fn staff_deactivation_revokes_sessions_at_once() {
    let app = TestApp::new();
    let (admin_pair, admin_id) = staff(&app, &email(), vec![Role::Admin]).await;
    let admin = access(&admin_pair);
    app.enrol_totp(admin_id).await;
    let address = email();
    let (pair, user) = staff(&app, &address, vec![Role::Customer]).await;
    let token = access(&pair);
    let deactivate = format!("/api/v1/admin/users/{user}/deactivate");
    app.post(&deactivate, &token, json!({}))
        .await
        .assert_problem(403, "forbidden");
    app.post(
        &format!("/api/v1/admin/users/{admin_id}/deactivate"),
        &admin,
        json!({}),
    )
    .await
    .assert_problem(422, "validation_error");

    let r = app.post(&deactivate, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Refused on the very next request, and the refresh token with it.
    app.get("/api/v1/auth/me", &token)
        .await
        .assert_problem(401, "unauthorized");
    let refresh = json!({"refresh_token": pair["refresh_token"]});
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(refresh),
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");
    // Signing in answers exactly like a wrong password.
    let login = |password: &str| json!({"email": address, "password": password});
    let refused = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login(PASSWORD)),
            &[],
        )
        .await;
    let wrong = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email(), "password": "not-the-password-at-all"})),
            &[],
        )
        .await;
    refused.assert_problem(401, "unauthorized");
    assert_eq!(refused.json()["detail"], wrong.json()["detail"]);

    let back = format!("/api/v1/admin/users/{user}/reactivate");
    let r = app.post(&back, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let again = access(&app.login(&address, PASSWORD).await);
    assert_eq!(
        app.get("/api/v1/auth/me", &again).await.status,
        StatusCode::OK
    );
    let log = app
        .get("/api/v1/admin/audit?limit=100", &admin)
        .await
        .json();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("user.") && a.ends_with("activated"))
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
}
