//! The HTTP context: one request's decision. Strips headers a client could spoof, picks the
//! first matching rule, finds the token, asks the core, then sets claim headers or sends the
//! denial. Requests that match no rule pass through, as with jwt_authn.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use log::info;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use serde_json::Value;
use std::sync::Arc;

use tokengate::{
    base64url_encode, check_certificate_binding, lookup_path, Error, JwkSet, Verified, Verifier,
};

use crate::config::{ArrayEncoding, Mode, Provider};
use crate::extract;
use crate::respond;
use crate::state::Shared;

pub struct Filter {
    shared: Rc<RefCell<Shared>>,
}

/// Where the token was found, so `forward: false` can remove it.
enum Location {
    Header(String),
    Cookie(String),
    Param(String),
}

impl Filter {
    pub fn new(shared: Rc<RefCell<Shared>>) -> Filter {
        Filter { shared }
    }

    fn now(&self) -> i64 {
        self.get_current_time()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    fn find_token(&self, p: &Provider, path: &str) -> Option<(String, Location)> {
        for h in &p.from_headers {
            if let Some(v) = self.get_http_request_header(&h.name) {
                if let Some(t) = extract::from_header(&v, h.value_prefix.as_deref()) {
                    return Some((t.to_string(), Location::Header(h.name.clone())));
                }
            }
        }
        if !p.from_cookies.is_empty() {
            if let Some(cookies) = self.get_http_request_header("cookie") {
                for name in &p.from_cookies {
                    if let Some(t) = extract::from_cookie(&cookies, name) {
                        return Some((t.to_string(), Location::Cookie(name.clone())));
                    }
                }
            }
        }
        for name in &p.from_params {
            if let Some(t) = extract::from_param(path, name) {
                return Some((t.to_string(), Location::Param(name.clone())));
            }
        }
        None
    }

    /// One provider's attempt at this request: `None` when the request carries no token for it.
    fn attempt(
        &self,
        s: &mut Shared,
        pi: usize,
        path: &str,
        now: i64,
        presented_cert: &mut Option<Option<[u8; 32]>>,
    ) -> Option<Result<(Arc<Verified>, Location), Error>> {
        let p = &s.config.providers[pi];
        let (token, at) = self.find_token(p, path)?;
        let hits = s.cache.hits();
        let denylist = s.denylists[pi].clone();
        let result = match (keys_for(s, pi, now), &denylist) {
            (None, _) => Err(Error::KeysUnavailable),
            // Fail closed until the configured denylist has loaded, unless opted out.
            (Some(_), None) if p.denylist.is_some() && !p.denylist_fail_open_until_loaded => {
                Err(Error::DenylistUnavailable)
            }
            (Some(keys), _) => {
                let mut v = Verifier::new(&p.policy);
                if let Some(d) = &denylist {
                    v = v.with_denylist(d);
                }
                v.verify_cached(&token, &keys, now, &mut s.cache)
            }
        };
        if result == Err(Error::NoMatchingKey) {
            crate::state::request_refetch(&mut s.sources, pi);
        }
        s.metrics.inc(if s.cache.hits() > hits {
            "cache_hit"
        } else {
            "cache_miss"
        });
        // RFC 8705: a certificate-bound token needs the connection's client certificate. The
        // property is read only for tokens that carry `cnf`.
        let result = result.and_then(|v| {
            if !v.claims().contains("cnf") {
                return Ok(v);
            }
            let cert = *presented_cert.get_or_insert_with(|| self.client_cert_sha256());
            check_certificate_binding(v.claims(), cert.as_ref()).map(|()| v)
        });
        Some(result.map(|v| (v, at)))
    }

    /// SHA-256 of the downstream client certificate (mutual TLS), from Envoy's connection
    /// attributes; `None` without one.
    fn client_cert_sha256(&self) -> Option<[u8; 32]> {
        let hex = self.get_property(vec!["connection", "sha256_peer_certificate_digest"])?;
        let hex = std::str::from_utf8(&hex).ok()?;
        let mut out = [0u8; 32];
        if hex.len() != 64 {
            return None;
        }
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }

    fn remove_token(&self, at: &Location, path: &str) {
        match at {
            Location::Header(h) => self.set_http_request_header(h, None),
            Location::Cookie(name) => {
                let rest = self
                    .get_http_request_header("cookie")
                    .and_then(|c| extract::without_cookie(&c, name));
                self.set_http_request_header("cookie", rest.as_deref());
            }
            Location::Param(name) => {
                self.set_http_request_header(":path", Some(&extract::without_param(path, name)))
            }
        }
    }

    fn forward_claims(&self, p: &Provider, v: &Verified) {
        if let Some(h) = &p.forward_payload_header {
            self.set_http_request_header(h, Some(&base64url_encode(v.claims().json().as_bytes())));
        }
        if p.claim_to_headers.is_empty() {
            return;
        }
        let object = v.claims().to_object();
        for c in &p.claim_to_headers {
            let value = match lookup_path(&object, &c.claim_name) {
                None => continue,
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(items)) if c.arrays == ArrayEncoding::Comma => items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                Some(other) => other.to_string(),
            };
            // A claim can hold anything; a header value cannot hold control characters.
            if value.chars().any(char::is_control) {
                info!(
                    "tokengate: claim {:?} not forwarded: it contains control characters",
                    c.claim_name
                );
                continue;
            }
            self.set_http_request_header(&c.header_name, Some(&value));
        }
    }
}

fn audit(route: usize, provider: &str, verdict: &str, code: &str, v: Option<&Verified>) {
    let c = v.map(|v| v.claims());
    // Debug formatting quotes and escapes the values: a claim cannot forge a log line.
    info!(
        "tokengate decision route={route} provider={provider:?} verdict={verdict} code={code} iss={:?} sub={:?} jti={:?}",
        c.and_then(|c| c.issuer()),
        c.and_then(|c| c.subject()),
        c.and_then(|c| c.jwt_id()),
    );
}

fn keys_for(shared: &Shared, i: usize, now: i64) -> Option<Rc<JwkSet>> {
    shared.keys(i, u64::try_from(now).unwrap_or(0))
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let now = self.now();
        let method = self.get_http_request_header(":method").unwrap_or_default();
        let path = self.get_http_request_header(":path").unwrap_or_default();
        let shared = Rc::clone(&self.shared);
        let mut guard = shared.borrow_mut();
        let s = &mut *guard;

        // Headers this filter sets are never taken from the client.
        for p in &s.config.providers {
            for c in &p.claim_to_headers {
                self.set_http_request_header(&c.header_name, None);
            }
            if let Some(h) = &p.forward_payload_header {
                self.set_http_request_header(h, None);
            }
        }
        if s.config.bypass_cors_preflight
            && method == "OPTIONS"
            && self.get_http_request_header("origin").is_some()
            && self
                .get_http_request_header("access-control-request-method")
                .is_some()
        {
            return Action::Continue;
        }
        let Some(route) = s
            .config
            .rules
            .iter()
            .position(|r| r.matches(&method, &path))
        else {
            return Action::Continue;
        };
        let rule = &s.config.rules[route];
        if rule.providers.is_empty() {
            return Action::Continue;
        }

        // requires_any: the first provider whose token verifies wins; otherwise the most
        // useful error (a token that failed beats no token at all). requires_all: every
        // provider must find and verify its own token.
        let providers = rule.providers.clone();
        let require_all = rule.require_all;
        let mut failure = Error::Missing;
        let mut verified = Vec::new();
        let mut tried = String::from("-");
        let mut presented_cert = None;
        for pi in providers.iter().copied() {
            tried = s.config.providers[pi].name.clone();
            match self.attempt(s, pi, &path, now, &mut presented_cert) {
                None if require_all => {
                    failure = Error::Missing;
                    break;
                }
                None => {}
                Some(Ok(ok)) => {
                    verified.push((pi, ok));
                    if !require_all {
                        break;
                    }
                }
                Some(Err(e)) => {
                    failure = e;
                    if require_all {
                        break;
                    }
                }
            }
        }
        let authenticated = if require_all {
            verified.len() == providers.len()
        } else {
            !verified.is_empty()
        };
        let rule = &s.config.rules[route];
        let outcome = if authenticated {
            verified
                .iter()
                .try_for_each(|(_, (v, _))| rule.requirement.check(v.claims()))
        } else {
            Err(failure)
        };
        let first = verified.first().map(|(_, (v, _))| v.as_ref());
        match outcome {
            Ok(()) => {
                for (pi, (v, at)) in &verified {
                    let p = &s.config.providers[*pi];
                    self.forward_claims(p, v);
                    if !p.forward {
                        self.remove_token(at, &path);
                    }
                }
                s.metrics.inc("allowed");
                audit(route, &tried, "allow", "-", first);
                Action::Continue
            }
            Err(e) => {
                let code = e.code();
                let tolerated =
                    rule.allow_missing_or_failed || (e == Error::Missing && rule.allow_missing);
                if tolerated {
                    s.metrics.inc("allowed");
                    audit(route, &tried, "allow_unauthenticated", code, None);
                    return Action::Continue;
                }
                if s.config.mode == Mode::Report {
                    s.metrics.inc(&format!("would_deny.{code}"));
                    audit(route, &tried, "would_deny", code, first);
                    return Action::Continue;
                }
                s.metrics.inc(&format!("denied.{code}"));
                audit(route, &tried, "deny", code, first);
                let d = respond::denial(&s.config.realm, &e);
                self.send_http_response(
                    d.status,
                    vec![
                        ("www-authenticate", d.www_authenticate.as_str()),
                        ("content-type", "application/json"),
                    ],
                    Some(d.body.as_bytes()),
                );
                Action::Pause
            }
        }
    }
}
