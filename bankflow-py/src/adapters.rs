//! The adapters a Python program can plug into its engine: SMTP email (`Bank.open(smtp=…)`),
//! S3 documents (`Bank.open(documents_url="s3://…")`) and the Kafka outbox relay
//! (`KafkaRelay`). Each option is translated into the adapter crate's own settings, which
//! check them; the behaviour is the adapters' and the engine's, and the glue that runs them
//! on this module's runtime is `bankflow-embed`'s (shared with the Node binding).

use std::sync::Arc;

use bankflow_core::customer::DocumentStore;
use bankflow_core::notify::Notifier;
use bankflow_core::{BankError, BankResult};
use bankflow_embed::{EdgeRuntime, NotifyOptions, Relay, RelayOptions, RELAY_LIMIT_MAX};
use bankflow_smtp::{SmtpOptions, TlsMode, SMTP_TIMEOUT_MS_DEFAULT};
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

/// The shared runtime (`crate::runtime`), entered for the adapters' drops: the engine (and so
/// its adapters) is dropped by Python's GC on a Python thread.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SharedRuntime;

impl EdgeRuntime for SharedRuntime {
    fn within<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = crate::runtime::enter();
        f()
    }
}

/// `Bank.open(smtp=…)`'s notifier (`None` without `smtp`): the engine's channel router with
/// SMTP for email. Needs the tokio runtime (the SMTP connection pool lives on it): call inside
/// `block_on`.
pub(crate) fn email_notifier(smtp: Option<SmtpOptions>) -> BankResult<Option<Arc<dyn Notifier>>> {
    smtp.map(|o| bankflow_embed::notifier(&NotifyOptions { smtp: Some(o) }, &SharedRuntime))
        .transpose()
}

/// `documents_url`: an `s3://BUCKET[/PREFIX]?endpoint=…&region=…&allow_http=true` URL
/// (credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Call inside `block_on`.
pub(crate) fn document_store(url: &str) -> BankResult<Arc<dyn DocumentStore>> {
    bankflow_embed::document_store(url, SharedRuntime)
}

// `KafkaRelay`'s literal defaults are the adapter's and the server's.
const _: () = assert!(bankflow_kafka::PUBLISH_TIMEOUT_MS_DEFAULT == 10_000);
const _: () = assert!(RELAY_LIMIT_MAX == 500);

/// Publishes the engine's outbox to Kafka as CloudEvents (structured JSON mode, keyed by
/// aggregate id), the way `bankflow serve --kafka-brokers` does. Events are marked published
/// only after the broker acknowledged them; a failed step raises and leaves them in the outbox.
#[pyclass(frozen, module = "bankflow")]
pub struct KafkaRelay {
    relay: Relay<SharedRuntime>,
}

#[pymethods]
impl KafkaRelay {
    #[new]
    // Literal defaults, so the text signature (and the stubs) show them: 10000 is
    // `bankflow_kafka::PUBLISH_TIMEOUT_MS_DEFAULT` (checked at compile time above).
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
        let mut o = RelayOptions::new(brokers);
        o.topic_prefix = topic_prefix.to_string();
        o.client_id = client_id.to_string();
        o.publish_timeout_ms = publish_timeout_ms;
        o.create_topics_partitions = create_topics_partitions.map(i64::from);
        let relay = ok(py, Relay::new(bank.bank.clone(), o, SharedRuntime))?;
        Ok(KafkaRelay { relay })
    }

    /// One relay step: publishes up to `limit` (1 to 500, the default) outbox events; returns how many.
    /// Raises (the events stay in the outbox) when the broker did not acknowledge them.
    #[pyo3(signature = (limit=500))]
    fn run_once(&self, py: Python<'_>, limit: u32) -> PyResult<usize> {
        let relay = self.relay.clone();
        ok(
            py,
            block_on(py, move || async move { relay.run_once(limit).await }),
        )
    }
}
