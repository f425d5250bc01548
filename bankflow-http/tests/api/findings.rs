//! Findings 2 and 3 of the security review, through the API: a device header cannot buy a way
//! past a blacklist, and customers learn nothing from the fraud engine.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{key, TestApp};

/// Alice's funded account and Bob's account, with a BLOCK rule on blacklist hits.
async fn two_accounts(app: &TestApp, admin: &str) -> (String, String, String) {
    let (alice, _) = app.customer_token().await;
    let (bob, _) = app.customer_token().await;
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let a = id(app.open_account(&alice, "CHECKING").await);
    let b = id(app.open_account(&bob, "CHECKING").await);
    app.deposit(admin, &a, "500.00").await;
    let rule = json!({"rule_name": "blacklist", "rule_type": "BLACKLIST_HIT",
        "conditions": {"score": 100}, "action": "BLOCK", "priority": 100});
    let r = app.post("/api/v1/fraud/rules", admin, rule).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    (alice, a, b)
}

#[tokio::test]
async fn finding_2_a_whitelisted_device_header_does_not_beat_a_blacklist() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, a, b) = two_accounts(&app, &admin).await;
    for (list, body) in [
        (
            "whitelist",
            json!({"list_type": "DEVICE", "value": "trusted-device", "reason": "known"}),
        ),
        (
            "blacklist",
            json!({"list_type": "ACCOUNT", "value": a, "reason": "compromised"}),
        ),
    ] {
        let r = app
            .post(&format!("/api/v1/fraud/{list}"), &admin, body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    // The header names the whitelisted device: ignored, and the blacklist still blocks.
    app.call(
        axum::http::Method::POST,
        "/api/v1/transactions/transfer",
        Some(&alice),
        Some(
            json!({"from_account_id": a, "to_account_id": b, "amount": "10.00", "currency": "USD"}),
        ),
        &[
            ("x-device-id", "trusted-device"),
            ("idempotency-key", &key()),
        ],
    )
    .await
    .assert_problem(422, "fraud_blocked");
    assert_eq!(app.balance(&alice, &a).await, "500.00");
}

#[tokio::test]
async fn finding_3_customers_cannot_analyze_and_refusals_name_no_rule() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, a, b) = two_accounts(&app, &admin).await;
    // /fraud/analyze is staff-only, and says the same for an account that does not exist
    // (no account-number oracle).
    for to in [b.clone(), Uuid::now_v7().to_string()] {
        let proposal = json!({"from_account_id": a, "to_account_id": to, "amount": "10.00", "currency": "USD"});
        app.post("/api/v1/fraud/analyze", &alice, proposal)
            .await
            .assert_problem(403, "forbidden");
    }
    let r = app
        .post(
            "/api/v1/fraud/blacklist",
            &admin,
            json!({"list_type": "ACCOUNT", "value": b, "reason": "mule"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let refused = app
        .post_idem(
            "/api/v1/transactions/transfer",
            &alice,
            &key(),
            json!({"from_account_id": a, "to_account_id": b, "amount": "10.00", "currency": "USD"}),
        )
        .await;
    refused.assert_problem(422, "fraud_blocked");
    // The customer is not told which rule or list fired.
    let text = refused.text().to_lowercase();
    for secret in ["blacklist", "rule", "mule", "score"] {
        assert!(!text.contains(secret), "refusal names {secret}: {text}");
    }
}
