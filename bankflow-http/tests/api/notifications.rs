//! Notifications over HTTP: history, read marks, preferences, admin sends and the live
//! stream.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::helpers::TestApp;

fn user_of(app: &TestApp, token: &str) -> String {
    app.state.jwt.verify(token).unwrap().sub
}

#[tokio::test]
async fn history_read_marks_preferences_and_direct_sends() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let uid = user_of(&app, &alice);

    let body = json!({"user_id": uid, "subject": "Hello", "body": "Your card is on its way"});
    app.post("/api/v1/notifications/in_app", &alice, body.clone())
        .await
        .assert_problem(403, "forbidden");
    let sent = app.post("/api/v1/notifications/in_app", &admin, body).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let id = sent.json()["id"].as_str().unwrap().to_string();

    let page = app
        .get(
            &format!("/api/v1/notifications/user/{uid}?limit=100"),
            &alice,
        )
        .await
        .json();
    let n = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id.as_str())
        .expect("the message is listed")
        .clone();
    assert_eq!(n["channel"], "in_app");
    assert!(n["read_at"].is_null());
    let other = uuid::Uuid::now_v7();
    app.get(&format!("/api/v1/notifications/user/{other}"), &alice)
        .await
        .assert_problem(404, "not_found");
    let r = app
        .post(
            &format!("/api/v1/notifications/{id}/read"),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let (bob, _) = app.customer_token().await;
    app.post(&format!("/api/v1/notifications/{id}/read"), &bob, json!({}))
        .await
        .assert_problem(404, "not_found");

    let p = app
        .get("/api/v1/notifications/preferences", &alice)
        .await
        .json();
    assert_eq!(
        p,
        json!({"email_enabled": true, "sms_enabled": true, "push_enabled": true, "in_app_enabled": true})
    );
    let r = app
        .call(
            Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&alice),
            Some(json!({"sms_enabled": false})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["sms_enabled"], false);
    assert_eq!(r.json()["email_enabled"], true);
    let t = app
        .get("/api/v1/notifications/templates", &alice)
        .await
        .json();
    assert!(!t["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_stream_delivers_new_in_app_notifications() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let (alice, _) = app.customer_token().await;
    let uid = user_of(&app, &alice);

    // No token: 401; with a stream ticket in the query: a stream.
    let r = app
        .call(Method::GET, "/api/v1/notifications/stream", None, None, &[])
        .await;
    r.assert_problem(401, "unauthorized");
    let ticket = stream_ticket(&app, &alice).await;
    let req = Request::builder()
        .uri(format!("/api/v1/notifications/stream?ticket={ticket}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut body = resp.into_body();

    let sent = app
        .post(
            "/api/v1/notifications/in_app",
            &admin,
            json!({"user_id": uid, "subject": "Live", "body": "streamed message"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED);
    let id = sent.json()["id"].as_str().unwrap().to_string();

    let mut text = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
                if text.contains("streamed message") {
                    return true;
                }
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "stream said: {text}");
    assert!(text.contains("event: notification"));
    assert!(text.contains(&format!("id: {id}")));
}

#[tokio::test]
async fn finding_5_the_stream_ends_when_its_session_is_logged_out() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    let ticket = stream_ticket(&app, &alice).await;
    let req = Request::builder()
        .uri(format!("/api/v1/notifications/stream?ticket={ticket}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let out = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&alice), None, &[])
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    // Within a few polls (not the token's 15 minutes) the server closes the stream.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its session");
}

async fn stream_ticket(app: &TestApp, token: &str) -> String {
    let r = app
        .call(
            Method::POST,
            "/api/v1/notifications/stream/ticket",
            Some(token),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["expires_in"], 30);
    r.json()["ticket"].as_str().unwrap().to_string()
}

async fn open_stream(app: &TestApp, query: &str) -> StatusCode {
    let req = Request::builder()
        .uri(format!("/api/v1/notifications/stream?{query}"))
        .body(Body::empty())
        .unwrap();
    app.router.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn finding_12_the_stream_takes_a_ticket_never_an_access_token_in_the_url() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    // The access token in the URL (where proxies and browser history keep it) opens nothing.
    assert_eq!(
        open_stream(&app, &format!("access_token={alice}")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        open_stream(&app, &format!("ticket={alice}")).await,
        StatusCode::UNAUTHORIZED,
        "an access token is no ticket"
    );
    let ticket = stream_ticket(&app, &alice).await;
    // A ticket opens the stream only: as a bearer token on the API it is refused.
    let r = app.get("/api/v1/accounts", &ticket).await;
    r.assert_problem(401, "unauthorized");
    assert_eq!(
        open_stream(&app, &format!("ticket={ticket}")).await,
        StatusCode::OK
    );
    // A ticket of a logged-out session opens nothing.
    let out = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&alice), None, &[])
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        open_stream(&app, &format!("ticket={ticket}")).await,
        StatusCode::UNAUTHORIZED
    );
}
