//! The whole HTTP gate on arbitrary requests: any method, path and header bytes, under a
//! built-in configuration or one from the input. It never panics, never forwards a request
//! that a rule protects without a verified token (or the rule's own allowance for a missing
//! one, or report mode), only sets headers it owns, and never echoes the token. A host that
//! checks signatures itself (the npm gate's WebCrypto) and answers "unchecked" decides exactly
//! as one that does not; one that refuses every signature never gets a token verified.
//!
//! Input: `selector config? \0 method \0 path \0 (name \0 value \0)*`. A selector byte below
//! 0xF0 picks a built-in configuration; otherwise the configuration is the JSON up to the
//! first `\0`. Every `$T` in a path or value becomes a genuine HS256 token for the built-in
//! provider, so the fuzzer reaches the allow paths.
#![no_main]

use std::rc::Rc;

use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use sha2::Sha256;
use tokengate::{
    base64url_encode as b64, AuditVerdict, Decision, Denylist, Error, Gate, GateHost, HeaderEdit,
    HostCheck, HostVerdict, JwkSet, Mode, Routing, TokenCache,
};

const NOW: i64 = 1_800_000_000;
const SECRET: [u8; 32] = [0x42; 32];

struct Host {
    keys: Vec<Option<Rc<JwkSet>>>,
    cache: TokenCache,
    /// `Some`: the host checks signatures itself and answers this.
    verdict: Option<HostVerdict>,
}

impl GateHost for Host {
    fn now(&mut self) -> i64 {
        NOW
    }
    fn keys(&mut self, provider: usize, _now: u64) -> Option<Rc<JwkSet>> {
        self.keys.get(provider).cloned().flatten()
    }
    fn denylist(&mut self, _provider: usize, _now: u64) -> Result<Option<Rc<Denylist>>, Error> {
        Ok(None)
    }
    fn cache(&mut self) -> &mut TokenCache {
        &mut self.cache
    }
    fn unknown_key(&mut self, _provider: usize) {}
    fn client_certificate_sha256(&mut self) -> Option<[u8; 32]> {
        None
    }
    fn checks_signatures(&self) -> bool {
        self.verdict.is_some()
    }
    fn signature(
        &mut self,
        _provider: usize,
        _keys: &Rc<JwkSet>,
        _check: &HostCheck,
    ) -> HostVerdict {
        self.verdict.unwrap_or(HostVerdict::Unchecked)
    }
}

fn token() -> String {
    let header = b64(br#"{"alg":"HS256","kid":"hs"}"#);
    let claims = json!({"iss": "https://idp", "aud": "api", "sub": "alice", "exp": NOW + 60,
                        "scope": "read admin", "roles": ["a", "b"]});
    let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(&SECRET).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

fn builtin(selector: u8) -> String {
    let mode = if selector % 3 == 2 {
        "report"
    } else {
        "enforce"
    };
    json!({
        "mode": mode, "bypass_cors_preflight": selector % 2 == 0, "verdict_header": "x-verdict",
        "providers": {
            "idp": {"issuer": "https://idp", "audiences": ["api"], "algorithms": ["HS256"],
                    "local_jwks": {"keys": [{"kty": "oct", "kid": "hs", "k": b64(&SECRET)}]},
                    "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}, {"name": "x-token"}],
                    "from_cookies": ["session"], "from_params": ["access_token"],
                    "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"},
                                         {"header_name": "x-roles", "claim_name": "roles"}],
                    "forward_payload_header": "x-payload"},
            "other": {"issuer": "https://other", "algorithms": ["HS256"], "forward": selector % 5 == 0,
                      "local_jwks": {"keys": [{"kty": "oct", "kid": "hs", "k": b64(&SECRET)}]}}
        },
        "rules": [
            {"match": {"prefix": "/public"}},
            {"match": {"regex": "/items/[0-9]+", "methods": ["GET"]}, "requires": {"requires_any": ["idp", "other"]}},
            {"match": {"prefix": "/admin"}, "requires": {"provider_name": "idp"}, "scopes_all": ["admin"]},
            {"match": {"prefix": "/both"}, "requires": {"requires_all": ["idp", "other"]}},
            {"match": {"path": "/optional"}, "requires": {"provider_name": "idp", "allow_missing": true}},
            {"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}
        ]
    })
    .to_string()
}

fn with_token(bytes: &[u8], token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"$T") {
            out.extend_from_slice(token.as_bytes());
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn check(gate: &Gate, req: &[(Vec<u8>, Vec<u8>)], target: &[u8], method: &str, token: &str) {
    let config = gate.config();
    let routing = gate.route(target, || method.to_string());
    let host = |verdict| Host {
        keys: config
            .providers
            .iter()
            .map(|p| p.keys_at(None, None, NOW as u64))
            .collect(),
        cache: TokenCache::new(8),
        verdict,
    };
    let decide = |verdict| match &routing {
        Routing::Pass => None,
        Routing::Refuse(e) => Some(gate.refuse(req, e)),
        Routing::Protected(r) => {
            let rule = &config.rules[*r];
            assert!(!rule.providers.is_empty());
            assert!(rule.matches_path(&String::from_utf8_lossy(tokengate::path_of(target))));
            Some(gate.check(*r, req, &mut host(verdict)))
        }
    };
    let Some(d): Option<Decision> = decide(None) else {
        return;
    };
    let outline = |d: &Decision| format!("{:?} {:?} {:?}", d.response, d.edits, d.audit);
    let unchecked = decide(Some(HostVerdict::Unchecked)).expect("routed alike");
    assert_eq!(outline(&unchecked), outline(&d));
    let refused = decide(Some(HostVerdict::Invalid)).expect("routed alike");
    assert!(refused.verified.is_none());
    assert!(refused
        .audit
        .map_or(true, |a| a.verdict != AuditVerdict::Allow));
    let signature = token.rsplit('.').next().unwrap_or_default();
    if let Some(r) = &d.response {
        assert!(
            [400, 401, 403, 503].contains(&r.status),
            "status {}",
            r.status
        );
        assert!(!r.body.contains(signature));
        assert!(!r
            .www_authenticate
            .as_deref()
            .unwrap_or("")
            .contains(signature));
        return;
    }
    // Forwarded: only with a verified token, a rule's own allowance, or report mode.
    if let Routing::Protected(r) = routing {
        let rule = &config.rules[r];
        let Some(audit) = d.audit.as_ref() else {
            // Only a CORS preflight passes a protected rule unaudited, and only when allowed.
            assert!(config.bypass_cors_preflight && method == "OPTIONS");
            assert!(d.edits.is_empty());
            return;
        };
        match audit.verdict {
            AuditVerdict::Allow => assert!(d.verified.is_some()),
            AuditVerdict::AllowUnauthenticated => {
                assert!(rule.allow_missing || rule.allow_missing_or_failed)
            }
            AuditVerdict::WouldDeny => assert_eq!(config.mode, Mode::Report),
            v => panic!("forwarded with {v:?}"),
        }
    } else {
        // A refused path is forwarded only in report mode, flagged.
        let audit = d.audit.as_ref().expect("a refusal is audited");
        assert_eq!(
            (config.mode, audit.verdict),
            (Mode::Report, AuditVerdict::WouldDeny)
        );
    }
    for e in &d.edits {
        if let HeaderEdit::Set { name, value } = e {
            let owned = config.owned_headers.iter().any(|o| o == name);
            assert!(owned || name == "cookie" || name == ":path", "sets {name}");
            // No line break or NUL of the gate's making: a rewritten cookie keeps the other
            // cookies' bytes as the client sent them (a codec refuses such a header first).
            let breaks = |v: &[u8]| v.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0);
            let sent = req.iter().any(|(k, v)| k == b"cookie" && breaks(v));
            assert!(!breaks(value) || (name == "cookie" && sent), "{name}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let token = token();
    let (config, rest) = if selector < 0xF0 {
        (builtin(selector), rest)
    } else {
        let mut parts = rest.splitn(2, |&b| b == 0);
        let config = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        (config, parts.next().unwrap_or_default())
    };
    let Ok(gate) = Gate::from_json(config.as_bytes()) else {
        return;
    };
    let mut parts = rest.split(|&b| b == 0);
    let method = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let target = with_token(parts.next().unwrap_or(b"/"), &token);
    let mut req = vec![
        (b":method".to_vec(), method.as_bytes().to_vec()),
        (b":path".to_vec(), target.clone()),
    ];
    let rest: Vec<&[u8]> = parts.collect();
    for pair in rest.chunks(2).take(16) {
        let name = pair[0].to_ascii_lowercase();
        let value = with_token(pair.get(1).copied().unwrap_or_default(), &token);
        req.push((name, value));
    }
    let _ = gate.spoofed_headers(&req);
    check(&gate, &req, &target, &method, &token);
});
