//! What the engine reports about itself: metric names and recording points, and the span of a
//! store commit. Through the `metrics` and `tracing` facades only (no I/O, no exporter): an
//! edge that installs a recorder or subscriber sees them, anyone else pays a no-op. Times come
//! from the engine's `Clock` (`std::time::Instant` does not exist on wasm32).

/// Commands coalesced into one store transaction by the group committer (histogram).
pub const GROUP_COMMIT_SIZE: &str = "bankflow_group_commit_size";
/// Store commit latency histogram: `store` (memory, sqlite, postgres).
pub const STORE_COMMIT_SECONDS: &str = "bankflow_store_commit_duration_seconds";
/// Age of the oldest unpublished outbox event a relay step found, in seconds (gauge).
pub const OUTBOX_LAG_SECONDS: &str = "bankflow_outbox_lag_seconds";
/// Notification deliveries: `channel`, `outcome`.
pub const NOTIFICATION_DELIVERIES_TOTAL: &str = "bankflow_notification_deliveries_total";
/// Transfers committed: `status`.
pub const TRANSFERS_TOTAL: &str = "bankflow_transfers_total";
/// Money moved by committed transfers, in minor units (cents): `currency`.
pub const MONEY_MOVED_MINOR_TOTAL: &str = "bankflow_money_moved_minor_units_total";

/// Requests refused because the resource belongs to another customer: `resource`.
pub const FOREIGN_RESOURCE_REFUSALS_TOTAL: &str = "bankflow_foreign_resource_refusals_total";
/// The `tracing` target of security events (a log pipeline can route them apart).
pub const SECURITY_TARGET: &str = "bankflow::security";

/// An actor asked for `resource` `id`, which exists but is not theirs (answered `not_found`).
pub fn foreign_resource_refused(actor: &crate::auth::Actor, resource: &'static str, id: &str) {
    metrics::counter!(FOREIGN_RESOURCE_REFUSALS_TOTAL, "resource" => resource).increment(1);
    let user = actor.user_id.map(|u| u.to_string()).unwrap_or_default();
    tracing::warn!(
        target: SECURITY_TARGET,
        event = "foreign_resource_refused",
        user_id = %user,
        resource,
        resource_id = %id,
        "refused a request for another customer's resource"
    );
}

/// One group-commit transaction carried `commands` commands.
pub fn group_commit(commands: usize) {
    metrics::histogram!(GROUP_COMMIT_SIZE).record(commands as f64);
}

/// One store commit took `elapsed`.
pub fn store_commit(store: &'static str, elapsed: std::time::Duration) {
    metrics::histogram!(STORE_COMMIT_SECONDS, "store" => store).record(elapsed.as_secs_f64());
}

/// The oldest unpublished outbox event is `age` old (zero when none).
pub fn outbox_lag(age: std::time::Duration) {
    metrics::gauge!(OUTBOX_LAG_SECONDS).set(age.as_secs_f64());
}

/// One notification delivery attempt.
pub fn notification_delivery(channel: &'static str, outcome: &'static str) {
    metrics::counter!(NOTIFICATION_DELIVERIES_TOTAL, "channel" => channel, "outcome" => outcome)
        .increment(1);
}

/// One committed transfer of `minor_units` (e.g. cents) in `currency`.
pub fn transfer_committed(status: &'static str, currency: &str, minor_units: u64) {
    metrics::counter!(TRANSFERS_TOTAL, "status" => status).increment(1);
    metrics::counter!(MONEY_MOVED_MINOR_TOTAL, "currency" => currency.to_string())
        .increment(minor_units);
}

/// Reports the business counters of events that just committed: each transaction that
/// reached COMPLETED or FAILED once (an idempotent replay commits no events, so it counts
/// nothing).
pub(crate) fn committed(events: &[crate::events::DomainEvent]) {
    use crate::events::{EventData, EventType};
    for e in events {
        let (EventType::TransactionCompleted | EventType::TransactionFailed) = e.event_type else {
            continue;
        };
        if let EventData::Transaction(d) = &e.data {
            let moved = if e.event_type == EventType::TransactionCompleted {
                d.amount.amount_minor().unsigned_abs()
            } else {
                0
            };
            transfer_committed(d.status.as_str(), d.amount.currency().code(), moved);
        }
    }
}

/// Runs a store commit inside a `store.commit` span and records its latency, read from the
/// engine's clock.
pub(crate) async fn timed_commit(
    store: &'static str,
    clock: &dyn crate::clock::Clock,
    commit: impl std::future::Future<Output = crate::error::BankResult<()>>,
) -> crate::error::BankResult<()> {
    use tracing::Instrument;
    let started = clock.now();
    let result = commit
        .instrument(tracing::info_span!("store.commit", store))
        .await;
    let elapsed = (clock.now() - started).to_std().unwrap_or_default();
    store_commit(store, elapsed);
    result
}
