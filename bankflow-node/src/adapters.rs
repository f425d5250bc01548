//! The adapters a Node program can plug into its engine: SMTP email (`Bank.open(path,
//! { smtp })`), S3 documents (`{ documentsUrl: "s3://…" }`) and the Kafka outbox relay
//! (`new KafkaRelay(bank, { brokers })`). Options are translated into the adapter crates' own
//! settings, which check them; the behaviour is the adapters' and the engine's.

use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::customer::DocumentStore;
use bankflow_core::notify::{Channel, MemoryNotifier, Notifier, OutgoingMessage};
use bankflow_core::{BankError, BankResult, EventSink};
use bankflow_kafka::{CreateTopics, KafkaConfig, KafkaSink, PUBLISH_TIMEOUT_MS_DEFAULT};
use bankflow_smtp::{SmtpNotifier, SmtpOptions as AdapterSmtpOptions, TlsMode};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

use crate::{settle, Bank};

/// `OpenOptions.smtp`: email over SMTP.
#[napi(object)]
pub struct SmtpOptions {
    /// Relay host.
    pub host: String,
    /// Port (default: 25 for none, 587 for starttls, 465 for implicit).
    pub port: Option<u32>,
    /// `none`, `starttls` (default; never downgraded) or `implicit` (SMTPS).
    pub tls: Option<String>,
    /// Login, with `password`.
    pub username: Option<String>,
    /// Password, with `username` (never logged).
    pub password: Option<String>,
    /// The From: mailbox, e.g. `"BankFlow <no-reply@bank.example>"`.
    pub from: String,
    /// Bound on one delivery in milliseconds (default 10000).
    pub timeout_ms: Option<u32>,
}

fn invalid(field: &str, message: impl Into<String>) -> BankError {
    BankError::validation(field, message.into())
}

/// The SMTP adapter's options (checked again, without connecting, by `SmtpNotifier::new`).
pub(crate) fn smtp_options(o: SmtpOptions) -> BankResult<AdapterSmtpOptions> {
    let tls = match o.tls.as_deref() {
        Some(t) => TlsMode::parse(t).map_err(|e| invalid("smtp.tls", e))?,
        None => TlsMode::StartTls,
    };
    let mut s = AdapterSmtpOptions::new(o.host, tls, o.from);
    s.port = o
        .port
        .map(u16::try_from)
        .transpose()
        .map_err(|_| invalid("smtp.port", "must be 1 to 65535"))?;
    if o.username.is_some() != o.password.is_some() {
        return Err(invalid("smtp", "username and password go together"));
    }
    s.username = o.username;
    s.password = o.password;
    if let Some(t) = o.timeout_ms {
        s.timeout_ms = u64::from(t);
    }
    Ok(s)
}

/// An adapter dropped inside napi's tokio runtime: JS garbage collection drops the engine (and
/// its adapters) on the JS thread, where the SMTP pool and the S3 client would otherwise find
/// no runtime to wind down on (and panic).
pub(crate) struct OnRuntime<T>(Option<T>);

impl<T> OnRuntime<T> {
    pub(crate) fn new(inner: T) -> OnRuntime<T> {
        OnRuntime(Some(inner))
    }

    fn inner(&self) -> BankResult<&T> {
        self.0
            .as_ref()
            .ok_or_else(|| BankError::internal("adapter already dropped"))
    }
}

impl<T> Drop for OnRuntime<T> {
    fn drop(&mut self) {
        let inner = self.0.take();
        within_runtime_if_available(move || drop(inner));
    }
}

#[async_trait]
impl<T: Notifier> Notifier for OnRuntime<T> {
    async fn send(&self, m: &OutgoingMessage) -> BankResult<()> {
        self.inner()?.send(m).await
    }
}

#[async_trait]
impl<T: DocumentStore> DocumentStore for OnRuntime<T> {
    async fn put(&self, key: &str, bytes: &[u8]) -> BankResult<()> {
        self.inner()?.put(key, bytes).await
    }
    async fn get(&self, key: &str) -> BankResult<Option<Vec<u8>>> {
        self.inner()?.get(key).await
    }
    async fn delete(&self, key: &str) -> BankResult<()> {
        self.inner()?.delete(key).await
    }
}

/// Email over SMTP; every other channel (SMS, push) stays with the engine's default in-memory
/// notifier, as before SMTP was configured, instead of failing on the SMTP adapter.
pub(crate) struct EmailOverSmtp {
    smtp: SmtpNotifier,
    other: MemoryNotifier,
}

/// Needs the tokio runtime (the SMTP connection pool lives on it): call inside the future.
pub(crate) fn email_notifier(o: &AdapterSmtpOptions) -> BankResult<Arc<dyn Notifier>> {
    Ok(Arc::new(OnRuntime::new(EmailOverSmtp {
        smtp: SmtpNotifier::new(o)?,
        other: MemoryNotifier::default(),
    })))
}

#[async_trait]
impl Notifier for EmailOverSmtp {
    async fn send(&self, m: &OutgoingMessage) -> BankResult<()> {
        match m.channel {
            Channel::Email => self.smtp.send(m).await,
            _ => self.other.send(m).await,
        }
    }
}

/// `documentsUrl`: `s3://BUCKET[/PREFIX]?endpoint=…&region=…&allow_http=true` (credentials
/// from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Call inside the future.
pub(crate) fn document_store(url: &str) -> BankResult<Arc<dyn DocumentStore>> {
    let config = bankflow_s3::S3Config::from_url(url)?;
    Ok(Arc::new(OnRuntime::new(bankflow_s3::S3DocumentStore::new(
        &config,
    )?)))
}

/// Most events one `runOnce` relays (the server's relay batch; the default).
pub const RELAY_LIMIT_MAX: u32 = 500;
/// How long a claimed batch stays this relay's before another may take it over.
pub const RELAY_LEASE_S: i64 = 30;
/// Longest one batch may wait for the broker's acknowledgement: below the lease, so no other
/// relay takes a batch over while it is still being published.
pub const PUBLISH_TIMEOUT_MS_MAX: u32 = 20_000;
/// Most partitions of a topic the relay creates.
pub const CREATE_TOPICS_PARTITIONS_MAX: u32 = 10_000;

/// `new KafkaRelay(bank, options)`.
#[napi(object)]
pub struct KafkaRelayOptions {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// Prefix of every topic name (`staging.` → `staging.account-events`; default none).
    pub topic_prefix: Option<String>,
    /// Client id the brokers see (default `bankflow`).
    pub client_id: Option<String>,
    /// Longest one step waits for the broker's acknowledgement (default 10000, at most 20000).
    pub publish_timeout_ms: Option<u32>,
    /// Create missing topics with this many partitions (default: topics must exist).
    pub create_topics_partitions: Option<u32>,
}

fn relay_sink(o: KafkaRelayOptions) -> BankResult<KafkaSink> {
    let timeout = o
        .publish_timeout_ms
        .map(u64::from)
        .unwrap_or(PUBLISH_TIMEOUT_MS_DEFAULT);
    if timeout == 0 || timeout > u64::from(PUBLISH_TIMEOUT_MS_MAX) {
        return Err(invalid(
            "publishTimeoutMs",
            format!("must be 1 to {PUBLISH_TIMEOUT_MS_MAX}"),
        ));
    }
    let partitions = match o.create_topics_partitions {
        Some(p) if (1..=CREATE_TOPICS_PARTITIONS_MAX).contains(&p) => {
            Some(i32::try_from(p).map_err(|_| invalid("createTopicsPartitions", "too large"))?)
        }
        Some(_) => {
            return Err(invalid(
                "createTopicsPartitions",
                format!("must be 1 to {CREATE_TOPICS_PARTITIONS_MAX}"),
            ))
        }
        None => None,
    };
    let mut c = KafkaConfig::new(o.brokers.iter().map(|b| b.trim().to_string()).collect());
    c.client_id = o.client_id.unwrap_or_else(|| "bankflow".to_string());
    c.topic_prefix = o.topic_prefix.unwrap_or_default();
    c.publish_timeout_ms = timeout;
    c.create_topics = partitions.map(|partitions| CreateTopics {
        partitions,
        replication_factor: 1,
    });
    KafkaSink::new(c)
}

/// Publishes the engine's outbox to Kafka as CloudEvents (structured JSON mode, keyed by
/// aggregate id), as `bankflow serve --kafka-brokers` does. Events are marked published only
/// after the broker acknowledged them; a failed step rejects and leaves them in the outbox.
#[napi]
pub struct KafkaRelay {
    bank: bankflow_core::Bank,
    sink: Arc<OnRuntime<KafkaSink>>,
}

#[napi]
impl KafkaRelay {
    /// Checks the options (throws a validation error with `code`/`field`); connects lazily.
    #[napi(constructor)]
    pub fn new(env: Env, bank: &Bank, options: KafkaRelayOptions) -> Result<KafkaRelay> {
        let sink = relay_sink(options).map_err(|e| crate::error::to_js(&env, &e))?;
        Ok(KafkaRelay {
            bank: bank.bank.clone(),
            sink: Arc::new(OnRuntime::new(sink)),
        })
    }

    /// One relay step off the JS thread: publishes up to `limit` (1 to 500, default 500)
    /// outbox events; resolves with how many.
    #[napi]
    pub fn run_once<'env>(
        &self,
        env: &'env Env,
        limit: Option<u32>,
    ) -> Result<PromiseRaw<'env, u32>> {
        let (bank, sink) = (self.bank.clone(), self.sink.clone());
        let limit = limit.unwrap_or(RELAY_LIMIT_MAX);
        let fut = async move {
            if limit == 0 || limit > RELAY_LIMIT_MAX {
                return Err(BankError::LimitExceeded(format!(
                    "limit must be 1 to {RELAY_LIMIT_MAX}"
                )));
            }
            let sinks: [&dyn EventSink; 1] = [sink.inner()?];
            let n = bank
                .maintenance()
                .relay_outbox_to(&sinks, limit, chrono::Duration::seconds(RELAY_LEASE_S))
                .await?;
            // At most `limit`, which is a u32.
            Ok(u32::try_from(n).unwrap_or(limit))
        };
        settle(env, fut, |n| n)
    }
}
