//! Any bytes as a token: through the unverified decoder, and through full verification
//! against an HMAC key set whose secret the fuzzer can find in the dictionary-less corpus only
//! by signing correctly, so the claims parser is reached as well via `decode_unverified`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tokengate::{decode_unverified, Algorithm, JwkSet, Limits, Policy, Verifier};

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

fuzz_target!(|data: &[u8]| {
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
