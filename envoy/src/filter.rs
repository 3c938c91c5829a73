//! The HTTP context: one request's decision. Strips headers a client could spoof, refuses a
//! path that is not in normal form, picks the first matching rule, finds each provider's token,
//! asks the core, then sets claim headers or sends the denial. Requests that match no rule
//! pass through, as with jwt_authn.
//!
//! Every header is read as bytes through `host` (never the SDK's panicking UTF-8 getters).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use log::{error, info};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use serde_json::Value;

use tokengate::{
    base64url_encode, check_certificate_binding, check_normal_form, decide, denial, from_cookies,
    from_header_value, from_query, is_grpc, lookup_path, path_of, without_cookie,
    without_query_param, Attempt, DenialStyle, Error, IssuerIndex, Presented, Requires, Verdict,
    Verified, Verifier,
};

use crate::config::{folds_to, ArrayEncoding, Mode, Provider, Rule};
use crate::host;
use crate::state::Shared;

pub struct Filter {
    shared: Rc<RefCell<Shared>>,
}

/// Where a provider's credential was found, so `forward: false` can remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Header(String),
    Cookie(String),
    Param(String),
}

/// The request headers as the client sent them (names lowercase, as Envoy keeps them). Until
/// [`Request::complete`], possibly only `:path` (and `:method` once asked for): all that a
/// request no rule protects needs when the filter owns no header to strip.
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

    /// The method, read on first use when only `:path` was read.
    fn method(&mut self) -> String {
        if !self.complete && self.first(":method").is_none() {
            if let Some(m) = host::header_value(MapType::HttpRequestHeaders, ":method") {
                self.headers.push((b":method".to_vec(), m));
            }
        }
        self.text(":method").unwrap_or("").to_string()
    }

    /// Reads every header, once.
    fn complete(&mut self) {
        if !self.complete {
            *self = Request::read(true);
        }
    }

    fn values<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    fn first(&self, name: &str) -> Option<&[u8]> {
        self.values(name).next()
    }

    /// A header we only compare against text: absent unless present and UTF-8.
    fn text(&self, name: &str) -> Option<&str> {
        self.first(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every `Cookie` header joined (HTTP/2 may split them, RFC 9113 8.2.3).
    fn cookies(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for v in self.values("cookie") {
            if !all.is_empty() {
                all.extend_from_slice(b"; ");
            }
            all.extend_from_slice(v);
        }
        all
    }
}

impl Filter {
    pub fn new(shared: Rc<RefCell<Shared>>) -> Filter {
        Filter { shared }
    }

    fn now(&self) -> i64 {
        proxy_wasm::hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    /// Everything provider `p` finds in the request: one token, nothing, or a credential that
    /// is present but unusable (malformed, repeated, or in two places). Also every location
    /// where something was presented, for removal.
    fn find_token<'r>(
        p: &Provider,
        req: &'r Request,
        cookies: &'r [u8],
        target: &'r [u8],
    ) -> (Presented<'r>, Vec<Location>) {
        let mut found = Presented::Absent;
        let mut at = Vec::new();
        for h in &p.from_headers {
            let mut values = req.values(&h.name);
            let Some(first) = values.next() else {
                continue;
            };
            let here = if values.next().is_some() {
                // The header twice: which one would the upstream read?
                Presented::Invalid(Error::Ambiguous)
            } else {
                from_header_value(first, h.value_prefix.as_deref())
            };
            if here != Presented::Absent {
                at.push(Location::Header(h.name.clone()));
            }
            found = found.combine(here);
        }
        for name in &p.from_cookies {
            let here = from_cookies(cookies, name);
            if here != Presented::Absent {
                at.push(Location::Cookie(name.clone()));
            }
            found = found.combine(here);
        }
        for name in &p.from_params {
            let here = from_query(target, name);
            if here != Presented::Absent {
                at.push(Location::Param(name.clone()));
            }
            found = found.combine(here);
        }
        (found, at)
    }

    /// Verifies provider `pi`'s token.
    fn verify(
        &self,
        s: &mut Shared,
        pi: usize,
        token: &str,
        now: i64,
        presented_cert: &mut Option<Option<[u8; 32]>>,
    ) -> Result<Arc<Verified>, Error> {
        let unix = u64::try_from(now).unwrap_or(0);
        let p = &s.config.providers[pi];
        let hits = s.cache.hits();
        let result = match (s.keys(pi, unix), s.denylist(pi, unix)) {
            (None, _) => Err(Error::KeysUnavailable),
            (Some(_), Err(e)) => Err(e),
            (Some(keys), Ok(denylist)) => {
                let mut v = Verifier::new(&p.policy);
                if let Some(d) = &denylist {
                    v = v.with_denylist(d);
                }
                v.verify_cached(token, &keys, now, &mut s.cache)
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
        // RFC 8705: a certificate-bound token needs the connection's client certificate; a
        // DPoP-bound one (cnf.jkt) is refused. The property is read only for tokens with `cnf`.
        result.and_then(|v| {
            if !v.claims().contains("cnf") {
                return Ok(v);
            }
            let cert = *presented_cert.get_or_insert_with(client_cert_sha256);
            check_certificate_binding(v.claims(), cert.as_ref()).map(|()| v)
        })
    }

    /// Removes the credentials found in the slots whose providers strip theirs (`forward:
    /// false`) from the request to the upstream, except at the locations in `kept`: headers,
    /// and every named cookie and query parameter in one rewrite each (so one removal never
    /// undoes another). `cookies` is the request's joined `Cookie` value.
    fn strip_tokens(
        &self,
        rule: &Rule,
        lookups: &[(Presented, Vec<Location>)],
        kept: &[&Location],
        cookies: &[u8],
        target: &[u8],
    ) {
        let at = lookups
            .iter()
            .zip(&rule.slot_strips)
            .filter(|(_, &strips)| strips)
            .flat_map(|((_, at), _)| at.iter())
            .filter(|l| !kept.contains(l));
        let mut rest: Option<Vec<u8>> = None;
        let mut path: Option<Vec<u8>> = None;
        for l in at {
            match l {
                Location::Header(h) => {
                    host::remove_request_header(h.as_bytes());
                }
                Location::Cookie(name) => {
                    let current = rest.take().unwrap_or_else(|| cookies.to_vec());
                    rest = Some(without_cookie(&current, name).unwrap_or_default());
                }
                Location::Param(name) => {
                    let current = path.take().unwrap_or_else(|| target.to_vec());
                    path = Some(without_query_param(&current, name));
                }
            }
        }
        match rest {
            Some(rest) if rest.is_empty() => {
                host::remove_request_header(b"cookie");
            }
            Some(rest) => {
                host::set_request_header("cookie", &rest);
            }
            None => {}
        }
        if let Some(p) = path {
            host::set_request_header(":path", &p);
        }
    }

    /// Each provider of the rule, in order, with its slot's credential: absent, unusable, or
    /// a token it verifies (under `requires_any`, only until one verified).
    fn try_each(
        &self,
        s: &mut Shared,
        rule: &Rule,
        lookups: &[(Presented, Vec<Location>)],
        now: i64,
        presented_cert: &mut Option<Option<[u8; 32]>>,
    ) -> Vec<(usize, Attempt, usize)> {
        let mut attempts = Vec::with_capacity(rule.providers.len());
        let mut any_verified = false;
        for (&pi, &slot) in rule.providers.iter().zip(&rule.slot_of) {
            let attempt = match &lookups[slot].0 {
                Presented::Absent => Attempt::Absent,
                Presented::Invalid(e) => Attempt::Unusable(e.clone()),
                Presented::Token(_) if any_verified && !rule.require_all => Attempt::Skipped,
                Presented::Token(t) => match self.verify(s, pi, t, now, presented_cert) {
                    Ok(v) => {
                        any_verified = true;
                        Attempt::Verified(v)
                    }
                    Err(e) => Attempt::Failed(e),
                },
            };
            attempts.push((pi, attempt, slot));
        }
        attempts
    }

    /// `requires_any` over several providers: each token is tried only by the providers of
    /// the issuer it names, in the rule's order, until one verifies; the others count as one
    /// [`Attempt::NotForIssuer`] per slot. The cost does not grow with the number of providers.
    fn try_by_issuer(
        &self,
        s: &mut Shared,
        rule: &Rule,
        index: &IssuerIndex,
        lookups: &[(Presented, Vec<Location>)],
        now: i64,
        presented_cert: &mut Option<Option<[u8; 32]>>,
    ) -> Vec<(usize, Attempt, usize)> {
        let mut attempts = Vec::new();
        let mut order: Vec<(usize, usize)> = Vec::new();
        for (slot, (found, _)) in lookups.iter().enumerate() {
            let first = rule.slots[slot];
            match found {
                Presented::Absent => {}
                Presented::Invalid(e) => attempts.push((first, Attempt::Unusable(e.clone()), slot)),
                Presented::Token(t) => match index.candidates(t.as_bytes()) {
                    Err(e) => attempts.push((first, Attempt::Failed(e), slot)),
                    Ok(c) => {
                        let before = order.len();
                        order.extend(
                            c.positions()
                                .filter(|&p| rule.slot_of[p] == slot)
                                .map(|p| (p, slot)),
                        );
                        if order.len() - before < rule.slot_sizes[slot] {
                            attempts.push((first, Attempt::NotForIssuer(c.refusal()), slot));
                        }
                    }
                },
            }
        }
        order.sort_unstable();
        for (position, slot) in order {
            let pi = rule.providers[position];
            let Presented::Token(t) = &lookups[slot].0 else {
                continue;
            };
            match self.verify(s, pi, t, now, presented_cert) {
                Ok(v) => {
                    attempts.push((pi, Attempt::Verified(v), slot));
                    break;
                }
                Err(e) => attempts.push((pi, Attempt::Failed(e), slot)),
            }
        }
        attempts
    }

    fn forward_claims(&self, p: &Provider, v: &Verified) {
        if let Some(h) = &p.forward_payload_header {
            host::set_request_header(h, base64url_encode(v.claims().json().as_bytes()).as_bytes());
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
            host::set_request_header(&c.header_name, value.as_bytes());
        }
    }

    /// Removes every client header the filter owns, in any spelling an upstream might fold
    /// to it (`x_user`, `X-User`).
    fn strip_owned_headers(&self, s: &Shared, req: &Request) {
        if s.config.owned_headers.is_empty() {
            return;
        }
        let mut removed: Vec<&[u8]> = Vec::new();
        for (name, _) in &req.headers {
            if s.config.owned_headers.iter().any(|o| folds_to(name, o))
                && !removed.contains(&name.as_slice())
            {
                host::remove_request_header(name);
                removed.push(name);
            }
        }
    }

    fn deny(
        &self,
        s: &mut Shared,
        grpc: bool,
        route: Option<usize>,
        tried: &str,
        e: &Error,
        first: Option<&Verified>,
    ) -> Action {
        let code = e.code();
        if s.config.mode == Mode::Report {
            s.metrics.inc(&format!("would_deny.{code}"));
            audit(route, tried, "would_deny", code, first);
            tell_upstream(s, &format!("would_deny {code}"));
            return Action::Continue;
        }
        // An outage is counted apart from denials: it is no verdict on the token.
        let (verdict, metric) = if e.is_unavailable() {
            ("unavailable", "unavailable")
        } else {
            ("deny", "denied")
        };
        s.metrics.inc(&format!("{metric}.{code}"));
        audit(route, tried, verdict, code, first);
        let d = denial(
            e,
            &DenialStyle {
                realm: &s.config.realm,
                hide_details: s.config.hide_failure_details,
                grpc,
            },
        );
        let retry_after = d.retry_after.map(|r| r.to_string());
        let mut headers = vec![("cache-control", "no-store")];
        if let Some(ct) = d.content_type {
            headers.push(("content-type", ct));
        }
        if let Some(challenge) = &d.www_authenticate {
            headers.push(("www-authenticate", challenge));
        }
        if let Some(r) = &retry_after {
            headers.push(("retry-after", r));
        }
        if !host::send_response(
            u32::from(d.status),
            &headers,
            d.body.as_bytes(),
            d.grpc_status,
        ) {
            error!("tokengate: the host refused the local response; the request stays paused");
        }
        Action::Pause
    }
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

/// The configured verdict header, for the upstream (report-mode shadow testing).
fn tell_upstream(s: &Shared, verdict: &str) {
    if let Some(h) = &s.config.verdict_header {
        host::set_request_header(h, verdict.as_bytes());
    }
}

fn audit(route: Option<usize>, provider: &str, verdict: &str, code: &str, v: Option<&Verified>) {
    let c = v.map(|v| v.claims());
    let route = route.map_or_else(|| "-".to_string(), |r| r.to_string());
    // Debug formatting quotes and escapes the values: a claim cannot forge a log line.
    info!(
        "tokengate decision route={route} provider={provider:?} verdict={verdict} code={code} iss={:?} sub={:?} jti={:?}",
        c.and_then(|c| c.issuer()),
        c.and_then(|c| c.subject()),
        c.and_then(|c| c.jwt_id()),
    );
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let shared = Rc::clone(&self.shared);
        let mut guard = shared.borrow_mut();
        let s = &mut *guard;
        // Every header at once when the filter owns some (to strip a client's spelling of them)
        // or most requests will need them; else `:path` first, the rest once a rule needs a
        // token (each host call that returns data costs a call back into the module).
        let mut req = Request::read(s.config.read_all_headers);

        // Headers this filter sets are never taken from the client, in any spelling.
        self.strip_owned_headers(s, &req);

        let target = req.first(":path").unwrap_or(b"/").to_vec();
        if !s.config.allow_unnormalized_paths {
            if let Err(e) = check_normal_form(&target) {
                req.complete();
                let grpc = is_grpc(req.first("content-type"));
                return self.deny(s, grpc, None, "-", &e, None);
            }
        }
        let path = String::from_utf8_lossy(path_of(&target)).into_owned();
        let config = Rc::clone(&s.config);
        let mut method: Option<String> = None;
        let Some(route) = config.rules.iter().position(|r| {
            r.matches_path(&path)
                && (r.methods.is_empty()
                    || r.matches_method(method.get_or_insert_with(|| req.method())))
        }) else {
            return Action::Continue;
        };
        let rule = &config.rules[route];
        if rule.providers.is_empty() {
            return Action::Continue;
        }
        req.complete();
        let req = req;
        // A CORS preflight carries no credentials; only a route that asks for them can refuse it.
        if s.config.bypass_cors_preflight
            && req.text(":method") == Some("OPTIONS")
            && req.text("origin").is_some()
            && req.text("access-control-request-method").is_some()
        {
            return Action::Continue;
        }
        let now = self.now();
        let grpc = is_grpc(req.first("content-type"));

        // Every provider of the rule looks at the request before anything is decided.
        // Providers reading the same locations share one lookup (`lookups[slot]`).
        let cookies = req.cookies();
        let lookups: Vec<(Presented, Vec<Location>)> = rule
            .slots
            .iter()
            .map(|&first| Self::find_token(&config.providers[first], &req, &cookies, &target))
            .collect();
        let mut presented_cert = None;
        let attempts = match &rule.issuer_index {
            Some(index) => self.try_by_issuer(s, rule, index, &lookups, now, &mut presented_cert),
            None => self.try_each(s, rule, &lookups, now, &mut presented_cert),
        };
        let tried = attempts
            .iter()
            .find(|(_, a, _)| {
                !matches!(
                    a,
                    Attempt::Absent | Attempt::Skipped | Attempt::NotForIssuer(_)
                )
            })
            .or(attempts.first())
            .map_or("-", |(pi, _, _)| config.providers[*pi].name.as_str());
        let requires = Requires {
            all: rule.require_all,
            allow_missing: rule.allow_missing,
            allow_missing_or_failed: rule.allow_missing_or_failed,
            requirement: &rule.requirement,
        };
        let verdict = decide(
            &requires,
            attempts
                .iter()
                .map(|(_, a, _)| a)
                .collect::<Vec<_>>()
                .as_slice(),
        );
        match verdict {
            Verdict::Allow(verified) => {
                // Claims of every verified token go upstream; a token stays only where a
                // provider that verified it forwards it. Credentials of providers that did
                // not verify (skipped, or failed under requires_any) never ride along as if
                // checked, unless their provider forwards tokens as sent.
                let kept: Vec<&Location> = verified
                    .iter()
                    .filter(|&&i| s.config.providers[attempts[i].0].forward)
                    .flat_map(|&i| lookups[attempts[i].2].1.iter())
                    .collect();
                for &i in &verified {
                    if let (pi, Attempt::Verified(v), _) = &attempts[i] {
                        self.forward_claims(&s.config.providers[*pi], v);
                    }
                }
                self.strip_tokens(rule, &lookups, &kept, &cookies, &target);
                let first = verified.first().and_then(|&i| match &attempts[i].1 {
                    Attempt::Verified(v) => Some(v.as_ref()),
                    _ => None,
                });
                s.metrics.inc("allowed");
                audit(Some(route), tried, "allow", "-", first);
                tell_upstream(s, "allow");
                Action::Continue
            }
            Verdict::AllowUnauthenticated(e) => {
                // Nothing verified: a credential the client sent along is not passed on as if
                // it had been checked (for providers that strip theirs).
                self.strip_tokens(rule, &lookups, &[], &cookies, &target);
                s.metrics.inc("allowed");
                audit(Some(route), tried, "allow_unauthenticated", e.code(), None);
                tell_upstream(s, &format!("allow_unauthenticated {}", e.code()));
                Action::Continue
            }
            Verdict::Deny(e) => {
                let first = attempts.iter().find_map(|(_, a, _)| match a {
                    Attempt::Verified(v) => Some(Arc::clone(v)),
                    _ => None,
                });
                self.deny(s, grpc, Some(route), tried, &e, first.as_deref())
            }
        }
    }
}
