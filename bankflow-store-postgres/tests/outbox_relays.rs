//! Several outbox relays, each with its own pool (as in separate processes), drain one events
//! table concurrently: every event is claimed exactly once while its lease holds, and each
//! aggregate's events are published in append order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bankflow_core::events::{DomainEvent, EventData};
use bankflow_core::ids::EventId;
use bankflow_core::ports::{Store, TxMode};
use bankflow_core::EventType;
use bankflow_store_postgres::testdb::{database_url, TestDatabase};
use bankflow_store_postgres::{PgOptions, PgStore};
use chrono::{Duration, Utc};
use uuid::Uuid;

const EVENTS: usize = 600;
const AGGREGATES: u128 = 25;
const RELAYS: usize = 4;
const CLAIM_LIMIT: u32 = 9;
/// Bound on each relay's loop: far above what draining needs, so a bug fails instead of hanging.
const ROUNDS_MAX: usize = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_relays_claim_once_and_keep_aggregate_order() {
    let db = TestDatabase::create(&database_url()).await;
    let opts = || PgOptions {
        max_connections: 2,
        ..PgOptions::default()
    };
    let writer = PgStore::connect(db.url(), opts()).await.expect("connect");
    let now = Utc::now();
    let events: Vec<DomainEvent> = (0..EVENTS as u128)
        .map(|n| DomainEvent {
            id: EventId(Uuid::from_u128(n + 1)),
            event_type: EventType::AccountBalanceUpdated,
            aggregate_id: Uuid::from_u128(1000 + n % AGGREGATES),
            time: now,
            data: EventData::Json(serde_json::json!({ "n": n.to_string() })),
        })
        .collect();
    // Appended in several commits, as a running bank would.
    for chunk in events.chunks(50) {
        let mut u = writer.begin(TxMode::Write).await.unwrap();
        u.append_events(chunk).await.unwrap();
        u.commit().await.unwrap();
    }
    let published: Arc<Mutex<Vec<(Uuid, i64, EventId)>>> = Arc::default();
    let done = Arc::new(AtomicUsize::new(0));
    let mut relays = Vec::new();
    for _ in 0..RELAYS {
        let store = PgStore::connect(db.url(), opts())
            .await
            .expect("relay connect");
        let (published, done) = (published.clone(), done.clone());
        relays.push(tokio::spawn(async move {
            for _ in 0..ROUNDS_MAX {
                if done.load(Ordering::SeqCst) >= EVENTS {
                    return;
                }
                let now = Utc::now();
                let mut u = store.begin(TxMode::Write).await.unwrap();
                let claimed = u
                    .claim_events(now, now + Duration::minutes(10), CLAIM_LIMIT)
                    .await
                    .unwrap();
                u.commit().await.unwrap();
                if claimed.is_empty() {
                    tokio::task::yield_now().await;
                    continue;
                }
                // "Publish" (record in order), then mark published.
                published.lock().unwrap().extend(
                    claimed
                        .iter()
                        .map(|s| (s.event.aggregate_id, s.seq, s.event.id)),
                );
                let seqs: Vec<i64> = claimed.iter().map(|s| s.seq).collect();
                let mut u = store.begin(TxMode::Write).await.unwrap();
                u.mark_published(&seqs, Utc::now()).await.unwrap();
                u.commit().await.unwrap();
                done.fetch_add(seqs.len(), Ordering::SeqCst);
            }
            panic!("relay did not finish within {ROUNDS_MAX} rounds");
        }));
    }
    for r in relays {
        r.await.expect("relay");
    }
    let published = published.lock().unwrap().clone();
    assert_eq!(
        published.len(),
        EVENTS,
        "every event published exactly once (no double claim)"
    );
    let mut seen: HashMap<EventId, usize> = HashMap::new();
    for (_, _, id) in &published {
        *seen.entry(*id).or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "an event was claimed twice");
    let mut last: HashMap<Uuid, i64> = HashMap::new();
    for (agg, seq, _) in &published {
        if let Some(prev) = last.insert(*agg, *seq) {
            assert!(
                prev < *seq,
                "aggregate {agg} published out of order: {prev} then {seq}"
            );
        }
    }
    db.drop_database().await;
}
