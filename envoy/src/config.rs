//! The plugin configuration (JSON, in the filter's `configuration`), validated once in
//! `on_configure`. Field names follow Envoy's `jwt_authn` where the meaning is the same.
//! Unknown fields are refused, and every error names the field.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use tokengate::{IssuerIndex, JwkSet, Policy, PolicyConfig, Requirement};

/// The configuration as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    pub providers: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub bypass_cors_preflight: bool,
    #[serde(default)]
    pub cache_capacity: Option<usize>,
    #[serde(default)]
    pub realm: Option<String>,
    /// FAIL-OPEN: match rules against paths that are not in normal form (`..`, `//`, `%2F`,
    /// `;`, ...) instead of refusing them with 400. Only for an Envoy that normalizes paths
    /// itself and an upstream that reads them the same way.
    #[serde(default)]
    pub allow_unnormalized_paths: bool,
    /// A request header that tells the upstream what the filter decided for a request that
    /// matched a rule (`allow`, `allow_unauthenticated <code>`, `would_deny <code>`), so a team
    /// can shadow-test in report mode before enforcing. Stripped from client input.
    #[serde(default)]
    pub verdict_header: Option<String>,
    /// Keep why a token failed out of responses (no `error_description`, no body `code`); the
    /// audit log and metrics keep it.
    #[serde(default)]
    pub hide_failure_details: bool,
}

/// `enforce` denies; `report` only logs and counts what it would deny (fail-open by name).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Enforce,
    Report,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub issuers: Option<Vec<String>>,
    #[serde(default)]
    pub audiences: Option<Vec<String>>,
    #[serde(default)]
    pub algorithms: Vec<String>,
    #[serde(default)]
    pub typ: Option<String>,
    #[serde(default)]
    pub clock_skew_seconds: Option<u64>,
    #[serde(default)]
    pub max_lifetime_seconds: Option<u64>,
    #[serde(default)]
    pub require_expiration: Option<bool>,
    #[serde(default)]
    pub max_token_bytes: Option<usize>,
    #[serde(default)]
    pub max_header_bytes: Option<usize>,
    #[serde(default)]
    pub from_headers: Vec<HeaderSource>,
    #[serde(default)]
    pub from_cookies: Vec<String>,
    #[serde(default)]
    pub from_params: Vec<String>,
    /// Keep the token in the request to the upstream (default: strip it, as jwt_authn does).
    #[serde(default)]
    pub forward: bool,
    #[serde(default)]
    pub forward_payload_header: Option<String>,
    #[serde(default)]
    pub claim_to_headers: Vec<ClaimHeader>,
    #[serde(default)]
    pub local_jwks: Option<Value>,
    #[serde(default)]
    pub remote_jwks: Option<Remote>,
    /// OIDC discovery: fetch the issuer's metadata (`/.well-known/openid-configuration` by
    /// default) and the JWKS its `jwks_uri` names, over this cluster.
    #[serde(default)]
    pub discovery: Option<Remote>,
    /// A revocation denylist (the core's JSON format), polled like the JWKS.
    #[serde(default)]
    pub denylist: Option<Remote>,
    /// FAIL-OPEN: before the first denylist arrives, skip the revocation check instead of
    /// refusing every token.
    #[serde(default)]
    pub denylist_fail_open_until_loaded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSource {
    pub name: String,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimHeader {
    pub header_name: String,
    pub claim_name: String,
    #[serde(default)]
    pub arrays: ArrayEncoding,
}

/// A document fetched over an Envoy cluster and refreshed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remote {
    pub cluster: String,
    pub authority: String,
    #[serde(default)]
    pub path: String,
    #[serde(default = "default_refresh")]
    pub refresh_seconds: u64,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
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
pub struct RuleConfig {
    #[serde(rename = "match")]
    pub matcher: MatchConfig,
    #[serde(default)]
    pub requires: Option<RequiresConfig>,
    #[serde(default)]
    pub scopes_all: Vec<String>,
    #[serde(default)]
    pub scopes_any: Vec<String>,
    #[serde(default)]
    pub claims: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    /// Must match the whole path (query string excluded).
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    /// Whether path and method compare case-sensitively. Default: `false` for a rule that
    /// requires a token (so `/Admin` cannot slip past `/admin`), `true` for one that does not
    /// (so `/PUBLIC` is not waved through as `/public`). Either way a miss falls to a later
    /// rule, never to less protection than the author wrote.
    #[serde(default)]
    pub case_sensitive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiresConfig {
    #[serde(default)]
    pub provider_name: Option<String>,
    #[serde(default)]
    pub requires_any: Vec<String>,
    /// Every one of these providers must find and verify its own token.
    #[serde(default)]
    pub requires_all: Vec<String>,
    /// Requests without a token pass; a token that is present must verify.
    #[serde(default)]
    pub allow_missing: bool,
    /// FAIL-OPEN: requests pass whether or not a token is present or valid; a valid one still
    /// sets the claim headers.
    #[serde(default)]
    pub allow_missing_or_failed: bool,
}

/// A validated provider.
pub struct Provider {
    pub name: String,
    pub policy: Policy,
    pub from_headers: Vec<HeaderSource>,
    pub from_cookies: Vec<String>,
    pub from_params: Vec<String>,
    pub forward: bool,
    pub forward_payload_header: Option<String>,
    pub claim_to_headers: Vec<ClaimHeader>,
    pub local_jwks: Option<std::rc::Rc<JwkSet>>,
    pub remote_jwks: Option<Remote>,
    pub discovery: Option<Remote>,
    pub denylist: Option<Remote>,
    pub denylist_fail_open_until_loaded: bool,
}

impl Provider {
    /// Whether both read the token from the same places (then one lookup serves both).
    fn same_locations(&self, other: &Provider) -> bool {
        self.from_headers == other.from_headers
            && self.from_cookies == other.from_cookies
            && self.from_params == other.from_params
    }
}

/// How a path is matched.
pub enum PathMatch {
    Prefix(String),
    Exact(String),
    Regex(regex_lite::Regex),
}

/// A validated rule.
pub struct Rule {
    pub path: PathMatch,
    pub methods: Vec<String>,
    pub case_sensitive: bool,
    /// Indexes into `Config::providers`; empty: no token required.
    pub providers: Vec<usize>,
    /// All of `providers` must verify (else any one).
    pub require_all: bool,
    pub allow_missing: bool,
    pub allow_missing_or_failed: bool,
    pub requirement: Requirement,
    /// For `requires_any` over several providers: who a token can be for, by its `iss`.
    pub issuer_index: Option<IssuerIndex>,
    /// The distinct token locations the rule's providers read, each as the index (into
    /// `Config::providers`) of the rule's first provider that reads them: one lookup per slot
    /// per request.
    pub slots: Vec<usize>,
    /// Per position in `providers`: its slot.
    pub slot_of: Vec<usize>,
    /// Per slot: how many of the rule's providers read it.
    pub slot_sizes: Vec<usize>,
    /// Per slot: whether a provider reading it strips its credential (`forward: false`).
    pub slot_strips: Vec<bool>,
}

/// The validated configuration.
pub struct Config {
    pub providers: Vec<Provider>,
    pub rules: Vec<Rule>,
    pub mode: Mode,
    pub bypass_cors_preflight: bool,
    pub cache_capacity: usize,
    pub realm: String,
    pub allow_unnormalized_paths: bool,
    pub verdict_header: Option<String>,
    pub hide_failure_details: bool,
    /// Every request header the filter sets (claim headers, payload headers), lowercase with
    /// `_` folded to `-`: a client's header whose name folds to one of these is removed.
    pub owned_headers: Vec<String>,
    /// Read every request header at once (one host call) instead of `:path` first: when the
    /// filter owns headers (it must see every name to strip spoofed spellings), or when a rule
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

/// A configuration error, naming the field.
#[derive(Debug)]
pub struct ConfigError(pub String);

fn err(field: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{field}: {reason}"))
}

impl Config {
    /// Parses and validates the plugin configuration.
    pub fn from_json(bytes: &[u8]) -> Result<Config, ConfigError> {
        let raw: PluginConfig =
            serde_json::from_slice(bytes).map_err(|e| err("configuration", e))?;
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
        Ok(Config {
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

fn provider(name: &str, p: ProviderConfig) -> Result<Provider, ConfigError> {
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
    Ok(Provider {
        name: name.to_string(),
        policy,
        from_headers,
        from_cookies: p.from_cookies,
        from_params: p.from_params,
        forward: p.forward,
        forward_payload_header: p.forward_payload_header.map(|h| h.to_ascii_lowercase()),
        claim_to_headers,
        local_jwks: local_jwks.map(std::rc::Rc::new),
        remote_jwks: p.remote_jwks,
        discovery,
        denylist: p.denylist,
        denylist_fail_open_until_loaded: p.denylist_fail_open_until_loaded,
    })
}

fn rule(i: usize, r: RuleConfig, providers: &[Provider]) -> Result<Rule, ConfigError> {
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
        (None, None, Some(re)) => PathMatch::Regex(
            regex_lite::Regex::new(&format!(
                "{}^(?:{re})$",
                if case_sensitive { "" } else { "(?i)" }
            ))
            .map_err(|e| err(&field("match.regex"), e))?,
        ),
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
    Ok(Rule {
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

impl Rule {
    /// Whether the rule applies to this request. `path` is the path alone (no query string),
    /// as `tokengate::path_of` gives it.
    #[cfg(test)]
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.matches_path(path) && self.matches_method(method)
    }

    /// Whether the rule's path matches `path` (the path alone, no query string).
    pub fn matches_path(&self, path: &str) -> bool {
        match &self.path {
            PathMatch::Prefix(p) if self.case_sensitive => path.starts_with(p.as_str()),
            PathMatch::Prefix(p) => path
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p)),
            PathMatch::Exact(p) if self.case_sensitive => path == p,
            PathMatch::Exact(p) => path.eq_ignore_ascii_case(p),
            PathMatch::Regex(re) => re.is_match(path),
        }
    }

    /// Whether the rule's methods (none: any) include `method`.
    pub fn matches_method(&self, method: &str) -> bool {
        self.methods.is_empty()
            || self.methods.iter().any(|m| {
                if self.case_sensitive {
                    m == method
                } else {
                    m.eq_ignore_ascii_case(method)
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"providers":{"p":{"algorithms":["ES256"],
        "local_jwks":{"keys":[{"kty":"EC","crv":"P-256",
        "x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}]}}},
        "rules":[{"match":{"regex":"/a/[0-9]+"},"requires":{"provider_name":"p"}}]}"#;

    #[test]
    fn accepts_a_minimal_configuration_with_jwt_authn_defaults() {
        let c = Config::from_json(MINIMAL.as_bytes()).unwrap();
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
        let c = Config::from_json(json.as_bytes()).unwrap();
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
        let c = Config::from_json(json.as_bytes()).unwrap();
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
            let e = Config::from_json(MINIMAL.replace(from, to).as_bytes())
                .err()
                .unwrap();
            assert!(e.0.starts_with("providers.p."), "{}", e.0);
        }
        let with_headers = MINIMAL.replace(
            r#""algorithms":["ES256"]"#,
            r#""algorithms":["ES256"],"issuer":"i","claim_to_headers":[{"header_name":"X_User","claim_name":"sub"}],
               "forward_payload_header":"x-payload","max_header_bytes":4096"#,
        );
        let c = Config::from_json(with_headers.as_bytes()).unwrap();
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
            let _ = Config::from_json(v.to_string().as_bytes());
            let _ = Config::from_json(&bytes);
        });
    }
}
