//! The relay's Kafka sink: each batch the outbox relay claimed is produced, one request per
//! (topic, partition), and acknowledged by the brokers (`acks=all`, rskafka's only setting)
//! before `publish` returns `Ok`, which is what lets the relay mark the batch published.
//!
//! The connection is made on first use and dropped on any failure, so a broker that was down
//! or restarted is simply reconnected by the next relay step; nothing here retries past the
//! publish timeout, because the outbox is the retry queue.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bankflow_core::{BankError, BankResult, DomainEvent, EventSink};
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use rskafka::BackoffConfig;
use tokio::sync::Mutex;

use crate::config::{CreateTopics, KafkaConfig};
use crate::partition::partition_for;
use crate::record::{key_of, record_of, topic_name, TOPICS};

/// A live connection with what it learnt about the cluster.
struct Conn {
    client: Client,
    /// Partition count per topic, from the metadata seen at connect (or first use).
    partitions: HashMap<String, i32>,
    /// One producer per (topic, partition), each keeping its leader connection.
    producers: HashMap<(String, i32), Arc<PartitionClient>>,
}

/// [`EventSink`] producing CloudEvents to Kafka. Build it with [`KafkaSink::new`]; hand it
/// to `bank.maintenance().relay_outbox_to(&[&sink], …)`.
pub struct KafkaSink {
    config: KafkaConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    conn: Mutex<Option<Conn>>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

type Produce = (Arc<PartitionClient>, Vec<Record>);

fn kafka_err(e: KafkaError) -> BankError {
    BankError::Transient(format!("kafka: {e}"))
}

impl KafkaSink {
    /// A sink for `config`; refuses settings that cannot work. Connects lazily: a broker
    /// that is down at start only delays publication.
    pub fn new(config: KafkaConfig) -> BankResult<KafkaSink> {
        config.validate()?;
        let tls = config.tls_config()?;
        Ok(KafkaSink {
            config,
            tls,
            conn: Mutex::new(None),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.publish_timeout_ms)
    }

    async fn connect(&self) -> BankResult<Conn> {
        // rskafka retries forever by default; bound its retries by our own timeout.
        let backoff = BackoffConfig {
            deadline: Some(self.timeout()),
            ..BackoffConfig::default()
        };
        let mut builder = ClientBuilder::new(self.config.brokers.clone())
            .client_id(self.config.client_id.as_str())
            .backoff_config(backoff);
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(Arc::clone(tls));
        }
        if let Some(sasl) = self.config.sasl_config() {
            builder = builder.sasl_config(sasl);
        }
        let client = builder.build().await.map_err(kafka_err)?;
        if let Some(create) = self.config.create_topics {
            self.create_missing_topics(&client, create).await?;
        }
        tracing::info!(brokers = ?self.config.brokers, "kafka relay connected");
        Ok(Conn {
            client,
            partitions: HashMap::new(),
            producers: HashMap::new(),
        })
    }

    async fn create_missing_topics(&self, client: &Client, create: CreateTopics) -> BankResult<()> {
        let existing: Vec<String> = client
            .list_topics()
            .await
            .map_err(kafka_err)?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let controller = client.controller_client().map_err(kafka_err)?;
        let timeout_ms = i32::try_from(self.config.publish_timeout_ms).unwrap_or(i32::MAX);
        for topic in TOPICS.map(|t| format!("{}{t}", self.config.topic_prefix)) {
            if existing.contains(&topic) {
                continue;
            }
            let made = controller
                .create_topic(
                    topic.as_str(),
                    create.partitions,
                    create.replication_factor,
                    timeout_ms,
                )
                .await;
            match made {
                // Another replica created it first.
                Ok(())
                | Err(KafkaError::ServerError {
                    protocol_error: ProtocolError::TopicAlreadyExists,
                    ..
                }) => tracing::info!(topic, "kafka topic ready"),
                Err(e) => return Err(kafka_err(e)),
            }
        }
        Ok(())
    }

    /// Groups `events` by (topic, partition), keeping their order within each group.
    async fn plan(&self, conn: &mut Conn, events: &[DomainEvent]) -> BankResult<Vec<Produce>> {
        let mut groups: BTreeMap<(String, i32), Vec<Record>> = BTreeMap::new();
        for event in events {
            let topic = topic_name(&self.config.topic_prefix, event.event_type);
            let count = partition_count(conn, &topic).await?;
            let partition = partition_for(&key_of(event), count);
            groups
                .entry((topic, partition))
                .or_default()
                .push(record_of(event));
        }
        let mut plan = Vec::with_capacity(groups.len());
        for ((topic, partition), records) in groups {
            plan.push((producer(conn, topic, partition).await?, records));
        }
        Ok(plan)
    }

    async fn publish_on(&self, conn: &mut Option<Conn>, events: &[DomainEvent]) -> BankResult<()> {
        if conn.is_none() {
            *conn = Some(self.connect().await?);
        }
        let Some(live) = conn.as_mut() else {
            return Err(BankError::internal("kafka connection vanished"));
        };
        let plan = self.plan(live, events).await?;
        // Partitions are independent logs: produce to all of them at once. Each future
        // resolves only once its partition's leader acknowledged the records.
        futures::future::try_join_all(plan.into_iter().map(|(p, records)| async move {
            p.produce(records, Compression::NoCompression).await
        }))
        .await
        .map_err(kafka_err)?;
        Ok(())
    }
}

async fn partition_count(conn: &mut Conn, topic: &str) -> BankResult<i32> {
    if let Some(n) = conn.partitions.get(topic) {
        return Ok(*n);
    }
    for t in conn.client.list_topics().await.map_err(kafka_err)? {
        let n = i32::try_from(t.partitions.len()).unwrap_or(i32::MAX);
        conn.partitions.insert(t.name, n);
    }
    match conn.partitions.get(topic) {
        Some(n) if *n > 0 => Ok(*n),
        _ => Err(BankError::Transient(format!(
            "kafka: topic `{topic}` does not exist (create it, or enable topic creation)"
        ))),
    }
}

async fn producer(
    conn: &mut Conn,
    topic: String,
    partition: i32,
) -> BankResult<Arc<PartitionClient>> {
    let key = (topic, partition);
    if let Some(p) = conn.producers.get(&key) {
        return Ok(Arc::clone(p));
    }
    let p = conn
        .client
        .partition_client(key.0.as_str(), partition, UnknownTopicHandling::Error)
        .await
        .map_err(kafka_err)?;
    let p = Arc::new(p);
    conn.producers.insert(key, Arc::clone(&p));
    Ok(p)
}

#[async_trait]
impl EventSink for KafkaSink {
    async fn publish(&self, events: &[DomainEvent]) -> BankResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.lock().await;
        let result = tokio::time::timeout(self.timeout(), self.publish_on(&mut conn, events))
            .await
            .unwrap_or_else(|_| {
                Err(BankError::Transient(format!(
                    "kafka: no acknowledgement within {} ms",
                    self.config.publish_timeout_ms
                )))
            });
        if let Err(e) = &result {
            // Start afresh next time: the broker may have restarted or moved leaders.
            *conn = None;
            tracing::warn!(error = %e, events = events.len(), "kafka publish failed; the events stay in the outbox");
        }
        result
    }
}
