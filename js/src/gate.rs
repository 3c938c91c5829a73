//! The core's HTTP gate for JavaScript hosts (`createGate` in `js/lib/gate.js`): one
//! configuration, the same JSON as the Envoy filter's, the same decisions. This side holds the
//! validated gate, each provider's current keys and denylist (handed over by the wrapper, which
//! fetches them) and the verified-token cache; it answers with the [`Decision`] as JSON.
//!
//! Header values cross as JavaScript strings of bytes (each char one byte, as Fetch's
//! `ByteString` and Node's `latin1` are), so a claim's UTF-8 reaches the upstream as the same
//! bytes Envoy would send.

use std::rc::Rc;

use serde_json::{json, Value};
use tokengate::{
    Algorithm, Decision, Denylist, Error, Gate, GateHost, HeaderEdit, HostCheck, HostVerdict,
    JwkSet, Remote, RemoteDocument, Routing, TokenCache,
};
use wasm_bindgen::prelude::*;

use crate::errors::config_error;
use crate::gate_signatures::{PendingCheck, Signatures, Tickets};
use crate::handles::{WasmDenylist, WasmKeySet};

/// A validated gate with its keys, denylists and cache.
#[wasm_bindgen]
pub struct WasmGate {
    gate: Rc<Gate>,
    state: GateState,
    /// The algorithms the wrapper checks with WebCrypto ([`crate::gate_signatures`]).
    host_algorithms: Vec<Algorithm>,
    tickets: Tickets,
}

/// What the wrapper handed over, and the cache.
struct GateState {
    keys: Vec<Option<(Rc<JwkSet>, u64)>>,
    /// Where a discovery provider's key set is, once its metadata named it.
    discovered: Vec<Option<Remote>>,
    denylists: Vec<Option<(Rc<Denylist>, u64)>>,
    cache: TokenCache,
}

/// The state as the gate sees it while it checks one request.
struct Host<'a, 's> {
    gate: &'a Gate,
    state: &'a mut GateState,
    now: i64,
    unknown_keys: Vec<usize>,
    signatures: Signatures<'s>,
}

impl GateHost for Host<'_, '_> {
    fn now(&mut self) -> i64 {
        self.now
    }

    fn keys(&mut self, provider: usize, now: u64) -> Option<Rc<JwkSet>> {
        let p = &self.gate.config().providers[provider];
        let fetched = self.state.keys[provider].as_ref().map(|(k, at)| (k, *at));
        let remote = p
            .remote_jwks
            .as_ref()
            .or(self.state.discovered[provider].as_ref());
        p.keys_at(fetched, remote, now)
    }

    fn denylist(&mut self, provider: usize, now: u64) -> Result<Option<Rc<Denylist>>, Error> {
        let fetched = self.state.denylists[provider]
            .as_ref()
            .map(|(list, at)| (list, *at));
        self.gate.config().providers[provider].denylist_at(fetched, now)
    }

    fn cache(&mut self) -> &mut TokenCache {
        &mut self.state.cache
    }

    fn unknown_key(&mut self, provider: usize) {
        if !self.unknown_keys.contains(&provider) {
            self.unknown_keys.push(provider);
        }
    }

    fn client_certificate_sha256(&mut self) -> Option<[u8; 32]> {
        // No TLS connection is visible to a worker: certificate-bound tokens are refused.
        None
    }

    fn checks_signatures(&self) -> bool {
        self.signatures.host_checks()
    }

    fn signature(&mut self, provider: usize, keys: &Rc<JwkSet>, check: &HostCheck) -> HostVerdict {
        self.signatures.verdict(provider, keys, check)
    }
}

/// A remote document for the wrapper to fetch, with the largest body it may read
/// (`max_bytes`, the core's bound for its kind, as the Envoy filter reads it).
fn remote_json(r: Option<&Remote>, kind: RemoteDocument) -> Value {
    r.map_or(Value::Null, |r| {
        json!({
            "max_bytes": kind.max_bytes(),
            "cluster": r.cluster, "authority": r.authority, "path": r.path,
            "refresh_seconds": r.refresh_seconds, "timeout_ms": r.timeout_ms,
            "unknown_kid_cooldown_seconds": r.unknown_kid_cooldown_seconds,
            "max_stale_seconds": r.max_stale_seconds,
        })
    })
}

/// Bytes as a JavaScript byte string (one char per byte).
fn byte_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A JavaScript byte string as bytes; a char above 0xFF (never in a Fetch header) as UTF-8.
fn bytes_of(s: &str) -> Vec<u8> {
    if s.chars().all(|c| u32::from(c) <= 0xFF) {
        s.chars().map(|c| c as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

/// The decision as JSON for the wrapper (`pending`: none, this decision is final).
fn decision_json(d: &Decision, unknown_keys: &[usize]) -> String {
    let edits: Vec<Value> = d
        .edits
        .iter()
        .map(|e| match e {
            HeaderEdit::Set { name, value } => json!(["set", name, byte_string(value)]),
            HeaderEdit::Remove { name } => json!(["remove", name]),
        })
        .collect();
    let response = d.response.as_ref().map(|r| {
        json!({
            "status": r.status,
            "www_authenticate": r.www_authenticate,
            "retry_after": r.retry_after,
            "content_type": r.content_type,
            "body": r.body,
            "grpc_status": r.grpc_status,
        })
    });
    let audit = d.audit.as_ref().map(|a| {
        json!({
            "route": a.route, "provider": a.provider, "verdict": a.verdict.name(),
            "code": a.code, "metric": a.metric(),
        })
    });
    json!({
        "response": response,
        "edits": edits,
        "audit": audit,
        "claims": d.verified.as_ref().map(|v| v.claims().json()),
        "unknown_keys": unknown_keys,
        "unforwarded_claims": d.unforwarded_claims,
        "cache_hits": d.cache_hits,
        "cache_misses": d.cache_misses,
        "pending": Value::Null,
    })
    .to_string()
}

#[wasm_bindgen]
impl WasmGate {
    /// Validates a gate configuration (the Envoy filter's JSON); throws a coded
    /// `ERR_GATE_CONFIG` error naming the field.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<WasmGate, JsValue> {
        let gate = Gate::from_json(json.as_bytes()).map_err(|e| {
            JsValue::from_str(&format!("{}\u{1f}gate configuration: {e}", e.code()))
        })?;
        let n = gate.config().providers.len();
        let cache = TokenCache::new(gate.config().cache_capacity);
        Ok(WasmGate {
            gate: Rc::new(gate),
            state: GateState {
                keys: vec![None; n],
                discovered: vec![None; n],
                denylists: vec![None; n],
                cache,
            },
            host_algorithms: Vec::new(),
            tickets: Tickets::default(),
        })
    }

    /// The providers, as JSON: `[{name, remote_jwks, discovery, denylist, fail_open}]`, for
    /// the wrapper to fetch their documents.
    pub fn providers(&self) -> String {
        let list: Vec<Value> = self
            .gate
            .config()
            .providers
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "has_local_jwks": p.local_jwks.is_some(),
                    "remote_jwks": remote_json(p.remote_jwks.as_ref(), RemoteDocument::Jwks),
                    "discovery": remote_json(p.discovery.as_ref(), RemoteDocument::Discovery),
                    "denylist": remote_json(p.denylist.as_ref(), RemoteDocument::Denylist),
                })
            })
            .collect();
        Value::Array(list).to_string()
    }

    /// Whether the configuration is in report mode (fail-open by name).
    #[wasm_bindgen(getter, js_name = reportMode)]
    pub fn report_mode(&self) -> bool {
        self.gate.config().mode == tokengate::Mode::Report
    }

    /// Adopts a fetched key set for `provider`, fetched at `fetched_at` (Unix seconds).
    #[wasm_bindgen(js_name = setKeys)]
    pub fn set_keys(&mut self, provider: usize, keys: &WasmKeySet, fetched_at: f64) {
        if let Some(slot) = self.state.keys.get_mut(provider) {
            *slot = Some((Rc::clone(&keys.inner), seconds(fetched_at)));
        }
    }

    /// Adopts `provider`'s fetched OIDC discovery metadata: returns where its key set is (the
    /// same JSON as a `remote_jwks` in [`WasmGate::providers`]), for the wrapper to fetch; throws
    /// a coded `ERR_DISCOVERY_INVALID` error for metadata that cannot name it (another issuer's,
    /// no http(s) `jwks_uri`): the provider keeps the key set it had (none before the first
    /// good metadata: it fails closed), as the Envoy filter keeps it.
    #[wasm_bindgen(js_name = setDiscovery)]
    pub fn set_discovery(&mut self, provider: usize, metadata: &str) -> Result<String, JsValue> {
        let p = self
            .gate
            .config()
            .providers
            .get(provider)
            .ok_or_else(|| JsValue::from_str("ERR_DISCOVERY_INVALID\u{1f}no such provider"))?;
        let found = p.discovered_jwks(metadata).map_err(|e| config_error(&e))?;
        let json = remote_json(Some(&found), RemoteDocument::Jwks).to_string();
        self.state.discovered[provider] = Some(found);
        Ok(json)
    }

    /// Adopts a fetched denylist for `provider`, fetched at `fetched_at` (Unix seconds).
    #[wasm_bindgen(js_name = setDenylist)]
    pub fn set_denylist(&mut self, provider: usize, list: &WasmDenylist, fetched_at: f64) {
        if let Some(slot) = self.state.denylists.get_mut(provider) {
            *slot = Some((Rc::clone(&list.inner), seconds(fetched_at)));
        }
    }

    /// The providers whose keys a request to `target` needs (a JSON array of indexes), so the
    /// wrapper fetches only those before [`WasmGate::decide`]: empty when no rule asks for a
    /// token or the path is refused.
    pub fn needs(&self, method: &str, target: &str) -> String {
        let needed = match self.gate.route(&bytes_of(target), || method.to_string()) {
            Routing::Protected(r) => self.gate.config().rules[r].providers.clone(),
            Routing::Pass | Routing::Refuse(_) => Vec::new(),
        };
        json!(needed).to_string()
    }

    /// Decides a request: `headers` alternates names and values (byte strings), and holds
    /// `:method` and `:path` (the request target, query included). Returns the decision as
    /// JSON: `response` (to send instead), `edits` (to the forwarded request, `spoofed`
    /// headers first), `audit`, `claims` (JSON text), `unknown_keys` (providers whose set lacked
    /// the token's key).
    /// (The first pass, when the wrapper named host algorithms: `pending` then lists the
    /// signatures to check with WebCrypto and pass to [`WasmGate::decide_checked`]; the rest of
    /// such a decision is to be discarded.)
    pub fn decide(&mut self, headers: Vec<String>, now: f64) -> String {
        let algorithms = std::mem::take(&mut self.host_algorithms);
        let (d, unknown, signatures) =
            self.run(&headers, now, Signatures::Collect(&algorithms, Vec::new()));
        let json = match signatures {
            // The rest of this decision is discarded: only the checks are worth writing out.
            Signatures::Collect(_, pending) if !pending.is_empty() => {
                let checks: Vec<Value> = pending
                    .iter()
                    .map(|c| json!({"alg": c.alg(), "key": c.key_id()}))
                    .collect();
                let ticket = self.tickets.file(pending);
                json!({"pending": {"ticket": ticket, "checks": checks}}).to_string()
            }
            _ => decision_json(&d, &unknown),
        };
        self.host_algorithms = algorithms;
        json
    }

    /// The second pass of a decision: as [`WasmGate::decide`], with the wrapper's
    /// `verdicts` (one byte per check of `ticket`: 1 valid, 0 invalid, 2 unchecked) on the
    /// signatures the first pass listed. Any other signature is checked in the module.
    #[wasm_bindgen(js_name = decideChecked)]
    pub fn decide_checked(
        &mut self,
        headers: Vec<String>,
        now: f64,
        ticket: u32,
        verdicts: &[u8],
    ) -> String {
        let answered = self.tickets.answer(ticket, verdicts);
        let (d, unknown, _) = self.run(&headers, now, Signatures::Answered(answered));
        decision_json(&d, &unknown)
    }

    /// The algorithms (space-separated names) whose signatures the wrapper checks with
    /// WebCrypto; none at first (all in the module).
    #[wasm_bindgen(js_name = setHostAlgorithms)]
    pub fn set_host_algorithms(&mut self, names: &str) {
        self.host_algorithms = names.split(' ').filter_map(Algorithm::from_name).collect();
    }

    /// The public JWK (for `importKey`) of check `index` of `ticket`; empty when gone.
    #[wasm_bindgen(js_name = pendingJwk)]
    pub fn pending_jwk(&self, ticket: u32, index: usize) -> String {
        self.pending(ticket, index)
            .map_or(String::new(), PendingCheck::jwk)
    }

    /// The signing input of check `index` of `ticket`; empty when gone.
    #[wasm_bindgen(js_name = pendingInput)]
    pub fn pending_input(&self, ticket: u32, index: usize) -> Vec<u8> {
        self.pending(ticket, index)
            .map_or(Vec::new(), |c| c.input().to_vec())
    }

    /// The signature of check `index` of `ticket`; empty when gone.
    #[wasm_bindgen(js_name = pendingSignature)]
    pub fn pending_signature(&self, ticket: u32, index: usize) -> Vec<u8> {
        self.pending(ticket, index)
            .map_or(Vec::new(), |c| c.signature().to_vec())
    }
}

impl WasmGate {
    fn pending(&self, ticket: u32, index: usize) -> Option<&PendingCheck> {
        self.tickets.get(ticket)?.get(index)
    }

    /// Decides `headers` (names and values alternating) at `now`, checking signatures as
    /// `signatures` says; gives back the decision, the providers whose set lacked a key, and
    /// what the signatures collected.
    fn run<'s>(
        &mut self,
        headers: &[String],
        now: f64,
        signatures: Signatures<'s>,
    ) -> (Decision, Vec<usize>, Signatures<'s>) {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = headers
            .chunks_exact(2)
            .map(|kv| (bytes_of(&kv[0].to_ascii_lowercase()), bytes_of(&kv[1])))
            .collect();
        let gate = Rc::clone(&self.gate);
        let mut host = Host {
            gate: &gate,
            state: &mut self.state,
            now: now_seconds(now),
            unknown_keys: Vec::new(),
            signatures,
        };
        let d = gate.decide(&pairs, &mut host);
        (d, host.unknown_keys, host.signatures)
    }
}

/// Unix seconds from JavaScript (never negative, never NaN).
fn seconds(t: f64) -> u64 {
    if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    }
}

fn now_seconds(t: f64) -> i64 {
    if t.is_finite() {
        t as i64
    } else {
        0
    }
}
