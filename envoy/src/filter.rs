//! The HTTP context: translates one request between Envoy and the core's [`Gate`]. It reads
//! the headers (as bytes, through `host`, never the SDK's panicking UTF-8 getters), supplies
//! the clock, keys, denylists, cache and client certificate ([`GateHost`]), and carries out the
//! [`Decision`]: header edits, or the local response. Metrics and the audit log are Envoy's.
//! Which token, which rule and which answer are the core's.

use std::cell::RefCell;
use std::rc::Rc;

use log::{error, info};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};

use tokengate::{Decision, Denylist, Error, GateHost, HeaderEdit, JwkSet, Routing, TokenCache};

use crate::hold::{self, HeldList, Wait};
use crate::host;
use crate::state::Shared;

pub struct Filter {
    shared: Rc<RefCell<Shared>>,
    /// The worker's held requests, apart from `shared`: a stream that ends while the root
    /// answers another holds no borrow of `shared`, so forgetting itself never conflicts.
    held: HeldList,
    context_id: u32,
}

/// The request headers as the client sent them (names lowercase, as Envoy keeps them). Until
/// [`Request::complete`], possibly only `:path` (and `:method` once asked for): all that a
/// request no rule protects needs when the gate owns no header to strip.
struct Request {
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    complete: bool,
}

impl Request {
    /// Every header, when `all`; else only `:path` (all that rule matching needs until a
    /// rule names methods).
    fn read(all: bool) -> Request {
        if all {
            return Request {
                headers: host::header_pairs(MapType::HttpRequestHeaders),
                complete: true,
            };
        }
        let headers = host::header_value(MapType::HttpRequestHeaders, ":path")
            .map(|v| (b":path".to_vec(), v))
            .into_iter()
            .collect();
        Request {
            headers,
            complete: false,
        }
    }

    fn first(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// The method, read on first use when only `:path` was read.
    fn method(&mut self) -> String {
        if !self.complete && self.first(":method").is_none() {
            if let Some(m) = host::header_value(MapType::HttpRequestHeaders, ":method") {
                self.headers.push((b":method".to_vec(), m));
            }
        }
        self.first(":method")
            .and_then(|m| std::str::from_utf8(m).ok())
            .unwrap_or("")
            .to_string()
    }

    /// Reads every header, once.
    fn complete(&mut self) {
        if !self.complete {
            *self = Request::read(true);
        }
    }
}

/// What the gate asks of Envoy while it checks one request.
struct EnvoyHost<'s> {
    shared: &'s mut Shared,
    /// The provider whose key set lacked the token's `kid`, if any.
    unknown_key: Option<usize>,
    /// A provider that had no usable keys, if any.
    no_keys: Option<usize>,
}

impl GateHost for EnvoyHost<'_> {
    fn now(&mut self) -> i64 {
        host::now() as i64
    }

    fn keys(&mut self, provider: usize, now: u64) -> Option<Rc<JwkSet>> {
        let keys = self.shared.keys(provider, now);
        if keys.is_none() {
            self.no_keys.get_or_insert(provider);
        }
        keys
    }

    fn denylist(&mut self, provider: usize, now: u64) -> Result<Option<Rc<Denylist>>, Error> {
        self.shared.denylist(provider, now)
    }

    fn cache(&mut self) -> &mut TokenCache {
        &mut self.shared.cache
    }

    fn unknown_key(&mut self, provider: usize) {
        crate::state::request_refetch(&mut self.shared.sources, provider);
        self.unknown_key = Some(provider);
    }

    fn client_certificate_sha256(&mut self) -> Option<[u8; 32]> {
        client_cert_sha256()
    }
}

impl Filter {
    pub fn new(shared: Rc<RefCell<Shared>>, context_id: u32) -> Filter {
        let held = Rc::clone(&shared.borrow().held);
        Filter {
            shared,
            held,
            context_id,
        }
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        hold::forget(&self.held, self.context_id);
    }
}

/// Checks the request of the current stream (the effective context) and carries out the
/// decision. `hold_as`: this stream's context id when a refusal for want of keys (an unknown
/// `kid`, or none yet) may wait for the key set's fetch ([`hold::hold`]), with when it was
/// held before and until when, if it was.
pub fn check_request(s: &mut Shared, hold_as: Option<(u32, Option<(u64, u64)>)>) -> Action {
    let gate = Rc::clone(&s.gate);
    // Every header at once when the gate owns some (to strip a client's spelling of them)
    // or most requests will need them; else `:path` first, the rest once a rule needs a
    // token (each host call that returns data costs a call back into the module).
    let mut req = Request::read(gate.config().read_all_headers);

    // Headers the gate sets are never taken from the client, in any spelling.
    for name in gate.spoofed_headers(&req.headers) {
        host::remove_request_header(name);
    }

    let target = req.first(":path").unwrap_or(b"/").to_vec();
    match gate.route(&target, || req.method()) {
        Routing::Pass => Action::Continue,
        Routing::Refuse(e) => {
            req.complete();
            let d = gate.refuse(&req.headers, &e);
            carry_out(s, d)
        }
        Routing::Protected(route) => {
            req.complete();
            let mut host = EnvoyHost {
                shared: s,
                unknown_key: None,
                no_keys: None,
            };
            let d = gate.check(route, &req.headers, &mut host);
            let wait = match (host.unknown_key, host.no_keys) {
                (Some(i), _) => Some((i, Wait::UnknownKid)),
                (None, Some(i)) => Some((i, Wait::FirstKeys)),
                (None, None) => None,
            };
            if let (Some(hold_as), Some(wait), Some(_)) = (hold_as, wait, &d.response) {
                if hold::hold(&s.held, &s.sources, hold_as, wait, host::now_ms()) {
                    s.metrics.inc(wait.1.metric());
                    return Action::Pause;
                }
            }
            carry_out(s, d)
        }
    }
}

/// Logs, counts and carries out the gate's decision.
fn carry_out(s: &mut Shared, d: Decision) -> Action {
    for _ in 0..d.cache_hits {
        s.metrics.inc("cache_hit");
    }
    for _ in 0..d.cache_misses {
        s.metrics.inc("cache_miss");
    }
    for claim in &d.unforwarded_claims {
        info!("tokengate: claim {claim:?} not forwarded: it contains control characters");
    }
    if let Some(a) = &d.audit {
        s.metrics.inc(&a.metric());
        let c = d.verified.as_deref().map(|v| v.claims());
        let route = a.route.map_or_else(|| "-".to_string(), |r| r.to_string());
        // Debug formatting quotes and escapes the values: a claim cannot forge a log line.
        info!(
            "tokengate decision route={route} provider={:?} verdict={} code={} iss={:?} sub={:?} jti={:?}",
            a.provider,
            a.verdict.name(),
            a.code,
            c.and_then(|c| c.issuer()),
            c.and_then(|c| c.subject()),
            c.and_then(|c| c.jwt_id()),
        );
    }
    let Some(r) = d.response else {
        for edit in &d.edits {
            match edit {
                HeaderEdit::Set { name, value } => {
                    host::set_request_header(name, value);
                }
                HeaderEdit::Remove { name } => {
                    host::remove_request_header(name.as_bytes());
                }
            }
        }
        return Action::Continue;
    };
    let retry_after = r.retry_after.map(|r| r.to_string());
    let mut headers = vec![("cache-control", "no-store")];
    if let Some(ct) = r.content_type {
        headers.push(("content-type", ct));
    }
    if let Some(challenge) = &r.www_authenticate {
        headers.push(("www-authenticate", challenge));
    }
    if let Some(after) = &retry_after {
        headers.push(("retry-after", after));
    }
    if !host::send_response(
        u32::from(r.status),
        &headers,
        r.body.as_bytes(),
        r.grpc_status,
    ) {
        error!("tokengate: the host refused the local response; the request stays paused");
    }
    Action::Pause
}

/// SHA-256 of the downstream client certificate (mutual TLS), from Envoy's connection
/// attributes; `None` without one.
fn client_cert_sha256() -> Option<[u8; 32]> {
    let hex = host::property(&["connection", "sha256_peer_certificate_digest"])?;
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        *byte = (digit(hex[2 * i])? * 16 + digit(hex[2 * i + 1])?) as u8;
    }
    Some(out)
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let shared = Rc::clone(&self.shared);
        let mut s = shared.borrow_mut();
        check_request(&mut s, Some((self.context_id, None)))
    }

    // While held, a request's body and trailers wait too: letting them through would let
    // Envoy continue the request to the upstream before it is decided.
    fn on_http_request_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        self.action_while_held()
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.action_while_held()
    }
}

impl Filter {
    /// `Pause` while this stream is held (and, fail closed, when that cannot be read).
    fn action_while_held(&self) -> Action {
        let held = self.held.try_borrow().map_or(true, |list| {
            list.iter().any(|h| h.context_id == self.context_id)
        });
        if held {
            Action::Pause
        } else {
            Action::Continue
        }
    }
}
