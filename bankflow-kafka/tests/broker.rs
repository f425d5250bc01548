//! The relay's Kafka sink against a real Kafka-protocol broker (tansu, started by
//! `scripts/kafka-broker.sh`, which fails — so these tests fail — when it cannot start).
//! Records are read back with rskafka's fetch: every event arrives as a structured CloudEvent,
//! keyed and partitioned by aggregate, in per-aggregate order; a killed broker keeps the
//! events in the outbox and the relay resumes once it is back.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bankflow_core::events::EventData;
use bankflow_core::identity::{LoginRequest, RegisterRequest};
use bankflow_core::ids::EventId;
use bankflow_core::{
    Bank, DomainEvent, EventSink, EventType, MemorySink, MemoryStore, RequestContext,
};
use bankflow_kafka::partition::partition_for;
use bankflow_kafka::{CreateTopics, KafkaConfig, KafkaSink, CONTENT_TYPE, TOPICS};
use rskafka::client::partition::UnknownTopicHandling;
use rskafka::client::ClientBuilder;
use rskafka::record::RecordAndOffset;
use serde_json::Value;

const PARTITIONS: i32 = 3;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/kafka-broker.sh")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tansu broker on its own port and storage directory; SIGKILLed when dropped.
struct Broker {
    dir: tempfile::TempDir,
    port: u16,
}

impl Broker {
    fn start() -> Broker {
        let broker = Broker {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
        };
        broker.run("start");
        broker
    }

    fn run(&self, action: &str) {
        let mut cmd = Command::new("bash");
        cmd.arg(script()).arg(action).arg(self.dir.path());
        if action == "start" {
            cmd.arg(self.port.to_string());
        }
        let out = cmd.output().expect("run kafka-broker.sh");
        assert!(
            out.status.success(),
            "kafka-broker.sh {action} failed (the broker is required, not optional):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.run("kill");
    }
}

fn config(broker: &Broker, prefix: &str) -> KafkaConfig {
    let mut c = KafkaConfig::new(vec![broker.addr()]);
    c.client_id = "bankflow-kafka-test".into();
    c.topic_prefix = prefix.into();
    c.publish_timeout_ms = 5_000;
    c.create_topics = Some(CreateTopics {
        partitions: PARTITIONS,
        replication_factor: 1,
    });
    c
}

/// Every record of `topic`, per partition, from offset 0 to the high watermark.
async fn read_topic(broker: &Broker, topic: &str) -> HashMap<i32, Vec<RecordAndOffset>> {
    let client = ClientBuilder::new(vec![broker.addr()])
        .build()
        .await
        .unwrap();
    let mut out = HashMap::new();
    for partition in 0..PARTITIONS {
        let pc = client
            .partition_client(topic, partition, UnknownTopicHandling::Retry)
            .await
            .unwrap();
        let mut records = Vec::new();
        let mut offset = 0;
        loop {
            let (batch, high) = pc.fetch_records(offset, 1..1_000_000, 500).await.unwrap();
            if let Some(last) = batch.last() {
                offset = last.offset + 1;
            }
            records.extend(batch);
            if offset >= high {
                break;
            }
        }
        out.insert(partition, records);
    }
    out
}

fn event(aggregate: uuid::Uuid, n: u32) -> DomainEvent {
    DomainEvent {
        id: EventId(uuid::Uuid::now_v7()),
        event_type: EventType::AccountFrozen,
        aggregate_id: aggregate,
        time: chrono::Utc::now(),
        data: EventData::Json(serde_json::json!({ "n": n })),
    }
}

fn cloudevent(r: &RecordAndOffset) -> Value {
    serde_json::from_slice(r.record.value.as_deref().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_lands_keyed_in_order_as_a_structured_cloudevent() {
    let broker = Broker::start();
    let sink = KafkaSink::new(config(&broker, "sinktest.")).unwrap();
    let aggregates: Vec<uuid::Uuid> = (0..6).map(|_| uuid::Uuid::now_v7()).collect();
    let mut sent = Vec::new();
    // Interleaved batches, as the relay sends them: several aggregates per batch.
    for n in 0..4 {
        let batch: Vec<DomainEvent> = aggregates.iter().map(|a| event(*a, n)).collect();
        sink.publish(&batch).await.unwrap();
        sent.extend(batch);
    }
    let got = read_topic(&broker, "sinktest.account-events").await;
    let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
    let mut total = 0;
    for (partition, records) in &got {
        for r in records {
            total += 1;
            let key = String::from_utf8(r.record.key.clone().unwrap()).unwrap();
            assert_eq!(
                *partition,
                partition_for(key.as_bytes(), PARTITIONS),
                "murmur2 partition"
            );
            assert_eq!(r.record.headers["content-type"], CONTENT_TYPE.as_bytes());
            let ce = cloudevent(r);
            assert_eq!(ce["specversion"], "1.0");
            assert_eq!(ce["type"], "com.bankflow.account.frozen");
            assert_eq!(ce["source"], "account-service");
            assert_eq!(ce["subject"], key);
            assert_eq!(ce["datacontenttype"], "application/json");
            assert!(ce["id"].as_str().is_some() && ce["time"].as_str().is_some());
            seen.entry(key)
                .or_default()
                .push(ce["data"]["n"].as_u64().unwrap());
        }
    }
    assert_eq!(total, sent.len(), "every event exactly once");
    for a in &aggregates {
        assert_eq!(
            seen[&a.to_string()],
            vec![0, 1, 2, 3],
            "aggregate {a} in order"
        );
    }
}

async fn register_and_login(bank: &Bank, i: u32) {
    let email = format!("kafka-{i}@example.com");
    let password = "correct horse battery staple kafka".to_string();
    let ctx = RequestContext::default();
    let req = RegisterRequest {
        email: email.clone(),
        password: password.clone(),
        phone: None,
    };
    bank.identity().register(req, &ctx).await.unwrap();
    let login = LoginRequest {
        email,
        password,
        mfa_code: None,
    };
    bank.identity().login(login, &ctx).await.unwrap();
}

/// Relays until the outbox has nothing claimable; panics on a relay error.
async fn drain(bank: &Bank, sink: &KafkaSink, lease: chrono::Duration) -> usize {
    let mut total = 0;
    loop {
        let n = bank
            .maintenance()
            .relay_outbox_to(&[sink], 500, lease)
            .await
            .unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_broker_loses_nothing_and_the_relay_resumes() {
    let broker = Broker::start();
    let sink = KafkaSink::new(config(&broker, "relaytest.")).unwrap();
    // The engine's own sink sees every committed event: the list Kafka must end up with.
    let all = Arc::new(MemorySink::default());
    let bank = Bank::builder(Arc::new(MemoryStore::new()))
        .runtime(Arc::new(bankflow_core::TokioRuntime))
        .sink(all.clone())
        .build();
    // A short lease, so the test need not wait 30 s for a failed batch to be claimable again.
    let lease = chrono::Duration::milliseconds(300);
    for i in 0..3 {
        register_and_login(&bank, i).await;
    }
    assert!(drain(&bank, &sink, lease).await > 0);

    broker.run("kill");
    for i in 3..6 {
        register_and_login(&bank, i).await;
    }
    let failed = bank
        .maintenance()
        .relay_outbox_to(&[&sink], 500, lease)
        .await;
    assert!(
        failed.is_err(),
        "a dead broker is an error, not a publication"
    );
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let failed = bank
        .maintenance()
        .relay_outbox_to(&[&sink], 500, lease)
        .await;
    assert!(failed.is_err(), "still down: the events wait in the outbox");

    broker.run("start");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(drain(&bank, &sink, lease).await > 0, "the relay resumes");

    // Per aggregate, the ids in commit order (what the engine's sink saw first: it also gets
    // every relayed batch again, so it too is deduped by id) ...
    let mut want: HashMap<String, Vec<String>> = HashMap::new();
    let mut sunk = HashSet::new();
    for e in all.events() {
        if sunk.insert(e.id) {
            want.entry(e.aggregate_id.to_string())
                .or_default()
                .push(e.id.to_string());
        }
    }
    // ... and in partition order, each id kept once: a re-sent batch may repeat a record, and
    // its id is what a consumer drops it by.
    let mut ids = HashSet::new();
    let mut got: HashMap<String, Vec<String>> = HashMap::new();
    for topic in TOPICS {
        for records in read_topic(&broker, &format!("relaytest.{topic}"))
            .await
            .into_values()
        {
            for r in records {
                let ce = cloudevent(&r);
                let id = ce["id"].as_str().unwrap().to_string();
                if ids.insert(id.clone()) {
                    got.entry(ce["subject"].as_str().unwrap().to_string())
                        .or_default()
                        .push(id);
                }
            }
        }
    }
    assert_eq!(
        got, want,
        "every committed event, none invented, in aggregate order"
    );
    let logins: HashSet<_> = all
        .events()
        .iter()
        .filter(|e| e.event_type == EventType::UserLoggedIn)
        .map(|e| e.id)
        .collect();
    assert_eq!(logins.len(), 6, "the journey did log in six users");
}
