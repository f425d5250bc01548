//! `--kafka-brokers …`: the background worker's outbox relay also publishes every event to
//! Kafka as a CloudEvent (structured JSON mode; see `bankflow-kafka`). Off unless brokers are
//! given: the embedded default needs no broker.

use std::path::PathBuf;
use std::sync::Arc;

use bankflow_core::EventSink;
use bankflow_kafka::{CreateTopics, KafkaConfig, KafkaSink, Sasl, SaslMechanism};
use clap::Args;

use crate::serve::CliError;

/// Kafka relay settings of `bankflow serve`.
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Comma-separated Kafka bootstrap brokers (host:port). When set, the worker publishes
    /// every outbox event there too, and marks it published only once Kafka acknowledged it.
    #[arg(long, env = "BANKFLOW_KAFKA_BROKERS", value_delimiter = ',')]
    pub kafka_brokers: Vec<String>,
    /// Client id the brokers see.
    #[arg(long, env = "BANKFLOW_KAFKA_CLIENT_ID", default_value = "bankflow")]
    pub kafka_client_id: String,
    /// Prefix of every topic name (`staging.` → `staging.account-events`).
    #[arg(long, env = "BANKFLOW_KAFKA_TOPIC_PREFIX", default_value = "")]
    pub kafka_topic_prefix: String,
    /// Longest one relay batch may wait for Kafka's acknowledgement; then it stays in the
    /// outbox and is retried. At most 20 s: below the relay's 30 s claim lease, so no other
    /// replica takes a batch over while it is still being published.
    #[arg(long, env = "BANKFLOW_KAFKA_PUBLISH_TIMEOUT_MS",
          default_value_t = bankflow_kafka::PUBLISH_TIMEOUT_MS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..=20_000))]
    pub kafka_publish_timeout_ms: u64,
    /// Create missing topics with this many partitions (default: topics must exist).
    #[arg(long, env = "BANKFLOW_KAFKA_CREATE_TOPICS_PARTITIONS",
          value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub kafka_create_topics_partitions: Option<i32>,
    /// Replication factor of topics the relay creates.
    #[arg(long, env = "BANKFLOW_KAFKA_REPLICATION_FACTOR", default_value_t = 1,
          value_parser = clap::value_parser!(i16).range(1..=100))]
    pub kafka_replication_factor: i16,
    /// Speak TLS to the brokers (trusting the built-in web roots unless --kafka-tls-ca-file).
    #[arg(long, env = "BANKFLOW_KAFKA_TLS")]
    pub kafka_tls: bool,
    /// PEM file of the CA(s) that signed the brokers' certificates (implies TLS).
    #[arg(long, env = "BANKFLOW_KAFKA_TLS_CA_FILE")]
    pub kafka_tls_ca_file: Option<PathBuf>,
    /// SASL mechanism: plain, scram-sha-256 or scram-sha-512.
    #[arg(
        long,
        env = "BANKFLOW_KAFKA_SASL_MECHANISM",
        requires = "kafka_sasl_username"
    )]
    pub kafka_sasl_mechanism: Option<String>,
    /// SASL user name.
    #[arg(
        long,
        env = "BANKFLOW_KAFKA_SASL_USERNAME",
        requires = "kafka_sasl_password"
    )]
    pub kafka_sasl_username: Option<String>,
    /// SASL password.
    #[arg(long, env = "BANKFLOW_KAFKA_SASL_PASSWORD", hide_env_values = true)]
    pub kafka_sasl_password: Option<String>,
}

impl KafkaArgs {
    /// The relay's settings, or `None` when no broker is configured.
    pub fn config(&self) -> Result<Option<KafkaConfig>, CliError> {
        let brokers: Vec<String> = self
            .kafka_brokers
            .iter()
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())
            .collect();
        if brokers.is_empty() {
            return Ok(None);
        }
        let mut c = KafkaConfig::new(brokers);
        c.client_id = self.kafka_client_id.clone();
        c.topic_prefix = self.kafka_topic_prefix.clone();
        c.publish_timeout_ms = self.kafka_publish_timeout_ms;
        c.create_topics = self
            .kafka_create_topics_partitions
            .map(|partitions| CreateTopics {
                partitions,
                replication_factor: self.kafka_replication_factor,
            });
        c.tls = self.kafka_tls;
        c.tls_ca_file = self.kafka_tls_ca_file.clone();
        if let (Some(username), Some(password)) =
            (&self.kafka_sasl_username, &self.kafka_sasl_password)
        {
            let mechanism = match &self.kafka_sasl_mechanism {
                Some(m) => SaslMechanism::parse(m)?,
                None => SaslMechanism::Plain,
            };
            c.sasl = Some(Sasl {
                mechanism,
                username: username.clone(),
                password: password.clone(),
            });
        }
        c.validate()?;
        Ok(Some(c))
    }

    /// The sinks the worker's relay must also satisfy (none without brokers).
    pub fn relay_sinks(&self) -> Result<Vec<Arc<dyn EventSink>>, CliError> {
        Ok(match self.config()? {
            Some(c) => {
                tracing::info!(brokers = ?c.brokers, prefix = %c.topic_prefix, "outbox relay: Kafka");
                vec![Arc::new(KafkaSink::new(c)?)]
            }
            None => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::serve::{Cli, Command};

    fn kafka(argv: &[&str]) -> super::KafkaArgs {
        let mut full = vec!["bankflow", "serve"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Serve(s) => s.kafka,
            _ => unreachable!(),
        }
    }

    #[test]
    fn off_without_brokers_and_configured_with_them() {
        assert!(kafka(&[]).config().unwrap().is_none());
        let c = kafka(&[
            "--kafka-brokers",
            "a:9092, b:9092",
            "--kafka-topic-prefix",
            "prod.",
            "--kafka-create-topics-partitions",
            "6",
            "--kafka-sasl-mechanism",
            "scram-sha-256",
            "--kafka-sasl-username",
            "relay",
            "--kafka-sasl-password",
            "s3cret",
        ])
        .config()
        .unwrap()
        .unwrap();
        assert_eq!(c.brokers, ["a:9092", "b:9092"]);
        assert_eq!(c.topic_prefix, "prod.");
        assert_eq!(c.create_topics.unwrap().partitions, 6);
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the password is never shown"
        );
        assert_eq!(
            kafka(&["--kafka-brokers", "a:1"])
                .relay_sinks()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn the_sasl_password_is_refused_in_a_config_file() {
        let err = crate::config::env_pairs("kafka_sasl_password = \"x\"").unwrap_err();
        assert!(err.contains("secret"), "{err}");
        let ok = crate::config::env_pairs("kafka_brokers = [\"a:9092\"]").unwrap();
        assert!(ok.contains(&("BANKFLOW_KAFKA_BROKERS".into(), "a:9092".into())));
    }
}
