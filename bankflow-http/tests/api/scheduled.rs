//! Scheduled transfers over HTTP, and the admin overview.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{key, TestApp};

#[tokio::test]
async fn a_customer_schedules_a_transfer_the_worker_runs_it_and_cancel_is_owner_only() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, alice_customer) = app.customer_token().await;
    let (bob, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.open_account(&alice, "SAVINGS").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.deposit(&admin, &a, "100.00").await;

    let now = json!({"from_account_id": a, "to_account_id": b, "amount": "40.00", "currency": "USD",
        "frequency": "ONCE", "start_at": Utc::now()});
    let k = key();
    let r = app
        .post_idem("/api/v1/transactions/scheduled", &alice, &k, now.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let once = r.json();
    assert_eq!(once["status"], "ACTIVE");
    assert_eq!(once["frequency"], "ONCE");
    assert_eq!(once["amount"], "40.00");
    // A replay answers the same schedule; no second one is created.
    let again = app
        .post_idem("/api/v1/transactions/scheduled", &alice, &k, now)
        .await;
    assert_eq!(again.json()["id"], once["id"]);

    let later = json!({"from_account_id": a, "to_account_number": app.get(&format!("/api/v1/accounts/{b}"), &alice).await.json()["account_number"],
        "amount": "5.00", "currency": "USD", "frequency": "MONTHLY",
        "start_at": Utc::now() + Duration::days(3)});
    let monthly = app
        .post_idem("/api/v1/transactions/scheduled", &alice, &key(), later)
        .await;
    assert_eq!(monthly.status, StatusCode::CREATED, "{}", monthly.text());
    let monthly_id = monthly.json()["id"].as_str().unwrap().to_string();

    // The worker's pass runs the due one only.
    let report = app
        .state
        .bank
        .schedules()
        .run_due_scheduled_transfers()
        .await
        .unwrap();
    assert_eq!(report.completed, 1);
    assert_eq!(app.balance(&alice, &a).await, "60.00");
    assert_eq!(app.balance(&alice, &b).await, "40.00");
    let done = app
        .get(
            &format!(
                "/api/v1/transactions/scheduled/{}",
                once["id"].as_str().unwrap()
            ),
            &alice,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(done.json()["status"], "COMPLETED");
    assert!(done.json()["last_transaction_id"].is_string());

    let list = app.get("/api/v1/transactions/scheduled", &alice).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 2);
    // Staff name the customer; another customer sees nothing of Alice's.
    let staff = app
        .get(
            &format!(
                "/api/v1/transactions/scheduled?customer_id={}",
                alice_customer.0
            ),
            &admin,
        )
        .await;
    assert_eq!(staff.json()["items"].as_array().unwrap().len(), 2);
    app.get(
        &format!(
            "/api/v1/transactions/scheduled?customer_id={}",
            alice_customer.0
        ),
        &bob,
    )
    .await
    .assert_problem(404, "not_found");
    let path = format!("/api/v1/transactions/scheduled/{monthly_id}");
    app.get(&path, &bob).await.assert_problem(404, "not_found");
    app.call(Method::DELETE, &path, Some(&bob), None, &[])
        .await
        .assert_problem(404, "not_found");

    let cancelled = app
        .call(Method::DELETE, &path, Some(&alice), None, &[])
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text());
    assert_eq!(cancelled.json()["status"], "CANCELLED");
    app.call(Method::DELETE, &path, Some(&alice), None, &[])
        .await
        .assert_problem(409, "invalid_state");
}

#[tokio::test]
async fn scheduling_needs_a_key_a_known_frequency_and_a_start_that_is_not_past() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.open_account(&alice, "SAVINGS").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = |frequency: &str, start: chrono::DateTime<Utc>| {
        json!({"from_account_id": a, "to_account_id": b, "amount": "1.00", "currency": "USD",
            "frequency": frequency, "start_at": start})
    };
    app.post(
        "/api/v1/transactions/scheduled",
        &alice,
        body("ONCE", Utc::now()),
    )
    .await
    .assert_problem(400, "validation_error");
    let r = app
        .post_idem(
            "/api/v1/transactions/scheduled",
            &alice,
            &key(),
            body("HOURLY", Utc::now()),
        )
        .await;
    assert_eq!(r.json()["code"], "validation_error", "{}", r.text());
    let r = app
        .post_idem(
            "/api/v1/transactions/scheduled",
            &alice,
            &key(),
            body("ONCE", Utc::now() - Duration::days(2)),
        )
        .await;
    assert_eq!(r.json()["code"], "validation_error", "{}", r.text());
    let list = app.get("/api/v1/transactions/scheduled", &alice).await;
    assert!(list.json()["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_admin_overview_counts_the_bank_and_is_admin_only() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.deposit(&admin, &a, "75.00").await;

    let r = app.get("/api/v1/admin/overview", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let o = r.json();
    assert!(o["accounts_total"].as_u64().unwrap() >= 1);
    assert_eq!(o["totals"][0]["currency"], "USD");
    assert_eq!(o["totals"][0]["balance"], "75.00");
    assert_eq!(o["truncated"], false);
    let completed = o["transactions_by_status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "COMPLETED")
        .unwrap();
    assert_eq!(completed["count"], 1);

    app.get("/api/v1/admin/overview", &alice)
        .await
        .assert_problem(403, "forbidden");
}
