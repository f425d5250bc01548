//! Finding 1 of the security review, through the API: staff money movement above the
//! threshold waits for a second admin (maker-checker), and the initiator and approver are
//! on the transaction and in the audit log.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use bankflow_core::{Actor, BookingRequest, IdempotencyKey, Money};

use crate::helpers::{key, TestApp};

/// A customer's two accounts, the first funded with 50,000.00 by the bank itself (the
/// embedding program is never held for approval).
async fn funded(app: &TestApp) -> (String, String, String) {
    let (customer, _) = app.customer_token().await;
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let a = id(app.open_account(&customer, "CHECKING").await);
    let b = id(app.open_account(&customer, "SAVINGS").await);
    let req = BookingRequest {
        account_id: a.parse().unwrap(),
        amount: Money::parse("50000.00", bankflow_core::Currency::USD).unwrap(),
        description: None,
        idempotency_key: IdempotencyKey::parse("fund").unwrap(),
    };
    let bank = &app.state.bank;
    bank.money().deposit(&Actor::system(), req).await.unwrap();
    (customer, a, b)
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.get("/api/v1/auth/me", token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    me.json()["id"].as_str().unwrap().to_string()
}

fn transfer(a: &str, b: &str, amount: &str) -> Value {
    json!({"from_account_id": a, "to_account_id": b, "amount": amount, "currency": "USD"})
}

#[tokio::test]
async fn finding_1_staff_money_above_the_threshold_waits_for_a_second_admin() {
    let app = TestApp::new();
    let (maker, checker) = (app.admin_token().await, app.admin_token().await);
    let (maker_id, checker_id) = (user_id(&app, &maker).await, user_id(&app, &checker).await);
    let (customer, a, b) = funded(&app).await;

    // Above the threshold: 202 with the request; nothing moves.
    let path = "/api/v1/transactions/transfer";
    let r = app
        .post_idem(path, &maker, "big", transfer(&a, &b, "20000.00"))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let req = r.json();
    assert_eq!(req["status"], "PENDING");
    assert_eq!(req["amount"], "20000.00");
    assert_eq!(req["initiated_by"], maker_id.as_str());
    let id = req["id"].as_str().unwrap().to_string();
    assert_eq!(app.balance(&customer, &a).await, "50000.00");
    assert_eq!(app.balance(&customer, &b).await, "0.00");
    let listed = app
        .get("/api/v1/admin/approvals?status=PENDING", &checker)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    assert_eq!(listed.json()["items"][0]["id"], id.as_str());
    let customers_view = app.get("/api/v1/admin/approvals", &customer).await;
    customers_view.assert_problem(403, "forbidden");

    // The same admin cannot approve their own request.
    let approve = format!("/api/v1/admin/approvals/{id}/approve");
    let own = app.post_idem(&approve, &maker, &key(), json!({})).await;
    own.assert_problem(403, "forbidden");
    assert_eq!(app.balance(&customer, &a).await, "50000.00");

    // A second admin approves: the money moves once, recorded with both people.
    let ok = app
        .post_idem(&approve, &checker, "approve-1", json!({}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let decided = ok.json();
    assert_eq!(decided["status"], "EXECUTED");
    assert_eq!(decided["decided_by"], checker_id.as_str());
    let replay = app
        .post_idem(&approve, &checker, "approve-1", json!({}))
        .await;
    assert_eq!(replay.json(), decided);
    let twice = app.post_idem(&approve, &checker, &key(), json!({})).await;
    twice.assert_problem(409, "invalid_state");
    assert_eq!(app.balance(&customer, &a).await, "30000.00");
    assert_eq!(app.balance(&customer, &b).await, "20000.00");
    let txn_id = decided["transaction_id"].as_str().unwrap();
    let t = app
        .get(&format!("/api/v1/transactions/{txn_id}"), &checker)
        .await
        .json();
    assert_eq!(t["status"], "COMPLETED");
    assert_eq!(t["initiated_by"], maker_id.as_str());
    assert_eq!(t["approved_by"], checker_id.as_str());

    // The audit log shows the maker's request and the checker's approval naming the maker.
    let log = app
        .get("/api/v1/admin/audit?limit=100", &checker)
        .await
        .json();
    let entries = log["items"].as_array().unwrap();
    let entry = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["entity_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no {action} entry in {log}"))
            .clone()
    };
    assert_eq!(entry("approval.request")["actor_id"], maker_id.as_str());
    let approved = entry("approval.approve");
    assert_eq!(approved["actor_id"], checker_id.as_str());
    assert_eq!(approved["details"]["initiated_by"], maker_id.as_str());
    assert_eq!(approved["details"]["transaction_id"], txn_id);

    // Below the threshold, a staff movement runs at once, its initiator recorded.
    let r = app
        .post_idem(path, &maker, &key(), transfer(&a, &b, "500.00"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["initiated_by"], maker_id.as_str());
    assert_eq!(r.json()["approved_by"], Value::Null);
    assert_eq!(app.balance(&customer, &b).await, "20500.00");

    // A rejected withdrawal moves nothing.
    let body = json!({"account_id": a, "amount": "15000.00", "currency": "USD"});
    let r = app
        .post_idem("/api/v1/transactions/withdraw", &maker, &key(), body)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let wd = r.json()["id"].as_str().unwrap().to_string();
    let reject = format!("/api/v1/admin/approvals/{wd}/reject");
    let no = app
        .post_idem(&reject, &checker, &key(), json!({"reason": "no ticket"}))
        .await;
    assert_eq!(no.status, StatusCode::OK, "{}", no.text());
    assert_eq!(no.json()["status"], "REJECTED");
    let got = app
        .get(&format!("/api/v1/admin/approvals/{wd}"), &maker)
        .await;
    assert_eq!(got.json()["reason"], "no ticket");
    assert_eq!(app.balance(&customer, &a).await, "29500.00");

    // Raising a limit above the threshold waits for a second admin too.
    let limits = json!({"overdraft_limit": "0", "daily_limit": "25000.00"});
    let put = |token: String| {
        let path = format!("/api/v1/accounts/{a}/limits");
        let body = limits.clone();
        let app = &app;
        async move {
            app.call(Method::PUT, &path, Some(&token), Some(body), &[])
                .await
        }
    };
    let r = put(maker.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let lim = r.json()["id"].as_str().unwrap().to_string();
    let approve = format!("/api/v1/admin/approvals/{lim}/approve");
    let ok = app.post_idem(&approve, &checker, &key(), json!({})).await;
    assert_eq!(ok.json()["status"], "EXECUTED", "{}", ok.text());
    let acct = app.get(&format!("/api/v1/accounts/{a}"), &customer).await;
    assert_eq!(acct.json()["daily_limit"], "25000.00");
}
