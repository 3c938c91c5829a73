//! Metrics through proxy-wasm, visible in Envoy's `/stats` (as `wasmcustom.tokengate.*`):
//! counters named by the core's stable `code()` strings (a bounded label set), and per-provider
//! health gauges an operator can alert on. Host calls go through `host`, never panicking.
//! Counters are counted in the module and handed to Envoy on the root context's tick (every
//! second): a request makes no metric host call.

use std::collections::HashMap;

use proxy_wasm::types::MetricType;

use crate::host;

#[derive(Default)]
pub struct Metrics {
    /// Name -> the host's metric id, and (counters) the increments not yet handed over.
    ids: HashMap<String, (u32, i64)>,
}

impl Metrics {
    fn entry(&mut self, kind: MetricType, name: &str) -> Option<&mut (u32, i64)> {
        if !self.ids.contains_key(name) {
            let id = host::define_metric(kind, &format!("tokengate.{name}"))?;
            self.ids.insert(name.to_string(), (id, 0));
        }
        self.ids.get_mut(name)
    }

    /// Counts one on the counter `tokengate.<name>`, defined on first use and handed to the
    /// host at the next [`Metrics::flush`]. Best effort: a failing host call is ignored rather
    /// than failing the request.
    pub fn inc(&mut self, name: &str) {
        if let Some((_, pending)) = self.entry(MetricType::Counter, name) {
            *pending += 1;
        }
    }

    /// Hands every counted increment to the host.
    pub fn flush(&mut self) {
        for (id, pending) in self.ids.values_mut() {
            if *pending != 0 {
                host::increment_metric(*id, *pending);
                *pending = 0;
            }
        }
    }

    /// Sets the gauge `tokengate.<name>`, defining it on first use. Best effort.
    pub fn set(&mut self, name: &str, value: u64) {
        if let Some((id, _)) = self.entry(MetricType::Gauge, name) {
            host::record_metric(*id, value);
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
