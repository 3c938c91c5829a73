//! The root context: configuration, and remote JWKS fetched over an Envoy cluster and
//! refreshed on a timer, with an unknown-`kid` refetch under a cooldown. A failed or garbage
//! fetch keeps the last good keys (up to `max_stale_seconds`).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use log::{error, info, warn};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use tokengate::JwkSet;

use crate::config::Config;
use crate::filter::Filter;
use crate::state::Shared;

/// Retry delay after a failed fetch, in seconds.
const RETRY_SECONDS: u64 = 5;

#[derive(Default)]
pub struct Root {
    shared: Option<Rc<RefCell<Shared>>>,
}

impl Root {
    fn now(&self) -> u64 {
        self.get_current_time()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn fetch_due(&mut self) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let now = self.now();
        let mut s = shared.borrow_mut();
        for i in 0..s.config.providers.len() {
            let Some(remote) = s.config.providers[i].remote_jwks.clone() else {
                continue;
            };
            let state = &s.remote[i];
            if state.in_flight.is_some() {
                continue;
            }
            let kid_refetch = state.refetch_requested
                && now >= state.last_kid_refetch + remote.unknown_kid_cooldown_seconds;
            if now < state.next_fetch && !kid_refetch {
                continue;
            }
            let headers = vec![
                (":method", "GET"),
                (":path", remote.path.as_str()),
                (":authority", remote.authority.as_str()),
                (":scheme", "http"),
                ("accept", "application/json"),
            ];
            let call = self.dispatch_http_call(
                &remote.cluster,
                headers,
                None,
                vec![],
                Duration::from_millis(remote.timeout_ms),
            );
            let state = &mut s.remote[i];
            if kid_refetch {
                state.refetch_requested = false;
                state.last_kid_refetch = now;
            }
            match call {
                Ok(token) => state.in_flight = Some(token),
                Err(e) => {
                    // An undefined cluster fails at once and never calls back.
                    state.next_fetch = now + RETRY_SECONDS;
                    s.metrics.inc("jwks_fetch_failed");
                    error!(
                        "tokengate: JWKS fetch for provider {:?} could not start: {e:?}",
                        s.config.providers[i].name
                    );
                }
            }
        }
    }
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let now = self.now();
        let status = self.get_http_call_response_header(":status");
        let body = self.get_http_call_response_body(0, body_size);
        let mut s = shared.borrow_mut();
        let Some(i) = s.remote.iter().position(|r| r.in_flight == Some(token)) else {
            return;
        };
        s.remote[i].in_flight = None;
        let name = s.config.providers[i].name.clone();
        let refresh = s.config.providers[i]
            .remote_jwks
            .as_ref()
            .map_or(300, |r| r.refresh_seconds);
        let parsed = match (status.as_deref(), body) {
            (Some("200"), Some(body)) => JwkSet::from_slice(&body).map_err(|e| e.to_string()),
            (status, _) => Err(format!("status {}", status.unwrap_or("none"))),
        };
        match parsed {
            Ok(keys) => {
                let changed = s.remote[i]
                    .keys
                    .as_ref()
                    .is_none_or(|(k, _)| k.version() != keys.version());
                if changed {
                    info!(
                        "tokengate: provider {name:?} keys updated: kids {:?}, {} skipped as unsupported",
                        keys.kids(),
                        keys.skipped()
                    );
                }
                s.remote[i].keys = Some((Rc::new(keys), now));
                s.remote[i].next_fetch = now + refresh;
                s.metrics.inc("jwks_fetch_ok");
            }
            Err(e) => {
                s.remote[i].next_fetch = now + RETRY_SECONDS.min(refresh);
                s.metrics.inc("jwks_fetch_failed");
                warn!("tokengate: JWKS fetch for provider {name:?} failed ({e}); keeping the last good keys");
            }
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let Some(bytes) = self.get_plugin_configuration() else {
            error!("tokengate: no plugin configuration");
            return false;
        };
        let config = match Config::from_json(&bytes) {
            Ok(c) => c,
            Err(e) => {
                error!("tokengate: invalid configuration: {}", e.0);
                return false;
            }
        };
        for r in &config.rules {
            if r.allow_missing_or_failed {
                warn!("tokengate: a rule uses allow_missing_or_failed (FAIL-OPEN): invalid tokens pass");
            }
        }
        if config.mode == crate::config::Mode::Report {
            warn!("tokengate: mode \"report\" (FAIL-OPEN): denials are logged and counted, not enforced");
        }
        let remote = config.providers.iter().any(|p| p.remote_jwks.is_some());
        self.shared = Some(Rc::new(RefCell::new(Shared::new(config))));
        if remote {
            self.set_tick_period(Duration::from_secs(1));
        }
        true
    }

    fn on_tick(&mut self) {
        self.fetch_due();
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let shared = self.shared.clone()?;
        Some(Box::new(Filter::new(shared)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
