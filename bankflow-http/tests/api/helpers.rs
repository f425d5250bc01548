//! Test harness: an app over a fresh store, token minting, one-call requests.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use bankflow_core::customer::{DocumentType, NewCustomer};
use bankflow_core::identity::secrets::totp_code_base32;
use bankflow_core::identity::{LoginRequest, RegisterRequest};
use bankflow_core::ports::TxMode;
use bankflow_core::{
    Actor, Bank, BankBuilder, CustomerId, MemoryStore, RequestContext, Role, Store, UserId,
};
use bankflow_http::jwt::{JwtKeys, Subject};
use bankflow_http::ratelimit::RateLimits;
use bankflow_http::{app, AppState, HttpConfig};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    /// Asserts a problem+json error with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let p = self.json();
        assert_eq!(p["code"], code, "body: {p}");
        assert_eq!(p["status"], status);
        assert!(
            p["type"].as_str().is_some()
                && p["title"].as_str().is_some()
                && p["detail"].as_str().is_some()
        );
    }
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
}

/// Generous limits so only the rate-limit test meets them.
pub fn relaxed_limits() -> RateLimits {
    RateLimits {
        general_per_min: 100_000,
        auth_per_min: 100_000,
    }
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with(Arc::new(MemoryStore::new()), relaxed_limits())
    }

    pub fn with(store: Arc<dyn Store>, limits: RateLimits) -> TestApp {
        TestApp::with_builder(Bank::builder(store), limits)
    }

    /// An app over an engine configured by `builder` (a test's own notifier, say).
    pub fn with_builder(builder: BankBuilder, limits: RateLimits) -> TestApp {
        let config = HttpConfig {
            rate_limits: limits,
            ..HttpConfig::default()
        };
        // Built like the server's: the event sink feeds the notification pump.
        let state = AppState::start(builder, JwtKeys::random(), config);
        TestApp {
            router: app(state.clone()),
            state,
        }
    }

    /// A token for a user who signed in: registered, given `roles` by the system, then
    /// logged in, so the token names a live session exactly as a real sign-in's does (the
    /// server refuses tokens whose session has ended).
    /// Staff users enrol TOTP right after signing in, as the server requires before any
    /// staff function works (finding 9).
    pub async fn token(&self, roles: Vec<Role>) -> String {
        let (user, email) = self.register_user().await;
        let staff = roles
            .iter()
            .any(|r| matches!(r, Role::Admin | Role::Support));
        self.state
            .bank
            .identity()
            .set_user_roles(&Actor::system(), user, roles)
            .await
            .unwrap();
        let token = self.sign_in(&email).await;
        if staff {
            self.enrol_totp(user).await;
        }
        token
    }

    /// Enrols `user` in TOTP through the engine (setup, then enable with the current code);
    /// their signed-in sessions then pass the staff MFA gate. Returns the base32 secret.
    pub async fn enrol_totp(&self, user: UserId) -> String {
        let id = self.state.bank.identity();
        let me = Actor::customer(user, None);
        let ctx = RequestContext::default();
        let setup = id.mfa_setup(&me, PASSWORD, &ctx).await.unwrap();
        let code = totp_code_base32(&setup.secret, Utc::now().timestamp()).unwrap();
        id.mfa_enable(&me, PASSWORD, &code, &ctx).await.unwrap();
        setup.secret
    }

    /// Marks `user`'s email verified straight in the store (the test app's notifier keeps no
    /// codes to read back): KYC submission needs a verified email (finding 12).
    pub async fn verify_email(&self, user: UserId) {
        let mut uow = self.state.bank.store().begin(TxMode::Write).await.unwrap();
        let mut u = uow.user(user).await.unwrap().unwrap();
        u.email_verified = true;
        uow.update_user(&u).await.unwrap();
        uow.commit().await.unwrap();
    }

    pub async fn admin_token(&self) -> String {
        self.token(vec![Role::Admin]).await
    }

    /// A registered customer whose KYC is approved (set up through the engine as the
    /// system, which is faster than the HTTP journey), and a token for them.
    pub async fn customer_token(&self) -> (String, CustomerId) {
        let bank = &self.state.bank;
        let system = Actor::system();
        let (user, email) = self.register_user().await;
        let c = bank
            .customers()
            .create_customer(&system, Some(user), new_customer())
            .await
            .unwrap();
        bank.customers()
            .upload_document(&system, c.id, DocumentType::Passport, PNG)
            .await
            .unwrap();
        bank.customers().submit_kyc(&system, c.id).await.unwrap();
        bank.customers().approve_kyc(&system, c.id).await.unwrap();
        (self.sign_in(&email).await, c.id)
    }

    /// A new user (password [`PASSWORD`]) and their email.
    async fn register_user(&self) -> (UserId, String) {
        let email = format!("{}@example.com", Uuid::new_v4().simple());
        let req = RegisterRequest {
            email: email.clone(),
            password: PASSWORD.into(),
            phone: None,
        };
        let user = self
            .state
            .bank
            .identity()
            .register(req, &RequestContext::default())
            .await
            .unwrap();
        (user.id, email)
    }

    /// Signs `email` in through the engine and mints the access token the server would.
    pub async fn sign_in(&self, email: &str) -> String {
        let login = LoginRequest {
            email: email.into(),
            password: PASSWORD.into(),
            mfa_code: None,
        };
        let t = self
            .state
            .bank
            .identity()
            .login(login, &RequestContext::default())
            .await
            .unwrap();
        let subject = Subject::from_claims(t.claims, Some(t.session_id.0));
        self.state.jwt.issue(&subject, Utc::now()).unwrap()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&v).unwrap())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            bytes,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    /// A money-moving POST with its Idempotency-Key.
    pub async fn post_idem(&self, path: &str, token: &str, key: &str, body: Value) -> Resp {
        self.call(
            Method::POST,
            path,
            Some(token),
            Some(body),
            &[("idempotency-key", key)],
        )
        .await
    }

    /// Opens an account for the token's customer (or `customer` when staff) and returns its JSON.
    pub async fn open_account(&self, token: &str, account_type: &str) -> Value {
        let r = self
            .post(
                "/api/v1/accounts",
                token,
                serde_json::json!({"account_type": account_type}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    pub async fn deposit(&self, admin: &str, account_id: &str, amount: &str) -> Value {
        let key = Uuid::new_v4().to_string();
        let r = self
            .post_idem(
                "/api/v1/transactions/deposit",
                admin,
                &key,
                serde_json::json!({"account_id": account_id, "amount": amount, "currency": "USD"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    pub async fn balance(&self, token: &str, account_id: &str) -> String {
        let r = self
            .get(&format!("/api/v1/accounts/{account_id}/balance"), token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["balance"].as_str().unwrap().to_string()
    }
}

pub fn key() -> String {
    Uuid::new_v4().to_string()
}

/// A password the engine's policy accepts.
pub const PASSWORD: &str = "correct horse battery staple";

/// The smallest valid PNG header the engine's content sniffing accepts, plus padding.
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];

pub fn new_customer() -> NewCustomer {
    NewCustomer {
        first_name: "Alice".into(),
        last_name: "Smith".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
        ssn: Some("123-45-6789".into()),
        address_line1: "1 Main St".into(),
        address_line2: None,
        city: "Springfield".into(),
        state: "IL".into(),
        zip_code: "62701".into(),
        country: "US".into(),
    }
}

impl TestApp {
    /// A multipart document upload.
    pub async fn upload(
        &self,
        token: &str,
        customer: &str,
        document_type: &str,
        bytes: &[u8],
    ) -> Resp {
        let boundary = "bankflow-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\n{document_type}\r\n").as_bytes(),
        );
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/customers/{customer}/documents"))
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Registers `email` (password [`PASSWORD`]) over HTTP; returns the new user JSON.
    pub async fn register(&self, email: &str) -> Value {
        let r = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(serde_json::json!({"email": email, "password": PASSWORD})),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// Logs in over HTTP; returns the token pair JSON.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let r = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"email": email, "password": password})),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }
}
