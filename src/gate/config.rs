//! The gate configuration: one JSON document for every host (the Envoy filter's
//! `configuration`, the npm package's `createGate`), validated once into an immutable
//! [`GateConfig`]. Field names follow Envoy's `jwt_authn` where the meaning is the same.
//! Unknown fields are refused, and every error names the field.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::gate::authz::Requirement;
use crate::gate::denylist::Denylist;
use crate::gate::issuer_index::IssuerIndex;
use crate::gate::route::PathMatch;
use crate::jose::error::ConfigError;
use crate::jose::json::ParseFailure;
use crate::jose::jwks::JwkSet;
use crate::jose::policy::{Policy, PolicyConfig};

/// The configuration as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    providers: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    rules: Vec<RuleConfig>,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    bypass_cors_preflight: bool,
    #[serde(default)]
    cache_capacity: Option<usize>,
    #[serde(default)]
    realm: Option<String>,
    /// FAIL-OPEN: match rules against paths that are not in normal form (`..`, `//`, `%2F`,
    /// `;`, ...) instead of refusing them with 400. Only for an Envoy that normalizes paths
    /// itself and an upstream that reads them the same way.
    #[serde(default)]
    allow_unnormalized_paths: bool,
    /// A request header that tells the upstream what the filter decided for a request that
    /// matched a rule (`allow`, `allow_unauthenticated <code>`, `would_deny <code>`), so a team
    /// can shadow-test in report mode before enforcing. Stripped from client input.
    #[serde(default)]
    verdict_header: Option<String>,
    /// Keep why a token failed out of responses (no `error_description`, no body `code`); the
    /// audit log and metrics keep it.
    #[serde(default)]
    hide_failure_details: bool,
}

/// `enforce` denies; `report` only logs and counts what it would deny (fail-open by name).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Deny what fails.
    #[default]
    Enforce,
    /// FAIL-OPEN: let everything through, logging and counting what would be denied.
    Report,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderConfig {
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    issuers: Option<Vec<String>>,
    #[serde(default)]
    audiences: Option<Vec<String>>,
    #[serde(default)]
    algorithms: Vec<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    clock_skew_seconds: Option<u64>,
    #[serde(default)]
    max_lifetime_seconds: Option<u64>,
    #[serde(default)]
    require_expiration: Option<bool>,
    #[serde(default)]
    max_token_bytes: Option<usize>,
    #[serde(default)]
    max_header_bytes: Option<usize>,
    #[serde(default)]
    from_headers: Vec<HeaderSource>,
    #[serde(default)]
    from_cookies: Vec<String>,
    #[serde(default)]
    from_params: Vec<String>,
    /// Keep the token in the request to the upstream (default: strip it, as jwt_authn does).
    #[serde(default)]
    forward: bool,
    #[serde(default)]
    forward_payload_header: Option<String>,
    #[serde(default)]
    claim_to_headers: Vec<ClaimHeader>,
    #[serde(default)]
    local_jwks: Option<Value>,
    #[serde(default)]
    remote_jwks: Option<Remote>,
    /// OIDC discovery: fetch the issuer's metadata (`/.well-known/openid-configuration` by
    /// default) and the JWKS its `jwks_uri` names, over this cluster.
    #[serde(default)]
    discovery: Option<Remote>,
    /// A revocation denylist (the core's JSON format), polled like the JWKS.
    #[serde(default)]
    denylist: Option<Remote>,
    /// FAIL-OPEN: before the first denylist arrives, skip the revocation check instead of
    /// refusing every token.
    #[serde(default)]
    denylist_fail_open_until_loaded: bool,
}

/// A header a provider reads its token from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSource {
    /// The header name (lowercase once validated).
    pub name: String,
    /// What precedes the token in the value (`Bearer `, compared case-insensitively); none:
    /// the whole value is the token.
    #[serde(default)]
    pub value_prefix: Option<String>,
}

/// How a claim that is an array becomes a header value.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayEncoding {
    /// `a,b,c`
    #[default]
    Comma,
    /// `["a","b","c"]`
    Json,
}

/// A verified claim forwarded to the upstream as a request header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimHeader {
    /// The request header set for the upstream (lowercase once validated).
    pub header_name: String,
    /// The claim, or a dotted path into nested objects (`realm.roles`).
    pub claim_name: String,
    /// How an array claim is written.
    #[serde(default)]
    pub arrays: ArrayEncoding,
}

/// The documents a provider fetches, each bounded by the same size on every host (the Envoy
/// filter and the npm gate refuse a larger body unread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteDocument {
    /// A JWK Set (`remote_jwks`, or the `jwks_uri` that discovery names).
    Jwks,
    /// OpenID Connect discovery metadata (`discovery`).
    Discovery,
    /// A denylist (`denylist`).
    Denylist,
}

impl RemoteDocument {
    /// The stable name used in logs and metric labels: `jwks`, `discovery`, `denylist`.
    pub const fn name(self) -> &'static str {
        match self {
            RemoteDocument::Jwks => "jwks",
            RemoteDocument::Discovery => "discovery",
            RemoteDocument::Denylist => "denylist",
        }
    }

    /// The largest body accepted for this document, in bytes.
    pub const fn max_bytes(self) -> usize {
        match self {
            // `MAX_KEYS` RSA-8192 keys fit in well under this.
            RemoteDocument::Jwks => 1 << 20,
            RemoteDocument::Discovery => 256 << 10,
            // Up to `denylist::MAX_ENTRIES` short ids.
            RemoteDocument::Denylist => 32 << 20,
        }
    }
}

/// A document fetched over an Envoy cluster and refreshed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remote {
    /// The Envoy cluster to call; the npm gate maps it to a base URL (`clusters` option).
    pub cluster: String,
    /// The `:authority` of the request (the npm gate's default base URL is `https://` + it).
    pub authority: String,
    /// The absolute path of the document.
    #[serde(default)]
    pub path: String,
    /// How often the document is fetched again.
    #[serde(default = "default_refresh")]
    pub refresh_seconds: u64,
    /// How long one fetch may take.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// A token naming a `kid` the set lacks makes at most one early fetch per this period,
    /// counted from the last attempt.
    #[serde(default = "default_cooldown")]
    pub unknown_kid_cooldown_seconds: u64,
    /// How long the last good keys keep serving after fetches start failing.
    #[serde(default = "default_max_stale")]
    pub max_stale_seconds: u64,
}

fn default_refresh() -> u64 {
    300
}
fn default_timeout() -> u64 {
    5000
}
fn default_cooldown() -> u64 {
    30
}
fn default_max_stale() -> u64 {
    3600
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleConfig {
    #[serde(rename = "match")]
    matcher: MatchConfig,
    #[serde(default)]
    requires: Option<RequiresConfig>,
    #[serde(default)]
    scopes_all: Vec<String>,
    #[serde(default)]
    scopes_any: Vec<String>,
    #[serde(default)]
    claims: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchConfig {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    path: Option<String>,
    /// Must match the whole path (query string excluded).
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    methods: Vec<String>,
    /// Whether path and method compare case-sensitively. Default: `false` for a rule that
    /// requires a token (so `/Admin` cannot slip past `/admin`), `true` for one that does not
    /// (so `/PUBLIC` is not waved through as `/public`). Either way a miss falls to a later
    /// rule, never to less protection than the author wrote.
    #[serde(default)]
    case_sensitive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequiresConfig {
    #[serde(default)]
    provider_name: Option<String>,
    #[serde(default)]
    requires_any: Vec<String>,
    /// Every one of these providers must find and verify its own token.
    #[serde(default)]
    requires_all: Vec<String>,
    /// Requests without a token pass; a token that is present must verify.
    #[serde(default)]
    allow_missing: bool,
    /// FAIL-OPEN: requests pass whether or not a token is present or valid; a valid one still
    /// sets the claim headers.
    #[serde(default)]
    allow_missing_or_failed: bool,
}

impl Remote {
    /// Whether a document fetched at `fetched_at` may still serve at `now` (Unix seconds):
    /// until `refresh_seconds + max_stale_seconds` after it was fetched, so a day of failed
    /// fetches never keeps serving a day-old document.
    pub fn serves(&self, fetched_at: u64, now: u64) -> bool {
        now <= fetched_at
            .saturating_add(self.refresh_seconds)
            .saturating_add(self.max_stale_seconds)
    }
}

/// A validated provider: who issues the tokens, how they are checked, where they are found
/// and what is forwarded.
#[derive(Debug)]
pub struct GateProvider {
    /// The provider's name in the configuration.
    pub name: String,
    /// The token policy (algorithms, issuers, audiences, lifetimes, limits).
    pub policy: Policy,
    /// Headers the token is read from (default: `Authorization: Bearer`).
    pub from_headers: Vec<HeaderSource>,
    /// Cookies the token is read from.
    pub from_cookies: Vec<String>,
    /// Query parameters the token is read from.
    pub from_params: Vec<String>,
    /// Keep the token in the request to the upstream (default: strip it).
    pub forward: bool,
    /// A header that carries the verified payload (base64url JSON) to the upstream.
    pub forward_payload_header: Option<String>,
    /// Claims forwarded as headers.
    pub claim_to_headers: Vec<ClaimHeader>,
    /// Inline keys: the keys, or the bootstrap until a remote set was adopted.
    pub local_jwks: Option<Rc<JwkSet>>,
    /// A JWKS fetched and refreshed.
    pub remote_jwks: Option<Remote>,
    /// OIDC discovery: the issuer's metadata (`/.well-known/openid-configuration` by
    /// default), whose `jwks_uri` names the key set.
    pub discovery: Option<Remote>,
    /// A revocation denylist (the core's JSON format), fetched like the JWKS.
    pub denylist: Option<Remote>,
    /// FAIL-OPEN: before the first denylist arrives, skip the revocation check instead of
    /// refusing every token.
    pub denylist_fail_open_until_loaded: bool,
}

impl GateProvider {
    /// Whether both read the token from the same places (then one lookup serves both).
    pub(crate) fn same_locations(&self, other: &GateProvider) -> bool {
        self.from_headers == other.from_headers
            && self.from_cookies == other.from_cookies
            && self.from_params == other.from_params
    }

    /// The keys this provider verifies with at `now`, given the remote set last adopted and
    /// when it was fetched (`fetched`):
    /// - fetched keys while they serve ([`Remote::serves`]);
    /// - before any remote set was adopted, the inline `local_jwks` as bootstrap;
    /// - once remote keys were adopted and went stale, none: the bootstrap keys never come
    ///   back (a key the IdP removed must stay removed), so requests fail closed with
    ///   `ERR_JWKS_UNAVAILABLE` until a fetch succeeds.
    ///
    /// `remote` is where the set comes from now (`None` for a discovery provider whose
    /// metadata no longer names it: fail closed).
    pub fn keys_at(
        &self,
        fetched: Option<(&Rc<JwkSet>, u64)>,
        remote: Option<&Remote>,
        now: u64,
    ) -> Option<Rc<JwkSet>> {
        match (fetched, remote) {
            (Some((keys, at)), Some(r)) => r.serves(at, now).then(|| Rc::clone(keys)),
            (Some(_), None) => None,
            (None, _) => self.local_jwks.clone(),
        }
    }

    /// Where the key set is, from this provider's OIDC discovery metadata (OpenID Connect
    /// Discovery 1.0): the metadata's `issuer` must equal the provider's one issuer (section
    /// 4.3), and its `jwks_uri` must be an http(s) URL, whose authority and path are then
    /// fetched over the discovery cluster with the discovery's timings. Refused metadata names
    /// no key set: the provider keeps its last one until it goes stale, then fails closed.
    pub fn discovered_jwks(&self, metadata: &str) -> Result<Remote, ConfigError> {
        let refuse = |reason| ConfigError::Discovery { reason };
        let discovery = self
            .discovery
            .as_ref()
            .ok_or(refuse("the provider has no discovery configured"))?;
        // Strict JSON, as every other document: two `issuer` or `jwks_uri` members are refused,
        // not settled by whichever comes last.
        if metadata.len() > RemoteDocument::Discovery.max_bytes() {
            return Err(refuse("larger than the discovery document limit"));
        }
        let meta = crate::jose::json::parse_value(metadata.as_bytes(), 16, 4096)
            .map_err(|_| refuse("not a JSON document without duplicate members"))?;
        let issuer = meta.get("issuer").and_then(Value::as_str);
        if issuer.is_none() || self.policy.issuers().first().map(String::as_str) != issuer {
            return Err(refuse("\"issuer\" is not the provider's issuer"));
        }
        let uri = meta
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or(refuse("no \"jwks_uri\""))?;
        let rest = uri
            .strip_prefix("https://")
            .or_else(|| uri.strip_prefix("http://"))
            .ok_or(refuse("\"jwks_uri\" is not an http(s) URL"))?;
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) if rest.as_bytes()[at] == b'/' => (&rest[..at], &rest[at..]),
            Some(_) => return Err(refuse("\"jwks_uri\" has a query or fragment but no path")),
            None => (rest, "/"),
        };
        let valid_authority = !authority.is_empty()
            && !authority.contains('@')
            && authority.bytes().all(|b| b.is_ascii_graphic());
        let valid_path = !path.contains('#') && path.bytes().all(|b| b.is_ascii_graphic());
        if !valid_authority || !valid_path {
            return Err(refuse("\"jwks_uri\" has an invalid authority or path"));
        }
        Ok(Remote {
            authority: authority.to_string(),
            path: path.to_string(),
            ..discovery.clone()
        })
    }

    /// The denylist this provider checks at `now`, given the one last adopted and when it was
    /// fetched (`fetched`): `Ok(None)` when there is nothing to check (no denylist configured,
    /// or `denylist_fail_open_until_loaded` before the first load); the list while it serves
    /// ([`Remote::serves`]); `Err(ERR_DENYLIST_UNAVAILABLE)` when a configured list is missing
    /// or stale, never the fail-open once it went stale.
    pub fn denylist_at(
        &self,
        fetched: Option<(&Rc<Denylist>, u64)>,
        now: u64,
    ) -> Result<Option<Rc<Denylist>>, crate::Error> {
        let Some(remote) = &self.denylist else {
            return Ok(None);
        };
        match fetched {
            Some((list, at)) if remote.serves(at, now) => Ok(Some(Rc::clone(list))),
            Some(_) => Err(crate::Error::DenylistUnavailable),
            None if self.denylist_fail_open_until_loaded => Ok(None),
            None => Err(crate::Error::DenylistUnavailable),
        }
    }
}

/// A validated rule.
#[derive(Debug)]
pub struct GateRule {
    /// Which paths it applies to.
    pub path: PathMatch,
    /// Which methods (uppercase; empty: any).
    pub methods: Vec<String>,
    /// Whether path and method compare case-sensitively.
    pub case_sensitive: bool,
    /// Indexes into [`GateConfig::providers`]; empty: no token required.
    pub providers: Vec<usize>,
    /// All of `providers` must verify (else any one).
    pub require_all: bool,
    /// Requests without a token pass; a token that is present must verify.
    pub allow_missing: bool,
    /// FAIL-OPEN: requests pass whether or not a token is present or valid.
    pub allow_missing_or_failed: bool,
    /// Scopes and claim conditions a verified token must meet.
    pub requirement: Requirement,
    /// For `requires_any` over several providers: who a token can be for, by its `iss`.
    pub issuer_index: Option<IssuerIndex>,
    /// The distinct token locations the rule's providers read, each as the index (into
    /// [`GateConfig::providers`]) of the rule's first provider that reads them: one lookup
    /// per slot per request.
    pub slots: Vec<usize>,
    /// Per position in `providers`: its slot.
    pub slot_of: Vec<usize>,
    /// Per slot: how many of the rule's providers read it.
    pub slot_sizes: Vec<usize>,
    /// Per slot: whether a provider reading it strips its credential (`forward: false`).
    pub slot_strips: Vec<bool>,
}

/// The validated gate configuration, immutable once built.
#[derive(Debug)]
pub struct GateConfig {
    /// The providers, in name order.
    pub providers: Vec<GateProvider>,
    /// The rules, in order: the first that matches decides.
    pub rules: Vec<GateRule>,
    /// Enforce, or only report.
    pub mode: Mode,
    /// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) passes
    /// without a token.
    pub bypass_cors_preflight: bool,
    /// How many verified tokens a host's cache keeps.
    pub cache_capacity: usize,
    /// The `realm` of the `WWW-Authenticate` challenge.
    pub realm: String,
    /// FAIL-OPEN: match rules against paths that are not in normal form.
    pub allow_unnormalized_paths: bool,
    /// The header that tells the upstream the verdict (lowercase), if any.
    pub verdict_header: Option<String>,
    /// Keep why a token failed out of responses.
    pub hide_failure_details: bool,
    /// Every request header the gate sets (claim headers, payload headers, the verdict
    /// header), lowercase with `_` folded to `-`: a client's header whose name folds to one of
    /// these is removed.
    pub owned_headers: Vec<String>,
    /// A host should read every request header at once rather than `:path` first: when the
    /// gate owns headers (it must see every name to strip spoofed spellings), or when a rule
    /// that requires a token catches every path (most requests will need them all anyway).
    pub read_all_headers: bool,
}

/// One byte of a header name as upstreams that fold `_` and `-` (CGI, many frameworks) and
/// case read it.
fn fold(b: u8) -> u8 {
    match b {
        b'_' => b'-',
        b => b.to_ascii_lowercase(),
    }
}

/// A header name folded (`X_User` -> `x-user`).
fn folded_header_name(name: &str) -> String {
    name.bytes().map(|b| char::from(fold(b))).collect()
}

/// Whether a client's header `name` folds to `folded` (an already folded name): compared in
/// place, with no copy, since it runs for every header of every request.
pub fn folds_to(name: &[u8], folded: &str) -> bool {
    name.len() == folded.len() && name.iter().zip(folded.bytes()).all(|(&a, b)| fold(a) == b)
}

/// A gate configuration that cannot be used, naming the field. Code `ERR_GATE_CONFIG`.
/// Separate from token errors: it is raised once, when a configuration is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfigError {
    /// The offending field (`providers.<name>.audiences`, `rules[2].match`, ...).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl GateConfigError {
    /// The stable code string.
    pub fn code(&self) -> &'static str {
        "ERR_GATE_CONFIG"
    }
}

impl fmt::Display for GateConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GateConfigError {}

fn err(field: &str, reason: impl fmt::Display) -> GateConfigError {
    GateConfigError {
        field: field.to_owned(),
        reason: reason.to_string(),
    }
}

impl GateConfig {
    /// Parses and validates a gate configuration (JSON).
    pub fn from_json(bytes: &[u8]) -> Result<GateConfig, GateConfigError> {
        // Strict first, as every document: a member given twice (two `mode`s, two rules for a
        // provider) is refused rather than settled by whichever serde keeps.
        crate::jose::json::validate(bytes, 32, 65_536).map_err(|f| match f {
            ParseFailure::Problem(p) => err("configuration", p.as_str()),
            ParseFailure::Syntax { line, column } => err(
                "configuration",
                format_args!("invalid JSON at line {line} column {column}"),
            ),
        })?;
        let raw: RawConfig = serde_json::from_slice(bytes).map_err(|e| err("configuration", e))?;
        if raw.providers.is_empty() {
            return Err(err("providers", "at least one provider is required"));
        }
        let mut providers = Vec::new();
        for (name, p) in raw.providers {
            providers.push(provider(&name, p)?);
        }
        let mut rules = Vec::new();
        for (i, r) in raw.rules.into_iter().enumerate() {
            rules.push(rule(i, r, &providers)?);
        }
        let realm = raw.realm.unwrap_or_else(|| "tokengate".to_string());
        if realm.contains('"') || realm.contains('\\') {
            return Err(err("realm", "must not contain quotes or backslashes"));
        }
        let verdict_header = match raw.verdict_header {
            Some(h)
                if h.is_empty()
                    || h.starts_with(':')
                    || h.eq_ignore_ascii_case("authorization") =>
            {
                return Err(err(
                    "verdict_header",
                    "a header name is required (not a pseudo-header or authorization)",
                ))
            }
            h => h.map(|h| h.to_ascii_lowercase()),
        };
        let mut owned_headers = Vec::new();
        for p in &providers {
            let set = p
                .claim_to_headers
                .iter()
                .map(|c| &c.header_name)
                .chain(&p.forward_payload_header)
                .chain(&verdict_header);
            for name in set {
                let folded = folded_header_name(name);
                if !owned_headers.contains(&folded) {
                    owned_headers.push(folded);
                }
            }
        }
        let read_all_headers = !owned_headers.is_empty()
            || rules.iter().any(|r| {
                !r.providers.is_empty()
                    && r.methods.is_empty()
                    && matches!(&r.path, PathMatch::Prefix(p) if p.is_empty() || p == "/")
            });
        Ok(GateConfig {
            read_all_headers,
            providers,
            rules,
            mode: raw.mode,
            bypass_cors_preflight: raw.bypass_cors_preflight,
            cache_capacity: raw.cache_capacity.unwrap_or(1024),
            realm,
            allow_unnormalized_paths: raw.allow_unnormalized_paths,
            verdict_header,
            hide_failure_details: raw.hide_failure_details,
            owned_headers,
        })
    }
}

fn provider(name: &str, p: ProviderConfig) -> Result<GateProvider, GateConfigError> {
    let field = |f: &str| format!("providers.{name}.{f}");
    // `issuer` adds to `issuers`; an empty `issuers` is refused even next to an `issuer`.
    if p.issuers.as_ref().is_some_and(Vec::is_empty) {
        return Err(err(
            &field("issuers"),
            "is empty: an empty list never means \"any\"; leave the field out to skip the check",
        ));
    }
    let issuers = match (p.issuers, p.issuer) {
        (None, None) => None,
        (list, one) => Some(list.unwrap_or_default().into_iter().chain(one).collect()),
    };
    let policy = PolicyConfig {
        algorithms: p.algorithms,
        issuers,
        audiences: p.audiences,
        typ: p.typ,
        clock_skew_seconds: p.clock_skew_seconds,
        require_expiration: p.require_expiration,
        max_lifetime_seconds: p.max_lifetime_seconds,
        max_token_bytes: p.max_token_bytes,
        max_header_bytes: p.max_header_bytes,
        ..PolicyConfig::default()
    }
    .validate()
    .map_err(|e| err(&field("policy"), e))?;
    let local_jwks = match &p.local_jwks {
        None => None,
        Some(Value::String(s)) => {
            Some(JwkSet::from_json(s).map_err(|e| err(&field("local_jwks"), e))?)
        }
        Some(v) => Some(JwkSet::from_value(v).map_err(|e| err(&field("local_jwks"), e))?),
    };
    if local_jwks.is_none() && p.remote_jwks.is_none() && p.discovery.is_none() {
        return Err(err(
            &field("local_jwks"),
            "a provider needs local_jwks, remote_jwks or discovery",
        ));
    }
    if p.remote_jwks.is_some() && p.discovery.is_some() {
        return Err(err(
            &field("discovery"),
            "use remote_jwks or discovery, not both",
        ));
    }
    let mut discovery = p.discovery;
    if let Some(d) = &mut discovery {
        if d.path.is_empty() {
            d.path = "/.well-known/openid-configuration".into();
        }
        if policy.issuers().len() != 1 {
            return Err(err(
                &field("discovery"),
                "discovery needs exactly one issuer to check the metadata against",
            ));
        }
    }
    for (name, r) in [
        ("remote_jwks", &p.remote_jwks),
        ("discovery", &discovery),
        ("denylist", &p.denylist),
    ] {
        if let Some(r) = r {
            if r.cluster.is_empty() || r.authority.is_empty() || !r.path.starts_with('/') {
                return Err(err(
                    &field(name),
                    "cluster, authority and an absolute path are required",
                ));
            }
            if r.refresh_seconds == 0 || r.timeout_ms == 0 {
                return Err(err(
                    &field(name),
                    "refresh_seconds and timeout_ms must be positive",
                ));
            }
        }
    }
    let mut from_headers = p.from_headers;
    if from_headers.is_empty() && p.from_cookies.is_empty() && p.from_params.is_empty() {
        from_headers.push(HeaderSource {
            name: "authorization".into(),
            value_prefix: Some("Bearer ".into()),
        });
    }
    for h in &mut from_headers {
        h.name = h.name.to_ascii_lowercase();
        if h.name.is_empty() || h.name.starts_with(':') {
            return Err(err(
                &field("from_headers"),
                "a header name is required (pseudo-headers cannot carry tokens)",
            ));
        }
    }
    for c in p.from_cookies.iter().chain(&p.from_params) {
        if c.is_empty() {
            return Err(err(
                &field("from_cookies/from_params"),
                "names must not be empty",
            ));
        }
    }
    let mut claim_to_headers = p.claim_to_headers;
    for c in &mut claim_to_headers {
        if c.header_name.is_empty() || c.claim_name.is_empty() {
            return Err(err(
                &field("claim_to_headers"),
                "header_name and claim_name are required",
            ));
        }
        c.header_name = c.header_name.to_ascii_lowercase();
        if c.header_name.starts_with(':') || c.header_name == "authorization" {
            return Err(err(
                &field("claim_to_headers"),
                "cannot set a pseudo-header or authorization",
            ));
        }
    }
    Ok(GateProvider {
        name: name.to_string(),
        policy,
        from_headers,
        from_cookies: p.from_cookies,
        from_params: p.from_params,
        forward: p.forward,
        forward_payload_header: p.forward_payload_header.map(|h| h.to_ascii_lowercase()),
        claim_to_headers,
        local_jwks: local_jwks.map(Rc::new),
        remote_jwks: p.remote_jwks,
        discovery,
        denylist: p.denylist,
        denylist_fail_open_until_loaded: p.denylist_fail_open_until_loaded,
    })
}

fn rule(i: usize, r: RuleConfig, providers: &[GateProvider]) -> Result<GateRule, GateConfigError> {
    let field = |f: &str| format!("rules[{i}].{f}");
    let protects = r.requires.is_some();
    let case_sensitive = r.matcher.case_sensitive.unwrap_or(!protects);
    let fold = |p: String| {
        if case_sensitive {
            p
        } else {
            p.to_ascii_lowercase()
        }
    };
    let path = match (r.matcher.prefix, r.matcher.path, r.matcher.regex) {
        (Some(p), None, None) => PathMatch::Prefix(fold(p)),
        (None, Some(p), None) => PathMatch::Exact(fold(p)),
        (None, None, Some(re)) => {
            PathMatch::regex(&re, case_sensitive).map_err(|e| err(&field("match.regex"), e))?
        }
        _ => return Err(err(&field("match"), "exactly one of prefix, path or regex")),
    };
    let index = |name: &str| {
        providers
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| err(&field("requires"), format!("unknown provider {name:?}")))
    };
    let (providers_idx, require_all, allow_missing, allow_missing_or_failed) = match r.requires {
        None => (Vec::new(), false, false, false),
        Some(q) => {
            let (names, all) = match (
                q.provider_name,
                q.requires_any.is_empty(),
                q.requires_all.is_empty(),
            ) {
                (Some(n), true, true) => (vec![n], false),
                (None, false, true) => (q.requires_any, false),
                (None, true, false) => (q.requires_all, true),
                _ => {
                    return Err(err(
                        &field("requires"),
                        "exactly one of provider_name, requires_any or requires_all",
                    ))
                }
            };
            let idx = names
                .iter()
                .map(|n| index(n))
                .collect::<Result<Vec<_>, _>>()?;
            (idx, all, q.allow_missing, q.allow_missing_or_failed)
        }
    };
    let requirement = Requirement::from_value(serde_json::json!({
        "scopes_all": r.scopes_all, "scopes_any": r.scopes_any, "claims": r.claims
    }))
    .map_err(|e| err(&field("scopes/claims"), e))?;
    if providers_idx.is_empty() && !requirement.is_empty() {
        return Err(err(
            &field("requires"),
            "scopes and claim conditions need a provider",
        ));
    }
    let issuer_index = (!require_all && providers_idx.len() > 1)
        .then(|| IssuerIndex::new(providers_idx.iter().map(|&pi| &providers[pi].policy)));
    let (mut slots, mut slot_of, mut slot_sizes, mut slot_strips) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &pi in &providers_idx {
        let slot = slots
            .iter()
            .position(|&first: &usize| providers[first].same_locations(&providers[pi]))
            .unwrap_or_else(|| {
                slots.push(pi);
                slot_sizes.push(0);
                slot_strips.push(false);
                slots.len() - 1
            });
        slot_of.push(slot);
        slot_sizes[slot] += 1;
        slot_strips[slot] |= !providers[pi].forward;
    }
    Ok(GateRule {
        issuer_index,
        slots,
        slot_of,
        slot_sizes,
        slot_strips,
        path,
        case_sensitive,
        methods: r
            .matcher
            .methods
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect(),
        providers: providers_idx,
        require_all,
        allow_missing,
        allow_missing_or_failed,
        requirement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"providers":{"p":{"algorithms":["ES256"],
        "local_jwks":{"keys":[{"kty":"EC","crv":"P-256",
        "x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}]}}},
        "rules":[{"match":{"regex":"/a/[0-9]+"},"requires":{"provider_name":"p"}}]}"#;

    /// The discovery rule: the metadata must be the provider's issuer's and name an http(s)
    /// `jwks_uri` with a plain authority; the key set is then fetched over the discovery
    /// cluster with the discovery's timings.
    #[test]
    fn discovery_metadata_names_the_key_set_only_for_the_providers_issuer() {
        let json = r#"{"providers":{"o":{"issuer":"https://idp.example","algorithms":["ES256"],
            "discovery":{"cluster":"idp","authority":"idp.example","refresh_seconds":60,"timeout_ms":900}},
            "k":{"issuer":"https://idp.example","algorithms":["ES256"],
            "remote_jwks":{"cluster":"idp","authority":"idp.example","path":"/jwks"}}},
            "rules":[{"match":{"prefix":"/"},"requires":{"provider_name":"o"}}]}"#;
        let c = GateConfig::from_json(json.as_bytes()).unwrap();
        let by_name = |n: &str| c.providers.iter().find(|p| p.name == n).unwrap();
        let o = by_name("o");
        let meta = |issuer: &str, uri: &str| {
            format!(r#"{{"issuer":"{issuer}","jwks_uri":"{uri}","token_endpoint":"x"}}"#)
        };
        let good = o
            .discovered_jwks(&meta(
                "https://idp.example",
                "https://keys.idp.example:8443/oauth/jwks?v=2",
            ))
            .unwrap();
        assert_eq!(good.cluster, "idp");
        assert_eq!(good.authority, "keys.idp.example:8443");
        assert_eq!(good.path, "/oauth/jwks?v=2");
        assert_eq!((good.refresh_seconds, good.timeout_ms), (60, 900));
        let bare = o
            .discovered_jwks(&meta("https://idp.example", "http://idp.example"))
            .unwrap();
        assert_eq!(
            (bare.authority.as_str(), bare.path.as_str()),
            ("idp.example", "/")
        );
        for bad in [
            meta("https://evil.example", "https://idp.example/jwks"),
            meta("https://idp.example/", "https://idp.example/jwks"),
            meta("https://idp.example", "ftp://idp.example/jwks"),
            meta("https://idp.example", "https://user@evil.example/jwks"),
            meta("https://idp.example", "https:///jwks"),
            meta("https://idp.example", "https://idp.example?x=1"),
            meta("https://idp.example", "https://idp.example/j wks"),
            r#"{"issuer":"https://idp.example"}"#.into(),
            r#"{"jwks_uri":"https://idp.example/jwks"}"#.into(),
            r#"["https://idp.example"]"#.into(),
            "not json".into(),
            // Duplicate members: whichever a lenient parser kept, the document is ambiguous.
            r#"{"issuer":"https://evil.example","issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks"}"#.into(),
            r#"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks","jwks_uri":"https://evil.example/jwks"}"#.into(),
            // Past the size every host reads.
            alloc::format!(
                r#"{{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks","pad":"{}"}}"#,
                "x".repeat(RemoteDocument::Discovery.max_bytes())
            ),
        ] {
            let e = o.discovered_jwks(&bad).unwrap_err();
            assert_eq!(e.code(), "ERR_DISCOVERY_INVALID", "{bad}");
        }
        // A provider without discovery has no metadata to read.
        assert_eq!(
            by_name("k")
                .discovered_jwks(&meta("https://idp.example", "https://idp.example/jwks"))
                .unwrap_err()
                .code(),
            "ERR_DISCOVERY_INVALID"
        );
    }

    #[test]
    fn a_member_given_twice_is_refused_anywhere_in_the_configuration() {
        // serde would keep the last `mode` (or provider) silently; the strict reader refuses.
        for (from, to) in [
            (
                r#""rules":"#,
                r#""mode":"report","mode":"enforce","rules":"#,
            ),
            (
                r#""providers":{"#,
                r#""providers":{"p":{"algorithms":["RS256"]},"#,
            ),
            (
                r#""regex":"/a/[0-9]+""#,
                r#""regex":"/a/[0-9]+","regex":"/.*""#,
            ),
        ] {
            let json = MINIMAL.replacen(from, to, 1);
            assert_ne!(json, MINIMAL, "{from}");
            let e = GateConfig::from_json(json.as_bytes()).unwrap_err();
            assert_eq!(e.reason, "duplicate member name", "{json}");
        }
        let e = GateConfig::from_json(b"{\n\"providers\": }").unwrap_err();
        assert_eq!(e.reason, "invalid JSON at line 2 column 14");
    }

    #[test]
    fn accepts_a_minimal_configuration_with_jwt_authn_defaults() {
        let c = GateConfig::from_json(MINIMAL.as_bytes()).unwrap();
        assert_eq!(c.providers[0].from_headers[0].name, "authorization");
        assert!(c.rules[0].matches("GET", "/a/12"));
        assert!(!c.rules[0].matches("GET", "/a/12/b"));
        assert_eq!(c.realm, "tokengate");
    }

    #[test]
    fn a_rule_looks_up_each_token_location_once_through_its_own_providers() {
        let key = r#""algorithms":["ES256"],"local_jwks":{"keys":[{"kty":"EC","crv":"P-256",
            "x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}]}"#;
        let json = format!(
            r#"{{"providers":{{"a":{{{key},"issuer":"a"}},"b":{{{key},"issuer":"b"}},
            "c":{{{key},"issuer":"c","forward":true,"from_headers":[{{"name":"x-token"}}]}},
            "d":{{{key},"issuer":"d"}}}},
            "rules":[{{"match":{{"prefix":"/"}},"requires":{{"requires_any":["b","c","d"]}}}}]}}"#
        );
        let c = GateConfig::from_json(json.as_bytes()).unwrap();
        let r = &c.rules[0];
        // a, b and d read Authorization; "a" is not in the rule, so the slot is b's.
        assert_eq!(r.slots, [1, 2]);
        assert_eq!(r.slot_of, [0, 1, 0]);
        assert_eq!(r.slot_sizes, [2, 1]);
        assert_eq!(r.slot_strips, [true, false]);
        assert!(r.issuer_index.is_some());
        assert!(
            c.read_all_headers,
            "a token-requiring catch-all rule reads every header at once"
        );
    }

    #[test]
    fn protecting_rules_ignore_case_and_exemptions_do_not() {
        let json = MINIMAL.replace(
            r#""rules":[{"match":{"regex":"/a/[0-9]+"},"requires":{"provider_name":"p"}}]"#,
            r#""rules":[{"match":{"prefix":"/public"}},
                {"match":{"prefix":"/admin","methods":["post"]},"requires":{"provider_name":"p"}},
                {"match":{"regex":"/r/[a-z]+"},"requires":{"provider_name":"p"}},
                {"match":{"path":"/Exact","case_sensitive":true},"requires":{"provider_name":"p"}}]"#,
        );
        let c = GateConfig::from_json(json.as_bytes()).unwrap();
        assert!(c.rules[0].matches("GET", "/public/x"));
        assert!(!c.rules[0].matches("GET", "/PUBLIC/x"));
        assert!(c.rules[1].matches("POST", "/Admin/users"));
        assert!(c.rules[1].matches("post", "/ADMIN"));
        assert!(c.rules[2].matches("GET", "/R/Abc"));
        assert!(!c.rules[3].matches("GET", "/exact"));
        assert!(c.rules[3].matches("GET", "/Exact"));
        assert!(!c.rules[1].matches("POST", "/adm"));
    }

    #[test]
    fn empty_lists_and_owned_headers() {
        for (from, to) in [
            (
                r#""algorithms":["ES256"]"#,
                r#""algorithms":["ES256"],"issuers":[]"#,
            ),
            (
                r#""algorithms":["ES256"]"#,
                r#""algorithms":["ES256"],"audiences":[]"#,
            ),
            (
                r#""algorithms":["ES256"]"#,
                r#""algorithms":["ES256"],"from_headers":[{"name":":path"}]"#,
            ),
        ] {
            let e = GateConfig::from_json(MINIMAL.replace(from, to).as_bytes())
                .err()
                .unwrap();
            assert!(e.field.starts_with("providers.p."), "{}", e.field);
        }
        let with_headers = MINIMAL.replace(
            r#""algorithms":["ES256"]"#,
            r#""algorithms":["ES256"],"issuer":"i","claim_to_headers":[{"header_name":"X_User","claim_name":"sub"}],
               "forward_payload_header":"x-payload","max_header_bytes":4096"#,
        );
        let c = GateConfig::from_json(with_headers.as_bytes()).unwrap();
        assert_eq!(c.owned_headers, ["x-user", "x-payload"]);
        assert_eq!(c.providers[0].policy.issuers(), ["i"]);
        assert_eq!(c.providers[0].policy.limits().max_header_bytes, 4096);
        assert_eq!(folded_header_name("X_uSeR"), "x-user");
        assert!(folds_to(b"X_uSeR", "x-user") && folds_to(b"x-user", "x-user"));
        assert!(!folds_to(b"x-users", "x-user") && !folds_to(b"x.user", "x-user"));
    }

    #[test]
    fn arbitrary_configuration_json_never_panics() {
        use proptest::prelude::*;
        let value = prop_oneof![
            Just(serde_json::json!(null)),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z/*.()0-9]{0,8}".prop_map(serde_json::Value::from),
        ]
        .prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("providers".to_string()),
                        Just("rules".to_string()),
                        Just("match".to_string()),
                        Just("regex".to_string()),
                        Just("algorithms".to_string()),
                        Just("local_jwks".to_string()),
                        Just("requires".to_string()),
                        Just("remote_jwks".to_string()),
                        "[a-z_]{1,8}"
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        });
        proptest!(ProptestConfig::with_cases(3000), |(v in value, bytes in proptest::collection::vec(any::<u8>(), 0..64))| {
            let _ = GateConfig::from_json(v.to_string().as_bytes());
            let _ = GateConfig::from_json(&bytes);
        });
    }
}
