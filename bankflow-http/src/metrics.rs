//! Prometheus metrics through the `metrics` facade and `metrics-exporter-prometheus`.
//!
//! One process-wide recorder (the facade's macros are global and I/O-free, so the engine can
//! record from bankflow-core later without depending on any exporter); [`Metrics`] renders it.
//! Every metric name is a constant here and every label set is bounded: route templates (not
//! raw paths), status classes, use-case names from code, currencies (ISO codes the engine
//! accepts), channels and outcomes from closed enums.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP request latency histogram: `method`, `route` (template), `status_class` (`2xx`…).
pub const HTTP_REQUEST_SECONDS: &str = "bankflow_http_request_duration_seconds";
/// Engine command latency histogram as seen by the HTTP layer: `use_case`, `outcome`
/// (`ok` or the engine's stable error code).
pub const ENGINE_COMMAND_SECONDS: &str = "bankflow_engine_command_duration_seconds";
/// Outbox events relayed to the sink (relay throughput as a rate).
pub const OUTBOX_RELAYED_TOTAL: &str = "bankflow_outbox_relayed_events_total";
/// Background-worker steps that failed: `job`.
pub const WORKER_ERRORS_TOTAL: &str = "bankflow_worker_errors_total";
/// The background worker's jobs (labels of [`WORKER_ERRORS_TOTAL`]).
pub const WORKER_JOBS: [&str; 5] = [
    "scheduled_transfers",
    "hold_expiry",
    "outbox_relay",
    "notification_retries",
    "retention",
];
/// 1 while the server runs (with the version as a label).
pub const UP: &str = "bankflow_up";

/// The engine's own metrics (recorded inside bankflow-core, one definition there).
pub use bankflow_core::telemetry::{
    group_commit, notification_delivery, outbox_lag, store_commit, transfer_committed,
    GROUP_COMMIT_SIZE, MONEY_MOVED_MINOR_TOTAL, NOTIFICATION_DELIVERIES_TOTAL, OUTBOX_LAG_SECONDS,
    STORE_COMMIT_SECONDS, TRANSFERS_TOTAL,
};

/// Metrics recorded inside the engine (bankflow-core) that a short journey need not produce
/// (no notification delivered yet, no lag sampled before the scrape): deploy/check.sh accepts
/// dashboard and alert queries over these names although a given scrape may lack them.
pub const AWAITING_ENGINE_HOOK: [&str; 6] = [
    GROUP_COMMIT_SIZE,
    STORE_COMMIT_SECONDS,
    OUTBOX_LAG_SECONDS,
    NOTIFICATION_DELIVERIES_TOTAL,
    TRANSFERS_TOTAL,
    MONEY_MOVED_MINOR_TOTAL,
];

/// Latency buckets in seconds: 1 ms to 10 s, dense where a banking API should answer.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Group sizes: 1 up to the group committer's batch limits.
const GROUP_SIZE_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// How often idle histogram buckets are folded (the exporter's upkeep).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(GROUP_COMMIT_SIZE.into()),
                    &GROUP_SIZE_BUCKETS,
                )
            })
            .expect("bucket lists are non-empty constants")
            .upkeep_timeout(UPKEEP_INTERVAL)
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder (an embedding application's) wins; ours then renders nothing,
        // which a test of that application would notice at once.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows ours only");
        }
        describe();
        metrics::gauge!(UP, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        // Counters an alert divides or compares exist from the start: "no error yet" is 0,
        // not an absent series.
        metrics::counter!(OUTBOX_RELAYED_TOTAL).increment(0);
        for job in WORKER_JOBS {
            metrics::counter!(WORKER_ERRORS_TOTAL, "job" => job).increment(0);
        }
        handle.clone()
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        HTTP_REQUEST_SECONDS,
        Unit::Seconds,
        "HTTP request latency by route template and status class."
    );
    describe_histogram!(
        ENGINE_COMMAND_SECONDS,
        Unit::Seconds,
        "Engine command latency by use case and outcome."
    );
    describe_counter!(
        OUTBOX_RELAYED_TOTAL,
        "Outbox events relayed to the event sink."
    );
    describe_counter!(
        WORKER_ERRORS_TOTAL,
        "Background worker steps that failed, by job."
    );
    describe_gauge!(UP, "1 while the server runs.");
    describe_histogram!(
        GROUP_COMMIT_SIZE,
        "Commands per group-commit store transaction."
    );
    describe_histogram!(STORE_COMMIT_SECONDS, Unit::Seconds, "Store commit latency.");
    describe_gauge!(
        OUTBOX_LAG_SECONDS,
        Unit::Seconds,
        "Age of the oldest unpublished outbox event."
    );
    describe_counter!(
        NOTIFICATION_DELIVERIES_TOTAL,
        "Notification deliveries by channel and outcome."
    );
    describe_counter!(TRANSFERS_TOTAL, "Committed transfers by status.");
    describe_counter!(
        MONEY_MOVED_MINOR_TOTAL,
        "Money moved by committed transfers, minor units, by currency."
    );
}

/// Renders the process-wide metrics. Cheap to clone; every clone renders the same recorder.
#[derive(Debug, Clone, Copy, Default)]
pub struct Metrics;

impl Metrics {
    /// Installs the recorder (idempotent) so the first scrape already has `bankflow_up`.
    pub fn init() -> Metrics {
        handle();
        Metrics
    }

    /// Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        handle().render()
    }
}

/// `2xx`, `4xx`… (bounded, unlike raw status codes times routes).
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// One finished HTTP request.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    metrics::histogram!(HTTP_REQUEST_SECONDS,
        "method" => method.to_string(), "route" => route.to_string(),
        "status_class" => status_class(status))
    .record(elapsed.as_secs_f64());
}

/// One engine command (`use_case` is a name from code; `outcome` `ok` or an error code).
pub fn engine_command(use_case: &'static str, outcome: &'static str, elapsed: Duration) {
    metrics::histogram!(ENGINE_COMMAND_SECONDS, "use_case" => use_case, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// Outbox events relayed in one step.
pub fn outbox_relayed(events: usize) {
    metrics::counter!(OUTBOX_RELAYED_TOTAL).increment(events as u64);
}

/// A failed background step (`job` one of [`WORKER_JOBS`]).
pub fn worker_error(job: &'static str) {
    debug_assert!(WORKER_JOBS.contains(&job), "{job}");
    metrics::counter!(WORKER_ERRORS_TOTAL, "job" => job).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_value(text: &str, prefix: &str) -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no line starting {prefix} in\n{text}"))
    }

    #[test]
    fn histograms_have_buckets_and_counts() {
        let m = Metrics::init();
        http_request("GET", "/unit/{id}", 200, Duration::from_millis(3));
        http_request("GET", "/unit/{id}", 201, Duration::from_millis(30));
        let text = m.render();
        let count = "bankflow_http_request_duration_seconds_count{method=\"GET\",route=\"/unit/{id}\",status_class=\"2xx\"}";
        assert!(line_value(&text, count) >= 2.0);
        assert!(text.contains("le=\"0.005\""), "{text}");
        assert!(text.contains("bankflow_up{version="), "{text}");
    }

    #[test]
    fn the_engine_facade_renders_every_awaited_metric() {
        let m = Metrics::init();
        group_commit(3);
        store_commit("unit", Duration::from_millis(2));
        outbox_lag(Duration::from_secs(4));
        notification_delivery("email", "sent");
        transfer_committed("COMPLETED", "USD", 1_250);
        let text = m.render();
        for name in AWAITING_ENGINE_HOOK {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
        assert!(
            line_value(
                &text,
                "bankflow_money_moved_minor_units_total{currency=\"USD\"}"
            ) >= 1250.0
        );
        assert_eq!(status_class(503), "5xx");
    }
}
