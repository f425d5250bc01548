//! Issue #16: service clients (OAuth2 client credentials, RFC 6749 §4.4). A client gets a
//! token with HTTP Basic or body credentials, reads only the GET routes its scopes name,
//! never writes, loses its tokens on deactivation, keeps a rotated-out secret for the grace
//! period only, and spends its own rate-limit budget.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bankflow_core::identity::CLIENT_SECRET_GRACE_HOURS;
use bankflow_core::{Bank, ManualClock, MemoryStore};
use bankflow_http::jwt::JwtKeys;
use bankflow_http::ratelimit::RateLimits;
use bankflow_http::{app, AppState, HttpConfig};
use base64::Engine as _;
use serde_json::{json, Value};

use crate::helpers::{key, relaxed_limits, Resp, TestApp};

const TOKEN: &str = "/api/v1/oauth/token";

/// Creates a client with `scopes` as `admin`: its id and its secret.
async fn create_client(app: &TestApp, admin: &str, scopes: &[&str]) -> (String, String) {
    let body = json!({"name": "reporting", "scopes": scopes});
    let r = app.post("/api/v1/admin/clients", admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    let id = v["client"]["id"].as_str().unwrap().to_string();
    (id, v["client_secret"].as_str().unwrap().to_string())
}

/// `POST /oauth/token` with a form `body`, authenticated as `basic` when given.
async fn token_request(app: &TestApp, basic: Option<(&str, &str)>, body: &str) -> Resp {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(TOKEN)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        let creds = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        b = b.header("authorization", format!("Basic {creds}"));
    }
    app.send(b.body(Body::from(body.to_string())).unwrap())
        .await
}

/// A client-credentials token for `id`/`secret` (HTTP Basic).
async fn client_token(app: &TestApp, id: &str, secret: &str) -> String {
    let r = token_request(app, Some((id, secret)), "grant_type=client_credentials").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_string()
}

#[track_caller]
fn assert_oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    assert_eq!(r.json()["error"], error, "{}", r.text());
}

#[tokio::test]
async fn service_client_reads_in_scope_and_is_refused_everything_else() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (customer, _) = app.customer_token().await;
    let account = app.open_account(&customer, "CHECKING").await;
    let account_id = account["id"].as_str().unwrap();
    let (id, secret) = create_client(&app, &admin, &["accounts:read"]).await;

    let r = token_request(&app, Some((&id, &secret)), "grant_type=client_credentials").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 900);
    assert_eq!(t["scope"], "accounts:read");
    let token = t["access_token"].as_str().unwrap();

    // In scope: account reads.
    let r = app
        .get(&format!("/api/v1/accounts/{account_id}"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.get("/api/v1/accounts", token).await.status,
        StatusCode::OK
    );
    // Out of scope, or not a read: 403, whatever the route.
    for path in [
        "/api/v1/customers/search?q=doe",
        "/api/v1/auth/me",
        "/api/v1/admin/clients",
    ] {
        app.get(path, token).await.assert_problem(403, "forbidden");
    }
    let transfer = json!({"from_account_id": account_id, "to_account_id": account_id,
        "amount": "1.00", "currency": "USD"});
    let r = app
        .post_idem("/api/v1/transactions/transfer", token, &key(), transfer)
        .await;
    r.assert_problem(403, "forbidden");
    let r = app.post(
        "/api/v1/admin/clients",
        token,
        json!({"name": "x", "scopes": ["accounts:read"]}),
    );
    r.await.assert_problem(403, "forbidden");

    // Body credentials work too; a scope beyond the client's is refused.
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    assert_eq!(
        token_request(&app, None, &body).await.status,
        StatusCode::OK
    );
    let wider = format!("{body}&scope=accounts:read%20customers:read");
    assert_oauth_error(
        &token_request(&app, None, &wider).await,
        400,
        "invalid_scope",
    );
    let password = format!("grant_type=password&client_id={id}&client_secret={secret}");
    assert_oauth_error(
        &token_request(&app, None, &password).await,
        400,
        "unsupported_grant_type",
    );
}

#[tokio::test]
async fn service_client_wrong_or_unknown_credentials_are_invalid_client() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (id, _) = create_client(&app, &admin, &["transactions:read"]).await;
    let grant = "grant_type=client_credentials";
    let wrong = token_request(&app, Some((&id, &"0".repeat(64))), grant).await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert!(wrong
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    let unknown = uuid::Uuid::new_v4().to_string();
    let r = token_request(&app, Some((&unknown, "secret")), grant).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert_oauth_error(
        &token_request(&app, None, grant).await,
        401,
        "invalid_client",
    );
    // Only admins manage clients.
    let (customer, _) = app.customer_token().await;
    let body = json!({"name": "mine", "scopes": ["accounts:read"]});
    let r = app.post("/api/v1/admin/clients", &customer, body).await;
    r.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn service_client_deactivation_refuses_its_existing_token() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (id, secret) = create_client(&app, &admin, &["accounts:read"]).await;
    let token = client_token(&app, &id, &secret).await;
    assert_eq!(
        app.get("/api/v1/accounts", &token).await.status,
        StatusCode::OK
    );
    let r = app
        .post(
            &format!("/api/v1/admin/clients/{id}/deactivate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["active"], false);
    app.get("/api/v1/accounts", &token)
        .await
        .assert_problem(401, "unauthorized");
    let r = token_request(&app, Some((&id, &secret)), "grant_type=client_credentials").await;
    assert_oauth_error(&r, 401, "invalid_client");
    // Reactivated: a new token works, the old one stays refused. (Token issue times are
    // whole seconds, so a token works from the second after the deactivation.)
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let r = app
        .post(
            &format!("/api/v1/admin/clients/{id}/reactivate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let fresh = client_token(&app, &id, &secret).await;
    assert_eq!(
        app.get("/api/v1/accounts", &fresh).await.status,
        StatusCode::OK
    );
    app.get("/api/v1/accounts", &token)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn service_client_old_secret_works_within_the_grace_period_then_is_refused() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let builder = Bank::builder(Arc::new(MemoryStore::new())).clock(clock.clone());
    let app = TestApp::with_builder(builder, relaxed_limits());
    let admin = app.admin_token().await;
    let (id, old) = create_client(&app, &admin, &["accounts:read"]).await;
    let r = app
        .post(
            &format!("/api/v1/admin/clients/{id}/rotate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rotated: Value = r.json();
    let new = rotated["client_secret"].as_str().unwrap().to_string();
    assert!(rotated["client"]["previous_secret_until"].is_string());
    client_token(&app, &id, &old).await;
    client_token(&app, &id, &new).await;
    clock.advance(chrono::Duration::hours(CLIENT_SECRET_GRACE_HOURS));
    let r = token_request(&app, Some((&id, &old)), "grant_type=client_credentials").await;
    assert_oauth_error(&r, 401, "invalid_client");
    client_token(&app, &id, &new).await;
}

#[tokio::test]
async fn service_client_spends_its_own_rate_limit_and_the_token_endpoint_is_a_credential_route() {
    const CLIENT_BUDGET: u32 = 3;
    let config = HttpConfig {
        rate_limits: RateLimits {
            general_per_min: 100_000,
            auth_per_min: 2,
        },
        client_rate_limit_per_min: Some(CLIENT_BUDGET),
        ..HttpConfig::default()
    };
    let state = AppState::start(
        Bank::builder(Arc::new(MemoryStore::new())),
        JwtKeys::random(),
        config,
    );
    let app = TestApp {
        router: app(state.clone()),
        state,
    };
    // The admin is set up through the engine: sign-in there spends no HTTP budget.
    let admin = app.admin_token().await;
    let (id, secret) = create_client(&app, &admin, &["accounts:read"]).await;
    let token = client_token(&app, &id, &secret).await;
    for _ in 0..CLIENT_BUDGET {
        assert_eq!(
            app.get("/api/v1/accounts", &token).await.status,
            StatusCode::OK
        );
    }
    let r = app.get("/api/v1/accounts", &token).await;
    r.assert_problem(429, "rate_limited");
    // The admin's budget is their own.
    assert_eq!(
        app.get("/api/v1/admin/clients", &admin).await.status,
        StatusCode::OK
    );
    // Token requests are credential guesses: the auth class's budget (2) applies.
    client_token(&app, &id, &secret).await;
    let r = token_request(&app, Some((&id, &secret)), "grant_type=client_credentials").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
}
