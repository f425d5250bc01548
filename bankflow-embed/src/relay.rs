//! The Kafka outbox relay as an edge runs it: one step at a time, with the server's limits.

use std::sync::Arc;

use bankflow_core::{BankError, BankResult, EventSink};
use bankflow_kafka::{CreateTopics, KafkaConfig, KafkaSink, PUBLISH_TIMEOUT_MS_DEFAULT};

use crate::runtime::{EdgeRuntime, OnRuntime};

/// Most events one relay step publishes (the server's relay batch; the bindings' default).
pub const RELAY_LIMIT_MAX: u32 = 500;
/// How long a claimed batch stays this relay's before another may take it over.
pub const RELAY_LEASE_S: i64 = 30;
/// Longest one batch may wait for the broker's acknowledgement: below the lease, so no other
/// relay takes a batch over while it is still being published.
pub const PUBLISH_TIMEOUT_MS_MAX: u64 = 20_000;
/// Most partitions of a topic the relay creates.
pub const CREATE_TOPICS_PARTITIONS_MAX: i64 = 10_000;

// The lease must outlast the longest publish, or two relays could publish one batch at once.
const _: () = assert!(PUBLISH_TIMEOUT_MS_MAX < RELAY_LEASE_S as u64 * 1_000);

/// A relay's options as an edge takes them. Validation errors name the fields in snake case
/// (`publish_timeout_ms`, `create_topics_partitions`); an edge with other naming renames them.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Bootstrap brokers, `host:port` (surrounding blanks are ignored).
    pub brokers: Vec<String>,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Client id the brokers see.
    pub client_id: String,
    /// Longest one step waits for the broker's acknowledgement (1 to [`PUBLISH_TIMEOUT_MS_MAX`]).
    pub publish_timeout_ms: u64,
    /// Create missing topics with this many partitions (1 to [`CREATE_TOPICS_PARTITIONS_MAX`]);
    /// `None`: topics must exist.
    pub create_topics_partitions: Option<i64>,
}

impl RelayOptions {
    /// `brokers` with the server's defaults: no prefix, client id `bankflow`, the adapter's
    /// publish timeout, no topic creation.
    pub fn new(brokers: Vec<String>) -> RelayOptions {
        RelayOptions {
            brokers,
            topic_prefix: String::new(),
            client_id: "bankflow".to_string(),
            publish_timeout_ms: PUBLISH_TIMEOUT_MS_DEFAULT,
            create_topics_partitions: None,
        }
    }

    fn config(self) -> BankResult<KafkaConfig> {
        if self.publish_timeout_ms == 0 || self.publish_timeout_ms > PUBLISH_TIMEOUT_MS_MAX {
            return Err(BankError::validation(
                "publish_timeout_ms",
                format!("must be 1 to {PUBLISH_TIMEOUT_MS_MAX}"),
            ));
        }
        let create_topics = match self.create_topics_partitions {
            None => None,
            Some(p) => Some(CreateTopics {
                partitions: i32::try_from(p)
                    .ok()
                    .filter(|p| (1..=CREATE_TOPICS_PARTITIONS_MAX).contains(&i64::from(*p)))
                    .ok_or_else(|| {
                        BankError::validation(
                            "create_topics_partitions",
                            format!("must be 1 to {CREATE_TOPICS_PARTITIONS_MAX}"),
                        )
                    })?,
                replication_factor: 1,
            }),
        };
        let mut c = KafkaConfig::new(self.brokers.iter().map(|b| b.trim().to_string()).collect());
        c.client_id = self.client_id;
        c.topic_prefix = self.topic_prefix;
        c.publish_timeout_ms = self.publish_timeout_ms;
        c.create_topics = create_topics;
        Ok(c)
    }
}

/// Publishes an engine's outbox to Kafka as CloudEvents (structured JSON mode, keyed by
/// aggregate id), as `bankflow serve --kafka-brokers` does: events are marked published only
/// after the broker acknowledged them; a failed step leaves them in the outbox. Cheap to clone
/// (one client), so a step can run on a future of its own.
pub struct Relay<H: EdgeRuntime> {
    bank: bankflow_core::Bank,
    sink: Arc<OnRuntime<KafkaSink, H>>,
}

impl<H: EdgeRuntime> Clone for Relay<H> {
    fn clone(&self) -> Self {
        Relay {
            bank: self.bank.clone(),
            sink: Arc::clone(&self.sink),
        }
    }
}

impl<H: EdgeRuntime> Relay<H> {
    /// Checks `options` (validation errors) without connecting: the client connects lazily.
    pub fn new(
        bank: bankflow_core::Bank,
        options: RelayOptions,
        runtime: H,
    ) -> BankResult<Relay<H>> {
        let sink = KafkaSink::new(options.config()?)?;
        Ok(Relay {
            bank,
            sink: Arc::new(OnRuntime::new(sink, runtime)),
        })
    }

    /// One step: publishes up to `limit` (1 to [`RELAY_LIMIT_MAX`]) outbox events and returns
    /// how many; an error when the broker did not acknowledge them (they stay in the outbox).
    pub async fn run_once(&self, limit: u32) -> BankResult<usize> {
        if limit == 0 || limit > RELAY_LIMIT_MAX {
            return Err(BankError::LimitExceeded(format!(
                "limit must be 1 to {RELAY_LIMIT_MAX}"
            )));
        }
        let sinks: [&dyn EventSink; 1] = [self.sink.as_ref()];
        self.bank
            .maintenance()
            .relay_outbox_to(&sinks, limit, chrono::Duration::seconds(RELAY_LEASE_S))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: BankError) -> String {
        match e {
            BankError::Validation { field, .. } => field,
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn options_out_of_range_name_their_field() {
        for timeout in [0, PUBLISH_TIMEOUT_MS_MAX + 1] {
            let mut o = RelayOptions::new(vec!["a:9092".into()]);
            o.publish_timeout_ms = timeout;
            assert_eq!(field(o.config().unwrap_err()), "publish_timeout_ms");
        }
        for partitions in [0, -1, CREATE_TOPICS_PARTITIONS_MAX + 1, i64::MAX] {
            let mut o = RelayOptions::new(vec!["a:9092".into()]);
            o.create_topics_partitions = Some(partitions);
            assert_eq!(field(o.config().unwrap_err()), "create_topics_partitions");
        }
    }

    #[test]
    fn options_in_range_make_the_adapter_config() {
        let mut o = RelayOptions::new(vec![" a:9092 ".into()]);
        o.publish_timeout_ms = PUBLISH_TIMEOUT_MS_MAX;
        o.create_topics_partitions = Some(CREATE_TOPICS_PARTITIONS_MAX);
        o.topic_prefix = "staging.".into();
        let c = o.config().unwrap();
        assert_eq!(c.brokers, ["a:9092"]);
        assert_eq!(c.publish_timeout_ms, PUBLISH_TIMEOUT_MS_MAX);
        assert_eq!(c.topic_prefix, "staging.");
        assert_eq!(c.client_id, "bankflow");
        assert_eq!(c.create_topics.map(|t| t.partitions), Some(10_000));
    }

    /// The test's own runtime, entered for drops the way an edge enters its own.
    struct Current(tokio::runtime::Handle);

    impl EdgeRuntime for Current {
        fn within<R>(&self, f: impl FnOnce() -> R) -> R {
            let _guard = self.0.enter();
            f()
        }
    }

    #[tokio::test]
    async fn a_step_is_bounded_before_anything_is_claimed() {
        let bank =
            bankflow_core::Bank::builder(Arc::new(bankflow_core::MemoryStore::new())).build();
        let current = Current(tokio::runtime::Handle::current());
        // Nothing listens there; the limits are refused before the client is ever used.
        let relay =
            Relay::new(bank, RelayOptions::new(vec!["127.0.0.1:9".into()]), current).unwrap();
        for limit in [0, RELAY_LIMIT_MAX + 1] {
            let e = relay.run_once(limit).await.unwrap_err();
            assert!(matches!(e, BankError::LimitExceeded(_)), "{e:?}");
        }
        // An empty outbox publishes nothing and so never reaches the broker.
        assert_eq!(relay.clone().run_once(RELAY_LIMIT_MAX).await.unwrap(), 0);
    }
}
