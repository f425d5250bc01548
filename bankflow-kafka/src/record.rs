//! One domain event as one Kafka record, in the CloudEvents Kafka protocol binding's
//! *structured* mode: the value is the whole CloudEvent as JSON and the `content-type`
//! header says so. Consumers read one self-describing JSON document per record and dedupe on
//! its `id` (delivery is at-least-once).

use std::collections::BTreeMap;

use bankflow_core::{DomainEvent, EventType};
use rskafka::record::Record;
use serde_json::Value;

/// The `content-type` header of every record (structured mode).
pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=UTF-8";

/// Every topic the engine publishes to, without prefix (the platform design's names).
pub const TOPICS: [&str; 6] = [
    "identity-events",
    "customer-events",
    "account-events",
    "transaction-events",
    "fraud-events",
    "notification-events",
];

/// The topic an event type goes to: the design's topic (from core) behind `prefix`.
pub fn topic_name(prefix: &str, event_type: EventType) -> String {
    format!("{prefix}{}", event_type.topic())
}

/// The record key: the aggregate id, so one aggregate's events share a partition and keep
/// their order.
pub fn key_of(event: &DomainEvent) -> Vec<u8> {
    event.aggregate_id.to_string().into_bytes()
}

/// The record for `event`.
pub fn record_of(event: &DomainEvent) -> Record {
    let mut ce = event.to_cloudevent();
    // The binding's `partitionkey` extension: the key the record was partitioned by.
    if let Value::Object(m) = &mut ce {
        m.insert(
            "partitionkey".into(),
            Value::String(event.aggregate_id.to_string()),
        );
    }
    let mut headers = BTreeMap::new();
    headers.insert("content-type".to_string(), CONTENT_TYPE.as_bytes().to_vec());
    Record {
        key: Some(key_of(event)),
        value: Some(ce.to_string().into_bytes()),
        headers,
        timestamp: event.time,
    }
}

#[cfg(test)]
mod tests {
    use bankflow_core::events::EventData;
    use bankflow_core::DomainEvent;

    use super::*;

    fn event() -> DomainEvent {
        DomainEvent {
            id: bankflow_core::ids::EventId(uuid::Uuid::now_v7()),
            event_type: EventType::KycApproved,
            aggregate_id: uuid::Uuid::now_v7(),
            time: chrono::Utc::now(),
            data: EventData::Json(serde_json::json!({"customerId": "c"})),
        }
    }

    #[test]
    fn the_value_is_a_structured_cloudevent_keyed_by_aggregate() {
        let e = event();
        let r = record_of(&e);
        assert_eq!(
            r.key.as_deref(),
            Some(e.aggregate_id.to_string().as_bytes())
        );
        assert_eq!(r.headers["content-type"], CONTENT_TYPE.as_bytes());
        let v: Value = serde_json::from_slice(r.value.as_deref().unwrap()).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["id"], e.id.to_string());
        assert_eq!(v["type"], "com.bankflow.kyc.approved");
        assert_eq!(v["partitionkey"], e.aggregate_id.to_string());
        assert_eq!(r.timestamp, e.time);
    }

    #[test]
    fn topics_take_the_prefix() {
        assert_eq!(
            topic_name("prod.", EventType::KycApproved),
            "prod.customer-events"
        );
        assert_eq!(topic_name("", EventType::UserRegistered), "identity-events");
        assert!(TOPICS.contains(&EventType::NotificationSent.topic()));
    }
}
