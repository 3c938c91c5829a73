//! The root context: configuration, and the remote documents (JWKS, OIDC discovery metadata,
//! denylist) fetched over Envoy clusters and refreshed on a timer, one fetch per Envoy (see
//! `remote_sync`), with an unknown-`kid` JWKS refetch under a cooldown. A failed or garbage
//! fetch keeps the last good document (JWKS: up to `max_stale_seconds`).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use log::{error, info, warn};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, MapType};
use tokengate::{Denylist, Gate, JwkSet, Mode, Remote};

use crate::filter::{self, Filter};
use crate::hold;
use crate::host;
use crate::remote_sync;
use crate::state::{Kind, Shared};

/// Retry delay after a failed fetch, in seconds.
const RETRY_SECONDS: u64 = 5;

#[derive(Default)]
pub struct Root {
    shared: Option<Rc<RefCell<Shared>>>,
}

/// A remote document, parsed and checked.
enum Parsed {
    Jwks(JwkSet),
    Denylist(Denylist),
    /// Where the discovered JWKS lives.
    Discovery(Remote),
}

/// Parses a document of `kind` for provider `i`. Discovery metadata names the key set to fetch
/// over the discovery cluster (the core's rule: `GateProvider::discovered_jwks`).
fn parse(s: &Shared, i: usize, kind: Kind, text: &str) -> Result<Parsed, String> {
    match kind {
        Kind::Jwks => JwkSet::from_json(text)
            .map(|keys| {
                // Here, off the request path: no request pays for the verification tables.
                keys.warm();
                Parsed::Jwks(keys)
            })
            .map_err(|e| e.to_string()),
        Kind::Denylist => Denylist::from_json(text)
            .map(Parsed::Denylist)
            .map_err(|e| e.to_string()),
        Kind::Discovery => s.config().providers[i]
            .discovered_jwks(text)
            .map(Parsed::Discovery)
            .map_err(|e| e.to_string()),
    }
}

/// Takes over a published document when its text changed since this root last parsed it.
fn adopt(s: &mut Shared, si: usize, record: &remote_sync::Record) {
    s.sources[si].last_kid_refetch = record.last_kid_refetch;
    if s.sources[si].attempts != record.attempts {
        // A fetch completed somewhere, good or not: requests held for it are decided again.
        s.sources[si].attempts = record.attempts;
        s.sources[si].result_started_ms = record.started_ms;
        s.sources[si].results_seen += 1;
    }
    let (Some(text), Some(ok_at)) = (&record.doc, record.ok_at) else {
        return;
    };
    let (i, kind) = (s.sources[si].provider, s.sources[si].kind);
    if s.sources[si].seen.as_ref() == Some(text) {
        s.sources[si].fetched_at = Some(ok_at);
        // The same text fetched again: it is as fresh as the fetch.
        match kind {
            Kind::Jwks => {
                if let Some((_, at)) = &mut s.keys[i] {
                    *at = ok_at;
                }
            }
            Kind::Denylist => {
                if let Some((_, at)) = &mut s.denylists[i] {
                    *at = ok_at;
                }
            }
            Kind::Discovery => {}
        }
        return;
    }
    let name = s.config().providers[i].name.clone();
    match parse(s, i, kind, text) {
        Ok(Parsed::Jwks(keys)) => {
            info!(
                "tokengate: provider {name:?} keys updated: kids {:?}, {} skipped as unsupported",
                keys.kids(),
                keys.skipped()
            );
            s.keys[i] = Some((Rc::new(keys), ok_at));
        }
        Ok(Parsed::Denylist(list)) => {
            info!(
                "tokengate: provider {name:?} denylist updated: {} entries",
                list.len()
            );
            s.denylists[i] = Some((Rc::new(list), ok_at));
        }
        Ok(Parsed::Discovery(jwks)) => {
            info!(
                "tokengate: provider {name:?} discovered jwks_uri {}{}",
                jwks.authority, jwks.path
            );
            for src in s
                .sources
                .iter_mut()
                .filter(|x| x.provider == i && x.kind == Kind::Jwks)
            {
                if src.remote.as_ref() != Some(&jwks) {
                    src.remote = Some(jwks.clone());
                    src.seen = None;
                }
            }
        }
        // Only documents that parsed are published, so this means another build or config.
        Err(e) => {
            warn!(
                "tokengate: published {} for provider {name:?} unusable: {e}",
                kind.name()
            );
            return;
        }
    }
    s.sources[si].seen = Some(text.clone());
    s.sources[si].fetched_at = Some(ok_at);
}

impl Root {
    /// Per remote document: adopt what another root published, then claim and start a fetch
    /// if one is due.
    fn sync_remote(&mut self) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let now_ms = host::now_ms();
        let now = now_ms / 1000;
        let mut s = shared.borrow_mut();
        for si in 0..s.sources.len() {
            let Some(remote) = s.sources[si].remote.clone() else {
                continue;
            };
            let kind = s.sources[si].kind;
            let key = remote_sync::key(kind.name(), &remote);
            let Some((record, cas)) = remote_sync::read_or_create(&key) else {
                continue;
            };
            adopt(&mut s, si, &record);
            if s.sources[si].in_flight.is_some() {
                continue;
            }
            let wanted = s.sources[si].refetch_requested;
            let Some((claimed, kid_refetch)) = remote_sync::due(&record, &remote, now, wanted)
            else {
                continue;
            };
            if remote_sync::write(&key, &claimed, Some(cas)).is_err() {
                continue; // another root claimed it first
            }
            if kid_refetch {
                s.sources[si].refetch_requested = false;
                s.sources[si].last_kid_refetch = claimed.last_kid_refetch;
            }
            let headers = vec![
                (":method", "GET"),
                (":path", remote.path.as_str()),
                (":authority", remote.authority.as_str()),
                (":scheme", "http"),
                ("accept", "application/json"),
            ];
            let timeout = Duration::from_millis(remote.timeout_ms);
            match self.dispatch_http_call(&remote.cluster, headers, None, vec![], timeout) {
                Ok(token) => s.sources[si].in_flight = Some((token, now_ms)),
                Err(e) => {
                    // An undefined cluster fails at once and never calls back.
                    let retry = remote_sync::after_fetch(
                        &claimed,
                        &remote,
                        (now_ms, now),
                        None,
                        RETRY_SECONDS,
                    );
                    let _ = remote_sync::write(&key, &retry, None);
                    s.metrics.inc(&format!("{}_fetch_failed", kind.name()));
                    let name = &s.config().providers[s.sources[si].provider].name;
                    error!(
                        "tokengate: {} fetch for provider {name:?} could not start: {e:?}",
                        kind.name()
                    );
                }
            }
        }
    }

    /// Decides again the held requests whose key set has a new fetch result, or whose wait
    /// ran out, and lets each go on or answers it ([`crate::hold`]).
    fn release_held(&self) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let now = host::now();
        let ready = {
            let s = shared.borrow();
            hold::take_ready(&s.held, &s.sources, now)
        };
        for held in ready {
            // A stream that ended meanwhile has forgotten itself; one the host no longer
            // knows is skipped.
            if !host::set_effective_context(held.context_id) {
                continue;
            }
            // Decided again with the keys now in; a fetch result that did not bring the key
            // may leave it waiting for the fetch still due (see `hold::hold`).
            let hold_as = Some((held.context_id, Some((held.since_ms, held.until))));
            let action = filter::check_request(&mut shared.borrow_mut(), hold_as);
            if action == Action::Continue && !host::resume_request() {
                warn!("tokengate: the host refused to resume a held request");
            }
        }
    }

    /// Takes the response to fetch `token`: publishes a good document, or schedules a retry.
    fn take_response(&mut self, token: u32, body_size: usize) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let now_ms = host::now_ms();
        let now = now_ms / 1000;
        let mut s = shared.borrow_mut();
        let Some(si) = s
            .sources
            .iter()
            .position(|x| x.in_flight.is_some_and(|(t, _)| t == token))
        else {
            return;
        };
        let started_ms = s.sources[si].in_flight.take().map_or(now_ms, |(_, at)| at);
        let (i, kind) = (s.sources[si].provider, s.sources[si].kind);
        // Raw bytes, and the body only when its announced size is within the document's
        // limit: a hostile or broken server cannot make the VM buffer or parse more.
        let status = host::header_pairs(MapType::HttpCallResponseHeaders)
            .into_iter()
            .find(|(k, _)| k == b":status")
            .map(|(_, v)| v);
        let body = if body_size > kind.max_bytes() {
            Err(format!(
                "body of {body_size} bytes is over the {}-byte limit",
                kind.max_bytes()
            ))
        } else {
            host::buffer(BufferType::HttpCallResponseBody, body_size)
                .filter(|b| b.len() <= kind.max_bytes())
                .ok_or_else(|| "body unreadable".to_string())
        };
        let Some(remote) = s.sources[si].remote.clone() else {
            return;
        };
        let name = s.config().providers[i].name.clone();
        // Only a document that parses and checks out is published.
        let fetched = match (status.as_deref(), body) {
            (Some(b"200"), Ok(body)) => String::from_utf8(body)
                .map_err(|_| "not UTF-8".to_string())
                .and_then(|text| parse(&s, i, kind, &text).map(|_| text)),
            (Some(b"200"), Err(e)) => Err(e),
            (status, _) => Err(format!(
                "status {}",
                status.map_or("none".into(), |s| String::from_utf8_lossy(s).into_owned())
            )),
        };
        match &fetched {
            Ok(_) => s.metrics.inc(&format!("{}_fetch_ok", kind.name())),
            Err(e) => {
                s.metrics.inc(&format!("{}_fetch_failed", kind.name()));
                warn!("tokengate: {} fetch for provider {name:?} failed ({e}); keeping the last good one", kind.name());
            }
        }
        let fetched = fetched.ok();
        let key = remote_sync::key(kind.name(), &remote);
        // Publish; retry a few times if another root touched the record meanwhile.
        for _ in 0..4 {
            let (record, cas) = match remote_sync::read(&key) {
                Some((r, c)) => (r, Some(c)),
                None => (remote_sync::Record::default(), None),
            };
            let updated = remote_sync::after_fetch(
                &record,
                &remote,
                (started_ms, now),
                fetched.clone(),
                RETRY_SECONDS,
            );
            if remote_sync::write(&key, &updated, cas).is_ok() {
                adopt(&mut s, si, &updated);
                return;
            }
        }
        warn!(
            "tokengate: could not publish the {} for provider {name:?}",
            kind.name()
        );
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
        self.take_response(token, body_size);
        self.release_held();
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        // Follow Envoy's log level, so lines it would discard (the per-request audit line below
        // `info`) are not even formatted.
        if let Ok(level) = proxy_wasm::hostcalls::get_log_level() {
            proxy_wasm::set_log_level(level);
        }
        let Some(bytes) = self.get_plugin_configuration() else {
            error!("tokengate: no plugin configuration");
            return false;
        };
        let gate = match Gate::from_json(&bytes) {
            Ok(g) => g,
            Err(e) => {
                error!("tokengate: invalid configuration: {e}");
                return false;
            }
        };
        let config = gate.config();
        for r in &config.rules {
            if r.allow_missing_or_failed {
                warn!("tokengate: a rule uses allow_missing_or_failed (FAIL-OPEN): invalid tokens pass");
            }
        }
        for p in &config.providers {
            if p.denylist_fail_open_until_loaded {
                warn!("tokengate: provider {:?} skips revocation until its denylist loads (FAIL-OPEN)", p.name);
            }
        }
        if config.allow_unnormalized_paths {
            warn!("tokengate: allow_unnormalized_paths (FAIL-OPEN): rules match paths that are not in normal form");
        }
        if config.mode == Mode::Report {
            warn!("tokengate: mode \"report\" (FAIL-OPEN): denials are logged and counted, not enforced");
        }
        let started = host::now();
        let mut shared = Shared::new(gate, started);
        shared.record_health(started);
        self.shared = Some(Rc::new(RefCell::new(shared)));
        // Every second: remote documents, health gauges, counted metrics.
        self.set_tick_period(Duration::from_secs(1));
        true
    }

    fn on_tick(&mut self) {
        self.sync_remote();
        self.release_held();
        if let Some(shared) = self.shared.clone() {
            let now = host::now();
            let mut s = shared.borrow_mut();
            s.record_health(now);
            s.metrics.flush();
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let shared = self.shared.clone()?;
        Some(Box::new(Filter::new(shared, context_id)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
