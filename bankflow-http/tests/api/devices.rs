//! The push device registry over HTTP: register, list, unregister; the per-user cap, other
//! users' devices, refused input and missing credentials.

use axum::http::{Method, StatusCode};
use bankflow_core::notify::DEVICES_PER_USER_MAX;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};

const DEVICES: &str = "/api/v1/notifications/devices";

async fn register(app: &TestApp, token: &str, platform: &str, push_token: &str) -> Resp {
    app.post(
        DEVICES,
        token,
        json!({"platform": platform, "token": push_token}),
    )
    .await
}

async fn listed(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get(DEVICES, token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

async fn delete(app: &TestApp, token: Option<&str>, id: &str) -> Resp {
    app.call(Method::DELETE, &format!("{DEVICES}/{id}"), token, None, &[])
        .await
}

#[tokio::test]
async fn a_customer_registers_lists_and_unregisters_devices_without_the_token_shown() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    let phone_token = "fcm-phone-token:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";
    let r = register(&app, &alice, "android", phone_token).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let phone = r.json();
    assert_eq!(phone["platform"], "android");
    assert!(phone["created_at"].is_string() && phone["updated_at"].is_string());
    assert_eq!(phone["token_hint"], "-1RYqx");
    assert!(
        !r.text().contains(phone_token),
        "the token is never answered"
    );

    let r = register(&app, &alice, "web", "browser-token-0001").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let browser_id = r.json()["id"].as_str().unwrap().to_string();

    // Registering the same token again refreshes the device instead of adding one.
    let again = register(&app, &alice, "ios", phone_token).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.json()["id"], phone["id"]);
    assert_eq!(again.json()["platform"], "ios");

    let items = listed(&app, &alice).await;
    let ids: Vec<&str> = items.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [phone["id"].as_str().unwrap(), browser_id.as_str()]);
    let text = app.get(DEVICES, &alice).await.text();
    assert!(!text.contains(phone_token), "{text}");

    let r = delete(&app, Some(&alice), &browser_id).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let items = listed(&app, &alice).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], phone["id"]);
    delete(&app, Some(&alice), &browser_id)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn the_device_after_the_cap_is_limit_exceeded() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    for i in 0..DEVICES_PER_USER_MAX {
        let r = register(&app, &alice, "android", &format!("cap-token-{i}")).await;
        assert_eq!(r.status, StatusCode::CREATED, "device {i}: {}", r.text());
    }
    register(&app, &alice, "android", "cap-token-one-too-many")
        .await
        .assert_problem(422, "limit_exceeded");
    assert_eq!(
        listed(&app, &alice).await.len(),
        DEVICES_PER_USER_MAX as usize
    );
    // A known token is a refresh, not a new device: still accepted at the cap.
    let r = register(&app, &alice, "ios", "cap-token-0").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn another_customers_device_is_not_found_and_stays() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    let (bob, _) = app.customer_token().await;
    let r = register(&app, &alice, "android", "alice-only-token").await;
    let id = r.json()["id"].as_str().unwrap().to_string();

    delete(&app, Some(&bob), &id)
        .await
        .assert_problem(404, "not_found");
    assert!(listed(&app, &bob).await.is_empty());
    assert_eq!(listed(&app, &alice).await.len(), 1, "bob removed nothing");
    delete(&app, Some(&bob), "not-a-uuid")
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn refused_input_names_its_field() {
    let app = TestApp::new();
    let (alice, _) = app.customer_token().await;
    let cases: [(Value, u16, &str); 5] = [
        (
            json!({"platform": "blackberry", "token": "t-1"}),
            422,
            "platform",
        ),
        (json!({"platform": "android", "token": ""}), 422, "token"),
        (
            json!({"platform": "android", "token": "has a space"}),
            422,
            "token",
        ),
        (
            json!({"platform": "android", "token": "x".repeat(4097)}),
            422,
            "token",
        ),
        (json!({"platform": "android"}), 400, "token"),
    ];
    for (body, status, field) in cases {
        let r = app.post(DEVICES, &alice, body.clone()).await;
        r.assert_problem(status, "validation_error");
        let detail = r.json()["detail"].as_str().unwrap().to_string();
        assert!(detail.contains(field), "{body}: {detail}");
    }
    let r = app
        .post(
            DEVICES,
            &alice,
            json!({"platform": "android", "token": "t-2", "extra": 1}),
        )
        .await;
    r.assert_problem(400, "validation_error");
    assert!(listed(&app, &alice).await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn the_device_routes_need_a_token() {
    let app = TestApp::new();
    let body = json!({"platform": "android", "token": "anonymous-token"});
    app.call(Method::POST, DEVICES, None, Some(body), &[])
        .await
        .assert_problem(401, "unauthorized");
    app.call(Method::GET, DEVICES, None, None, &[])
        .await
        .assert_problem(401, "unauthorized");
    delete(&app, None, &uuid::Uuid::now_v7().to_string())
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn the_device_routes_are_documented_and_linked() {
    let app = TestApp::new();
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await
        .json();
    let paths = &doc["paths"];
    for (path, method) in [
        (DEVICES, "post"),
        (DEVICES, "get"),
        ("/api/v1/notifications/devices/{id}", "delete"),
    ] {
        let op = &paths[path][method];
        assert!(op["security"].is_array(), "{method} {path}: {op}");
        assert!(op["responses"]["401"].is_object(), "{method} {path}");
    }
    let created = &paths[DEVICES]["post"]["responses"]["201"];
    assert_eq!(
        created["links"]["UnregisterDevice"]["operationId"],
        "unregister_device"
    );
    let platforms = &doc["components"]["schemas"]["PlatformName"]["enum"];
    assert_eq!(platforms, &json!(["android", "ios", "web"]));
}
