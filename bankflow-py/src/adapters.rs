//! The adapters a Python program can plug into its engine: SMTP email (`Bank.open(smtp=…)`),
//! S3 documents (`Bank.open(documents_url="s3://…")`) and the Kafka outbox relay
//! (`KafkaRelay`). Each option is translated into the adapter crate's own settings, which
//! check them; the behaviour is the adapters' and the engine's.

use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::customer::DocumentStore;
use bankflow_core::notify::{Channel, MemoryNotifier, Notifier, OutgoingMessage};
use bankflow_core::{BankError, BankResult, EventSink};
use bankflow_kafka::{CreateTopics, KafkaConfig, KafkaSink};
use bankflow_smtp::{SmtpNotifier, SmtpOptions, TlsMode, SMTP_TIMEOUT_MS_DEFAULT};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::bank::Bank;
use crate::convert::ok;
use crate::runtime::block_on;

/// Keys `smtp` may hold; any other is refused, so a misspelt option is not silently ignored.
const SMTP_KEYS: [&str; 7] = [
    "host",
    "port",
    "tls",
    "username",
    "password",
    "from",
    "timeout_ms",
];

fn invalid(field: &str, message: impl Into<String>) -> BankError {
    BankError::validation(field, message.into())
}

/// `smtp[key]` converted by `get` (absent or `None`: `None`); a value of the wrong type is a
/// validation error naming `smtp.KEY`.
fn smtp_value<T>(
    smtp: &Bound<'_, PyDict>,
    key: &str,
    get: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>,
) -> Result<Option<T>, BankError> {
    let field = format!("smtp.{key}");
    match smtp.get_item(key) {
        Ok(Some(v)) if !v.is_none() => get(&v)
            .map(Some)
            .map_err(|_| invalid(&field, "has the wrong type")),
        Ok(_) => Ok(None),
        Err(_) => Err(invalid(&field, "cannot be read")),
    }
}

fn text(smtp: &Bound<'_, PyDict>, key: &str) -> Result<Option<String>, BankError> {
    smtp_value(smtp, key, |v| v.extract::<String>())
}

/// `smtp={"host": …, "from": …, …}` as the SMTP adapter's options (checked again, without
/// connecting, by `SmtpNotifier::new`).
pub(crate) fn smtp_options(smtp: &Bound<'_, PyDict>) -> BankResult<SmtpOptions> {
    for k in smtp.keys() {
        let k: String = k
            .extract()
            .map_err(|_| invalid("smtp", "keys are strings"))?;
        if !SMTP_KEYS.contains(&k.as_str()) {
            return Err(invalid(
                "smtp",
                format!("unknown option {k:?} (expected one of {SMTP_KEYS:?})"),
            ));
        }
    }
    let host = text(smtp, "host")?.ok_or_else(|| invalid("smtp.host", "is required"))?;
    let from = text(smtp, "from")?.ok_or_else(|| invalid("smtp.from", "is required"))?;
    let tls = match text(smtp, "tls")? {
        Some(t) => TlsMode::parse(&t).map_err(|e| invalid("smtp.tls", e))?,
        None => TlsMode::StartTls,
    };
    let mut o = SmtpOptions::new(host, tls, from);
    o.port = smtp_value(smtp, "port", |v| v.extract::<u16>())?;
    o.username = text(smtp, "username")?;
    o.password = text(smtp, "password")?;
    if o.username.is_some() != o.password.is_some() {
        return Err(invalid("smtp", "username and password go together"));
    }
    o.timeout_ms =
        smtp_value(smtp, "timeout_ms", |v| v.extract::<u64>())?.unwrap_or(SMTP_TIMEOUT_MS_DEFAULT);
    Ok(o)
}

/// An adapter dropped inside the shared runtime: the engine (and so its adapters) is dropped
/// by Python's GC on a Python thread, where the SMTP pool and the S3 client would otherwise
/// find no runtime to wind down on (and panic).
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
        let _guard = crate::runtime::enter();
        drop(self.0.take());
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
/// notifier, as it was before SMTP was configured, instead of failing on the SMTP adapter.
pub(crate) struct EmailOverSmtp {
    smtp: SmtpNotifier,
    other: MemoryNotifier,
}

impl EmailOverSmtp {
    /// Needs the tokio runtime (the SMTP connection pool lives on it): call inside `block_on`.
    pub(crate) fn new(options: &SmtpOptions) -> BankResult<EmailOverSmtp> {
        Ok(EmailOverSmtp {
            smtp: SmtpNotifier::new(options)?,
            other: MemoryNotifier::default(),
        })
    }
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

/// `documents_url`: an `s3://BUCKET[/PREFIX]?endpoint=…&region=…&allow_http=true` URL
/// (credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Call inside `block_on`.
pub(crate) fn document_store(url: &str) -> BankResult<Arc<dyn DocumentStore>> {
    let config = bankflow_s3::S3Config::from_url(url)?;
    Ok(Arc::new(OnRuntime::new(bankflow_s3::S3DocumentStore::new(
        &config,
    )?)))
}

/// Most events one `run_once` relays (the server's relay batch).
pub const RELAY_LIMIT_MAX: u32 = 500;
/// How long a claimed batch stays this relay's before another may take it over.
pub const RELAY_LEASE_S: i64 = 30;
/// Longest one batch may wait for the broker's acknowledgement: below the lease, so no other
/// relay takes a batch over while it is still being published.
pub const PUBLISH_TIMEOUT_MS_MAX: u64 = 20_000;
/// Most partitions of a topic the relay creates.
pub const CREATE_TOPICS_PARTITIONS_MAX: i32 = 10_000;

// `KafkaRelay`'s literal defaults are the adapter's and the server's.
const _: () = assert!(bankflow_kafka::PUBLISH_TIMEOUT_MS_DEFAULT == 10_000);
const _: () = assert!(RELAY_LIMIT_MAX == 500);

/// Publishes the engine's outbox to Kafka as CloudEvents (structured JSON mode, keyed by
/// aggregate id), the way `bankflow serve --kafka-brokers` does. Events are marked published
/// only after the broker acknowledged them; a failed step raises and leaves them in the outbox.
#[pyclass(frozen, module = "bankflow")]
pub struct KafkaRelay {
    bank: bankflow_core::Bank,
    sink: Arc<OnRuntime<KafkaSink>>,
}

#[pymethods]
impl KafkaRelay {
    #[new]
    // Literal defaults, so the text signature (and the stubs) show them: 10000 is
    // `bankflow_kafka::PUBLISH_TIMEOUT_MS_DEFAULT` (checked at compile time below).
    #[pyo3(signature = (bank, brokers, *, topic_prefix="", client_id="bankflow", publish_timeout_ms=10000, create_topics_partitions=None))]
    fn new(
        py: Python<'_>,
        bank: &Bank,
        brokers: Vec<String>,
        topic_prefix: &str,
        client_id: &str,
        publish_timeout_ms: u64,
        create_topics_partitions: Option<i32>,
    ) -> PyResult<KafkaRelay> {
        let sink = ok(
            py,
            relay_sink(
                brokers,
                topic_prefix.to_string(),
                client_id.to_string(),
                publish_timeout_ms,
                create_topics_partitions,
            ),
        )?;
        Ok(KafkaRelay {
            bank: bank.bank.clone(),
            sink: Arc::new(OnRuntime::new(sink)),
        })
    }

    /// One relay step: publishes up to `limit` (1 to [`RELAY_LIMIT_MAX`], the default) outbox events; returns how many.
    /// Raises (the events stay in the outbox) when the broker did not acknowledge them.
    #[pyo3(signature = (limit=500))]
    fn run_once(&self, py: Python<'_>, limit: u32) -> PyResult<usize> {
        if limit == 0 || limit > RELAY_LIMIT_MAX {
            return ok(
                py,
                Err(BankError::LimitExceeded(format!(
                    "limit must be 1 to {RELAY_LIMIT_MAX}"
                ))),
            );
        }
        let (bank, sink) = (self.bank.clone(), self.sink.clone());
        ok(
            py,
            block_on(py, move || async move {
                let sinks: [&dyn EventSink; 1] = [sink.inner()?];
                bank.maintenance()
                    .relay_outbox_to(&sinks, limit, chrono::Duration::seconds(RELAY_LEASE_S))
                    .await
            }),
        )
    }
}

fn relay_sink(
    brokers: Vec<String>,
    topic_prefix: String,
    client_id: String,
    publish_timeout_ms: u64,
    create_topics_partitions: Option<i32>,
) -> BankResult<KafkaSink> {
    if publish_timeout_ms == 0 || publish_timeout_ms > PUBLISH_TIMEOUT_MS_MAX {
        return Err(invalid(
            "publish_timeout_ms",
            format!("must be 1 to {PUBLISH_TIMEOUT_MS_MAX}"),
        ));
    }
    if let Some(p) = create_topics_partitions {
        if !(1..=CREATE_TOPICS_PARTITIONS_MAX).contains(&p) {
            return Err(invalid(
                "create_topics_partitions",
                format!("must be 1 to {CREATE_TOPICS_PARTITIONS_MAX}"),
            ));
        }
    }
    let mut c = KafkaConfig::new(brokers.iter().map(|b| b.trim().to_string()).collect());
    c.client_id = client_id;
    c.topic_prefix = topic_prefix;
    c.publish_timeout_ms = publish_timeout_ms;
    c.create_topics = create_topics_partitions.map(|partitions| CreateTopics {
        partitions,
        replication_factor: 1,
    });
    KafkaSink::new(c)
}
