//! What the API refuses, and that a refusal changes nothing.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bankflow_core::{MemoryStore, Role, UserId};
use bankflow_http::jwt::{JwtKeys, Subject};
use bankflow_http::ratelimit::RateLimits;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{key, TestApp};

#[tokio::test]
async fn missing_expired_forged_and_alg_none_tokens_are_401() {
    let app = TestApp::new();
    let r = app
        .call(Method::GET, "/api/v1/accounts", None, None, &[])
        .await;
    r.assert_problem(401, "unauthorized");

    let subject = Subject {
        user_id: UserId(Uuid::now_v7()),
        email: "x@example.com".into(),
        roles: vec![Role::Admin],
        customer_id: None,
        session_id: None,
    };
    let expired = app
        .state
        .jwt
        .issue_with_ttl(&subject, Utc::now() - chrono::Duration::minutes(30), 60)
        .unwrap();
    app.get("/api/v1/accounts", &expired)
        .await
        .assert_problem(401, "unauthorized");

    let forged = JwtKeys::random().issue(&subject, Utc::now()).unwrap();
    app.get("/api/v1/accounts", &forged)
        .await
        .assert_problem(401, "unauthorized");

    // alg: none with otherwise valid claims, and an HS512 token.
    let valid = app.admin_token().await;
    let payload = valid.split('.').nth(1).unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    app.get("/api/v1/accounts", &format!("{none_header}.{payload}."))
        .await
        .assert_problem(401, "unauthorized");
    let hs512_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    let sig = valid.split('.').nth(2).unwrap();
    app.get(
        "/api/v1/accounts",
        &format!("{hs512_header}.{payload}.{sig}"),
    )
    .await
    .assert_problem(401, "unauthorized");

    // Garbage and a wrong scheme.
    app.get("/api/v1/accounts", "not-a-jwt")
        .await
        .assert_problem(401, "unauthorized");
    app.call(
        Method::GET,
        "/api/v1/accounts",
        None,
        None,
        &[("authorization", &format!("Basic {valid}"))],
    )
    .await
    .assert_problem(401, "unauthorized");
    // The genuine token works.
    assert_eq!(
        app.get("/api/v1/accounts", &valid).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_customers_resources_are_404() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let (mallory, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await;
    let a_id = a["id"].as_str().unwrap();
    let dep = app.deposit(&admin, a_id, "10.00").await;
    let m = app.open_account(&mallory, "CHECKING").await;

    app.get(&format!("/api/v1/accounts/{a_id}"), &mallory)
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/api/v1/accounts/{a_id}/balance"), &mallory)
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/api/v1/transactions/account/{a_id}"), &mallory)
        .await
        .assert_problem(404, "not_found");
    app.get(
        &format!("/api/v1/transactions/{}", dep["id"].as_str().unwrap()),
        &mallory,
    )
    .await
    .assert_problem(404, "not_found");
    let today = Utc::now().date_naive();
    app.get(
        &format!("/api/v1/accounts/{a_id}/statement?from={today}&to={today}"),
        &mallory,
    )
    .await
    .assert_problem(404, "not_found");
    // Moving money out of someone else's account: 404, and nothing moves.
    app.post_idem("/api/v1/transactions/transfer", &mallory, &key(),
        json!({"from_account_id": a_id, "to_account_id": m["id"], "amount": "5.00", "currency": "USD"}))
        .await
        .assert_problem(404, "not_found");
    app.call(
        Method::DELETE,
        &format!("/api/v1/accounts/{a_id}"),
        Some(&mallory),
        None,
        &[],
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(app.balance(&alice, a_id).await, "10.00");
    // Opening an account for someone else's customer profile.
    app.post(
        "/api/v1/accounts",
        &mallory,
        json!({"account_type": "CHECKING", "customer_id": a["customer_id"]}),
    )
    .await
    .assert_problem(404, "not_found");
    // A malformed id is indistinguishable from a missing one.
    app.get("/api/v1/accounts/not-a-uuid", &alice)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn non_admins_are_403_on_admin_actions() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dep = app.deposit(&admin, &a, "10.00").await;

    app.post_idem(
        "/api/v1/transactions/deposit",
        &alice,
        &key(),
        json!({"account_id": a, "amount": "1.00", "currency": "USD"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(&format!("/api/v1/accounts/{a}/freeze"), &alice, json!({}))
        .await
        .assert_problem(403, "forbidden");
    app.post_idem(
        &format!(
            "/api/v1/transactions/{}/reverse",
            dep["id"].as_str().unwrap()
        ),
        &alice,
        &key(),
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get("/api/v1/accounts", &alice)
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/transactions/search", &alice)
        .await
        .assert_problem(403, "forbidden");
    // A staff-only list refuses an outsider before looking at the query: a malformed cursor
    // or limit is no way to probe it (403, not 422).
    for path in [
        "/api/v1/accounts?cursor=zz&limit=0",
        "/api/v1/customers/search?cursor=zz",
        "/api/v1/fraud/cases?cursor=zz&status=nope",
        "/api/v1/fraud/blacklist?cursor=zz",
        "/api/v1/admin/audit?cursor=zz",
        "/api/v1/admin/kyc/queue?cursor=zz",
    ] {
        app.get(path, &alice).await.assert_problem(403, "forbidden");
    }
    // Staff still get the validation error.
    app.get("/api/v1/accounts?cursor=zz", &admin)
        .await
        .assert_problem(422, "validation_error");
    assert_eq!(app.balance(&alice, &a).await, "10.00");
}

#[tokio::test]
async fn idempotent_replay_returns_the_first_response_and_conflicts_are_409() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.open_account(&alice, "SAVINGS").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.deposit(&admin, &a, "100.00").await;

    let body =
        json!({"from_account_id": a, "to_account_id": b, "amount": "30.00", "currency": "USD"});
    let k = key();
    let first = app
        .post_idem("/api/v1/transactions/transfer", &alice, &k, body.clone())
        .await;
    let again = app
        .post_idem("/api/v1/transactions/transfer", &alice, &k, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, first.status);
    assert_eq!(again.json(), first.json());
    assert_eq!(app.balance(&alice, &a).await, "70.00", "moved once");

    let other =
        json!({"from_account_id": a, "to_account_id": b, "amount": "31.00", "currency": "USD"});
    app.post_idem("/api/v1/transactions/transfer", &alice, &k, other)
        .await
        .assert_problem(409, "idempotency_conflict");
    assert_eq!(app.balance(&alice, &a).await, "70.00");

    // The header is required, and must be a valid key.
    app.post("/api/v1/transactions/transfer", &alice, body.clone())
        .await
        .assert_problem(400, "validation_error");
    app.post_idem("/api/v1/transactions/transfer", &alice, "has space", body)
        .await
        .assert_problem(400, "validation_error");
}

#[tokio::test]
async fn insufficient_funds_and_frozen_accounts_move_nothing() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.open_account(&alice, "SAVINGS").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.deposit(&admin, &a, "10.00").await;
    let transfer = |amount: &str| json!({"from_account_id": a, "to_account_id": b, "amount": amount, "currency": "USD"});

    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        transfer("10.01"),
    )
    .await
    .assert_problem(422, "insufficient_funds");
    assert_eq!(app.balance(&alice, &a).await, "10.00");

    let frozen = app
        .post(&format!("/api/v1/accounts/{a}/freeze"), &admin, json!({}))
        .await;
    assert_eq!(frozen.status, StatusCode::OK, "{}", frozen.text());
    assert_eq!(frozen.json()["status"], "FROZEN");
    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        transfer("1.00"),
    )
    .await
    .assert_problem(422, "account_frozen");
    assert_eq!(app.balance(&alice, &a).await, "10.00");
    let thawed = app
        .post(&format!("/api/v1/accounts/{a}/unfreeze"), &admin, json!({}))
        .await;
    assert_eq!(thawed.json()["status"], "ACTIVE");
    let ok = app
        .post_idem(
            "/api/v1/transactions/transfer",
            &alice,
            &key(),
            transfer("1.00"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());

    // Bad input: typed 4xx, nothing changes.
    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        transfer("1.001"),
    )
    .await
    .assert_problem(422, "validation_error");
    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        transfer("-1"),
    )
    .await
    .assert_problem(422, "validation_error");
    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        transfer("1e3"),
    )
    .await
    .assert_problem(422, "validation_error");
    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        json!({"from_account_id": a, "to_account_id": b, "amount": "1.00", "currency": "EUR"}),
    )
    .await
    .assert_problem(422, "currency_mismatch");
    app.post_idem("/api/v1/transactions/transfer", &alice, &key(),
        json!({"from_account_id": a, "to_account_number": "123456789012", "amount": "1.00", "currency": "USD"}))
        .await
        .assert_problem(422, "validation_error");
    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        json!({"from_account_id": a, "amount": 1}),
    )
    .await
    .assert_problem(400, "validation_error");
    assert_eq!(app.balance(&alice, &a).await, "9.00");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let app = TestApp::with(
        Arc::new(MemoryStore::new()),
        RateLimits {
            general_per_min: 5,
            auth_per_min: 2,
        },
    );
    let admin = app.admin_token().await;
    for _ in 0..5 {
        assert_eq!(
            app.get("/api/v1/accounts", &admin).await.status,
            StatusCode::OK
        );
    }
    let r = app.get("/api/v1/accounts", &admin).await;
    r.assert_problem(429, "rate_limited");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    // Another caller has its own bucket.
    assert_eq!(
        app.get("/api/v1/accounts", &app.admin_token().await)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    let big = "x".repeat(bankflow_http::BODY_LIMIT_BYTES + 1);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/accounts")
        .header("authorization", format!("Bearer {alice}"))
        .header("content-type", "application/json")
        .body(Body::from(format!("{{\"account_type\":\"{big}\"}}")))
        .unwrap();
    app.send(req).await.assert_problem(413, "limit_exceeded");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/accounts")
        .header("authorization", format!("Bearer {alice}"))
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    app.send(req).await.assert_problem(400, "validation_error");
    app.post("/api/v1/accounts", &alice, json!({"account_type": "GOLD"}))
        .await
        .assert_problem(422, "validation_error");
    app.post(
        "/api/v1/accounts",
        &alice,
        json!({"account_type": "CHECKING", "overdraft_limit": "500"}),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn finding_12_a_customers_account_list_is_paged() {
    let app = TestApp::new();
    let (alice, c) = app.customer_token().await;
    let mut opened: Vec<String> = vec![];
    for kind in ["SAVINGS", "CHECKING"] {
        opened.push(
            app.open_account(&alice, kind).await["id"]
                .as_str()
                .unwrap()
                .into(),
        );
    }
    let first = app
        .get(&format!("/api/v1/accounts/customer/{c}?limit=2"), &alice)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let page = first.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a full page has a cursor");
    let rest = app
        .get(
            &format!("/api/v1/accounts/customer/{c}?limit=2&cursor={cursor}"),
            &alice,
        )
        .await
        .json();
    let mut seen: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "no account on two pages");
    assert!(opened.iter().all(|id| seen.contains(id)), "{seen:?}");
    app.get(&format!("/api/v1/accounts/customer/{c}?limit=0"), &alice)
        .await
        .assert_problem(422, "validation_error");
}

#[tokio::test]
async fn finding_12_a_probe_of_another_customers_account_is_counted() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    let (bob, _) = app.customer_token().await;
    let bobs = app.open_account(&bob, "SAVINGS").await;
    let counted = |text: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("bankflow_foreign_resource_refusals_total{resource=\"account\"}")
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = counted(
        &app.call(Method::GET, "/metrics", None, None, &[])
            .await
            .text(),
    );
    let probe = app
        .get(
            &format!("/api/v1/accounts/{}", bobs["id"].as_str().unwrap()),
            &alice,
        )
        .await;
    probe.assert_problem(404, "not_found");
    let unknown = app
        .get(&format!("/api/v1/accounts/{}", Uuid::now_v7()), &alice)
        .await;
    unknown.assert_problem(404, "not_found");
    assert_eq!(
        probe.json()["detail"],
        unknown.json()["detail"],
        "alike to the caller"
    );
    let after = counted(
        &app.call(Method::GET, "/metrics", None, None, &[])
            .await
            .text(),
    );
    // The recorder is process-wide (other tests probe too): at least this probe counted.
    assert!(after > before, "{before} -> {after}");
}
