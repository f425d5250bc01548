//! Outgoing webhooks: the HTTP transport (reqwest over rustls) behind the engine's
//! `WebhookTransport` port, the `--webhook-*` settings and the delivery loop the background
//! worker runs beside its other jobs.
//!
//! Server-side request forgery: a webhook URL is chosen by staff, but the server sends to it
//! from inside the bank's network. Unless `--webhook-allow-private-targets` is set, the
//! transport connects only to public addresses: a name is resolved by our own resolver, which
//! drops loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, ULA and
//! other special-purpose addresses, and an IP literal is checked before any connection. The
//! check is on the address actually connected to, so a DNS name that points inward is refused
//! as well; redirects are never followed and no proxy is used (a proxy would resolve itself).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bankflow_core::webhook::{
    DeliveryPolicy, WebhookOutcome, WebhookRequest, WebhookTransport, WEBHOOK_RESPONSE_BYTES_MAX,
    WEBHOOK_TIMEOUT_MS,
};
use bankflow_core::Bank;
use clap::Args;
use tokio::sync::watch;

/// Pause between delivery passes that found nothing due.
pub const WEBHOOK_IDLE_PAUSE_MS: u64 = 500;

/// `bankflow serve` settings of the webhook delivery worker.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Attempts before a delivery is marked FAILED (1..=20).
    #[arg(long, env = "BANKFLOW_WEBHOOK_ATTEMPTS", default_value_t = DeliveryPolicy::default().attempts_max)]
    pub webhook_attempts: u32,
    /// Wait after the first failed attempt; doubles after each further one.
    #[arg(long, env = "BANKFLOW_WEBHOOK_BACKOFF_BASE_MS", default_value_t = DeliveryPolicy::default().backoff_base_ms)]
    pub webhook_backoff_base_ms: u64,
    /// Longest wait between two attempts.
    #[arg(long, env = "BANKFLOW_WEBHOOK_BACKOFF_CAP_MS", default_value_t = DeliveryPolicy::default().backoff_cap_ms)]
    pub webhook_backoff_cap_ms: u64,
    /// Requests in flight at once (1..=64).
    #[arg(long, env = "BANKFLOW_WEBHOOK_CONCURRENCY", default_value_t = DeliveryPolicy::default().concurrency)]
    pub webhook_concurrency: usize,
    /// Also deliver to loopback, private and link-local addresses (development and tests;
    /// off by default, so a webhook cannot reach services inside the bank's network).
    #[arg(long, env = "BANKFLOW_WEBHOOK_ALLOW_PRIVATE_TARGETS")]
    pub webhook_allow_private_targets: bool,
}

impl WebhookArgs {
    /// Which addresses deliveries may reach.
    pub fn targets(&self) -> Targets {
        if self.webhook_allow_private_targets {
            Targets::Any
        } else {
            Targets::PublicOnly
        }
    }

    /// The engine's delivery policy from these settings.
    pub fn policy(&self) -> DeliveryPolicy {
        DeliveryPolicy {
            attempts_max: self.webhook_attempts,
            backoff_base_ms: self.webhook_backoff_base_ms,
            backoff_cap_ms: self.webhook_backoff_cap_ms,
            concurrency: self.webhook_concurrency,
            ..DeliveryPolicy::default()
        }
    }
}

/// Which addresses deliveries may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Public unicast addresses only (the default).
    PublicOnly,
    /// Any address, loopback and private ranges included.
    Any,
}

/// The reqwest client that POSTs deliveries.
pub struct HttpTransport {
    client: reqwest::Client,
    targets: Targets,
}

impl HttpTransport {
    /// A client with the per-request timeout, no redirects (a redirect could send the
    /// signed payload to a host staff never registered), no proxy and, for
    /// [`Targets::PublicOnly`], a resolver that yields public addresses only.
    pub fn new(targets: Targets) -> Result<HttpTransport, reqwest::Error> {
        let mut b = reqwest::Client::builder()
            .timeout(Duration::from_millis(WEBHOOK_TIMEOUT_MS))
            .connect_timeout(Duration::from_millis(WEBHOOK_TIMEOUT_MS))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("bankflow-webhooks/", env!("CARGO_PKG_VERSION")));
        if targets == Targets::PublicOnly {
            b = b.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        Ok(HttpTransport {
            client: b.build()?,
            targets,
        })
    }
}

/// Why a delivery was not sent: its host is (or resolves only to) a non-public address.
#[derive(Debug)]
struct NotPublic;

impl std::fmt::Display for NotPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the endpoint is not a public address")
    }
}

impl std::error::Error for NotPublic {}

/// Resolves with the system resolver and keeps public addresses only.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest sets the URL's port on the addresses it gets back.
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NotPublic) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// True for a globally routable unicast address: not loopback, private (RFC 1918), link-local,
/// CGNAT (RFC 6598), unspecified, broadcast, multicast, documentation, benchmarking, reserved,
/// IPv6 unique-local or site-local, nor an IPv4-mapped / NAT64 form of any of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking 198.18/15
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 (RFC 6052): the IPv4 address it stands for decides.
        let [x, y] = [seg[6].to_be_bytes(), seg[7].to_be_bytes()];
        return is_public_v4(Ipv4Addr::new(x[0], x[1], y[0], y[1]));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8)) // documentation
}

/// Whether `url`'s host is an IP literal that [`Targets::PublicOnly`] forbids (names are
/// checked by the resolver, which reqwest does not consult for literals).
fn forbidden_literal(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false; // reqwest refuses it itself
    };
    match u.host() {
        Some(url::Host::Ipv4(ip)) => !is_public_v4(ip),
        Some(url::Host::Ipv6(ip)) => !is_public_v6(ip),
        _ => false,
    }
}

/// True when `e` (or an error it wraps) is the resolver's [`NotPublic`].
fn caused_by_not_public(e: &reqwest::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(x) = src {
        if x.is::<NotPublic>() {
            return true;
        }
        src = x.source();
    }
    false
}

/// Reads at most [`WEBHOOK_RESPONSE_BYTES_MAX`] of a body, so a huge answer costs nothing.
async fn body_prefix(mut resp: reqwest::Response) -> String {
    let mut buf: Vec<u8> = Vec::new();
    while buf.len() < WEBHOOK_RESPONSE_BYTES_MAX {
        match resp.chunk().await {
            Ok(Some(c)) => buf.extend_from_slice(&c),
            _ => break,
        }
    }
    buf.truncate(WEBHOOK_RESPONSE_BYTES_MAX);
    String::from_utf8_lossy(&buf).into_owned()
}

#[async_trait]
impl WebhookTransport for HttpTransport {
    async fn post(&self, req: &WebhookRequest) -> WebhookOutcome {
        if self.targets == Targets::PublicOnly && forbidden_literal(&req.url) {
            return Err(NotPublic.to_string());
        }
        let mut r = self.client.post(&req.url).body(req.body.clone());
        for (k, v) in &req.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        match r.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // Drain (bounded) so the connection can be reused; the text is not kept.
                let _ = body_prefix(resp).await;
                Ok(status)
            }
            // Without the URL: it could carry a token in its query.
            Err(e) if caused_by_not_public(&e) => Err(NotPublic.to_string()),
            Err(e) if e.is_timeout() => Err(format!("no answer within {WEBHOOK_TIMEOUT_MS} ms")),
            Err(e) if e.is_connect() => Err("connection failed".into()),
            Err(_) => Err("request failed".into()),
        }
    }
}

/// What the worker needs to deliver webhooks.
#[derive(Clone)]
pub struct WebhookWorker {
    /// The transport.
    pub transport: Arc<dyn WebhookTransport>,
    /// Retry and concurrency settings.
    pub policy: DeliveryPolicy,
}

/// One delivery pass; returns how many deliveries were attempted.
pub async fn deliver_once(bank: &Bank, w: &WebhookWorker) -> usize {
    match bank
        .webhooks()
        .deliver_due_webhooks(w.transport.as_ref(), &w.policy)
        .await
    {
        Ok(r) => r.delivered + r.retrying + r.failed,
        Err(e) => {
            crate::metrics::worker_error("webhook_delivery");
            tracing::warn!(error = %e, "webhook delivery failed");
            0
        }
    }
}

/// Delivers until `shutdown` turns true. Its own task: a pass waiting on slow endpoints
/// never delays the outbox relay, scheduled transfers or hold expiry.
pub async fn run(bank: Bank, w: WebhookWorker, mut shutdown: watch::Receiver<bool>) {
    loop {
        if deliver_once(&bank, &w).await == 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(WEBHOOK_IDLE_PAUSE_MS)) => {}
                _ = shutdown.changed() => {}
            }
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn only_globally_routable_addresses_are_public() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(
                !is_public(inside.parse().unwrap()),
                "{inside} is not public"
            );
        }
        for outside in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(outside.parse().unwrap()), "{outside} is public");
        }
    }

    /// A local endpoint that answers 204 to every request and counts connections.
    async fn endpoint() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        (port, seen)
    }

    fn request(url: String) -> WebhookRequest {
        WebhookRequest {
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: "{}".into(),
        }
    }

    #[tokio::test]
    async fn inward_endpoints_are_refused_before_any_connection_unless_allowed() {
        let (port, seen) = endpoint().await;
        let guarded = HttpTransport::new(Targets::PublicOnly).unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://localhost:{port}/hook"), // a name that resolves inward
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        ] {
            assert_eq!(
                guarded.post(&request(url.clone())).await,
                Err("the endpoint is not a public address".to_string()),
                "{url}"
            );
        }
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 0);

        let open = HttpTransport::new(Targets::Any).unwrap();
        assert_eq!(
            open.post(&request(format!("http://localhost:{port}/hook")))
                .await,
            Ok(204)
        );
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
