//! Finding 11: behind a trusted reverse proxy each client has its own rate-limit budget;
//! `X-Forwarded-For` from any other peer buys nothing.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use bankflow_core::{Bank, MemoryStore};
use bankflow_http::jwt::JwtKeys;
use bankflow_http::ratelimit::{parse_proxy_range, RateLimits, TrustedProxies};
use bankflow_http::{app, AppState, HttpConfig};

use crate::helpers::TestApp;

const BUDGET: u32 = 3;

fn app_behind_proxy() -> TestApp {
    let config = HttpConfig {
        rate_limits: RateLimits {
            general_per_min: BUDGET,
            auth_per_min: BUDGET,
        },
        trusted_proxies: TrustedProxies::new(vec![parse_proxy_range("10.0.0.0/8").unwrap()]),
        ..HttpConfig::default()
    };
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

/// An anonymous request as it arrives over a socket from `peer`.
async fn from(t: &TestApp, peer: &str, forwarded_for: Option<&str>) -> StatusCode {
    let mut b = Request::builder().uri("/api/v1/accounts");
    if let Some(v) = forwarded_for {
        b = b.header("x-forwarded-for", v);
    }
    let mut req = b.body(Body::empty()).unwrap();
    let addr: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    t.send(req).await.status
}

#[tokio::test]
async fn finding_11_clients_behind_a_trusted_proxy_have_their_own_budgets() {
    let t = app_behind_proxy();
    let proxy = "10.0.0.2:40000";
    for _ in 0..BUDGET {
        let s = from(&t, proxy, Some("6.6.6.6, 203.0.113.1")).await;
        assert_ne!(s, StatusCode::TOO_MANY_REQUESTS);
    }
    let s = from(&t, proxy, Some("203.0.113.1")).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "client 1 spent its budget"
    );
    // A spoofed leftmost entry does not make client 1 someone else.
    let s = from(&t, proxy, Some("198.18.0.1, 203.0.113.1")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is untouched by client 1.
    let s = from(&t, proxy, Some("203.0.113.2")).await;
    assert_ne!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "client 2 has its own budget"
    );
}

#[tokio::test]
async fn finding_11_a_spoofed_header_from_an_untrusted_peer_buys_no_new_budget() {
    let t = app_behind_proxy();
    let peer = "198.51.100.7:50000";
    for i in 0..BUDGET {
        let spoof = format!("203.0.113.{i}");
        let s = from(&t, peer, Some(&spoof)).await;
        assert_ne!(s, StatusCode::TOO_MANY_REQUESTS);
    }
    let s = from(&t, peer, Some("203.0.113.200")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Claiming to be a trusted proxy's client does not help either.
    let s = from(&t, peer, Some("203.0.113.201, 10.0.0.2")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}
