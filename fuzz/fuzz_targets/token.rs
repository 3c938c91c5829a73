//! Any bytes as a token: through the unverified decoder, and through full verification
//! against an HMAC key set whose secret the fuzzer can find in the dictionary-less corpus only
//! by signing correctly, so the claims parser is reached as well via `decode_unverified`. Also
//! through the issuer index (the unverified `iss` scan of a many-issuer rule), which must pick
//! exactly the providers that name the issuer the strict claims parser reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tokengate::{decode_unverified, Algorithm, IssuerIndex, JwkSet, Limits, Policy, Verifier};

fn setup() -> Option<&'static (JwkSet, Policy)> {
    static S: OnceLock<Option<(JwkSet, Policy)>> = OnceLock::new();
    S.get_or_init(|| {
        let keys = JwkSet::from_json(
            r#"{"keys":[{"kty":"oct","kid":"k","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#,
        )
        .ok()?;
        let policy = Policy::builder().algorithms(Algorithm::ALL).require_expiration(false).build().ok()?;
        Some((keys, policy))
    })
    .as_ref()
}

fn tenants() -> &'static (Vec<Policy>, IssuerIndex) {
    static T: OnceLock<(Vec<Policy>, IssuerIndex)> = OnceLock::new();
    T.get_or_init(|| {
        let policies: Vec<Policy> = ["a", "b", "a"]
            .iter()
            .filter_map(|iss| {
                Policy::builder()
                    .algorithms([Algorithm::HS256])
                    .issuer(*iss)
                    .build()
                    .ok()
            })
            .collect();
        let index = IssuerIndex::new(&policies);
        (policies, index)
    })
}

fuzz_target!(|data: &[u8]| {
    let (policies, index) = tenants();
    let strict = std::str::from_utf8(data)
        .ok()
        .and_then(|t| decode_unverified(t, &Limits::DEFAULT).ok());
    let candidates = index.candidates(data);
    if let Some(u) = &strict {
        // Whatever the strict parser reads, the scan reads too, and picks exactly the
        // providers whose policy accepts that issuer.
        let Ok(c) = &candidates else {
            panic!("the issuer scan refused a payload the claims parser reads");
        };
        if let Some(iss) = u.claims.issuer() {
            for (p, policy) in policies.iter().enumerate() {
                assert_eq!(c.includes(p), policy.issuers().iter().any(|i| i == iss));
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = decode_unverified(text, &Limits::DEFAULT) {
        let _ = u.claims.to_object();
        let _ = u.claims.scopes().count();
    }
    if let Some((keys, policy)) = setup() {
        let _ = Verifier::new(policy).verify(text, keys, 1_800_000_000);
    }
});
