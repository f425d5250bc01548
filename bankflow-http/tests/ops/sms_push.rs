//! Acceptance (issue 14 item 3): `bankflow serve` configured with Twilio and FCM sends a
//! registration's verification code as a Twilio Messages API request and a deposit's
//! notification as an FCM HTTP v1 push to the device the customer registered over the API;
//! when FCM answers `UNREGISTERED`, the device disappears from the customer's list. The
//! providers are local fakes that record each request as it arrived.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};

use crate::journey::upload_document;
use crate::{Client, Server};

const PASSWORD: &str = "correct horse battery staple push";
const ADMIN_PASSWORD: &str = "admin passphrase for the push test";
const PHONE: &str = "+15550100321";
const TWILIO_SID: &str = "ACfake0000000000000000000000000001";
const TWILIO_TOKEN: &str = "twilio-auth-token-not-for-logs";
const TWILIO_FROM: &str = "+15550009999";
const FCM_PROJECT: &str = "bankflow-push-test";
const FCM_TOKEN: &str = "ya29.fcm-access-token-not-for-logs";
const DEVICE_TOKEN: &str = "fcm-device-token:APA91bF4k3TokenNotForLogs";
/// Bound on every wait for an asynchronous delivery.
const WAIT_MS: u64 = 20_000;
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];

/// One request a fake provider received.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    authorization: String,
    content_type: String,
    body: Vec<u8>,
}

/// A fake provider's record and whether FCM should report tokens gone.
#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    gone: Arc<Mutex<bool>>,
}

impl Fake {
    fn record(&self, path: String, headers: &HeaderMap, body: &Bytes) {
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        self.seen.lock().unwrap().push(Seen {
            path,
            authorization: h("authorization"),
            content_type: h("content-type"),
            body: body.to_vec(),
        });
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (bounded) until a request matches `f`.
    async fn wait_for(&self, what: &str, f: impl Fn(&Seen) -> bool) -> Seen {
        let deadline = Instant::now() + Duration::from_millis(WAIT_MS);
        loop {
            if let Some(s) = self.seen().into_iter().find(|s| f(s)) {
                return s;
            }
            assert!(Instant::now() < deadline, "no {what}: {:?}", self.seen());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn twilio_messages(
    State(fake): State<Fake>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.record(format!("/2010-04-01/Accounts/{sid}"), &headers, &body);
    let sms = json!({"sid": "SMfake", "status": "queued"});
    (StatusCode::CREATED, axum::Json(sms)).into_response()
}

async fn fcm_send(
    State(fake): State<Fake>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.record(format!("/v1/projects/{project}"), &headers, &body);
    if *fake.gone.lock().unwrap() {
        let gone = json!({"error": {"code": 404, "message": "Requested entity was not found.",
            "status": "NOT_FOUND", "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": "UNREGISTERED"}]}});
        return (StatusCode::NOT_FOUND, axum::Json(gone)).into_response();
    }
    let name = format!("projects/{project}/messages/0:1");
    axum::Json(json!({ "name": name })).into_response()
}

/// Serves `router` on a free local port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// The fake Twilio (`/2010-04-01/Accounts/{sid}/Messages.json`) and FCM
/// (`/v1/projects/{project}/messages:send`): both record into one [`Fake`].
async fn fakes(fake: &Fake) -> (String, String) {
    let twilio = Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(twilio_messages),
        )
        .with_state(fake.clone());
    // axum cannot match a literal `:send` after a capture: the fake takes the whole last
    // segment and checks it in the assertions (the path is recorded as received).
    let fcm = Router::new()
        .route("/v1/projects/{project}/{verb}", post(fcm_send_verb))
        .with_state(fake.clone());
    (serve(twilio).await, serve(fcm).await)
}

async fn fcm_send_verb(
    state: State<Fake>,
    Path((project, verb)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if verb != "messages:send" {
        return StatusCode::NOT_FOUND.into_response();
    }
    fcm_send(state, Path(project), headers, body).await
}

async fn ok(c: &Client, m: Method, path: &str, token: Option<&str>, body: Value) -> Value {
    let r = c.call(m, path, token, Some(body), &[]).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text());
    r.json()
}

async fn login(c: &Client, email: &str, password: &str) -> String {
    let body = json!({"email": email, "password": password});
    let t = ok(c, Method::POST, "/api/v1/auth/login", None, body).await;
    t["access_token"].as_str().unwrap().to_string()
}

/// Registers `email` with [`PHONE`] (which sends the phone's verification SMS), makes it a
/// KYC-approved customer with a checking account; returns (token, account id).
async fn onboard(c: &Client, admin: &str, email: &str) -> (String, String) {
    let body = json!({"email": email, "password": PASSWORD, "phone": PHONE});
    ok(c, Method::POST, "/api/v1/auth/register", None, body).await;
    let token = login(c, email, PASSWORD).await;
    let cust = ok(c, Method::POST, "/api/v1/customers", Some(&token), json!({
        "first_name": "Pia", "last_name": "Push", "date_of_birth": "1988-04-05", "ssn": "219-09-9999",
        "address_line1": "3 Bell St", "city": "Springfield", "state": "IL", "zip_code": "62701", "country": "US"
    })).await;
    let id = cust["id"].as_str().unwrap().to_string();
    upload_document(c, &token, &id, PNG).await;
    let kyc = format!("/api/v1/customers/{id}/kyc");
    ok(c, Method::POST, &kyc, Some(&token), json!({})).await;
    let approve = format!("/api/v1/admin/customers/{id}/kyc/approve");
    ok(c, Method::POST, &approve, Some(admin), json!({})).await;
    // A fresh token carries the customer id.
    let token = login(c, email, PASSWORD).await;
    let body = json!({"account_type": "CHECKING"});
    let acct = ok(c, Method::POST, "/api/v1/accounts", Some(&token), body).await;
    (token, acct["id"].as_str().unwrap().to_string())
}

async fn deposit(c: &Client, admin: &str, account: &str) {
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"account_id": account, "amount": "10.00", "currency": "USD"});
    let r = c
        .call(
            Method::POST,
            "/api/v1/transactions/deposit",
            Some(admin),
            Some(body),
            &[("idempotency-key", &key)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn is_push_to_device(s: &Seen) -> bool {
    s.path.starts_with("/v1/projects/")
        && serde_json::from_slice::<Value>(&s.body).unwrap_or_default()["message"]["token"]
            == DEVICE_TOKEN
}

#[tokio::test]
async fn sms_and_push_reach_twilio_and_fcm_and_a_gone_token_drops_the_device() {
    let fake = Fake::default();
    let (twilio, fcm) = fakes(&fake).await;
    let admin_email = "push-admin@example.com";
    let server = Server::start(
        &[],
        &[
            ("BANKFLOW_ADMIN_EMAIL", admin_email),
            ("BANKFLOW_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("BANKFLOW_TWILIO_ACCOUNT_SID", TWILIO_SID),
            ("BANKFLOW_TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
            ("BANKFLOW_TWILIO_FROM", TWILIO_FROM),
            ("BANKFLOW_TWILIO_BASE_URL", &twilio),
            ("BANKFLOW_FCM_PROJECT_ID", FCM_PROJECT),
            ("BANKFLOW_FCM_ACCESS_TOKEN", FCM_TOKEN),
            ("BANKFLOW_FCM_BASE_URL", &fcm),
        ],
    );
    let c = Client { port: server.port };
    let admin = login(&c, admin_email, ADMIN_PASSWORD).await;
    let (alice, account) = onboard(&c, &admin, "push.alice@example.com").await;

    // Registration sent the phone's verification code by SMS, as Twilio's API takes it.
    let sms = fake
        .wait_for("Twilio request", |s| s.path.starts_with("/2010-04-01/"))
        .await;
    assert_eq!(sms.path, format!("/2010-04-01/Accounts/{TWILIO_SID}"));
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"));
    assert_eq!(sms.authorization, format!("Basic {basic}"));
    assert!(
        sms.content_type
            .starts_with("application/x-www-form-urlencoded"),
        "{}",
        sms.content_type
    );
    let f = form(&sms.body);
    assert_eq!(f["To"], PHONE);
    assert_eq!(f["From"], TWILIO_FROM);
    assert!(f["Body"].contains("BankFlow"), "{f:?}");

    let devices = "/api/v1/notifications/devices";
    let body = json!({"platform": "android", "token": DEVICE_TOKEN});
    let device = ok(&c, Method::POST, devices, Some(&alice), body).await;
    assert!(device["id"].is_string(), "{device}");

    // A deposit's `transaction_completed` goes to push: one FCM v1 send to that device.
    deposit(&c, &admin, &account).await;
    let push = fake.wait_for("FCM send", is_push_to_device).await;
    assert_eq!(push.path, format!("/v1/projects/{FCM_PROJECT}"));
    assert_eq!(push.authorization, format!("Bearer {FCM_TOKEN}"));
    assert!(push.content_type.starts_with("application/json"));
    let msg: Value = serde_json::from_slice(&push.body).unwrap();
    assert!(msg["message"]["notification"]["body"].is_string(), "{msg}");

    // The app was uninstalled: FCM says UNREGISTERED and the device is dropped.
    *fake.gone.lock().unwrap() = true;
    let pushes_before = fake.seen().iter().filter(|s| is_push_to_device(s)).count();
    deposit(&c, &admin, &account).await;
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS);
    loop {
        let r = c.call(Method::GET, devices, Some(&alice), None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let list = r.json();
        if list["items"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the device stayed: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pushes = fake.seen().iter().filter(|s| is_push_to_device(s)).count();
    assert!(
        pushes > pushes_before,
        "FCM was asked before the device went"
    );

    let log = server.log_text();
    for secret in [TWILIO_TOKEN, FCM_TOKEN, DEVICE_TOKEN] {
        assert!(!log.contains(secret), "the log holds {secret}");
    }
}
