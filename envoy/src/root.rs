//! The root context: configuration, and remote JWKS fetched over an Envoy cluster, refreshed on
//! a timer, with an unknown-`kid` refetch under a cooldown, one fetch per Envoy (see
//! `jwks_sync`). A failed or garbage fetch keeps the last good keys (up to `max_stale_seconds`).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use log::{error, info, warn};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use tokengate::JwkSet;

use crate::config::Config;
use crate::filter::Filter;
use crate::jwks_sync;
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

    /// Per remote key set: adopt what another root published, then claim and start a fetch
    /// if one is due.
    fn sync_remote(&mut self) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let now = self.now();
        let mut s = shared.borrow_mut();
        for i in 0..s.config.providers.len() {
            let Some(remote) = s.config.providers[i].remote_jwks.clone() else {
                continue;
            };
            let key = jwks_sync::key(&remote);
            let Some((record, cas)) = jwks_sync::read_or_create(&key) else {
                continue;
            };
            adopt(&mut s, i, &record);
            if s.remote[i].in_flight.is_some() {
                continue;
            }
            let Some((claimed, kid_refetch)) =
                jwks_sync::due(&record, &remote, now, s.remote[i].refetch_requested)
            else {
                continue;
            };
            if jwks_sync::write(&key, &claimed, Some(cas)).is_err() {
                continue; // another root claimed it first
            }
            if kid_refetch {
                s.remote[i].refetch_requested = false;
            }
            let headers = vec![
                (":method", "GET"),
                (":path", remote.path.as_str()),
                (":authority", remote.authority.as_str()),
                (":scheme", "http"),
                ("accept", "application/json"),
            ];
            match self.dispatch_http_call(
                &remote.cluster,
                headers,
                None,
                vec![],
                Duration::from_millis(remote.timeout_ms),
            ) {
                Ok(token) => s.remote[i].in_flight = Some(token),
                Err(e) => {
                    // An undefined cluster fails at once and never calls back.
                    let retry = jwks_sync::after_fetch(&claimed, &remote, now, None, RETRY_SECONDS);
                    let _ = jwks_sync::write(&key, &retry, None);
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

/// Takes over the published key set when its text changed since this root last parsed it.
fn adopt(s: &mut Shared, i: usize, record: &jwks_sync::Record) {
    let (Some(text), Some(ok_at)) = (&record.jwks, record.ok_at) else {
        return;
    };
    if let Some((keys, seen, _)) = &s.remote[i].keys {
        if seen == text {
            s.remote[i].keys = Some((Rc::clone(keys), text.clone(), ok_at));
            return;
        }
    }
    match JwkSet::from_json(text) {
        Ok(keys) => {
            info!(
                "tokengate: provider {:?} keys updated: kids {:?}, {} skipped as unsupported",
                s.config.providers[i].name,
                keys.kids(),
                keys.skipped()
            );
            s.remote[i].keys = Some((Rc::new(keys), text.clone(), ok_at));
        }
        // Only documents that parsed are published, so this means a different build.
        Err(e) => warn!(
            "tokengate: published JWKS for provider {:?} unusable: {e}",
            s.config.providers[i].name
        ),
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
        let Some(remote) = s.config.providers[i].remote_jwks.clone() else {
            return;
        };
        // Only a document that parses as a usable key set is published.
        let fetched = match (status.as_deref(), body) {
            (Some("200"), Some(body)) => match JwkSet::from_slice(&body) {
                Ok(_) => String::from_utf8(body).map_err(|_| "not UTF-8".to_string()),
                Err(e) => Err(e.to_string()),
            },
            (status, _) => Err(format!("status {}", status.unwrap_or("none"))),
        };
        match &fetched {
            Ok(_) => s.metrics.inc("jwks_fetch_ok"),
            Err(e) => {
                s.metrics.inc("jwks_fetch_failed");
                warn!("tokengate: JWKS fetch for provider {name:?} failed ({e}); keeping the last good keys");
            }
        }
        let fetched = fetched.ok();
        let key = jwks_sync::key(&remote);
        // Publish; retry a few times if another root touched the record meanwhile.
        for _ in 0..4 {
            let (record, cas) = match jwks_sync::read(&key) {
                Some((r, c)) => (r, Some(c)),
                None => (jwks_sync::Record::default(), None),
            };
            let updated =
                jwks_sync::after_fetch(&record, &remote, now, fetched.clone(), RETRY_SECONDS);
            if jwks_sync::write(&key, &updated, cas).is_ok() {
                adopt(&mut s, i, &updated);
                return;
            }
        }
        warn!("tokengate: could not publish the JWKS for provider {name:?}");
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
        self.sync_remote();
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let shared = self.shared.clone()?;
        Some(Box::new(Filter::new(shared)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
