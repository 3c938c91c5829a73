//! Metrics through proxy-wasm, visible in Envoy's `/stats` (as `wasmcustom.tokengate.*`):
//! counters named by the core's stable `code()` strings (a bounded label set), and per-provider
//! health gauges an operator can alert on. Host calls go through `host`, never panicking.

use std::collections::HashMap;

use proxy_wasm::types::MetricType;

use crate::host;

#[derive(Default)]
pub struct Metrics {
    ids: HashMap<String, u32>,
}

impl Metrics {
    fn id(&mut self, kind: MetricType, name: &str) -> Option<u32> {
        if let Some(id) = self.ids.get(name) {
            return Some(*id);
        }
        let id = host::define_metric(kind, &format!("tokengate.{name}"))?;
        self.ids.insert(name.to_string(), id);
        Some(id)
    }

    /// Increments the counter `tokengate.<name>`, defining it on first use. Best effort: a
    /// failing host call is ignored rather than failing the request.
    pub fn inc(&mut self, name: &str) {
        if let Some(id) = self.id(MetricType::Counter, name) {
            host::increment_metric(id, 1);
        }
    }

    /// Sets the gauge `tokengate.<name>`, defining it on first use. Best effort.
    pub fn set(&mut self, name: &str, value: u64) {
        if let Some(id) = self.id(MetricType::Gauge, name) {
            host::record_metric(id, value);
        }
    }
}

/// A provider name as a metric name segment: letters, digits, `_` and `-` kept, anything else
/// (a `.` would split the stat name) becomes `_`.
pub fn segment(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn provider_names_become_one_segment() {
        assert_eq!(super::segment("idp.example/prod"), "idp_example_prod");
        assert_eq!(super::segment("tenant-1_a"), "tenant-1_a");
    }
}
