//! Outgoing webhooks: the HTTP transport (reqwest over rustls) behind the engine's
//! `WebhookTransport` port, the `--webhook-*` settings and the delivery loop the background
//! worker runs beside its other jobs.

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
}

impl WebhookArgs {
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

/// The reqwest client that POSTs deliveries.
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A client with the per-request timeout and no redirects (a redirect could send the
    /// signed payload to a host staff never registered).
    pub fn new() -> Result<HttpTransport, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(WEBHOOK_TIMEOUT_MS))
            .connect_timeout(Duration::from_millis(WEBHOOK_TIMEOUT_MS))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("bankflow-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HttpTransport { client })
    }
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
