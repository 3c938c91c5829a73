//! Any bytes as a token: through the unverified decoder, and through full verification
//! against an HMAC key set whose secret the fuzzer can find in the dictionary-less corpus only
//! by signing correctly, so the claims parser is reached as well via `decode_unverified`. Also
//! through the issuer index (the unverified `iss` read of a many-issuer rule), which must pick
//! only providers that name the issuer it read.
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
            .filter_map(|iss| Policy::builder().algorithms([Algorithm::HS256]).issuer(*iss).build().ok())
            .collect();
        let index = IssuerIndex::new(&policies);
        (policies, index)
    })
}

fuzz_target!(|data: &[u8]| {
    let (policies, index) = tenants();
    if let Ok(c) = index.candidates(data) {
        let named = std::str::from_utf8(data)
            .ok()
            .and_then(|t| decode_unverified(t, &Limits::DEFAULT).ok())
            .and_then(|u| u.claims.issuer().map(str::to_owned));
        for p in c.positions() {
            // A candidate's policy accepts the issuer the token names.
            if let Some(iss) = &named {
                assert!(policies[p].issuers().iter().any(|i| i == iss));
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
