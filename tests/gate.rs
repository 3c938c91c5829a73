//! The HTTP gate from its configuration (issue 14): one request's decision, as every host
//! carries it out. Routing, token locations, claim headers, stripping, report mode, refusals,
//! key freshness; and arbitrary bytes never panic the gate or let an unverified request through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::cell::Cell;
use std::rc::Rc;

use proptest::prelude::*;
use serde_json::json;
use support::*;
use tokengate::{
    base64url_encode, Algorithm, AuditVerdict, Decision, Denylist, Error, Gate, GateHost,
    HeaderEdit, HostCheck, HostVerdict, JwkSet, Remote, Routing, TokenCache,
};

/// A host with the providers' inline keys only, a clock stuck at [`NOW`].
struct TestHost {
    keys: Vec<Option<Rc<JwkSet>>>,
    cache: TokenCache,
    unknown: Vec<usize>,
}

impl TestHost {
    fn new(gate: &Gate) -> TestHost {
        TestHost {
            keys: gate
                .config()
                .providers
                .iter()
                .map(|p| p.keys_at(None, None, NOW as u64))
                .collect(),
            cache: TokenCache::new(16),
            unknown: Vec::new(),
        }
    }
}

impl GateHost for TestHost {
    fn now(&mut self) -> i64 {
        NOW
    }
    fn keys(&mut self, provider: usize, _now: u64) -> Option<Rc<JwkSet>> {
        self.keys[provider].clone()
    }
    fn denylist(&mut self, _provider: usize, _now: u64) -> Result<Option<Rc<Denylist>>, Error> {
        Ok(None)
    }
    fn cache(&mut self) -> &mut TokenCache {
        &mut self.cache
    }
    fn unknown_key(&mut self, provider: usize) {
        self.unknown.push(provider);
    }
    fn client_certificate_sha256(&mut self) -> Option<[u8; 32]> {
        None
    }
}

fn config(extra: serde_json::Value) -> serde_json::Value {
    let mut c = json!({
        "realm": "orders",
        "verdict_header": "x-verdict",
        "providers": {"idp": {
            "issuer": "https://idp.example", "audiences": ["orders"], "algorithms": ["HS256"],
            "local_jwks": {"keys": [{"kty": "oct", "kid": "hs", "k": base64url_encode(&HS_SECRET)}]},
            "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
            "from_cookies": ["session"], "from_params": ["access_token"],
            "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"},
                                 {"header_name": "x-roles", "claim_name": "realm_access.roles"}]
        }},
        "rules": [
            {"match": {"prefix": "/public"}},
            {"match": {"prefix": "/admin", "methods": ["POST"]}, "requires": {"provider_name": "idp"},
             "scopes_all": ["orders:admin"]},
            {"match": {"prefix": "/optional"}, "requires": {"provider_name": "idp", "allow_missing": true}},
            {"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}
        ]
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

fn gate(extra: serde_json::Value) -> Gate {
    Gate::from_json(config(extra).to_string().as_bytes()).unwrap()
}

fn headers(method: &str, target: &str, rest: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut h = vec![
        (b":method".to_vec(), method.as_bytes().to_vec()),
        (b":path".to_vec(), target.as_bytes().to_vec()),
    ];
    h.extend(
        rest.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())),
    );
    h
}

/// What a host with every header does.
fn run(g: &Gate, req: &[(Vec<u8>, Vec<u8>)]) -> Decision {
    g.decide(req, &mut TestHost::new(g))
}

/// A request with the token as a bearer credential.
fn bearer(g: &Gate, method: &str, target: &str, token: &str) -> Decision {
    run(
        g,
        &headers(
            method,
            target,
            &[("authorization", &format!("Bearer {token}"))],
        ),
    )
}

fn set(d: &Decision, name: &str) -> Option<String> {
    d.edits.iter().rev().find_map(|e| match e {
        HeaderEdit::Set { name: n, value } if n == name => {
            Some(String::from_utf8(value.clone()).unwrap())
        }
        _ => None,
    })
}

fn removes(d: &Decision, name: &str) -> bool {
    d.edits
        .iter()
        .any(|e| matches!(e, HeaderEdit::Remove { name: n } if n == name))
}

#[test]
fn a_verified_token_sets_claim_headers_and_is_stripped() {
    let g = gate(json!({}));
    let token = mint(Algorithm::HS256, claims());
    let d = bearer(&g, "GET", "/orders", &token);
    assert!(d.response.is_none());
    let audit = d.audit.as_ref().unwrap();
    assert_eq!(
        (audit.verdict, audit.code, audit.route),
        (AuditVerdict::Allow, "-", Some(3))
    );
    assert_eq!(audit.metric(), "allowed");
    assert_eq!(set(&d, "x-sub").as_deref(), Some("alice"));
    assert_eq!(set(&d, "x-roles").as_deref(), Some("ops,dev"));
    assert_eq!(set(&d, "x-verdict").as_deref(), Some("allow"));
    assert!(removes(&d, "authorization"));
    assert_eq!(d.verified.unwrap().claims().subject(), Some("alice"));
    assert_eq!((d.cache_hits, d.cache_misses), (0, 1));
}

/// A host that checks signatures itself (as the npm gate does with WebCrypto), answering
/// `verdict` (or, with `valid_key`, valid for that key and invalid for any other) and counting
/// the checks it was asked for.
struct SigningHost {
    inner: TestHost,
    verdict: HostVerdict,
    valid_key: Option<usize>,
    asked: Vec<(usize, usize, Algorithm)>,
}

impl GateHost for SigningHost {
    fn now(&mut self) -> i64 {
        self.inner.now()
    }
    fn keys(&mut self, provider: usize, now: u64) -> Option<Rc<JwkSet>> {
        self.inner.keys(provider, now)
    }
    fn denylist(&mut self, provider: usize, now: u64) -> Result<Option<Rc<Denylist>>, Error> {
        self.inner.denylist(provider, now)
    }
    fn cache(&mut self) -> &mut TokenCache {
        self.inner.cache()
    }
    fn unknown_key(&mut self, provider: usize) {
        self.inner.unknown_key(provider)
    }
    fn client_certificate_sha256(&mut self) -> Option<[u8; 32]> {
        None
    }
    fn checks_signatures(&self) -> bool {
        true
    }
    fn signature(&mut self, provider: usize, keys: &Rc<JwkSet>, check: &HostCheck) -> HostVerdict {
        assert!(check.key_index() < keys.keys().len());
        assert_eq!(
            check.signing_input().iter().filter(|&&b| b == b'.').count(),
            1
        );
        self.asked.push((provider, check.key_index(), check.alg()));
        match self.valid_key {
            Some(k) if k == check.key_index() => HostVerdict::Valid,
            Some(_) => HostVerdict::Invalid,
            None => self.verdict,
        }
    }
}

#[test]
fn a_host_that_checks_signatures_decides_the_signature_and_nothing_else() {
    let g = gate(json!({}));
    let good = mint(Algorithm::HS256, claims());
    let forged = {
        let (head, _) = good.rsplit_once('.').unwrap();
        format!("{head}.{}", base64url_encode(&[7u8; 32]))
    };
    let mut expired_claims = claims();
    expired_claims["exp"] = json!(NOW - 3600);
    let expired = mint(Algorithm::HS256, expired_claims);
    let req = |t: &str| {
        headers(
            "GET",
            "/orders",
            &[("authorization", &format!("Bearer {t}"))],
        )
    };
    let decide = |verdict, token: &str| {
        let mut host = SigningHost {
            inner: TestHost::new(&g),
            verdict,
            valid_key: None,
            asked: Vec::new(),
        };
        let d = g.decide(&req(token), &mut host);
        (d.audit.unwrap().code, host.asked)
    };
    // The host's verdict is the signature's: a forged one it vouches for passes, a good one it
    // refuses does not. It is asked once, for the one key the token names.
    assert_eq!(
        decide(HostVerdict::Valid, &forged),
        ("-", vec![(0, 0, Algorithm::HS256)])
    );
    assert_eq!(
        decide(HostVerdict::Invalid, &good).0,
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    // Everything after the signature stays the gate's.
    assert_eq!(decide(HostVerdict::Valid, &expired).0, "ERR_JWT_EXPIRED");
    // Unchecked: the module's backend, exactly as a host that checks nothing.
    assert_eq!(decide(HostVerdict::Unchecked, &good).0, "-");
    assert_eq!(
        decide(HostVerdict::Unchecked, &forged).0,
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    // A verified token is cached: the next request with it asks the host nothing.
    let mut host = SigningHost {
        inner: TestHost::new(&g),
        verdict: HostVerdict::Valid,
        valid_key: None,
        asked: Vec::new(),
    };
    for _ in 0..2 {
        assert!(g.decide(&req(&good), &mut host).response.is_none());
    }
    assert_eq!(host.asked.len(), 1);
    // Refused before the signature (not a JWS): the host is never asked.
    assert_eq!(decide(HostVerdict::Valid, "a.b").1, vec![]);
}

/// A token without a `kid` and several keys that could verify it: the host is asked key by key,
/// in the set's order, until it finds the signature valid; none valid is a refusal, and a key it
/// cannot check leaves that key and the rest to the module.
#[test]
fn a_host_that_checks_signatures_is_asked_candidate_by_candidate() {
    let oct = |k: &[u8]| json!({"kty": "oct", "k": base64url_encode(k)});
    let g = gate(json!({"providers": {"idp": {
        "issuer": "https://idp.example", "audiences": ["orders"], "algorithms": ["HS256"],
        "local_jwks": {"keys": [oct(&[1; 32]), oct(&HS_SECRET), oct(&[2; 32])]},
        "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}]
    }}}));
    let kidless = sign_raw(
        Algorithm::HS256,
        r#"{"alg":"HS256"}"#,
        claims().to_string().as_bytes(),
    );
    let req = headers(
        "GET",
        "/orders",
        &[("authorization", &format!("Bearer {kidless}"))],
    );
    let decide = |verdict, valid_key| {
        let mut host = SigningHost {
            inner: TestHost::new(&g),
            verdict,
            valid_key,
            asked: Vec::new(),
        };
        let d = g.decide(&req, &mut host);
        let keys: Vec<usize> = host.asked.iter().map(|a| a.1).collect();
        (d.audit.unwrap().code, keys)
    };
    let invalid = HostVerdict::Invalid;
    // Valid under the second key: asked for the first, then the second, never the third.
    assert_eq!(decide(invalid, Some(1)), ("-", vec![0, 1]));
    // Valid under none: every candidate asked, then refused.
    assert_eq!(
        decide(invalid, Some(7)),
        ("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", vec![0, 1, 2])
    );
    // A host that vouches for the first key is believed for that key alone.
    assert_eq!(decide(HostVerdict::Valid, None), ("-", vec![0]));
    // Unchecked at the first key: the module checks it and the rest (the second verifies).
    assert_eq!(decide(HostVerdict::Unchecked, None), ("-", vec![0]));
}

#[test]
fn refusals_carry_the_rfc_6750_challenge_and_never_the_token() {
    let g = gate(json!({}));
    let missing = run(&g, &headers("GET", "/orders", &[]));
    let r = missing.response.unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.www_authenticate.as_deref(),
        Some("Bearer realm=\"orders\"")
    );
    assert_eq!(missing.audit.unwrap().metric(), "denied.ERR_JWT_MISSING");

    let mut expired = claims();
    expired["exp"] = json!(NOW - 3600);
    let token = mint(Algorithm::HS256, expired);
    let d = bearer(&g, "GET", "/orders", &token);
    let r = d.response.unwrap();
    assert_eq!(r.status, 401);
    let challenge = r.www_authenticate.unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("ERR_JWT_EXPIRED"));
    for part in token.split('.') {
        assert!(!r.body.contains(part) && !challenge.contains(part));
    }

    let admin = run(
        &g,
        &headers(
            "post",
            "/Admin/x",
            &[(
                "authorization",
                &format!("Bearer {}", mint(Algorithm::HS256, claims())),
            )],
        ),
    );
    let r = admin.response.unwrap();
    assert_eq!(r.status, 403, "a protecting rule matches in any case");
    assert!(r
        .www_authenticate
        .unwrap()
        .contains("scope=\"orders:admin\""));

    let grpc = run(
        &g,
        &headers("POST", "/svc/Call", &[("content-type", "application/grpc")]),
    );
    assert_eq!(grpc.response.unwrap().grpc_status, Some(16));
}

#[test]
fn cookie_and_query_tokens_are_removed_from_what_is_forwarded() {
    let g = gate(json!({}));
    let token = mint(Algorithm::HS256, claims());
    let d = run(
        &g,
        &headers(
            "GET",
            "/orders",
            &[("cookie", &format!("theme=dark; session={token}; lang=en"))],
        ),
    );
    assert!(d.response.is_none());
    assert_eq!(set(&d, "cookie").as_deref(), Some("theme=dark; lang=en"));

    let d = run(
        &g,
        &headers("GET", &format!("/orders?a=1&access_token={token}&b=2"), &[]),
    );
    assert_eq!(set(&d, ":path").as_deref(), Some("/orders?a=1&b=2"));

    // The same token in two places is ambiguous, not "one of them".
    let d = run(
        &g,
        &headers(
            "GET",
            &format!("/orders?access_token={token}"),
            &[("authorization", &format!("Bearer {token}"))],
        ),
    );
    assert_eq!(d.audit.unwrap().code, "ERR_JWT_AMBIGUOUS");
}

#[test]
fn spoofed_claim_headers_are_found_in_any_spelling() {
    let g = gate(json!({}));
    let req = headers(
        "GET",
        "/public",
        &[
            ("X_Sub", "mallory"),
            ("x-roles", "admin"),
            ("x-verdict", "allow"),
            ("x-other", "1"),
        ],
    );
    let spoofed: Vec<&[u8]> = g.spoofed_headers(&req);
    assert_eq!(spoofed, [&b"X_Sub"[..], b"x-roles", b"x-verdict"]);
    assert_eq!(g.route(b"/public", || unreachable!()), Routing::Pass);
}

#[test]
fn report_mode_passes_what_it_would_deny_and_says_so() {
    let g = gate(json!({"mode": "report"}));
    let d = run(&g, &headers("GET", "/orders", &[]));
    assert!(d.response.is_none());
    let audit = d.audit.as_ref().unwrap();
    assert_eq!(audit.verdict, AuditVerdict::WouldDeny);
    assert_eq!(audit.metric(), "would_deny.ERR_JWT_MISSING");
    assert_eq!(
        set(&d, "x-verdict").as_deref(),
        Some("would_deny ERR_JWT_MISSING")
    );
}

#[test]
fn allow_missing_passes_no_token_but_not_a_bad_one() {
    let g = gate(json!({}));
    let d = run(&g, &headers("GET", "/optional", &[]));
    assert!(d.response.is_none());
    assert_eq!(d.audit.unwrap().verdict, AuditVerdict::AllowUnauthenticated);
    let d = run(
        &g,
        &headers(
            "GET",
            "/optional",
            &[("authorization", "Bearer not-a-token")],
        ),
    );
    assert_eq!(d.response.unwrap().status, 401);
}

#[test]
fn routing_refuses_unnormalized_paths_and_reads_the_method_only_when_a_rule_names_one() {
    let g = gate(json!({}));
    for bad in ["/admin%2Fx", "//admin", "/public/../admin", "/a;b"] {
        assert!(
            matches!(g.route(bad.as_bytes(), || "GET".into()), Routing::Refuse(_)),
            "{bad}"
        );
    }
    let asked = Cell::new(0);
    let method = || {
        asked.set(asked.get() + 1);
        "GET".to_string()
    };
    // /admin names POST: the method is read once; GET falls through to the catch-all.
    assert_eq!(g.route(b"/admin/x", method), Routing::Protected(3));
    assert_eq!(asked.get(), 1);
    assert_eq!(
        g.route(b"/orders", || panic!(
            "no rule before the catch-all names methods"
        )),
        Routing::Protected(3)
    );
    let lenient = gate(json!({"allow_unnormalized_paths": true}));
    assert_eq!(
        lenient.route(b"/public/../x", || "GET".into()),
        Routing::Pass
    );
}

#[test]
fn an_unknown_kid_asks_the_host_for_a_refetch() {
    let g = gate(json!({}));
    let header = json!({"alg": "HS256", "kid": "rotated"}).to_string();
    let token = sign_raw(Algorithm::HS256, &header, claims().to_string().as_bytes());
    let mut host = TestHost::new(&g);
    let req = headers(
        "GET",
        "/orders",
        &[("authorization", &format!("Bearer {token}"))],
    );
    let d = g.check(3, &req, &mut host);
    assert_eq!(d.audit.unwrap().code, "ERR_JWKS_NO_MATCHING_KEY");
    assert_eq!(host.unknown, [0]);
}

#[test]
fn remote_keys_serve_until_stale_and_bootstrap_keys_never_come_back() {
    let g = gate(json!({}));
    let p = &g.config().providers[0];
    let remote: Remote = serde_json::from_value(json!({"cluster": "c", "authority": "a",
        "path": "/k", "refresh_seconds": 60, "max_stale_seconds": 40}))
    .unwrap();
    let fetched = Rc::new(hs_jwks());
    assert!(
        p.keys_at(None, Some(&remote), 0).is_some(),
        "bootstrap before a fetch"
    );
    assert!(p
        .keys_at(Some((&fetched, 1000)), Some(&remote), 1100)
        .is_some());
    assert!(
        p.keys_at(Some((&fetched, 1000)), Some(&remote), 1101)
            .is_none(),
        "stale: fail closed"
    );
    assert!(p.keys_at(Some((&fetched, 1000)), None, 1000).is_none());
    assert!(
        matches!(p.denylist_at(None, 0), Ok(None)),
        "no denylist configured"
    );
}

#[test]
fn configuration_errors_name_the_field() {
    for (extra, field) in [
        (
            json!({"rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "nobody"}}]}),
            "rules[0].requires",
        ),
        (json!({"realm": "a\"b"}), "realm"),
        (json!({"verdict_header": "authorization"}), "verdict_header"),
        (
            json!({"rules": [{"match": {"regex": "("}, "requires": {"provider_name": "idp"}}]}),
            "rules[0].match.regex",
        ),
    ] {
        let e = Gate::from_json(config(extra).to_string().as_bytes()).unwrap_err();
        assert_eq!(e.field, field, "{e}");
        assert_eq!(e.code(), "ERR_GATE_CONFIG");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any method, path and header bytes (with or without a real token somewhere): the gate
    /// never panics, and a protected request is forwarded only with a verified token, or
    /// without identity where the rule allows a missing token.
    #[test]
    fn arbitrary_requests_never_pass_a_protected_rule_unverified(
        method in prop::sample::select(vec!["GET", "POST", "OPTIONS", "post", ""]),
        path in prop_oneof![3 => "[a-z0-9/._%;=&?-]{0,12}", 1 => ".{0,12}"],
        raw in prop::collection::vec(any::<u8>(), 0..8),
        prefix in prop::sample::select(vec!["/", "/orders", "/admin", "/optional", "/public"]),
        hs in prop::collection::vec((
            prop::sample::select(vec!["authorization", "Authorization", "cookie", "x-sub", "X_SUB", "content-type"]),
            0..4usize,
        ), 0..4),
    ) {
        let g = gate(json!({}));
        let token = mint(Algorithm::HS256, claims());
        let mut target = prefix.as_bytes().to_vec();
        target.extend(path.as_bytes());
        let mut req = vec![(b":method".to_vec(), method.as_bytes().to_vec()), (b":path".to_vec(), target.clone())];
        for (name, kind) in hs {
            // The exact credential, another value of the location, raw bytes, or the token
            // behind raw bytes.
            let value = match (name, kind) {
                ("cookie", 0) => format!("session={token}").into_bytes(),
                (_, 0) => format!("Bearer {token}").into_bytes(),
                (_, 1) => b"admin".to_vec(),
                (_, 2) => raw.clone(),
                _ => [raw.as_slice(), format!("Bearer {token}").as_bytes()].concat(),
            };
            req.push((name.as_bytes().to_vec(), value));
        }
        let d = run(&g, &req);
        match g.route(&target, || method.to_string()) {
            Routing::Protected(r) => {
                let rule = &g.config().rules[r];
                if d.response.is_none() {
                    let audit = d.audit.as_ref().unwrap();
                    match audit.verdict {
                        AuditVerdict::Allow => prop_assert!(d.verified.is_some()),
                        AuditVerdict::AllowUnauthenticated => prop_assert!(rule.allow_missing),
                        other => prop_assert!(false, "forwarded with {other:?}"),
                    }
                    // A bearer credential never rides along: its header is removed.
                    let sent = req.iter().any(|(k, v)| {
                        k.eq_ignore_ascii_case(b"authorization") && v.starts_with(b"Bearer ")
                    });
                    if sent {
                        prop_assert!(removes(&d, "authorization"));
                    }
                }
                for e in &d.edits {
                    if let HeaderEdit::Set { name, .. } = e {
                        prop_assert!(["x-sub", "x-roles", "x-verdict", "cookie", ":path"].contains(&name.as_str()), "{name}");
                    }
                }
            }
            Routing::Refuse(_) => prop_assert_eq!(d.response.unwrap().status, 400),
            Routing::Pass => prop_assert!(d.audit.is_none()),
        }
    }
}
