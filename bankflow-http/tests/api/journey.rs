//! End-to-end journeys over the Router.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::json;

use crate::helpers::{key, TestApp};

/// Open accounts → deposit → transfer → history → statement (json/csv/pdf) → reverse, with
/// tokens minted for an admin and two customers.
pub async fn money_journey(app: &TestApp) {
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let (bob, _) = app.customer_token().await;

    let a_chk = app.open_account(&alice, "CHECKING").await;
    assert_eq!(a_chk["status"], "ACTIVE");
    assert_eq!(a_chk["balance"], "0.00");
    assert_eq!(a_chk["currency"], "USD");
    let a_sav = app.open_account(&alice, "SAVINGS").await;
    assert_eq!(a_sav["account_type"], "SAVINGS");
    let b_chk = app.open_account(&bob, "CHECKING").await;
    let a_id = a_chk["id"].as_str().unwrap().to_string();
    let b_id = b_chk["id"].as_str().unwrap().to_string();

    let dep = app.deposit(&admin, &a_id, "100.00").await;
    assert_eq!(dep["status"], "COMPLETED");
    assert_eq!(dep["transaction_type"], "DEPOSIT");
    assert_eq!(app.balance(&alice, &a_id).await, "100.00");

    // Transfer to Bob by account number.
    let r = app
        .post_idem(
            "/api/v1/transactions/transfer",
            &alice,
            &key(),
            json!({"from_account_id": a_id, "to_account_number": b_chk["account_number"], "amount": "25.50",
                   "currency": "USD", "description": "rent, \"march\""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let t = r.json();
    assert_eq!(t["status"], "COMPLETED");
    assert_eq!(t["amount"], "25.50");
    assert_eq!(t["to_account_id"], b_id.as_str());
    let t_id = t["id"].as_str().unwrap().to_string();
    assert_eq!(app.balance(&alice, &a_id).await, "74.50");
    assert_eq!(app.balance(&bob, &b_id).await, "25.50");

    // Internal transfer between Alice's own accounts by id.
    let r = app
        .post_idem(
            "/api/v1/transactions/transfer",
            &alice,
            &key(),
            json!({"from_account_id": a_id, "to_account_id": a_sav["id"], "amount": "4.50", "currency": "USD"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // History: newest first, both parties see the transfer.
    let h = app
        .get(&format!("/api/v1/transactions/account/{a_id}"), &alice)
        .await
        .json();
    let items = h["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["transaction_type"], "DEPOSIT");
    assert!(h["next_cursor"].is_null());
    let filtered = app
        .get(
            &format!("/api/v1/transactions/account/{a_id}?type=TRANSFER&min_amount=10"),
            &alice,
        )
        .await
        .json();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/transactions/{t_id}"), &bob)
            .await
            .status,
        StatusCode::OK
    );
    let found = app
        .get(
            &format!(
                "/api/v1/transactions/search?q={}",
                t["transaction_ref"].as_str().unwrap()
            ),
            &admin,
        )
        .await
        .json();
    assert_eq!(found["items"][0]["id"], t_id.as_str());
    let none = app
        .get(
            &format!("/api/v1/transactions/search?q={t_id}&status=FAILED"),
            &admin,
        )
        .await
        .json();
    assert!(none["items"].as_array().unwrap().is_empty());

    // Statement in three formats.
    let today = Utc::now().date_naive();
    let base = format!("/api/v1/accounts/{a_id}/statement?from={today}&to={today}");
    let s = app.get(&base, &alice).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text());
    let s = s.json();
    assert_eq!(s["opening_balance"], "0.00");
    assert_eq!(s["closing_balance"], "70.00");
    let entries = s["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1]["amount"], "-25.50");
    assert_eq!(entries[1]["balance_after"], "74.50");
    let csv = app.get(&format!("{base}&format=csv"), &alice).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let csv = csv.text();
    assert!(csv.starts_with("transaction_id,posted_at,description,amount,balance_after,currency"));
    assert!(csv.contains("\"rent, \"\"march\"\"\""), "{csv}");
    assert!(csv.contains(",-25.50,74.50,USD"));
    let pdf = app.get(&format!("{base}&format=pdf"), &alice).await;
    assert_eq!(
        pdf.header("content-type").as_deref(),
        Some("application/pdf")
    );
    assert!(pdf.bytes.starts_with(b"%PDF-1.4"));
    assert!(pdf.text().contains("Closing balance: 70.00 USD"));

    // Reversal (admin), at most once.
    let rev = app
        .post_idem(
            &format!("/api/v1/transactions/{t_id}/reverse"),
            &admin,
            &key(),
            json!({"reason": "dispute upheld"}),
        )
        .await;
    assert_eq!(rev.status, StatusCode::OK, "{}", rev.text());
    assert_eq!(rev.json()["status"], "REVERSED");
    assert_eq!(app.balance(&alice, &a_id).await, "95.50");
    assert_eq!(app.balance(&bob, &b_id).await, "0.00");
    app.post_idem(
        &format!("/api/v1/transactions/{t_id}/reverse"),
        &admin,
        &key(),
        json!({"reason": "again"}),
    )
    .await
    .assert_problem(409, "already_reversed");

    // Closing: refused with money in it, accepted at zero.
    app.call(
        Method::DELETE,
        &format!("/api/v1/accounts/{a_id}"),
        Some(&alice),
        None,
        &[],
    )
    .await
    .assert_problem(409, "account_not_empty");
    let closed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/accounts/{b_id}"),
            Some(&bob),
            None,
            &[],
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    assert_eq!(closed.json()["status"], "CLOSED");
}

#[tokio::test]
async fn money_journey_on_memory_store() {
    money_journey(&TestApp::new()).await;
}

#[tokio::test]
async fn two_phase_transfer_and_batch() {
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
    app.deposit(&admin, &a, "50.00").await;

    let p = app
        .post_idem(
            "/api/v1/transactions/pending",
            &alice,
            &key(),
            json!({"from_account_id": a, "to_account_id": b, "amount": "20.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::ACCEPTED, "{}", p.text());
    assert_eq!(p.json()["status"], "PENDING");
    let bal = app
        .get(&format!("/api/v1/accounts/{a}/balance"), &alice)
        .await
        .json();
    assert_eq!(bal["balance"], "50.00");
    assert_eq!(bal["available_balance"], "30.00");
    let id = p.json()["id"].as_str().unwrap().to_string();
    let posted = app
        .post_idem(
            &format!("/api/v1/transactions/{id}/post"),
            &alice,
            &key(),
            json!({"amount": "15.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text());
    assert_eq!(posted.json()["status"], "COMPLETED");
    assert_eq!(app.balance(&alice, &a).await, "35.00");

    let batch = app
        .post_idem(
            "/api/v1/transactions/batch",
            &alice,
            &key(),
            json!({"transfers": [
                {"from_account_id": a, "to_account_id": b, "amount": "5.00", "currency": "USD"},
                {"from_account_id": a, "to_account_id": b, "amount": "500.00", "currency": "USD"}
            ]}),
        )
        .await;
    // The engine refuses the whole batch when one item is refused.
    batch.assert_problem(409, "invalid_state");
    assert!(batch.json()["detail"]
        .as_str()
        .unwrap()
        .contains("insufficient funds"));
    assert_eq!(
        app.balance(&alice, &a).await,
        "35.00",
        "a failed batch moves nothing"
    );
    let batch = app
        .post_idem(
            "/api/v1/transactions/batch",
            &alice,
            &key(),
            json!({"transfers": [
                {"from_account_id": a, "to_account_id": b, "amount": "5.00", "currency": "USD"},
                {"from_account_id": a, "to_account_id": b, "amount": "10.00", "currency": "USD"}
            ]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.text());
    assert_eq!(batch.json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.balance(&alice, &a).await, "20.00");
}

#[tokio::test]
async fn history_pages_with_opaque_cursor() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let a = app.open_account(&alice, "CHECKING").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for amount in ["1.00", "2.00", "3.00"] {
        app.deposit(&admin, &a, amount).await;
    }
    let p1 = app
        .get(&format!("/api/v1/transactions/account/{a}?limit=2"), &alice)
        .await
        .json();
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    assert_eq!(p1["items"][0]["amount"], "3.00");
    let cursor = p1["next_cursor"].as_str().expect("a next page");
    let p2 = app
        .get(
            &format!("/api/v1/transactions/account/{a}?limit=2&cursor={cursor}"),
            &alice,
        )
        .await
        .json();
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert_eq!(p2["items"][0]["amount"], "1.00");
    app.get(
        &format!("/api/v1/transactions/account/{a}?limit=101"),
        &alice,
    )
    .await
    .assert_problem(422, "validation_error");
    app.get(
        &format!("/api/v1/transactions/account/{a}?cursor=zz"),
        &alice,
    )
    .await
    .assert_problem(422, "validation_error");
    // Staff listing of all accounts pages too.
    let all = app.get("/api/v1/accounts?limit=1", &admin).await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
}

/// The whole user journey over HTTP: register → login → customer → document → KYC submit →
/// admin approve → open accounts → deposit → transfer → history → statement (json, csv,
/// pdf) → reverse, with token refresh, reuse detection and logout on the way.
pub async fn user_journey(app: &TestApp) {
    use crate::helpers::{PASSWORD, PNG};
    let admin_email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
    // The first-start bootstrap; a database shared with other runs may already have an admin.
    let created = app
        .state
        .bank
        .identity()
        .ensure_admin(&admin_email, PASSWORD)
        .await
        .unwrap();
    let admin = match created {
        Some(id) => {
            let t = app.login(&admin_email, PASSWORD).await["access_token"]
                .as_str()
                .unwrap()
                .to_string();
            // Staff functions wait for TOTP enrolment (finding 9).
            app.get("/api/v1/admin/overview", &t)
                .await
                .assert_problem(403, "mfa_enrolment_required");
            app.enrol_totp(id).await;
            t
        }
        None => app.admin_token().await,
    };

    let email = format!("Alice.{}@Example.com", uuid::Uuid::new_v4().simple());
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let user = r.json();
    assert_eq!(user["email"], email.to_lowercase());
    assert_eq!(user["roles"], json!(["customer"]));
    assert_eq!(user["is_verified"], false);
    // A taken address answers like a new one (finding 6): the owner is told instead.
    let again = app
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_ne!(again.json()["id"], user["id"]);
    app.call(
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({"email": "x@example.com", "password": "short"})),
        &[],
    )
    .await
    .assert_problem(422, "validation_error");
    app.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": "wrong password here"})),
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");

    let tokens = app.login(&email, PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let me = app.get("/api/v1/auth/me", &access).await.json();
    assert_eq!(me["id"], user["id"]);
    assert!(me["customer_id"].is_null());

    // Refresh rotates; presenting the old refresh token again is 401 and kills the session.
    let old_refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": old_refresh})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rotated = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rotated, old_refresh);
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": old_refresh})),
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": rotated})),
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");
    let tokens = app.login(&email, PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let sessions = app.get("/api/v1/auth/sessions", &access).await.json();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1);
    assert_eq!(sessions["items"][0]["current"], true);

    // No account before KYC.
    app.post(
        "/api/v1/accounts",
        &access,
        json!({"account_type": "CHECKING"}),
    )
    .await
    .assert_problem(409, "invalid_state");

    // Customer profile: the token signed before it existed works with it at once.
    let body = json!({"first_name": "Alice", "last_name": "Smith", "date_of_birth": "1990-04-01", "ssn": "123-45-6789",
        "address_line1": "1 Main St", "city": "Springfield", "state": "IL", "zip_code": "62701", "country": "US"});
    let r = app.post("/api/v1/customers", &access, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let customer = r.json();
    assert_eq!(customer["kyc_status"], "PENDING");
    assert_eq!(customer["ssn_last4"], "6789");
    assert!(!r.text().contains("123-45-6789") && !r.text().contains("123456789"));
    app.post("/api/v1/customers", &access, body)
        .await
        .assert_problem(409, "conflict");
    let cid = customer["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/v1/auth/me", &access).await.json()["customer_id"],
        cid.as_str()
    );
    app.post(
        "/api/v1/accounts",
        &access,
        json!({"account_type": "CHECKING"}),
    )
    .await
    .assert_problem(422, "kyc_required");

    // Documents and KYC: KYC waits for a verified email (finding 12).
    app.post(&format!("/api/v1/customers/{cid}/kyc"), &access, json!({}))
        .await
        .assert_problem(422, "email_unverified");
    let me = app.get("/api/v1/auth/me", &access).await.json();
    app.verify_email(bankflow_core::UserId::parse(me["id"].as_str().unwrap()).unwrap())
        .await;
    app.post(&format!("/api/v1/customers/{cid}/kyc"), &access, json!({}))
        .await
        .assert_problem(422, "validation_error");
    app.upload(&access, &cid, "PASSPORT", b"not an image")
        .await
        .assert_problem(422, "validation_error");
    let d = app.upload(&access, &cid, "PASSPORT", PNG).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text());
    assert_eq!(d.json()["document_type"], "PASSPORT");
    assert_eq!(d.json()["content_type"], "image/png");
    let docs = app
        .get(&format!("/api/v1/customers/{cid}/documents"), &access)
        .await
        .json();
    let doc_id = docs["items"][0]["id"].as_str().unwrap().to_string();
    let content = app
        .get(
            &format!("/api/v1/customers/{cid}/documents/{doc_id}/content"),
            &access,
        )
        .await;
    assert_eq!(content.bytes, PNG);
    assert_eq!(content.header("content-type").as_deref(), Some("image/png"));
    let k = app
        .post(&format!("/api/v1/customers/{cid}/kyc"), &access, json!({}))
        .await;
    assert_eq!(k.status, StatusCode::OK, "{}", k.text());
    assert_eq!(k.json()["kyc_status"], "SUBMITTED");
    app.post(
        &format!("/api/v1/admin/customers/{cid}/kyc/approve"),
        &access,
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    let queue = app
        .get("/api/v1/admin/kyc/queue?limit=100", &admin)
        .await
        .json();
    assert!(queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == cid.as_str()));
    let a = app
        .post(
            &format!("/api/v1/admin/customers/{cid}/kyc/approve"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["kyc_status"], "APPROVED");
    assert_eq!(
        app.get(&format!("/api/v1/customers/{cid}/kyc/status"), &access)
            .await
            .json()["kyc_status"],
        "APPROVED"
    );

    // Accounts and money.
    let chk = app.open_account(&access, "CHECKING").await;
    let sav = app.open_account(&access, "SAVINGS").await;
    let chk_id = chk["id"].as_str().unwrap().to_string();
    let uid = user["id"].as_str().unwrap();
    let mine = app
        .get(&format!("/api/v1/accounts/user/{uid}"), &access)
        .await
        .json();
    assert!(mine["items"].as_array().unwrap().len() >= 2);
    let dep = app
        .post_idem(
            "/api/v1/transactions/deposit",
            &admin,
            &key(),
            json!({"account_id": chk_id, "amount": "250.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(dep.status, StatusCode::CREATED, "{}", dep.text());
    let t = app
        .post_idem("/api/v1/transactions/transfer", &access, &key(),
            json!({"from_account_id": chk_id, "to_account_id": sav["id"], "amount": "100.00", "currency": "USD", "description": "savings"}))
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text());
    let t_id = t.json()["id"].as_str().unwrap().to_string();
    let h = app
        .get(
            &format!("/api/v1/transactions/account/{chk_id}?type=TRANSFER"),
            &access,
        )
        .await
        .json();
    assert_eq!(h["items"][0]["id"], t_id.as_str());
    let today = Utc::now().date_naive();
    let base = format!("/api/v1/accounts/{chk_id}/statement?from={today}&to={today}");
    let st = app.get(&base, &access).await.json();
    assert_eq!(st["closing_balance"], "150.00");
    assert!(app
        .get(&format!("{base}&format=csv"), &access)
        .await
        .text()
        .contains(",-100.00,150.00,USD"));
    assert!(app
        .get(&format!("{base}&format=pdf"), &access)
        .await
        .bytes
        .starts_with(b"%PDF-"));
    let rev = app
        .post_idem(
            &format!("/api/v1/transactions/{t_id}/reverse"),
            &admin,
            &key(),
            json!({"reason": "test"}),
        )
        .await;
    assert_eq!(rev.status, StatusCode::OK, "{}", rev.text());
    assert_eq!(rev.json()["status"], "REVERSED");
    assert_eq!(app.balance(&access, &chk_id).await, "250.00");

    // Committed events became notifications (asynchronously, through the event pump).
    let mut kinds = Vec::new();
    for _ in 0..100 {
        let page = app
            .get("/api/v1/notifications?limit=100", &access)
            .await
            .json();
        kinds = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect();
        if kinds.iter().any(|k| k == "transaction_completed")
            && kinds.iter().any(|k| k == "kyc_approved")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        kinds.iter().any(|k| k == "transaction_completed"),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k == "kyc_approved"), "{kinds:?}");

    // The audit log recorded the KYC decision and its chain verifies.
    let v = app.get("/api/v1/admin/audit/verify", &admin).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    assert_eq!(v.json()["valid"], true);

    // Logout ends the session: its refresh token no longer works.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let out = app
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&access),
            Some(json!({"refresh_token": refresh})),
            &[],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh})),
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn user_journey_on_memory_store() {
    user_journey(&TestApp::new()).await;
}
