//! BankFlow's Kafka adapter: the outbox relay's sink publishing every domain event as a
//! CloudEvents 1.0 record (structured JSON mode, `content-type:
//! application/cloudevents+json`) to the platform's topics, keyed by aggregate id and
//! partitioned by Kafka's own murmur2 partitioner, so one aggregate's events stay in order on
//! one partition. Delivery is at-least-once: consumers dedupe on the CloudEvent `id`.
//!
//! Pure Rust (rskafka, rustls): no librdkafka, no C toolchain.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod partition;
pub mod record;
pub mod sink;

pub use config::{CreateTopics, KafkaConfig, Sasl, SaslMechanism, PUBLISH_TIMEOUT_MS_DEFAULT};
pub use record::{CONTENT_TYPE, TOPICS};
pub use sink::KafkaSink;
