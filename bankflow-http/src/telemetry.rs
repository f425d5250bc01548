//! Logging and tracing setup: text or JSON lines on stderr, and OpenTelemetry spans over
//! OTLP/HTTP (protobuf) when an endpoint is configured.
//!
//! Spans come from `tracing`: the request span ([`crate::access_log`]) and the engine command
//! span ([`crate::routes::detached`]); tracing-opentelemetry turns them into OTLP spans with
//! the parent links intact.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::serve::CliError;

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for Loki, CloudWatch, …).
    Json,
}

/// How long finished spans wait before they are sent (a batch goes earlier when full).
pub const EXPORT_DELAY_MS: u64 = 1_000;
/// Longest one OTLP export may take before it is abandoned.
pub const EXPORT_TIMEOUT_MS: u64 = 5_000;
/// Spans queued for export; when full, new spans are dropped (tracing never blocks requests).
pub const SPAN_QUEUE_MAX: usize = 4_096;

/// Keeps the exporter alive; [`Telemetry::shutdown`] flushes queued spans.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends what is queued and stops the exporter.
    pub fn shutdown(self) {
        if let Some(p) = self.provider {
            if let Err(e) = p.shutdown() {
                eprintln!("bankflow: flushing traces failed: {e}");
            }
        }
    }
}

/// `http://host:4318` (the OTLP base, as in `OTEL_EXPORTER_OTLP_ENDPOINT`) or the full
/// traces URL; either way the traces URL.
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim().trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_string()
    } else {
        format!("{base}/v1/traces")
    }
}

fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, CliError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url(endpoint))
        .with_timeout(Duration::from_millis(EXPORT_TIMEOUT_MS))
        .build()?;
    let batch = BatchConfigBuilder::default()
        .with_scheduled_delay(Duration::from_millis(EXPORT_DELAY_MS))
        .with_max_queue_size(SPAN_QUEUE_MAX)
        .build();
    // The tokio-driven processor: the exporter's hyper client needs the runtime's reactor.
    let processor = BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio)
        .with_batch_config(batch)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(Resource::builder().with_service_name("bankflow").build())
        .build())
}

/// Installs the global subscriber (call once, inside the tokio runtime).
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<Telemetry, CliError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    let fmt = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let endpoint = otlp_endpoint.map(str::trim).filter(|e| !e.is_empty());
    let provider = endpoint.map(tracer_provider).transpose()?;
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("bankflow")));
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()?;
    if let Some(e) = endpoint {
        tracing::info!(endpoint = %traces_url(e), "exporting traces over OTLP/HTTP");
    }
    Ok(Telemetry { provider })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_url_is_derived_once() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            traces_url("http://c:4318/v1/traces"),
            "http://c:4318/v1/traces"
        );
    }
}
