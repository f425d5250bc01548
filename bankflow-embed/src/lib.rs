//! What an embedding edge needs to run BankFlow's adapters on its own tokio runtime: the
//! Python (pyo3) and Node (napi) bindings each own a runtime the host language knows nothing
//! of, and drop engines on the host's threads (garbage collection). This crate is the part
//! of their glue that does not depend on the host language:
//!
//! - [`OnRuntime`]: an adapter dropped inside the edge's runtime ([`EdgeRuntime`]);
//! - [`notifier`]: the SMTP email notifier composed through the engine's
//!   [`ChannelRouter`](bankflow_core::notify::ChannelRouter), the other channels kept in
//!   memory;
//! - [`document_store`]: KYC documents on S3;
//! - [`Relay`]: the Kafka outbox relay with the server's limits.
//!
//! Option parsing (Python dicts, JS objects) and error mapping (native exceptions) stay in
//! each binding; nothing here knows pyo3 or napi.

mod relay;
mod runtime;

use std::sync::Arc;

use bankflow_core::customer::DocumentStore;
use bankflow_core::notify::{ChannelRouter, MemoryNotifier, Notifier};
use bankflow_core::BankResult;
use bankflow_smtp::{SmtpNotifier, SmtpOptions};

pub use relay::{
    Relay, RelayOptions, CREATE_TOPICS_PARTITIONS_MAX, PUBLISH_TIMEOUT_MS_MAX, RELAY_LEASE_S,
    RELAY_LIMIT_MAX,
};
pub use runtime::{EdgeRuntime, OnRuntime};

/// The adapters an edge selected for its outgoing messages.
#[derive(Debug, Clone, Default)]
pub struct NotifyOptions {
    /// Email over SMTP.
    pub smtp: Option<SmtpOptions>,
}

/// The edge's notifier: the engine's [`ChannelRouter`] with the selected providers; every
/// channel without one stays with an in-memory notifier, the engine's default, as it was
/// before any provider was configured (an embedded engine has no mail drop). Needs the edge's
/// runtime (the SMTP connection pool lives on it): call inside it.
pub fn notifier<H: EdgeRuntime + Clone>(
    options: &NotifyOptions,
    runtime: &H,
) -> BankResult<Arc<dyn Notifier>> {
    let mut router = ChannelRouter::default();
    if let Some(smtp) = &options.smtp {
        router.email = Some(Arc::new(OnRuntime::new(
            SmtpNotifier::new(smtp)?,
            runtime.clone(),
        )));
    }
    let memory: Arc<dyn Notifier> = Arc::new(MemoryNotifier::default());
    Ok(Arc::new(router.or_else(&memory)))
}

/// KYC documents in the bucket of an `s3://BUCKET[/PREFIX]?endpoint=…&region=…&allow_http=true`
/// URL (credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Needs the edge's
/// runtime (the client's connection pool): call inside it.
pub fn document_store<H: EdgeRuntime>(url: &str, runtime: H) -> BankResult<Arc<dyn DocumentStore>> {
    let config = bankflow_s3::S3Config::from_url(url)?;
    Ok(Arc::new(OnRuntime::new(
        bankflow_s3::S3DocumentStore::new(&config)?,
        runtime,
    )))
}

#[cfg(test)]
mod tests {
    use bankflow_core::notify::{Channel, OutgoingMessage};
    use bankflow_smtp::TlsMode;

    use super::*;

    #[derive(Clone)]
    struct Current(tokio::runtime::Handle);

    impl EdgeRuntime for Current {
        fn within<R>(&self, f: impl FnOnce() -> R) -> R {
            let _guard = self.0.enter();
            f()
        }
    }

    fn message(channel: Channel) -> OutgoingMessage {
        OutgoingMessage {
            channel,
            recipient: "+15550100".into(),
            subject: None,
            body: "hello".into(),
        }
    }

    #[tokio::test]
    async fn email_goes_to_smtp_and_the_other_channels_stay_in_memory() {
        let current = Current(tokio::runtime::Handle::current());
        let memory = notifier(&NotifyOptions::default(), &current).unwrap();
        memory.send(&message(Channel::Email)).await.unwrap();
        // Port 9 (discard) refuses here: an email attempt fails, so it did reach SMTP.
        let mut smtp = SmtpOptions::new("127.0.0.1", TlsMode::None, "bank@example.com");
        smtp.port = Some(9);
        smtp.timeout_ms = 2_000;
        let options = NotifyOptions { smtp: Some(smtp) };
        let n = notifier(&options, &current).unwrap();
        assert!(n.send(&message(Channel::Email)).await.is_err());
        n.send(&message(Channel::Sms)).await.unwrap();
        n.send(&message(Channel::Push)).await.unwrap();
    }
}
