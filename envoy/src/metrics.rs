//! Counters through proxy-wasm, visible in Envoy's `/stats` (as `wasmcustom.tokengate.*`).
//! Codes come from the core's stable `code()` strings, so the label set is bounded.

use std::collections::HashMap;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

#[derive(Default)]
pub struct Metrics {
    ids: HashMap<String, u32>,
}

impl Metrics {
    /// Increments `tokengate.<name>`, defining it on first use. Metrics are best effort:
    /// a failing host call is ignored rather than failing the request.
    pub fn inc(&mut self, name: &str) {
        let id = match self.ids.get(name) {
            Some(id) => *id,
            None => {
                match hostcalls::define_metric(MetricType::Counter, &format!("tokengate.{name}")) {
                    Ok(id) => {
                        self.ids.insert(name.to_string(), id);
                        id
                    }
                    Err(_) => return,
                }
            }
        };
        let _ = hostcalls::increment_metric(id, 1);
    }
}
