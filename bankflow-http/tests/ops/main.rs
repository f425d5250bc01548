//! The `bankflow` binary as a process, as operators run it: HTTPS, the access log, OTLP
//! traces, `/metrics`, `--config` and `doctor`.

mod doctor;
mod documents;
mod journey;
mod key_rotation;
mod shared_limits;
mod sms_push;
mod smtp;
mod tls;
mod webhooks;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// How long a started server may take to answer.
const START_TIMEOUT_MS: u64 = 20_000;

/// A free local port (bound then released; the server binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `bankflow serve`; stopped (SIGTERM, then waited for) on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Starts `bankflow serve` on a fresh data dir with `args` and `env`, waits until it accepts connections.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_in(tempfile::tempdir().unwrap(), args, env)
    }

    /// Stops this server and starts another on the same data dir with `args` and `env` (a
    /// restart with a changed configuration); the previous log is kept as `server.log.<n>`.
    pub fn restart(mut self, args: &[&str], env: &[(&str, &str)]) -> Server {
        self.stop();
        let n = (1..).find(|n| !self.log.with_extension(format!("log.{n}")).exists());
        let kept = self.log.with_extension(format!("log.{}", n.unwrap_or(0)));
        std::fs::rename(&self.log, kept).unwrap();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Server::start_in(dir, args, env)
    }

    fn start_in(dir: tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = dir.path().join("server.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bankflow"));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("BANKFLOW_RATE_LIMIT_PER_MIN", "100000")
            .env("BANKFLOW_AUTH_RATE_LIMIT_PER_MIN", "100000")
            // These servers test operations (logs, traces, delivery), not the identity gates
            // the api suite covers, and capture no mail: no staff TOTP, no email verification.
            .env("BANKFLOW_STAFF_MFA_REQUIRED", "false")
            .env("BANKFLOW_REQUIRE_VERIFIED_EMAIL", "false")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let server = Server {
            child: Some(child),
            port,
            log,
            dir,
        };
        server.wait_listening();
        server
    }

    fn wait_listening(&self) {
        let deadline = std::time::Instant::now() + Duration::from_millis(START_TIMEOUT_MS);
        while std::time::Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server did not start:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM and wait: the server drains and flushes its traces.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on its own connection `io`.
pub async fn send<S>(io: S, req: Request<Full<Bytes>>) -> Resp
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    let resp = tx.send_request(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

/// A request with optional bearer token, JSON body and extra headers.
pub fn request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let bytes = body.map(|v| v.to_string()).unwrap_or_default();
    b.body(Full::new(Bytes::from(bytes))).unwrap()
}

/// Plain-HTTP client of one server.
pub struct Client {
    pub port: u16,
}

impl Client {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let io = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        send(io, request(method, path, token, body, headers)).await
    }
}

/// Writes `text` to `path` (test fixtures).
pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}
