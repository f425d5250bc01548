//! Acceptance (issue 14): two `bankflow serve` processes on one PostgreSQL database, with
//! rate limits shared in the Redis on 127.0.0.1:6379, answer 429 after the shared budget,
//! not after twice it; Redis unreachable fails closed (503) or open, as configured.

use axum::http::{Method, StatusCode};

use crate::{Client, Server};

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const BUDGET_PER_MIN: usize = 10;

/// The PostgreSQL of `DATABASE_URL` (from scripts/pg-test-env.sh). Its data does not matter
/// here: the budgets live in Redis under a prefix of this test's own.
fn database_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must point at PostgreSQL for the shared-limit test: source scripts/pg-test-env.sh",
    )
}

/// Status of an anonymous API request (401 when served, 429 or 503 when refused first).
async fn probe(c: &Client) -> StatusCode {
    c.call(Method::GET, "/api/v1/auth/me", None, None, &[])
        .await
        .status
}

#[tokio::test]
async fn two_servers_share_one_budget_in_redis() {
    let db = database_url();
    let prefix = format!("bankflow-test:{}:", uuid::Uuid::new_v4().simple());
    let budget = BUDGET_PER_MIN.to_string();
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("BANKFLOW_RATE_LIMIT_REDIS", REDIS_URL),
        ("BANKFLOW_RATE_LIMIT_REDIS_PREFIX", prefix.as_str()),
        ("BANKFLOW_RATE_LIMIT_PER_MIN", budget.as_str()),
    ];
    // One after the other: the first migrates the schema, the second finds it ready.
    let a = Server::start(&[], &env);
    let b = Server::start(&[], &env);
    let clients = [Client { port: a.port }, Client { port: b.port }];
    let mut served = 0;
    let mut first_refused = None;
    for i in 0..2 * BUDGET_PER_MIN {
        match probe(&clients[i % 2]).await {
            StatusCode::UNAUTHORIZED => served += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                first_refused.get_or_insert(i);
            }
            other => panic!("request {i}: {other}\n{}", a.log_text()),
        }
    }
    // A token refills every 6 s; the loop takes far less, so at most one extra.
    assert!(
        (BUDGET_PER_MIN..=BUDGET_PER_MIN + 1).contains(&served),
        "{served} requests served across two servers with a shared budget of {BUDGET_PER_MIN}"
    );
    assert_eq!(
        first_refused,
        Some(BUDGET_PER_MIN),
        "429 right after the budget"
    );
    let r = clients[1]
        .call(Method::GET, "/api/v1/auth/me", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn unreachable_redis_fails_closed_by_default_or_open_when_configured() {
    // Port 1: nothing listens there (a port picked free could be handed to a test's server).
    // A password in the URL must never reach the log.
    let with_password = "redis://:limiter-pass-77@127.0.0.1:1";
    let closed_port = "redis://127.0.0.1:1";
    let closed = Server::start(&[], &[("BANKFLOW_RATE_LIMIT_REDIS", with_password)]);
    let r = Client { port: closed.port }
        .call(Method::GET, "/api/v1/auth/me", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.json()["code"], "overloaded");
    assert!(closed.log_text().contains("failing closed"));
    assert!(
        !closed.log_text().contains("limiter-pass-77"),
        "{}",
        closed.log_text()
    );
    // Health checks stay outside the limiter.
    let health = Client { port: closed.port }
        .call(Method::GET, "/healthz", None, None, &[])
        .await;
    assert_eq!(health.status, StatusCode::OK);

    let open = Server::start(
        &["--rate-limit-redis-fail", "open"],
        &[("BANKFLOW_RATE_LIMIT_REDIS", closed_port)],
    );
    let c = Client { port: open.port };
    for _ in 0..3 {
        assert_eq!(probe(&c).await, StatusCode::UNAUTHORIZED);
    }
    assert!(
        open.log_text().contains("failing open"),
        "{}",
        open.log_text()
    );
}
