//! Acceptance (issue 14, webhooks): `bankflow serve` POSTs each event a subscription's filter
//! names, and only those, to a real local receiver that verifies every signature with the
//! third-party Standard Webhooks library (PyPI `standardwebhooks`); a dead endpoint is
//! retried then FAILED while the others' deliveries still arrive; redelivery sends again;
//! after a secret rotation both the old and the new secret verify.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{Client, Resp, Server};

const ADMIN_EMAIL: &str = "hooks-admin@example.com";
const ADMIN_PASSWORD: &str = "admin passphrase for webhooks";
const PASSWORD: &str = "correct horse battery staple hooks";
/// How long the test waits for a delivery to show up (or fail).
const WAIT_MS: u64 = 30_000;

/// The receiver process; killed on drop.
struct Receiver {
    child: Child,
    port: u16,
    out: PathBuf,
    secrets: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start() -> Receiver {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/webhooks-venv.sh");
        let venv = Command::new(&script).output().unwrap();
        assert!(
            venv.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&venv.stderr)
        );
        let python = String::from_utf8(venv.stdout).unwrap().trim().to_string();
        let dir = tempfile::tempdir().unwrap();
        let (port_file, out, secrets) = (
            dir.path().join("port"),
            dir.path().join("received.jsonl"),
            dir.path().join("secrets"),
        );
        std::fs::create_dir(&secrets).unwrap();
        let receiver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ops/webhook_receiver.py");
        let child = Command::new(python)
            .arg(receiver)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--out")
            .arg(&out)
            .arg("--secrets-dir")
            .arg(&secrets)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p.trim().parse().unwrap();
            }
            assert!(Instant::now() < deadline, "receiver did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Receiver {
            child,
            port,
            out,
            secrets,
            _dir: dir,
        }
    }

    fn set_secrets(&self, hook: &str, secrets: &[&str]) {
        std::fs::write(
            self.secrets.join(format!("{hook}.secrets")),
            secrets.join("\n"),
        )
        .unwrap();
    }

    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `pred` holds for what was received; returns it.
    async fn wait_for(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_millis(WAIT_MS);
        loop {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            assert!(Instant::now() < deadline, "{what}: got {got:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn call(c: &Client, m: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
    c.call(m, path, Some(token), body, &[]).await
}

async fn ok(c: &Client, m: Method, path: &str, token: Option<&str>, body: Value) -> Value {
    let r = c.call(m, path, token, Some(body), &[]).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text());
    r.json()
}

async fn login(c: &Client, email: &str, password: &str) -> String {
    let t = ok(
        c,
        Method::POST,
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await;
    t["access_token"].as_str().unwrap().to_string()
}

async fn register(c: &Client, email: &str) {
    ok(
        c,
        Method::POST,
        "/api/v1/auth/register",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
}

async fn subscribe(c: &Client, admin: &str, url: &str, types: &[&str]) -> (String, String) {
    let r = call(
        c,
        Method::POST,
        "/api/v1/admin/webhooks",
        admin,
        Some(json!({"url": url, "event_types": types})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    (
        v["webhook"]["id"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

async fn deliveries(c: &Client, admin: &str, hook: &str) -> Vec<Value> {
    let r = call(
        c,
        Method::GET,
        &format!("/api/v1/admin/webhooks/{hook}/deliveries?limit=100"),
        admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

fn types_of(got: &[Value], hook: &str) -> Vec<String> {
    got.iter()
        .filter(|r| r["hook"] == hook)
        .map(|r| r["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn filtered_signed_deliveries_retries_redelivery_and_rotation() {
    let rx = Receiver::start();
    let server = Server::start(
        &[
            "--webhook-attempts",
            "3",
            "--webhook-backoff-base-ms",
            "200",
            "--webhook-backoff-cap-ms",
            "400",
            // The receiver listens on loopback, which the default (public targets only) refuses.
            "--webhook-allow-private-targets",
        ],
        &[
            ("BANKFLOW_ADMIN_EMAIL", ADMIN_EMAIL),
            ("BANKFLOW_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ],
    );
    let c = Client { port: server.port };
    let admin = login(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let base = format!("http://127.0.0.1:{}/hooks", rx.port);

    // Admin only: a customer is refused, an http URL off the loopback is invalid.
    register(&c, "hooks-eve@example.com").await;
    let eve = login(&c, "hooks-eve@example.com", PASSWORD).await;
    let body = json!({"url": format!("{base}/a"), "event_types": ["user.registered"]});
    let r = call(&c, Method::POST, "/api/v1/admin/webhooks", &eve, Some(body)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = call(&c, Method::GET, "/api/v1/admin/webhooks", &eve, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad = json!({"url": "http://hooks.example.com/a", "event_types": ["user.registered"]});
    let r = call(
        &c,
        Method::POST,
        "/api/v1/admin/webhooks",
        &admin,
        Some(bad),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    let (a, a_secret) = subscribe(
        &c,
        &admin,
        &format!("{base}/a"),
        &["user.registered", "customer.created"],
    )
    .await;
    rx.set_secrets("a", &[&a_secret]);
    // Port 1: nothing listens, the connection is refused.
    let (dead, _) = subscribe(
        &c,
        &admin,
        "http://127.0.0.1:1/hooks/dead",
        &["user.registered"],
    )
    .await;

    // The journey: a user registers, logs in, creates a customer profile.
    let email = "hooks-olga@example.com";
    register(&c, email).await;
    let olga = login(&c, email, PASSWORD).await;
    ok(&c, Method::POST, "/api/v1/customers", Some(&olga), json!({
        "first_name": "Olga", "last_name": "Hooks", "date_of_birth": "1985-02-03",
        "address_line1": "2 Side St", "city": "Springfield", "state": "IL", "zip_code": "62701", "country": "US"
    })).await;
    let got = rx
        .wait_for("user.registered and customer.created on a", |g| {
            let t = types_of(g, "a");
            t.iter().any(|t| t == "com.bankflow.customer.created")
                && t.iter().any(|t| t == "com.bankflow.user.registered")
        })
        .await;
    // Only the filtered types (no user.logged_in), each verified by standardwebhooks.
    for r in got.iter().filter(|r| r["hook"] == "a") {
        let t = r["type"].as_str().unwrap();
        assert!(
            t == "com.bankflow.user.registered" || t == "com.bankflow.customer.created",
            "unfiltered type {t}"
        );
        assert_eq!(r["verified"], json!([0]), "{r}");
        assert_eq!(r["id"], r["event_id"], "webhook-id is the event id");
    }

    // The dead endpoint: three attempts, then FAILED (a arrived meanwhile, above).
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS);
    loop {
        let log = deliveries(&c, &admin, &dead).await;
        if !log.is_empty() && log.iter().all(|d| d["status"] == "FAILED") {
            assert!(
                log.iter()
                    .all(|d| d["attempts"] == 3 && d["last_status_code"].is_null()),
                "{log:#?}"
            );
            assert!(
                log.iter().all(|d| d["last_error"] == "connection failed"),
                "{log:#?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dead endpoint not failed: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Redelivery of one of a's deliveries sends it again.
    let log = deliveries(&c, &admin, &a).await;
    let first = log.iter().find(|d| d["status"] == "DELIVERED").unwrap();
    assert_eq!(first["last_status_code"], 204);
    let event = first["event_id"].as_str().unwrap().to_string();
    let before = rx
        .received()
        .iter()
        .filter(|r| r["id"] == event.as_str())
        .count();
    let path = format!(
        "/api/v1/admin/webhooks/{a}/deliveries/{}/redeliver",
        first["id"].as_str().unwrap()
    );
    let r = call(&c, Method::POST, &path, &admin, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    rx.wait_for("the redelivery", |g| {
        g.iter().filter(|r| r["id"] == event.as_str()).count() == before + 1
    })
    .await;

    // Rotation: the next event is signed with both; each secret alone verifies.
    let r = call(
        &c,
        Method::POST,
        &format!("/api/v1/admin/webhooks/{a}/rotate-secret"),
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let new_secret = r.json()["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, a_secret);
    rx.set_secrets("a", &[&a_secret, &new_secret]);
    let seen = rx.received().len();
    register(&c, "hooks-after-rotation@example.com").await;
    let got = rx
        .wait_for("a delivery after rotation", |g| g.len() > seen)
        .await;
    let after = &got[seen];
    assert_eq!(after["verified"], json!([0, 1]), "{after}");
    assert_eq!(after["signatures"], 2);

    // No GET shows a secret; deleting removes the subscription.
    let r = call(
        &c,
        Method::GET,
        &format!("/api/v1/admin/webhooks/{a}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text().contains(&new_secret) && !r.text().contains(&a_secret));
    let r = call(
        &c,
        Method::DELETE,
        &format!("/api/v1/admin/webhooks/{dead}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = call(
        &c,
        Method::GET,
        &format!("/api/v1/admin/webhooks/{dead}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Every staff action is in the audit log; no secret is in the server's log.
    let audit = call(
        &c,
        Method::GET,
        "/api/v1/admin/audit?limit=100",
        &admin,
        None,
    )
    .await
    .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("webhook."))
        .collect();
    assert_eq!(
        actions,
        [
            "webhook.create",
            "webhook.create",
            "webhook.redeliver",
            "webhook.rotate_secret",
            "webhook.delete"
        ]
    );
    let log = server.log_text();
    assert!(!log.contains(&a_secret) && !log.contains(&new_secret));
}
