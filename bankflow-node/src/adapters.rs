//! The adapters a Node program can plug into its engine: SMTP email (`Bank.open(path,
//! { smtp })`), S3 documents (`{ documentsUrl: "s3://…" }`) and the Kafka outbox relay
//! (`new KafkaRelay(bank, { brokers })`). Options are translated into the adapter crates' own
//! settings, which check them; the behaviour is the adapters' and the engine's, and the glue
//! that runs them on napi's runtime is `bankflow-embed`'s (shared with the Python binding).

use std::sync::Arc;

use bankflow_core::customer::DocumentStore;
use bankflow_core::notify::Notifier;
use bankflow_core::{BankError, BankResult};
use bankflow_embed::{EdgeRuntime, NotifyOptions, Relay, RelayOptions, RELAY_LIMIT_MAX};
use bankflow_smtp::{SmtpOptions as AdapterSmtpOptions, TlsMode};
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

/// napi's tokio runtime, entered for the adapters' drops: JS garbage collection drops the
/// engine (and its adapters) on the JS thread.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NapiRuntime;

impl EdgeRuntime for NapiRuntime {
    fn within<R>(&self, f: impl FnOnce() -> R) -> R {
        within_runtime_if_available(f)
    }
}

/// `OpenOptions.smtp`'s notifier: the engine's channel router with SMTP for email. Needs the
/// tokio runtime (the SMTP connection pool lives on it): call inside the future.
pub(crate) fn email_notifier(o: &AdapterSmtpOptions) -> BankResult<Arc<dyn Notifier>> {
    let options = NotifyOptions {
        smtp: Some(o.clone()),
    };
    bankflow_embed::notifier(&options, &NapiRuntime)
}

/// `documentsUrl`: `s3://BUCKET[/PREFIX]?endpoint=…&region=…&allow_http=true` (credentials
/// from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Call inside the future.
pub(crate) fn document_store(url: &str) -> BankResult<Arc<dyn DocumentStore>> {
    bankflow_embed::document_store(url, NapiRuntime)
}

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

/// The shared relay's options.
fn relay_options(o: KafkaRelayOptions) -> RelayOptions {
    let mut r = RelayOptions::new(o.brokers);
    if let Some(p) = o.topic_prefix {
        r.topic_prefix = p;
    }
    if let Some(c) = o.client_id {
        r.client_id = c;
    }
    if let Some(t) = o.publish_timeout_ms {
        r.publish_timeout_ms = u64::from(t);
    }
    r.create_topics_partitions = o.create_topics_partitions.map(i64::from);
    r
}

/// `publish_timeout_ms` → `publishTimeoutMs`: a validation error names the option as the
/// caller wrote it.
fn js_field(e: BankError) -> BankError {
    let BankError::Validation { field, message } = e else {
        return e;
    };
    let mut js = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            js.extend(c.to_uppercase());
            upper = false;
        } else {
            js.push(c);
        }
    }
    BankError::Validation { field: js, message }
}

/// Publishes the engine's outbox to Kafka as CloudEvents (structured JSON mode, keyed by
/// aggregate id), as `bankflow serve --kafka-brokers` does. Events are marked published only
/// after the broker acknowledged them; a failed step rejects and leaves them in the outbox.
#[napi]
pub struct KafkaRelay {
    relay: Relay<NapiRuntime>,
}

#[napi]
impl KafkaRelay {
    /// Checks the options (throws a validation error with `code`/`field`); connects lazily.
    #[napi(constructor)]
    pub fn new(env: Env, bank: &Bank, options: KafkaRelayOptions) -> Result<KafkaRelay> {
        let relay = Relay::new(bank.bank.clone(), relay_options(options), NapiRuntime)
            .map_err(|e| crate::error::to_js(&env, &js_field(e)))?;
        Ok(KafkaRelay { relay })
    }

    /// One relay step off the JS thread: publishes up to `limit` (1 to 500, default 500)
    /// outbox events; resolves with how many.
    #[napi]
    pub fn run_once<'env>(
        &self,
        env: &'env Env,
        limit: Option<u32>,
    ) -> Result<PromiseRaw<'env, u32>> {
        let relay = self.relay.clone();
        let limit = limit.unwrap_or(RELAY_LIMIT_MAX);
        let fut = async move {
            let n = relay.run_once(limit).await?;
            // At most `limit`, which is a u32.
            Ok(u32::try_from(n).unwrap_or(limit))
        };
        settle(env, fut, |n| n)
    }
}
