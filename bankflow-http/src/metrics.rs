//! Hand-rolled Prometheus counters: requests and their summed latency per route template
//! and status. Route templates (not raw paths) keep the label set bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Most distinct (method, route, status) series; later ones are folded into `route="other"`.
pub const SERIES_MAX: usize = 2_000;

#[derive(Debug, Default, Clone, Copy)]
struct Series {
    count: u64,
    seconds_sum: f64,
}

/// Request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    /// Records one finished request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut m = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = (method.to_string(), route.to_string(), status);
        if !m.contains_key(&key) && m.len() >= SERIES_MAX {
            key.1 = "other".to_string();
        }
        let s = m.entry(key).or_default();
        s.count += 1;
        s.seconds_sum += seconds;
    }

    /// Prometheus text exposition (format 0.0.4).
    pub fn render(&self, extra: &[(&str, &str, f64)]) -> String {
        let m = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP bankflow_http_requests_total HTTP requests served.\n");
        out.push_str("# TYPE bankflow_http_requests_total counter\n");
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "bankflow_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP bankflow_http_request_duration_seconds_sum Total time spent serving requests.\n");
        out.push_str("# TYPE bankflow_http_request_duration_seconds_sum counter\n");
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "bankflow_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.seconds_sum
            );
        }
        for (name, help, value) in extra {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        m.record("GET", "/api/v1/accounts/{id}", 200, 0.01);
        m.record("GET", "/api/v1/accounts/{id}", 200, 0.03);
        let text = m.render(&[("bankflow_up", "Server up.", 1.0)]);
        assert!(text.contains("bankflow_http_requests_total{method=\"GET\",route=\"/api/v1/accounts/{id}\",status=\"200\"} 2"));
        assert!(text.contains("bankflow_up 1"));
    }
}
