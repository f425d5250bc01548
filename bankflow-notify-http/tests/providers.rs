//! The notifiers against a local HTTP server that records every request and answers from a
//! script: exact request shapes, error classification, the OAuth JWT-bearer exchange.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use bankflow_core::{BankError, Channel, Notifier, OutgoingMessage};
use bankflow_notify_http::*;
use base64::Engine;

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    auth: String,
    content_type: String,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Peer {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<(u16, String)>>>,
}

impl Peer {
    fn answer(&self, status: u16, body: &str) {
        self.script
            .lock()
            .unwrap()
            .push_back((status, body.to_string()));
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(
    State(p): State<Peer>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    p.seen.lock().unwrap().push(Seen {
        path: uri.path().to_string(),
        auth: h("authorization"),
        content_type: h("content-type"),
        body: body.to_vec(),
    });
    if uri.path() == "/token" {
        let b = r#"{"access_token":"ya29.from-exchange","expires_in":3600,"token_type":"Bearer"}"#;
        return (StatusCode::OK, b.to_string());
    }
    let (status, b) = p
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, "{}".into()));
    (StatusCode::from_u16(status).unwrap(), b)
}

async fn start() -> (Peer, String) {
    let peer = Peer::default();
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(peer.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (peer, base)
}

fn twilio(base: &str, sender: TwilioSender) -> TwilioNotifier {
    TwilioNotifier::new(TwilioConfig {
        base_url: base.to_string(),
        account_sid: "AC0123".into(),
        auth_token: "tw-secret".into(),
        sender,
        request_timeout_ms: 5_000,
    })
    .unwrap()
}

fn sms(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        channel: Channel::Sms,
        recipient: to.into(),
        subject: None,
        body: "Your code is 123456".into(),
    }
}

fn push(token: &str) -> OutgoingMessage {
    OutgoingMessage {
        channel: Channel::Push,
        recipient: token.into(),
        subject: Some("Money in".into()),
        body: "You received 10.00 EUR".into(),
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap()
}

#[tokio::test]
async fn twilio_posts_the_messages_api_form_with_basic_auth() {
    let (peer, base) = start().await;
    peer.answer(201, r#"{"sid":"SM1","status":"queued"}"#);
    twilio(&base, TwilioSender::From("+15550001111".into()))
        .send(&sms("+447700900123"))
        .await
        .unwrap();
    peer.answer(201, "{}");
    twilio(&base, TwilioSender::MessagingService("MG42".into()))
        .send(&sms("+447700900124"))
        .await
        .unwrap();
    let seen = peer.seen();
    assert_eq!(seen[0].path, "/2010-04-01/Accounts/AC0123/Messages.json");
    let basic = base64::engine::general_purpose::STANDARD.encode("AC0123:tw-secret");
    assert_eq!(seen[0].auth, format!("Basic {basic}"));
    assert_eq!(seen[0].content_type, "application/x-www-form-urlencoded");
    let f = form(&seen[0].body);
    assert_eq!(f["To"], "+447700900123");
    assert_eq!(f["From"], "+15550001111");
    assert_eq!(f["Body"], "Your code is 123456");
    let f = form(&seen[1].body);
    assert_eq!(f["MessagingServiceSid"], "MG42");
    assert!(!f.contains_key("From"));
}

#[tokio::test]
async fn twilio_errors_are_classified_and_the_token_never_shows() {
    let (peer, base) = start().await;
    let n = twilio(&base, TwilioSender::From("+15550001111".into()));
    peer.answer(
        400,
        r#"{"code":21211,"message":"The 'To' number is not valid.","status":400}"#,
    );
    let e = n.send(&sms("+1")).await.unwrap_err();
    assert!(matches!(e, BankError::Validation { .. }), "{e:?}");
    assert!(e.to_string().contains("21211"), "{e}");
    peer.answer(429, r#"{"code":20429,"message":"Too Many Requests"}"#);
    assert!(matches!(
        n.send(&sms("+1")).await.unwrap_err(),
        BankError::Transient(_)
    ));
    peer.answer(503, "down");
    assert!(matches!(
        n.send(&sms("+1")).await.unwrap_err(),
        BankError::Transient(_)
    ));
    assert!(!format!("{n:?}").contains("tw-secret"));
    // A peer that is not there at all is a retryable network failure.
    let gone = twilio("http://127.0.0.1:9", TwilioSender::From("+1555".into()));
    assert!(matches!(
        gone.send(&sms("+1")).await.unwrap_err(),
        BankError::Transient(_)
    ));
}

fn fcm(base: &str, auth: FcmAuth) -> FcmNotifier {
    FcmNotifier::new(FcmConfig {
        base_url: base.into(),
        project_id: "bankflow-test".into(),
        auth,
        request_timeout_ms: 5_000,
    })
    .unwrap()
}

#[tokio::test]
async fn fcm_posts_the_v1_message_with_a_bearer_token() {
    let (peer, base) = start().await;
    let n = fcm(&base, FcmAuth::Static("static-access".into()));
    peer.answer(200, r#"{"name":"projects/bankflow-test/messages/1"}"#);
    n.send(&push("device-token-1")).await.unwrap();
    let s = &peer.seen()[0];
    assert_eq!(s.path, "/v1/projects/bankflow-test/messages:send");
    assert_eq!(s.auth, "Bearer static-access");
    assert!(s.content_type.starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"message": {"token": "device-token-1",
        "notification": {"title": "Money in", "body": "You received 10.00 EUR"}}})
    );
    assert!(!format!("{n:?}").contains("static-access"));
}

#[tokio::test]
async fn fcm_unregistered_and_invalid_tokens_are_gone_other_errors_are_not() {
    let (peer, base) = start().await;
    let n = fcm(&base, FcmAuth::Static("t".into()));
    let gone = |e: BankError| matches!(e, BankError::NotFound { resource } if resource == TOKEN_GONE_RESOURCE);
    peer.answer(404, r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND",
        "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#);
    assert!(gone(n.send(&push("old")).await.unwrap_err()));
    peer.answer(400, r#"{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT",
        "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},
        {"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}]}}"#);
    assert!(gone(n.send(&push("bad")).await.unwrap_err()));
    peer.answer(400, r#"{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT",
        "details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.notification.title"}]}]}}"#);
    assert!(matches!(
        n.send(&push("ok")).await.unwrap_err(),
        BankError::Validation { .. }
    ));
    peer.answer(
        404,
        r#"{"error":{"code":404,"status":"NOT_FOUND","message":"project not found"}}"#,
    );
    assert!(matches!(
        n.send(&push("ok")).await.unwrap_err(),
        BankError::Validation { .. }
    ));
    peer.answer(
        503,
        r#"{"error":{"code":503,"status":"UNAVAILABLE","details":[{"errorCode":"UNAVAILABLE"}]}}"#,
    );
    assert!(matches!(
        n.send(&push("ok")).await.unwrap_err(),
        BankError::Transient(_)
    ));
    peer.answer(429, r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}"#);
    assert!(matches!(
        n.send(&push("ok")).await.unwrap_err(),
        BankError::Transient(_)
    ));
}

#[derive(serde::Deserialize)]
struct Assertion {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

#[tokio::test]
async fn fcm_exchanges_a_signed_service_account_assertion_once_and_caches_the_token() {
    let (peer, base) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let pem = bankflow_notify_http::testing::rsa_private_key_pem();
    assert!(
        pem.contains("BEGIN PRIVATE KEY"),
        "PKCS#8, as Google issues"
    );
    let token_uri = format!("{base}/token");
    let key_file = dir.path().join("sa.json");
    std::fs::write(&key_file, serde_json::json!({"type": "service_account", "project_id": "bankflow-test",
        "private_key_id": "kid-1", "private_key": pem, "client_email": "push@bankflow-test.iam.gserviceaccount.com",
        "token_uri": token_uri}).to_string()).unwrap();
    let auth = FcmAuth::from_service_account_file(&key_file).unwrap();
    assert!(!format!("{auth:?}").contains("PRIVATE"));
    let n = fcm(&base, auth);
    n.send(&push("tok-a")).await.unwrap();
    n.send(&push("tok-b")).await.unwrap();
    let seen = peer.seen();
    let exchanges: Vec<&Seen> = seen.iter().filter(|s| s.path == "/token").collect();
    assert_eq!(exchanges.len(), 1, "the access token is cached");
    let sends: Vec<&Seen> = seen.iter().filter(|s| s.path != "/token").collect();
    assert_eq!(sends.len(), 2);
    assert!(sends.iter().all(|s| s.auth == "Bearer ya29.from-exchange"));
    let f = form(&exchanges[0].body);
    assert_eq!(
        f["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    // Verify the assertion's RS256 signature with the public half of the generated key.
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::DecodePrivateKey;
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
    let public_der = rsa::RsaPublicKey::from(&private).to_pkcs1_der().unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_rsa_der(public_der.as_bytes());
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[&token_uri]);
    v.set_issuer(&["push@bankflow-test.iam.gserviceaccount.com"]);
    let data = jsonwebtoken::decode::<Assertion>(&f["assertion"], &decoding, &v).unwrap();
    assert_eq!(data.header.kid.as_deref(), Some("kid-1"));
    assert_eq!(data.claims.scope, FCM_SCOPE);
    assert_eq!(data.claims.aud, token_uri);
    assert_eq!(
        data.claims.iss,
        "push@bankflow-test.iam.gserviceaccount.com"
    );
    assert_eq!(data.claims.exp - data.claims.iat, 3600);
    // A forged signature (another key) does not verify: the check above can fail.
    let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let der = rsa::RsaPublicKey::from(&other).to_pkcs1_der().unwrap();
    let wrong = jsonwebtoken::DecodingKey::from_rsa_der(der.as_bytes());
    assert!(jsonwebtoken::decode::<Assertion>(&f["assertion"], &wrong, &v).is_err());
}

#[tokio::test]
async fn a_bad_key_file_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sa.json");
    std::fs::write(
        &p,
        r#"{"client_email":"a@b","private_key":"not-a-key-SECRET","token_uri":"http://x"}"#,
    )
    .unwrap();
    let e = FcmAuth::from_service_account_file(&p).unwrap_err();
    assert!(matches!(e, BankError::Validation { .. }));
    assert!(!e.to_string().contains("SECRET"));
}
