//! Fraud endpoints: rules, lists, REVIEW → case → release, BLOCK.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{key, TestApp};

#[tokio::test]
async fn review_case_is_released_by_an_admin_and_blacklists_block() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let (bob, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.open_account(&bob, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.deposit(&admin, &a, "5000.00").await;

    // Only admins change rules.
    let rule = json!({"rule_name": "big", "rule_type": "AMOUNT_THRESHOLD",
        "conditions": {"min_amount": "1000.00", "score": 70}, "action": "REVIEW", "priority": 10, "is_active": true});
    app.post("/api/v1/fraud/rules", &alice, rule.clone())
        .await
        .assert_problem(403, "forbidden");
    let r = app.post("/api/v1/fraud/rules", &admin, rule.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.post("/api/v1/fraud/rules", &admin, rule)
        .await
        .assert_problem(409, "conflict");
    let rules = app.get("/api/v1/fraud/rules", &admin).await.json();
    assert_eq!(rules["items"].as_array().unwrap().len(), 1);

    // Analyze scores without moving money (staff only: issue #16, finding 3).
    let proposal =
        json!({"from_account_id": a, "to_account_id": b, "amount": "2000.00", "currency": "USD"});
    app.post("/api/v1/fraud/analyze", &alice, proposal.clone())
        .await
        .assert_problem(403, "forbidden");
    let d = app.post("/api/v1/fraud/analyze", &admin, proposal).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    assert_eq!(d.json()["action"], "REVIEW");
    assert_eq!(app.balance(&alice, &a).await, "5000.00");

    // A large transfer is held for review: 202, funds reserved, a case opens.
    let t = app
        .post_idem("/api/v1/transactions/transfer", &alice, &key(),
            json!({"from_account_id": a, "to_account_id": b, "amount": "2000.00", "currency": "USD"}))
        .await;
    assert_eq!(t.status, StatusCode::ACCEPTED, "{}", t.text());
    assert_eq!(t.json()["status"], "REVIEW");
    let bal = app
        .get(&format!("/api/v1/accounts/{a}/balance"), &alice)
        .await
        .json();
    assert_eq!(bal["available_balance"], "3000.00");
    let cases = app
        .get("/api/v1/fraud/cases?status=OPEN", &admin)
        .await
        .json();
    let case = &cases["items"][0];
    assert_eq!(case["transaction_id"], t.json()["id"]);
    app.get("/api/v1/fraud/cases", &alice)
        .await
        .assert_problem(403, "forbidden");
    let score = app
        .get(
            &format!("/api/v1/fraud/score/{}", t.json()["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .json();
    assert_eq!(score["action"], "REVIEW");

    let resolved = app
        .post(
            &format!(
                "/api/v1/fraud/cases/{}/resolve",
                case["id"].as_str().unwrap()
            ),
            &admin,
            json!({"decision": "RELEASE", "note": "called the customer"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text());
    assert_eq!(resolved.json()["status"], "RELEASED");
    assert_eq!(app.balance(&bob, &b).await, "2000.00");
    app.post(
        &format!(
            "/api/v1/fraud/cases/{}/resolve",
            case["id"].as_str().unwrap()
        ),
        &admin,
        json!({"decision": "REJECT"}),
    )
    .await
    .assert_problem(409, "invalid_state");

    // With a blacklist rule, blacklisting the destination blocks transfers to it; the
    // refusal moves nothing.
    let bl = json!({"rule_name": "blacklist", "rule_type": "BLACKLIST_HIT", "conditions": {"score": 100}, "action": "BLOCK", "priority": 100});
    assert_eq!(
        app.post("/api/v1/fraud/rules", &admin, bl).await.status,
        StatusCode::CREATED
    );
    let e = app
        .post(
            "/api/v1/fraud/blacklist",
            &admin,
            json!({"list_type": "ACCOUNT", "value": b, "reason": "mule"}),
        )
        .await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text());
    assert_eq!(
        app.get("/api/v1/fraud/blacklist", &admin).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.post_idem(
        "/api/v1/transactions/transfer",
        &alice,
        &key(),
        json!({"from_account_id": a, "to_account_id": b, "amount": "1.00", "currency": "USD"}),
    )
    .await
    .assert_problem(422, "fraud_blocked");
    assert_eq!(app.balance(&alice, &a).await, "3000.00");
    let id = e.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.call(
            axum::http::Method::DELETE,
            &format!("/api/v1/fraud/lists/{id}"),
            Some(&admin),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
}
