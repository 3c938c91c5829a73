//! Properties over generated input: nothing panics, and nothing but the untouched token
//! verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use proptest::prelude::*;
use support::*;
use tokengate::{decode_unverified, Algorithm, Denylist, JwkSet, Limits, Policy, Verifier};

fn lenient_policy() -> Policy {
    Policy::builder()
        .algorithms(Algorithm::ALL)
        .require_expiration(false)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_never_verify(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let p = lenient_policy();
        prop_assert!(Verifier::new(&p).verify(&text, &hs_jwks(), NOW).is_err());
        prop_assert!(Verifier::new(&p).verify_jws(&text, &public_jwks()).is_err());
        let _ = decode_unverified(&text, &Limits::DEFAULT);
        let _ = JwkSet::from_json(&text);
        let _ = Denylist::from_json(&text);
        let _ = Policy::from_json(&text);
    }

    #[test]
    fn dotted_garbage_never_panics(parts in proptest::collection::vec("[A-Za-z0-9_\\-]{0,40}", 3)) {
        let token = parts.join(".");
        let p = lenient_policy();
        prop_assert!(Verifier::new(&p).verify(&token, &hs_jwks(), NOW).is_err());
    }

    #[test]
    fn any_single_character_change_breaks_the_token(
        alg in prop_oneof![Just(Algorithm::HS256), Just(Algorithm::ES256), Just(Algorithm::EdDSA)],
        pos in any::<prop::sample::Index>(),
        replacement in proptest::char::range('!', '~'),
    ) {
        let token = mint(alg, claims());
        let keys = if alg == Algorithm::HS256 { hs_jwks() } else { public_jwks() };
        let p = policy();
        let i = pos.index(token.len());
        prop_assume!(token.as_bytes()[i] != replacement as u8);
        let mut mutated = token.clone();
        mutated.replace_range(i..=i, &replacement.to_string());
        prop_assert!(Verifier::new(&p).verify(&mutated, &keys, NOW).is_err());
        prop_assert!(Verifier::new(&p).verify(&token, &keys, NOW).is_ok());
    }

    #[test]
    fn truncations_and_insertions_never_verify(
        cut in any::<prop::sample::Index>(),
        insert in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let token = mint(Algorithm::ES256, claims());
        let p = policy();
        let i = cut.index(token.len());
        let truncated = &token[..i];
        prop_assert!(Verifier::new(&p).verify(truncated, &public_jwks(), NOW).is_err());
        let mut inserted = token.as_bytes().to_vec();
        inserted.splice(i..i, insert);
        let inserted = String::from_utf8_lossy(&inserted).into_owned();
        prop_assert!(Verifier::new(&p).verify(&inserted, &public_jwks(), NOW).is_err());
    }

    #[test]
    fn signed_arbitrary_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        // A valid signature over hostile bytes reaches the claims parser.
        let token = sign_raw(Algorithm::HS256, r#"{"alg":"HS256","kid":"hs"}"#, &payload);
        let p = lenient_policy();
        let _ = Verifier::new(&p).verify(&token, &hs_jwks(), NOW);
        prop_assert!(Verifier::new(&p).verify_jws(&token, &hs_jwks()).is_ok());
    }

    #[test]
    fn signed_json_payloads_never_panic(json in arb_json(4)) {
        let token = sign_raw(Algorithm::HS256, r#"{"alg":"HS256","kid":"hs"}"#, json.to_string().as_bytes());
        let p = lenient_policy();
        if let Ok(v) = Verifier::new(&p).verify(&token, &hs_jwks(), NOW) {
            let _ = v.claims().to_object();
            let _ = v.claims().lookup("a.b.c");
        }
    }
}

fn arb_json(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("exp".to_string()),
                    Just("aud".to_string()),
                    Just("iss".to_string()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
