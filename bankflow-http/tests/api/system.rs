//! Operational endpoints, documentation and cross-cutting headers.

use axum::http::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::new();
    let h = app.call(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ok");
    let r = app.call(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let admin = app.admin_token().await;
    app.get("/api/v1/accounts", &admin).await;
    let m = app.call(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    // The recorder is process-wide (other tests add to it): at least this request counts.
    let count = m
        .text()
        .lines()
        .find(|l| l.starts_with("bankflow_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/accounts\",status_class=\"2xx\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok());
    assert!(count.is_some_and(|c| c >= 1), "{}", m.text());
    assert!(
        m.text()
            .contains("bankflow_http_request_duration_seconds_bucket{"),
        "{}",
        m.text()
    );
}

#[tokio::test]
async fn security_headers_and_problem_404s() {
    let app = TestApp::new();
    let r = app
        .call(Method::GET, "/api/v1/no-such-thing", None, None, &[])
        .await;
    r.assert_problem(404, "not_found");
    for (h, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(r.header(h).as_deref(), Some(v), "{h}");
    }
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'self'"));
}

#[tokio::test]
async fn openapi_documents_every_route_with_security_and_errors() {
    let app = TestApp::new();
    let r = app
        .call(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            if path.starts_with("/api/v1/") && !path.starts_with("/api/v1/auth/") {
                assert!(op["security"].is_array(), "{method} {path} has no security");
            }
            if path.starts_with("/api/v1/") {
                assert!(
                    op["responses"]["401"].is_object() || path.starts_with("/api/v1/auth/"),
                    "{method} {path} lacks 401"
                );
                assert!(
                    op["responses"]["500"].is_object(),
                    "{method} {path} lacks 500"
                );
            }
        }
    }
    for p in [
        "/api/v1/accounts",
        "/api/v1/accounts/{id}",
        "/api/v1/accounts/{id}/balance",
        "/api/v1/accounts/{id}/statement",
        "/api/v1/transactions/transfer",
        "/api/v1/transactions/{id}/reverse",
        "/api/v1/transactions/account/{account_id}",
    ] {
        assert!(paths.contains_key(p), "{p} is not documented");
    }
    let ui = app.call(Method::GET, "/docs/", None, None, &[]).await;
    assert_eq!(ui.status, StatusCode::OK);
    assert!(ui.text().contains("swagger"), "{}", ui.text());
}

#[tokio::test]
async fn the_web_app_is_served_with_spa_fallback() {
    use std::sync::Arc;

    use bankflow_core::{Bank, MemoryStore};
    use bankflow_http::jwt::JwtKeys;
    use bankflow_http::{app, AppState, HttpConfig};

    let dir = std::env::temp_dir().join(format!("bankflow-spa-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>BankFlow</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app-1234.js"), "console.log(1)").unwrap();
    let config = HttpConfig {
        static_dir: Some(dir.clone()),
        ..HttpConfig::default()
    };
    let state = AppState::new(
        Bank::builder(Arc::new(MemoryStore::new())).build(),
        JwtKeys::random(),
        config,
    );
    let t = crate::helpers::TestApp {
        router: app(state.clone()),
        state,
    };

    let index = t.call(Method::GET, "/", None, None, &[]).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.text().contains("BankFlow"));
    let deep = t.call(Method::GET, "/accounts/123", None, None, &[]).await;
    assert_eq!(
        deep.status,
        StatusCode::OK,
        "client-side routes fall back to index.html"
    );
    assert!(deep.text().contains("BankFlow"));
    assert_eq!(deep.header("cache-control").as_deref(), Some("no-store"));
    let asset = t
        .call(Method::GET, "/assets/app-1234.js", None, None, &[])
        .await;
    assert_eq!(asset.status, StatusCode::OK);
    assert!(asset.header("cache-control").unwrap().contains("immutable"));
    // The API keeps answering problem+json, never the SPA.
    t.call(Method::GET, "/api/v1/nope", None, None, &[])
        .await
        .assert_problem(404, "not_found");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn errors_below_the_handlers_are_problems_too() {
    let app = TestApp::new();
    let admin = app.admin_token().await;
    let r = app
        .call(Method::PATCH, "/api/v1/accounts", Some(&admin), None, &[])
        .await;
    r.assert_problem(405, "method_not_allowed");
    assert!(r.header("allow").is_some());
    let (alice, c) = app.customer_token().await;
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/customers/{c}/documents"))
        .header("authorization", format!("Bearer {alice}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(req).await.assert_problem(400, "validation_error");
}

fn app_with(config: bankflow_http::HttpConfig) -> TestApp {
    use std::sync::Arc;

    use bankflow_core::{Bank, MemoryStore};
    use bankflow_http::jwt::JwtKeys;
    use bankflow_http::{app, AppState};

    let state = AppState::new(
        Bank::builder(Arc::new(MemoryStore::new())).build(),
        JwtKeys::random(),
        config,
    );
    TestApp {
        router: app(state.clone()),
        state,
    }
}

#[tokio::test]
async fn metrics_can_require_a_token_or_move_to_their_own_address() {
    let t = app_with(bankflow_http::HttpConfig {
        metrics_token: Some("scrape-token-0123456789".into()),
        ..Default::default()
    });
    let r = t.call(Method::GET, "/metrics", None, None, &[]).await;
    r.assert_problem(401, "unauthorized");
    let r = t
        .call(Method::GET, "/metrics", Some("wrong-token"), None, &[])
        .await;
    r.assert_problem(401, "unauthorized");
    let r = t
        .call(
            Method::GET,
            "/metrics",
            Some("scrape-token-0123456789"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("bankflow_up"));

    let t = app_with(bankflow_http::HttpConfig {
        metrics_elsewhere: true,
        ..Default::default()
    });
    let r = t.call(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hsts_only_with_tls_and_request_ids_are_echoed() {
    let t = app_with(bankflow_http::HttpConfig {
        hsts: true,
        ..Default::default()
    });
    let r = t
        .call(
            Method::GET,
            "/healthz",
            None,
            None,
            &[("x-request-id", "abc-1")],
        )
        .await;
    assert_eq!(
        r.header("strict-transport-security").as_deref(),
        Some(bankflow_http::tls::HSTS)
    );
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-1"));
    let plain = TestApp::new();
    let r = plain.call(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(r.header("strict-transport-security"), None);
    assert!(uuid::Uuid::parse_str(&r.header("x-request-id").unwrap()).is_ok());
}

#[tokio::test]
async fn a_panicking_handler_answers_500_problem_and_the_server_keeps_serving() {
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    async fn boom() -> &'static str {
        panic!("handler bug")
    }
    async fn fine() -> &'static str {
        "ok"
    }
    let router = bankflow_http::with_panic_guard(
        axum::Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(fine)),
    );
    let req = |uri: &str| {
        axum::http::Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let res = router.clone().oneshot(req("/boom")).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "internal_error");
    assert!(!String::from_utf8_lossy(&body).contains("handler bug"));
    let ok = router.oneshot(req("/fine")).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

/// A GET of `path` as it arrives over a socket from `peer`, with an optional bearer token.
async fn get_from(t: &TestApp, path: &str, peer: &str, token: Option<&str>) -> StatusCode {
    let mut b = axum::http::Request::builder().uri(path);
    if let Some(tok) = token {
        b = b.header("authorization", format!("Bearer {tok}"));
    }
    let mut req = b.body(axum::body::Body::empty()).unwrap();
    let addr: std::net::SocketAddr = peer.parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    t.send(req).await.status
}

#[tokio::test]
async fn finding_12_metrics_stay_on_this_host_without_a_token() {
    let t = app_with(bankflow_http::HttpConfig::default());
    assert_eq!(
        get_from(&t, "/metrics", "127.0.0.1:40000", None).await,
        StatusCode::OK
    );
    assert_eq!(
        get_from(&t, "/metrics", "203.0.113.7:40000", None).await,
        StatusCode::UNAUTHORIZED,
        "an internet client reads no metrics"
    );
    let t = app_with(bankflow_http::HttpConfig {
        metrics_token: Some("scrape-token-0123456789".into()),
        ..Default::default()
    });
    let from_far = |tok| get_from(&t, "/metrics", "203.0.113.7:40000", tok);
    assert_eq!(from_far(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        from_far(Some("scrape-token-0123456789")).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn finding_12_metrics_and_docs_are_under_the_rate_limit() {
    const BUDGET: u32 = 3;
    let t = app_with(bankflow_http::HttpConfig {
        rate_limits: bankflow_http::ratelimit::RateLimits {
            general_per_min: BUDGET,
            auth_per_min: BUDGET,
        },
        ..Default::default()
    });
    for path in ["/docs/", "/metrics"] {
        let peer = if path == "/docs/" {
            "198.51.100.1:1"
        } else {
            "127.0.0.1:1"
        };
        for _ in 0..BUDGET {
            assert_ne!(
                get_from(&t, path, peer, None).await,
                StatusCode::TOO_MANY_REQUESTS,
                "{path}"
            );
        }
        assert_eq!(
            get_from(&t, path, peer, None).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{path} beyond the budget"
        );
    }
}
