//! What the relay needs to reach a Kafka cluster: brokers, client id, topic prefix, bounds,
//! and the transport security rskafka supports (TLS through rustls; SASL PLAIN and
//! SCRAM-SHA-256/512).

use std::path::PathBuf;
use std::sync::Arc;

use bankflow_core::{BankError, BankResult};
use rskafka::client::{Credentials, SaslConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Default bound on one publish call (connect, metadata and every produce of a batch).
pub const PUBLISH_TIMEOUT_MS_DEFAULT: u64 = 10_000;

/// SASL mechanisms rskafka speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslMechanism {
    /// PLAIN (use only over TLS: the password travels as is).
    Plain,
    /// SCRAM-SHA-256.
    ScramSha256,
    /// SCRAM-SHA-512.
    ScramSha512,
}

impl SaslMechanism {
    /// Parses `plain`, `scram-sha-256` or `scram-sha-512` (any case).
    pub fn parse(s: &str) -> BankResult<SaslMechanism> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plain" => Ok(SaslMechanism::Plain),
            "scram-sha-256" => Ok(SaslMechanism::ScramSha256),
            "scram-sha-512" => Ok(SaslMechanism::ScramSha512),
            other => Err(BankError::validation(
                "kafka_sasl_mechanism",
                format!("unknown `{other}` (plain, scram-sha-256, scram-sha-512)"),
            )),
        }
    }
}

/// SASL credentials. `Debug` never shows the password.
#[derive(Clone)]
pub struct Sasl {
    /// Mechanism.
    pub mechanism: SaslMechanism,
    /// User name.
    pub username: String,
    /// Password (from the environment or a secret store; never logged).
    pub password: String,
}

impl std::fmt::Debug for Sasl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sasl")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Topics the relay creates when they are missing (development clusters; in production
/// topics are usually managed apart, so this is off by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateTopics {
    /// Partitions per topic.
    pub partitions: i32,
    /// Replicas per partition.
    pub replication_factor: i16,
}

/// The Kafka relay's settings.
#[derive(Clone, Debug)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port` each.
    pub brokers: Vec<String>,
    /// Client id the brokers see (quotas, logs).
    pub client_id: String,
    /// Prepended to every topic name (`staging.` → `staging.account-events`).
    pub topic_prefix: String,
    /// Bound on one publish call, in milliseconds; past it the batch stays in the outbox.
    pub publish_timeout_ms: u64,
    /// Create missing topics on connect.
    pub create_topics: Option<CreateTopics>,
    /// Speak TLS to the brokers.
    pub tls: bool,
    /// PEM file of the CA(s) to trust instead of the built-in web roots (implies TLS).
    pub tls_ca_file: Option<PathBuf>,
    /// SASL authentication.
    pub sasl: Option<Sasl>,
}

impl KafkaConfig {
    /// Plain-text settings for `brokers` with the defaults.
    pub fn new(brokers: Vec<String>) -> KafkaConfig {
        KafkaConfig {
            brokers,
            client_id: "bankflow".into(),
            topic_prefix: String::new(),
            publish_timeout_ms: PUBLISH_TIMEOUT_MS_DEFAULT,
            create_topics: None,
            tls: false,
            tls_ca_file: None,
            sasl: None,
        }
    }

    /// Refuses settings that cannot work, before anything connects.
    pub fn validate(&self) -> BankResult<()> {
        let bad = |m: &str| Err(BankError::validation("kafka", m));
        if self.brokers.is_empty() || self.brokers.iter().any(|b| b.trim().is_empty()) {
            return bad("at least one broker (host:port) is required");
        }
        if self.publish_timeout_ms == 0 {
            return bad("publish_timeout_ms must be positive");
        }
        if let Some(c) = self.create_topics {
            if c.partitions < 1 || c.replication_factor < 1 {
                return bad("created topics need at least one partition and one replica");
            }
        }
        Ok(())
    }

    /// The rustls client configuration, when TLS is on.
    pub fn tls_config(&self) -> BankResult<Option<Arc<rustls::ClientConfig>>> {
        if !self.tls && self.tls_ca_file.is_none() {
            return Ok(None);
        }
        let mut roots = rustls::RootCertStore::empty();
        match &self.tls_ca_file {
            Some(path) => {
                for cert in CertificateDer::pem_file_iter(path).map_err(|e| {
                    BankError::validation("kafka_tls_ca_file", format!("{}: {e}", path.display()))
                })? {
                    let cert = cert.map_err(|e| {
                        BankError::validation(
                            "kafka_tls_ca_file",
                            format!("{}: {e}", path.display()),
                        )
                    })?;
                    roots.add(cert).map_err(|e| {
                        BankError::validation(
                            "kafka_tls_ca_file",
                            format!("{}: {e}", path.display()),
                        )
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        // ring is the one provider the workspace compiles; naming it avoids depending on a
        // process-wide default being installed first.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| BankError::validation("kafka_tls", e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Some(Arc::new(config)))
    }

    /// rskafka's SASL setting.
    pub fn sasl_config(&self) -> Option<SaslConfig> {
        self.sasl.as_ref().map(|s| {
            let c = Credentials::new(s.username.clone(), s.password.clone());
            match s.mechanism {
                SaslMechanism::Plain => SaslConfig::Plain(c),
                SaslMechanism::ScramSha256 => SaslConfig::ScramSha256(c),
                SaslMechanism::ScramSha512 => SaslConfig::ScramSha512(c),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_refused_and_passwords_are_not_shown() {
        assert!(KafkaConfig::new(vec![]).validate().is_err());
        assert!(KafkaConfig::new(vec!["  ".into()]).validate().is_err());
        let mut c = KafkaConfig::new(vec!["127.0.0.1:9092".into()]);
        assert!(c.validate().is_ok());
        c.create_topics = Some(CreateTopics {
            partitions: 0,
            replication_factor: 1,
        });
        assert!(c.validate().is_err());
        assert!(SaslMechanism::parse("GSSAPI").is_err());
        let s = Sasl {
            mechanism: SaslMechanism::parse("SCRAM-SHA-512").unwrap(),
            username: "u".into(),
            password: "hunter2-secret".into(),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn tls_is_built_only_when_asked() {
        let mut c = KafkaConfig::new(vec!["b:9093".into()]);
        assert!(c.tls_config().unwrap().is_none());
        c.tls = true;
        assert!(c.tls_config().unwrap().is_some());
        c.tls_ca_file = Some("/nonexistent/ca.pem".into());
        assert!(c.tls_config().is_err());
    }
}
