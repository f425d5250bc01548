//! The background worker: runs due scheduled transfers, expires due holds, relays the outbox
//! (to the engine's sink, which turns events into notifications, and to each relay sink such
//! as Kafka, and the webhook fan-out: a batch is marked published only when all of them
//! acknowledged it) and retries failed notification deliveries; webhook deliveries run beside
//! it on their own task. Several replicas may run it against one database: each step claims
//! its work under a lease or re-checks state inside its own transaction, so no job runs twice.

use std::sync::Arc;
use std::time::Duration;

use bankflow_core::{Bank, EventSink};
use tokio::sync::watch;

/// Pause between rounds when the previous round found nothing to do.
pub const IDLE_PAUSE_MS: u64 = 1_000;
/// Outbox events relayed per step.
pub const RELAY_BATCH_MAX: u32 = 500;
/// How long a claimed outbox batch stays ours before another replica may take it over.
pub const RELAY_LEASE_S: i64 = 30;
/// Rounds a single tick may chain while work remains, so one busy step cannot starve shutdown.
pub const ROUNDS_PER_TICK_MAX: u32 = 20;
/// Pause between retention passes (old outbox events, idempotency records, notifications,
/// webhook deliveries).
pub const RETENTION_EVERY_S: u64 = 3_600;
/// Rows of each kind one retention pass removes, at most (the next pass takes the rest).
pub const RETENTION_BATCH_MAX: u32 = 5_000;

/// One retention pass; returns how many rows went.
pub async fn retention_once(bank: &Bank) -> u64 {
    match bank.maintenance().purge(RETENTION_BATCH_MAX).await {
        Ok(r) => r.events + r.idempotency_records + r.notifications + r.webhook_deliveries,
        Err(e) => {
            crate::metrics::worker_error("retention");
            tracing::warn!(error = %e, "retention pass failed");
            0
        }
    }
}

/// Sinks the outbox relay must satisfy besides the engine's own (`--kafka-brokers`).
pub type RelaySinks = Vec<Arc<dyn EventSink>>;

/// One round of every job; returns how many items were handled.
pub async fn run_once(bank: &Bank, relay: &[Arc<dyn EventSink>]) -> usize {
    let mut handled = 0;
    // Due occurrences are claimed under a lease and keyed by (schedule, occurrence), so a
    // replica racing on the same schedule can only replay the transfer, never repeat it.
    match bank.schedules().run_due_scheduled_transfers().await {
        Ok(r) => handled += r.completed + r.failed,
        Err(e) => {
            crate::metrics::worker_error("scheduled_transfers");
            tracing::warn!(error = %e, "scheduled transfers failed")
        }
    }
    match bank.maintenance().expire_holds().await {
        Ok(n) => handled += n,
        Err(e) => {
            crate::metrics::worker_error("hold_expiry");
            tracing::warn!(error = %e, "hold expiry failed")
        }
    }
    let also: Vec<&dyn EventSink> = relay.iter().map(|s| s.as_ref()).collect();
    match bank
        .maintenance()
        .relay_outbox_to(
            &also,
            RELAY_BATCH_MAX,
            chrono::Duration::seconds(RELAY_LEASE_S),
        )
        .await
    {
        Ok(n) => {
            crate::metrics::outbox_relayed(n);
            handled += n
        }
        Err(e) => {
            crate::metrics::worker_error("outbox_relay");
            tracing::warn!(error = %e, "outbox relay failed")
        }
    }
    // Each due notification is claimed under a lease before it is sent.
    match bank.notifications().retry_notifications().await {
        Ok(n) => handled += n,
        Err(e) => {
            crate::metrics::worker_error("notification_retries");
            tracing::warn!(error = %e, "notification retries failed")
        }
    }
    handled
}

/// Runs until `shutdown` turns true.
pub async fn run(
    bank: Bank,
    relay: RelaySinks,
    webhooks: crate::webhook_transport::WebhookWorker,
    mut shutdown: watch::Receiver<bool>,
) {
    let hooks = tokio::spawn(crate::webhook_transport::run(
        bank.clone(),
        webhooks,
        shutdown.clone(),
    ));
    let mut last_retention: Option<std::time::Instant> = None;
    loop {
        if last_retention.is_none_or(|t| t.elapsed() >= Duration::from_secs(RETENTION_EVERY_S)) {
            last_retention = Some(std::time::Instant::now());
            retention_once(&bank).await;
        }
        let mut rounds = 0;
        while rounds < ROUNDS_PER_TICK_MAX && run_once(&bank, &relay).await > 0 {
            rounds += 1;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(IDLE_PAUSE_MS)) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            let _ = hooks.await;
            tracing::info!("background worker stopped");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bankflow_core::identity::RegisterRequest;
    use bankflow_core::{MemoryStore, RequestContext};

    use super::*;

    #[tokio::test]
    async fn a_round_relays_the_outbox_once() {
        let bank = Bank::builder(Arc::new(MemoryStore::new())).build();
        // A registration commits a `user.registered` event to the outbox.
        let req = RegisterRequest {
            email: "w@example.com".into(),
            password: "correct horse battery staple".into(),
            phone: None,
        };
        bank.identity()
            .register(req, &RequestContext::default())
            .await
            .unwrap();
        let first = run_once(&bank, &[]).await;
        assert!(first > 0, "the outbox had events to relay");
        assert_eq!(
            run_once(&bank, &[]).await,
            0,
            "relayed events are not relayed again"
        );
    }
}
