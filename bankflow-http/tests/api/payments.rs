//! Payments out of the bank (bill payment, ACH, wire) by the calling customer.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{key, TestApp};

#[tokio::test]
async fn a_customer_pays_a_payee_from_their_own_account_and_a_replay_moves_nothing() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (token, _) = app.customer_token().await;
    let acc = app.open_account(&token, "CHECKING").await;
    let id = acc["id"].as_str().unwrap();
    app.deposit(&admin, id, "100.00").await;

    let body = json!({"from_account_id": id, "payee_name": "ACME Utilities",
        "payee_account_number": "DE89370400440532013000", "payee_reference": "INV-7",
        "amount": "42.50", "currency": "USD"});
    let k = key();
    let r = app
        .post_idem("/api/v1/transactions/payment", &token, &k, body.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let t = r.json();
    assert_eq!(t["status"], "COMPLETED");
    assert_eq!(t["amount"], "42.50");
    assert_eq!(t["description"], "Payment to ACME Utilities (INV-7)");
    assert_eq!(app.balance(&token, id).await, "57.50");

    let again = app
        .post_idem("/api/v1/transactions/payment", &token, &k, body)
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.json()["id"], t["id"]);
    assert_eq!(app.balance(&token, id).await, "57.50");
}

#[tokio::test]
async fn payments_are_refused_without_key_beyond_funds_from_others_accounts_and_with_bad_payees() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (token, _) = app.customer_token().await;
    let (other, _) = app.customer_token().await;
    let acc = app.open_account(&token, "CHECKING").await;
    let id = acc["id"].as_str().unwrap();
    app.deposit(&admin, id, "10.00").await;
    let body = |amount: &str, payee: &str| {
        json!({"from_account_id": id, "payee_name": "Payee", "payee_account_number": payee,
            "amount": amount, "currency": "USD"})
    };

    app.post(
        "/api/v1/transactions/payment",
        &token,
        body("1.00", "12345678"),
    )
    .await
    .assert_problem(400, "validation_error");
    app.post_idem(
        "/api/v1/transactions/payment",
        &token,
        &key(),
        body("11.00", "12345678"),
    )
    .await
    .assert_problem(422, "insufficient_funds");
    app.post_idem(
        "/api/v1/transactions/payment",
        &token,
        &key(),
        body("1.00", "no spaces allowed"),
    )
    .await
    // the engine validates the payee: a well-formed request it refuses is 422
    .assert_problem(422, "validation_error");
    app.post_idem(
        "/api/v1/transactions/payment",
        &other,
        &key(),
        body("1.00", "12345678"),
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(app.balance(&token, id).await, "10.00");
}

#[tokio::test]
async fn ach_and_wire_leave_through_the_external_endpoint_and_unknown_rails_are_refused() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (token, _) = app.customer_token().await;
    let acc = app.open_account(&token, "CHECKING").await;
    let id = acc["id"].as_str().unwrap();
    app.deposit(&admin, id, "500.00").await;
    for (rail, amount) in [("ACH", "100.00"), ("WIRE", "150.00")] {
        let r = app
            .post_idem(
                "/api/v1/transactions/external",
                &token,
                &key(),
                json!({"rail": rail, "from_account_id": id, "payee_name": "Jane Roe",
                    "payee_account_number": "021000021/123456789", "amount": amount, "currency": "USD"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{rail}: {}", r.text());
        assert_eq!(r.json()["status"], "COMPLETED");
    }
    assert_eq!(app.balance(&token, id).await, "250.00");
    let r = app
        .post_idem(
            "/api/v1/transactions/external",
            &token,
            &key(),
            json!({"rail": "CHEQUE", "from_account_id": id, "payee_name": "Jane Roe",
                "payee_account_number": "021000021/123456789", "amount": "1.00", "currency": "USD"}),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text());
    assert_eq!(app.balance(&token, id).await, "250.00");
}
