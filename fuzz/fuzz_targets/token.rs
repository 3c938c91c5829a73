//! Any bytes as a token: through the unverified decoder, and through full verification
//! against an HMAC key set whose secret the fuzzer can find in the dictionary-less corpus only
//! by signing correctly, so the claims parser is reached as well via `decode_unverified`. Also
//! through the issuer index (the unverified `iss` scan of a many-issuer rule), which must pick
//! exactly the providers that name the issuer the strict claims parser reads. And through the
//! split verification a host with its own crypto uses (`host_check`, `host_checked`): with the
//! host's verdict left to the verifier (`Unchecked`) it must agree with `verify` exactly, and a
//! host that says "valid" to anything must not get past any check but the signature. An honest
//! host that tries a kid-less token's several candidate keys in turn (`next_key`) must agree with
//! `verify` too, down to the key it reports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tokengate::{
    decode_unverified, Algorithm, Error, FastVerify, HostVerdict, IssuerIndex, JwkSet, Limits,
    Policy, SignatureBackend, Verifier,
};

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

/// Three HMAC keys without a `kid`, the all-zero secret of [`setup`] second: a token without a
/// `kid` signed with it has three candidates, and verifies with the second.
fn several() -> Option<&'static (JwkSet, Policy)> {
    static S: OnceLock<Option<(JwkSet, Policy)>> = OnceLock::new();
    S.get_or_init(|| {
        let keys = JwkSet::from_json(
            r#"{"keys":[{"kty":"oct","k":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"},
                {"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
                {"kty":"oct","k":"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI"}]}"#,
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
        let v = Verifier::new(policy);
        let now = 1_800_000_000;
        let direct = v.verify(text, keys, now);
        match v.host_check(text, keys) {
            Ok(check) => {
                // The one-key set has one candidate.
                assert_eq!(check.key_indices().len(), 1);
                let split = v.host_checked(check.clone(), keys, HostVerdict::Unchecked, now);
                assert_eq!(
                    split.as_ref().map(|x| x.claims().json()),
                    direct.as_ref().map(|x| x.claims().json())
                );
                // A lying host: only the signature may change its answer.
                match (
                    v.host_checked(check, keys, HostVerdict::Valid, now),
                    &direct,
                ) {
                    (Ok(a), Ok(b)) => assert_eq!(a.claims().json(), b.claims().json()),
                    (Ok(_), Err(e)) => assert_eq!(*e, Error::SignatureInvalid),
                    (Err(e), Err(Error::SignatureInvalid)) => {
                        assert_ne!(e, Error::SignatureInvalid)
                    }
                    (Err(a), Err(b)) => assert_eq!(a, *b),
                    (Err(e), Ok(_)) => panic!("a valid verdict refused a verified token: {e}"),
                }
            }
            // Refused before the signature: verify refuses with the same error.
            Err(e) => assert_eq!(Err(e), direct.map(|_| ())),
        }
    }
    if let Some((keys, policy)) = several() {
        let v = Verifier::new(policy);
        let now = 1_800_000_000;
        let direct = v.verify(text, keys, now);
        match v.host_check(text, keys) {
            Ok(mut check) => {
                // An honest host: each candidate in turn, moving on while the signature is
                // refused.
                let verdict = loop {
                    let key = &keys.keys()[check.key_index()];
                    let sig = FastVerify.verify(check.alg(), key, check.signing_input(), check.signature());
                    if sig.is_ok() {
                        break HostVerdict::Valid;
                    }
                    if !check.next_key() {
                        break HostVerdict::Invalid;
                    }
                };
                let split = v.host_checked(check, keys, verdict, now);
                assert_eq!(
                    split.as_ref().map(|x| (x.claims().json(), x.key_id())),
                    direct.as_ref().map(|x| (x.claims().json(), x.key_id()))
                );
            }
            Err(e) => assert_eq!(Err(e), direct.map(|_| ())),
        }
    }
});
