//! The HTTP gate: one request's decision from a [`GateConfig`], for every host. It refuses a
//! path that is not in normal form, picks the first matching rule, finds each provider's token
//! (headers, cookies, query parameters), verifies through the host's keys and cache, applies
//! the rule, and says what to send or what to change in the forwarded request. The host only
//! reads the request, supplies keys and the clock, and carries out the [`Decision`].
//!
//! The steps are separate so a host can read little for requests no rule protects:
//! [`Gate::spoofed_headers`] (needs every header name, when the gate owns headers),
//! [`Gate::route`] (needs `:path`, and `:method` only when a rule names methods), then
//! [`Gate::check`] (every header).

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde_json::Value;

use crate::gate::binding::check_certificate_binding;
use crate::gate::cache::TokenCache;
use crate::gate::config::{
    folds_to, ArrayEncoding, GateConfig, GateConfigError, GateProvider, GateRule, Mode,
};
use crate::gate::credential::{
    from_cookies, from_header_value, from_query, without_cookie, without_query_param, Presented,
};
use crate::gate::decision::{decide, Attempt, Requires, Verdict};
use crate::gate::denial::{denial, is_grpc, DenialStyle};
use crate::gate::denylist::Denylist;
use crate::gate::issuer_index::IssuerIndex;
use crate::gate::outcome::{Audit, AuditVerdict, Decision, HeaderEdit};
use crate::gate::request_path::{check_normal_form, path_of};
use crate::jose::b64::encode as base64url_encode;
use crate::jose::claims::lookup_path;
use crate::jose::error::Error;
use crate::jose::jwks::JwkSet;
use crate::jose::verify::{HostCheck, HostVerdict, Verified, Verifier};

/// What the gate needs from its host while it checks a request: the clock, each provider's
/// current keys and denylist, the verified-token cache, and the client certificate.
pub trait GateHost {
    /// Now, in Unix seconds. Read only when a token is checked.
    fn now(&mut self) -> i64;
    /// Provider `provider`'s keys at `now` (see [`GateProvider::keys_at`]); `None`: none
    /// usable (`ERR_JWKS_UNAVAILABLE`).
    fn keys(&mut self, provider: usize, now: u64) -> Option<Rc<JwkSet>>;
    /// Provider `provider`'s denylist at `now`: `Ok(None)` when there is none to check (see
    /// [`GateProvider::denylist_at`]).
    fn denylist(&mut self, provider: usize, now: u64) -> Result<Option<Rc<Denylist>>, Error>;
    /// The verified-token cache.
    fn cache(&mut self) -> &mut TokenCache;
    /// A token named a key provider `provider`'s set lacks: the host may fetch it again early
    /// (within its cooldown).
    fn unknown_key(&mut self, provider: usize);
    /// SHA-256 of the client's TLS certificate (mutual TLS), for certificate-bound tokens
    /// (RFC 8705); `None` without one. Asked only for tokens with a `cnf` claim.
    fn client_certificate_sha256(&mut self) -> Option<[u8; 32]>;
    /// Whether this host checks signatures itself ([`GateHost::signature`]); default `false`:
    /// the module's own backend checks them, without the split's copies.
    fn checks_signatures(&self) -> bool {
        false
    }
    /// The host's verdict on the signature of a token for provider `provider` under the
    /// check's current candidate key of `keys` (see [`Verifier::host_check`]): the npm gate
    /// answers from WebCrypto. Asked again for the next candidate while it answers
    /// [`HostVerdict::Invalid`].
    /// Everything else (the claims, the policy, the denylist, the cache) stays the gate's.
    /// [`HostVerdict::Unchecked`] leaves the signature to the module's backend.
    fn signature(&mut self, provider: usize, keys: &Rc<JwkSet>, check: &HostCheck) -> HostVerdict {
        let _ = (provider, keys, check);
        HostVerdict::Unchecked
    }
}

/// Which rule a request falls under.
#[derive(Debug, Clone, PartialEq)]
pub enum Routing {
    /// The path is not in normal form: refuse it ([`Gate::refuse`]) before any rule is read.
    Refuse(Error),
    /// No rule asks for a token: forward it as it is.
    Pass,
    /// Rule `n` asks for a token: [`Gate::check`] it.
    Protected(usize),
}

/// A validated gate configuration, ready to decide requests.
#[derive(Debug)]
pub struct Gate {
    config: GateConfig,
}

/// Where a provider's credential was found, so `forward: false` can remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Header(String),
    Cookie(String),
    Param(String),
}

/// What one token location slot holds.
type Lookup<'r> = (Presented<'r>, Vec<Location>);

/// A request's headers, names lowercase (as HTTP/2 and Envoy keep them), values as bytes.
struct Headers<'a>(&'a [(Vec<u8>, Vec<u8>)]);

impl<'a> Headers<'a> {
    fn values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    fn first(&self, name: &str) -> Option<&'a [u8]> {
        self.values(name).next()
    }

    /// A header only compared against text: absent unless present and UTF-8.
    fn text(&self, name: &str) -> Option<&'a str> {
        self.first(name).and_then(|v| core::str::from_utf8(v).ok())
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

/// A verification's bookkeeping across the providers of one request.
struct Tally {
    presented_cert: Option<Option<[u8; 32]>>,
    hits: u32,
    misses: u32,
}

impl Gate {
    /// A gate over a validated configuration.
    pub fn new(config: GateConfig) -> Gate {
        Gate { config }
    }

    /// Parses and validates a configuration (JSON) into a gate.
    pub fn from_json(bytes: &[u8]) -> Result<Gate, GateConfigError> {
        GateConfig::from_json(bytes).map(Gate::new)
    }

    /// The configuration.
    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// The client's headers that the gate itself sets (claim, payload and verdict headers),
    /// in any spelling an upstream might fold to one (`x_user`, `X-User`): the host removes
    /// them from every request, protected or not, before anything else. Each name once.
    pub fn spoofed_headers<'h>(&self, headers: &'h [(Vec<u8>, Vec<u8>)]) -> Vec<&'h [u8]> {
        let mut found: Vec<&[u8]> = Vec::new();
        if self.config.owned_headers.is_empty() {
            return found;
        }
        for (name, _) in headers {
            if self.config.owned_headers.iter().any(|o| folds_to(name, o))
                && !found.contains(&name.as_slice())
            {
                found.push(name);
            }
        }
        found
    }

    /// The rule a request falls under, from its target (`:path`, query included) and its
    /// method, asked for only when a path-matching rule names methods.
    pub fn route(&self, target: &[u8], mut method: impl FnMut() -> String) -> Routing {
        if !self.config.allow_unnormalized_paths {
            if let Err(e) = check_normal_form(target) {
                return Routing::Refuse(e);
            }
        }
        let path = String::from_utf8_lossy(path_of(target));
        let mut asked: Option<String> = None;
        let found = self.config.rules.iter().position(|r| {
            r.matches_path(&path)
                && (r.methods.is_empty() || r.matches_method(asked.get_or_insert_with(&mut method)))
        });
        match found {
            Some(n) if !self.config.rules[n].providers.is_empty() => Routing::Protected(n),
            _ => Routing::Pass,
        }
    }

    /// The whole decision, for a host that has every header at once (a worker, Node): the
    /// client's spoofed copies of the gate's headers removed ([`Gate::spoofed_headers`]), then
    /// [`Gate::route`], then [`Gate::refuse`] or [`Gate::check`]. `headers` hold `:method`
    /// and `:path`. A host that reads `:path` first (Envoy) calls the steps itself.
    pub fn decide(&self, headers: &[(Vec<u8>, Vec<u8>)], host: &mut dyn GateHost) -> Decision {
        let req = Headers(headers);
        let mut edits: Vec<HeaderEdit> = self
            .spoofed_headers(headers)
            .into_iter()
            .map(|name| HeaderEdit::Remove {
                name: String::from_utf8_lossy(name).into_owned(),
            })
            .collect();
        let target = req.first(":path").unwrap_or(b"/");
        let method = req.text(":method").unwrap_or("");
        let mut d = match self.route(target, || method.to_string()) {
            Routing::Pass => Decision::pass(),
            Routing::Refuse(e) => self.refuse(headers, &e),
            Routing::Protected(r) => self.check(r, headers, host),
        };
        edits.append(&mut d.edits);
        d.edits = edits;
        d
    }

    /// The answer to a request refused before rule matching ([`Routing::Refuse`]).
    pub fn refuse(&self, headers: &[(Vec<u8>, Vec<u8>)], e: &Error) -> Decision {
        let grpc = is_grpc(Headers(headers).first("content-type"));
        self.denied(grpc, None, "-", e, None)
    }

    /// Decides a request that rule `route` protects, from all its headers (`:method`,
    /// `:path` included). Never panics, whatever the bytes; a route index out of range is
    /// refused as a request with no token would be.
    pub fn check(
        &self,
        route: usize,
        headers: &[(Vec<u8>, Vec<u8>)],
        host: &mut dyn GateHost,
    ) -> Decision {
        let req = Headers(headers);
        let grpc = is_grpc(req.first("content-type"));
        let Some(rule) = self.config.rules.get(route) else {
            return self.denied(grpc, None, "-", &Error::Missing, None);
        };
        if rule.providers.is_empty() {
            return Decision::pass();
        }
        // A CORS preflight carries no credentials; only a route that asks for them can refuse it.
        if self.config.bypass_cors_preflight
            && req.text(":method") == Some("OPTIONS")
            && req.text("origin").is_some()
            && req.text("access-control-request-method").is_some()
        {
            return Decision::pass();
        }
        let now = host.now();
        let target = req.first(":path").unwrap_or(b"/");

        // Every provider of the rule looks at the request before anything is decided.
        // Providers reading the same locations share one lookup (`lookups[slot]`).
        let cookies = req.cookies();
        let lookups: Vec<Lookup> = rule
            .slots
            .iter()
            .map(|&first| find_token(&self.config.providers[first], &req, &cookies, target))
            .collect();
        let mut tally = Tally {
            presented_cert: None,
            hits: 0,
            misses: 0,
        };
        let attempts = match &rule.issuer_index {
            Some(index) => self.try_by_issuer(host, rule, index, &lookups, now, &mut tally),
            None => self.try_each(host, rule, &lookups, now, &mut tally),
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
            .map_or("-", |(pi, _, _)| self.config.providers[*pi].name.as_str());
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
        let mut decision = match verdict {
            Verdict::Allow(verified) => {
                let mut d = Decision::pass();
                // Claims of every verified token go upstream; a token stays only where a
                // provider that verified it forwards it. Credentials of providers that did
                // not verify (skipped, or failed under requires_any) never ride along as if
                // checked, unless their provider forwards tokens as sent.
                let kept: Vec<&Location> = verified
                    .iter()
                    .filter(|&&i| self.config.providers[attempts[i].0].forward)
                    .flat_map(|&i| lookups[attempts[i].2].1.iter())
                    .collect();
                for &i in &verified {
                    if let (pi, Attempt::Verified(v), _) = &attempts[i] {
                        forward_claims(&self.config.providers[*pi], v, &mut d);
                    }
                }
                strip_tokens(rule, &lookups, &kept, &cookies, target, &mut d.edits);
                d.verified = verified.first().and_then(|&i| match &attempts[i].1 {
                    Attempt::Verified(v) => Some(Arc::clone(v)),
                    _ => None,
                });
                self.allowed(&mut d, route, tried, AuditVerdict::Allow, "-");
                d
            }
            Verdict::AllowUnauthenticated(e) => {
                // Nothing verified: a credential the client sent along is not passed on as if
                // it had been checked (for providers that strip theirs).
                let mut d = Decision::pass();
                strip_tokens(rule, &lookups, &[], &cookies, target, &mut d.edits);
                self.allowed(
                    &mut d,
                    route,
                    tried,
                    AuditVerdict::AllowUnauthenticated,
                    e.code(),
                );
                d
            }
            Verdict::Deny(e) => {
                let first = attempts.iter().find_map(|(_, a, _)| match a {
                    Attempt::Verified(v) => Some(Arc::clone(v)),
                    _ => None,
                });
                self.denied(grpc, Some(route), tried, &e, first)
            }
        };
        decision.cache_hits = tally.hits;
        decision.cache_misses = tally.misses;
        decision
    }

    fn allowed(
        &self,
        d: &mut Decision,
        route: usize,
        provider: &str,
        verdict: AuditVerdict,
        code: &'static str,
    ) {
        let audit = Audit {
            route: Some(route),
            provider: provider.to_string(),
            verdict,
            code,
        };
        self.tell_upstream(&audit, &mut d.edits);
        d.audit = Some(audit);
    }

    /// The configured verdict header, for the upstream (report-mode shadow testing).
    fn tell_upstream(&self, audit: &Audit, edits: &mut Vec<HeaderEdit>) {
        if let (Some(h), Some(value)) = (&self.config.verdict_header, audit.verdict_header_value())
        {
            edits.push(HeaderEdit::Set {
                name: h.clone(),
                value: value.into_bytes(),
            });
        }
    }

    /// A refusal, or in report mode the request passed with the verdict it would have had.
    fn denied(
        &self,
        grpc: bool,
        route: Option<usize>,
        provider: &str,
        e: &Error,
        first: Option<Arc<Verified>>,
    ) -> Decision {
        let code = e.code();
        let verdict = if self.config.mode == Mode::Report {
            AuditVerdict::WouldDeny
        } else if e.is_unavailable() {
            // An outage is counted apart from denials: it is no verdict on the token.
            AuditVerdict::Unavailable
        } else {
            AuditVerdict::Deny
        };
        let audit = Audit {
            route,
            provider: provider.to_string(),
            verdict,
            code,
        };
        let mut d = Decision {
            verified: first,
            ..Decision::pass()
        };
        if verdict == AuditVerdict::WouldDeny {
            self.tell_upstream(&audit, &mut d.edits);
        } else {
            d.response = Some(denial(
                e,
                &DenialStyle {
                    realm: &self.config.realm,
                    hide_details: self.config.hide_failure_details,
                    grpc,
                },
            ));
        }
        d.audit = Some(audit);
        d
    }

    /// Verifies provider `pi`'s token with the host's keys, denylist and cache.
    fn verify(
        &self,
        host: &mut dyn GateHost,
        pi: usize,
        token: &str,
        now: i64,
        tally: &mut Tally,
    ) -> Result<Arc<Verified>, Error> {
        let unix = u64::try_from(now).unwrap_or(0);
        let p = &self.config.providers[pi];
        let result = match (host.keys(pi, unix), host.denylist(pi, unix)) {
            (None, _) => Err(Error::KeysUnavailable),
            (Some(_), Err(e)) => Err(e),
            (Some(keys), Ok(denylist)) => {
                let mut v = Verifier::new(&p.policy);
                if let Some(d) = &denylist {
                    v = v.with_denylist(d);
                }
                let hits = host.cache().hits();
                let result = if host.checks_signatures() {
                    v.verify_cached_by(token, &keys, now, host, pi)
                } else {
                    v.verify_cached(token, &keys, now, host.cache())
                };
                if host.cache().hits() > hits {
                    tally.hits += 1;
                } else {
                    tally.misses += 1;
                }
                result
            }
        };
        if result == Err(Error::NoMatchingKey) {
            host.unknown_key(pi);
        }
        // RFC 8705: a certificate-bound token needs the connection's client certificate; a
        // DPoP-bound one (cnf.jkt) is refused. The certificate is asked for only for `cnf`.
        result.and_then(|v| {
            if !v.claims().contains("cnf") {
                return Ok(v);
            }
            let cert = *tally
                .presented_cert
                .get_or_insert_with(|| host.client_certificate_sha256());
            check_certificate_binding(v.claims(), cert.as_ref()).map(|()| v)
        })
    }

    /// Each provider of the rule, in order, with its slot's credential: absent, unusable, or
    /// a token it verifies (under `requires_any`, only until one verified).
    fn try_each(
        &self,
        host: &mut dyn GateHost,
        rule: &GateRule,
        lookups: &[Lookup],
        now: i64,
        tally: &mut Tally,
    ) -> Vec<(usize, Attempt, usize)> {
        let mut attempts = Vec::with_capacity(rule.providers.len());
        let mut any_verified = false;
        for (&pi, &slot) in rule.providers.iter().zip(&rule.slot_of) {
            let attempt = match &lookups[slot].0 {
                Presented::Absent => Attempt::Absent,
                Presented::Invalid(e) => Attempt::Unusable(e.clone()),
                Presented::Token(_) if any_verified && !rule.require_all => Attempt::Skipped,
                Presented::Token(t) => match self.verify(host, pi, t, now, tally) {
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
        host: &mut dyn GateHost,
        rule: &GateRule,
        index: &IssuerIndex,
        lookups: &[Lookup],
        now: i64,
        tally: &mut Tally,
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
                                .filter(|&p| rule.slot_of.get(p) == Some(&slot))
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
            match self.verify(host, pi, t, now, tally) {
                Ok(v) => {
                    attempts.push((pi, Attempt::Verified(v), slot));
                    break;
                }
                Err(e) => attempts.push((pi, Attempt::Failed(e), slot)),
            }
        }
        attempts
    }
}

/// Everything provider `p` finds in the request: one token, nothing, or a credential that is
/// present but unusable (malformed, repeated, or in two places). Also every location where
/// something was presented, for removal.
fn find_token<'r>(
    p: &GateProvider,
    req: &Headers<'r>,
    cookies: &'r [u8],
    target: &'r [u8],
) -> Lookup<'r> {
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

/// Removes the credentials found in the slots whose providers strip theirs (`forward: false`)
/// from the forwarded request, except at the locations in `kept`: headers, and every named
/// cookie and query parameter in one rewrite each (so one removal never undoes another).
/// `cookies` is the request's joined `Cookie` value.
fn strip_tokens(
    rule: &GateRule,
    lookups: &[Lookup],
    kept: &[&Location],
    cookies: &[u8],
    target: &[u8],
    edits: &mut Vec<HeaderEdit>,
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
                let edit = HeaderEdit::Remove { name: h.clone() };
                if !edits.contains(&edit) {
                    edits.push(edit);
                }
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
        Some(rest) if rest.is_empty() => edits.push(HeaderEdit::Remove {
            name: "cookie".into(),
        }),
        Some(rest) => edits.push(HeaderEdit::Set {
            name: "cookie".into(),
            value: rest,
        }),
        None => {}
    }
    if let Some(p) = path {
        edits.push(HeaderEdit::Set {
            name: ":path".into(),
            value: p,
        });
    }
}

/// The provider's claim and payload headers for a verified token.
fn forward_claims(p: &GateProvider, v: &Verified, d: &mut Decision) {
    if let Some(h) = &p.forward_payload_header {
        d.edits.push(HeaderEdit::Set {
            name: h.clone(),
            value: base64url_encode(v.claims().json().as_bytes()).into_bytes(),
        });
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
            d.unforwarded_claims.push(c.claim_name.clone());
            continue;
        }
        d.edits.push(HeaderEdit::Set {
            name: c.header_name.clone(),
            value: value.into_bytes(),
        });
    }
}
