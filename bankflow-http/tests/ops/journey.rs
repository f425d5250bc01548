//! A whole journey over a real socket: the access log holds none of the journey's secrets,
//! request ids are echoed, one transfer's trace reaches a local OTLP receiver, and `/metrics`
//! has latency histograms for the routes used.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use serde_json::{json, Value};

use crate::{Client, Server};

pub(crate) const PASSWORD: &str = "correct horse battery staple journey";
const ADMIN_PASSWORD: &str = "admin passphrase for the ops journey";
const SSN: &str = "219-09-9999";
pub(crate) const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];

/// (name, trace id, span id, parent span id) of each span received.
type Spans = Arc<Mutex<Vec<(String, Vec<u8>, Vec<u8>, Vec<u8>)>>>;

/// An OTLP/HTTP receiver: decodes each protobuf export and keeps its spans.
async fn otlp_receiver() -> (u16, Spans) {
    let spans: Spans = Arc::default();
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let kept = kept.clone();
            async move {
                let req = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut k = kept.lock().unwrap();
                for rs in req.resource_spans {
                    for ss in rs.scope_spans {
                        for s in ss.spans {
                            k.push((s.name, s.trace_id, s.span_id, s.parent_span_id));
                        }
                    }
                }
                (
                    [("content-type", "application/x-protobuf")],
                    ExportTraceServiceResponse::default().encode_to_vec(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, spans)
}

fn multipart(document_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "bankflow-ops-boundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\n{document_type}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn ok(
    c: &Client,
    m: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
    h: &[(&str, &str)],
) -> Value {
    let r = c.call(m, path, token, Some(body), h).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text());
    r.json()
}

async fn login(c: &Client, email: &str, password: &str) -> Value {
    ok(
        c,
        Method::POST,
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
        &[],
    )
    .await
}

/// Registers `email` and creates its customer profile (with an SSN, KYC pending); returns
/// (access token, customer id).
pub(crate) async fn register_customer(c: &Client, email: &str) -> (String, String) {
    ok(
        c,
        Method::POST,
        "/api/v1/auth/register",
        None,
        json!({"email": email, "password": PASSWORD}),
        &[],
    )
    .await;
    let t = login(c, email, PASSWORD).await;
    let token = t["access_token"].as_str().unwrap().to_string();
    let cust = ok(c, Method::POST, "/api/v1/customers", Some(&token), json!({
        "first_name": "Olga", "last_name": "Ops", "date_of_birth": "1985-02-03", "ssn": SSN,
        "address_line1": "2 Side St", "city": "Springfield", "state": "IL", "zip_code": "62701", "country": "US"
    }), &[]).await;
    (token, cust["id"].as_str().unwrap().to_string())
}

/// Uploads `file` as the customer's passport (multipart); asserts 201 and returns the document.
pub(crate) async fn upload_document(c: &Client, token: &str, customer: &str, file: &[u8]) -> Value {
    let (ctype, body) = multipart("PASSPORT", file);
    let io = tokio::net::TcpStream::connect(("127.0.0.1", c.port))
        .await
        .unwrap();
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/customers/{customer}/documents"))
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", ctype)
        .body(http_body_util::Full::new(Bytes::from(body)))
        .unwrap();
    let r = crate::send(io, req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// Registers, creates a KYC-approved customer with an SSN, opens an account; returns
/// (access token, refresh token, account id, account number).
async fn onboard(c: &Client, admin: &str, email: &str) -> (String, String, String, String) {
    let (token, id) = register_customer(c, email).await;
    upload_document(c, &token, &id, PNG).await;
    ok(
        c,
        Method::POST,
        &format!("/api/v1/customers/{id}/kyc"),
        Some(&token),
        json!({}),
        &[],
    )
    .await;
    ok(
        c,
        Method::POST,
        &format!("/api/v1/admin/customers/{id}/kyc/approve"),
        Some(admin),
        json!({}),
        &[],
    )
    .await;
    // A fresh token carries the customer id.
    let t = login(c, email, PASSWORD).await;
    let token = t["access_token"].as_str().unwrap().to_string();
    let acct = ok(
        c,
        Method::POST,
        "/api/v1/accounts",
        Some(&token),
        json!({"account_type": "CHECKING"}),
        &[],
    )
    .await;
    (
        token,
        t["refresh_token"].as_str().unwrap().to_string(),
        acct["id"].as_str().unwrap().to_string(),
        acct["account_number"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_journey_logs_no_secrets_and_traces_a_transfer() {
    let (otlp_port, spans) = otlp_receiver().await;
    let endpoint = format!("http://127.0.0.1:{otlp_port}");
    let admin_email = "ops-admin@example.com";
    let mut server = Server::start(
        &["--log-format", "json", "--otlp-endpoint", &endpoint],
        &[
            ("BANKFLOW_ADMIN_EMAIL", admin_email),
            ("BANKFLOW_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ],
    );
    let c = Client { port: server.port };
    let a = login(&c, admin_email, ADMIN_PASSWORD).await;
    let admin = a["access_token"].as_str().unwrap().to_string();
    let (alice, alice_refresh, a_id, a_number) = onboard(&c, &admin, "ops-alice@example.com").await;
    let (_bob, _, _b_id, b_number) = onboard(&c, &admin, "ops-bob@example.com").await;
    let key = uuid::Uuid::new_v4().to_string();
    ok(
        &c,
        Method::POST,
        "/api/v1/transactions/deposit",
        Some(&admin),
        json!({"account_id": a_id, "amount": "100.00", "currency": "USD"}),
        &[("idempotency-key", &key)],
    )
    .await;
    let key = uuid::Uuid::new_v4().to_string();
    let r = c.call(Method::POST, "/api/v1/transactions/transfer", Some(&alice),
        Some(json!({"from_account_id": a_id, "to_account_number": b_number, "amount": "25.50", "currency": "USD"})),
        &[("idempotency-key", &key), ("x-request-id", "ops-transfer-1")]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.headers.get("x-request-id").unwrap(), "ops-transfer-1");
    let generated = c
        .call(
            Method::GET,
            "/healthz",
            None,
            None,
            &[("x-request-id", "bad id with spaces")],
        )
        .await;
    let generated = generated
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let metrics = c
        .call(Method::GET, "/metrics", None, None, &[])
        .await
        .text();
    for route in [
        "/api/v1/auth/login",
        "/api/v1/customers",
        "/api/v1/accounts",
        "/api/v1/transactions/transfer",
    ] {
        let line = metrics
            .lines()
            .find(|l| {
                l.starts_with("bankflow_http_request_duration_seconds_count{")
                    && l.contains(&format!("route=\"{route}\""))
            })
            .unwrap_or_else(|| panic!("no histogram for {route}:\n{metrics}"));
        assert!(
            line.rsplit(' ').next().unwrap().parse::<f64>().unwrap() > 0.0,
            "{line}"
        );
    }
    assert!(metrics.contains("bankflow_engine_command_duration_seconds_count{use_case=\"transactions::transfer\",outcome=\"ok\"}"), "{metrics}");
    // deploy/check.sh parses this scrape with a third-party parser (prometheus-client).
    if let Ok(out) = std::env::var("BANKFLOW_METRICS_SCRAPE_OUT") {
        std::fs::write(&out, &metrics).unwrap();
        std::fs::write(
            format!("{out}.awaiting"),
            bankflow_http::metrics::AWAITING_ENGINE_HOOK.join("\n"),
        )
        .unwrap();
    }

    // The transfer's trace: the request span, the engine command span as its child, and the
    // store commit span (recorded inside bankflow-core) as the engine span's child. Awaited
    // while the server runs: the batch exporter sends every EXPORT_DELAY_MS. Not after
    // `server.stop()`: that waits for the child synchronously on this test's one runtime
    // thread, which also serves the receiver, so the server's final flush at shutdown could
    // not be answered and timed out (a loaded CI run lost the transfer's spans that way).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = spans.lock().unwrap().clone();
        let request = got
            .iter()
            .find(|s| s.0 == "POST /api/v1/transactions/transfer");
        let engine = got.iter().find(|s| s.0 == "transactions::transfer");
        let commit = engine.and_then(|e| got.iter().find(|s| s.0 == "store.commit" && s.3 == e.2));
        if let (Some(r), Some(e), Some(c)) = (request, engine, commit) {
            assert_eq!(e.1, r.1, "same trace");
            assert_eq!(e.3, r.2, "the engine span is the request span's child");
            assert_eq!(c.1, r.1, "the store commit is in the same trace");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "spans received: {:?}",
            got.iter().map(|s| &s.0).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    server.stop();
    let log = server.log_text();
    let secrets = [
        PASSWORD,
        ADMIN_PASSWORD,
        SSN,
        "219099999",
        &admin,
        &alice,
        &alice_refresh,
        &a_number,
        &b_number,
    ];
    for s in secrets {
        assert!(
            !log.contains(s),
            "the log holds a secret ({} chars)",
            s.len()
        );
    }
    let access: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == bankflow_http::access_log::TARGET)
        .collect();
    assert!(access.len() > 15, "one access line per request:\n{log}");
    let transfer = access
        .iter()
        .find(|v| v["request_id"] == "ops-transfer-1")
        .expect("the transfer's line");
    assert_eq!(transfer["route"], "/api/v1/transactions/transfer");
    assert_eq!(transfer["status"], 201);
    assert_ne!(transfer["user_id"], "-");
    assert!(transfer["latency_ms"].as_f64().unwrap() >= 0.0);
}
