//! Behaviour of the verification pipeline, with tokens minted in the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::cell::Cell;

use serde_json::json;
use support::*;
use tokengate::{
    check_certificate_binding, Algorithm, BadSignature, CacheScope, Claim, ClaimReason, Denylist,
    Error, HostVerdict, Jwk, JwkSet, Policy, Requirement, RevocationReason, RustCrypto,
    SignatureBackend, TokenCache, Verifier,
};

fn verify(token: &str) -> Result<tokengate::Verified, Error> {
    let p = policy();
    let keys = if token.contains("eyJhbGciOiJIUzI1NiI") {
        hs_jwks()
    } else {
        public_jwks()
    };
    Verifier::new(&p).verify(token, &keys, NOW)
}

fn claim_err(claim: Claim, reason: ClaimReason) -> Error {
    Error::ClaimInvalid { claim, reason }
}

#[test]
fn accepts_each_algorithm_family_and_exposes_claims() {
    for alg in [Algorithm::HS256, Algorithm::ES256, Algorithm::EdDSA] {
        let v = verify(&mint(alg, claims())).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(v.header().alg, alg);
        assert_eq!(v.claims().subject(), Some("alice"));
        assert_eq!(
            v.claims().audiences().unwrap().collect::<Vec<_>>(),
            ["orders"]
        );
        assert!(v.claims().has_scope("orders:write"));
        assert_eq!(
            v.claims().lookup("realm_access.roles"),
            Some(json!(["ops", "dev"]))
        );
        assert!(v.key_id().is_some());
    }
}

#[test]
fn expiry_honours_the_clock_skew_exactly() {
    let p = policy(); // 60 s skew
    let keys = hs_jwks();
    let mut c = claims();
    c["exp"] = json!(NOW - 59);
    assert!(Verifier::new(&p)
        .verify(&mint(Algorithm::HS256, c.clone()), &keys, NOW)
        .is_ok());
    c["exp"] = json!(NOW - 60);
    assert_eq!(
        Verifier::new(&p)
            .verify(&mint(Algorithm::HS256, c), &keys, NOW)
            .unwrap_err(),
        Error::Expired
    );
}

#[test]
fn rejects_tokens_not_yet_valid_or_issued_in_the_future() {
    let mut c = claims();
    c["nbf"] = json!(NOW + 61);
    assert_eq!(
        verify(&mint(Algorithm::HS256, c)).unwrap_err(),
        claim_err(Claim::Nbf, ClaimReason::NotYetValid)
    );
    let mut c = claims();
    c["iat"] = json!(NOW + 3600);
    assert_eq!(
        verify(&mint(Algorithm::HS256, c)).unwrap_err(),
        claim_err(Claim::Iat, ClaimReason::IssuedInFuture)
    );
}

#[test]
fn requires_expiration_by_default() {
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    let e = verify(&mint(Algorithm::HS256, c.clone())).unwrap_err();
    assert_eq!(e, claim_err(Claim::Exp, ClaimReason::Missing));
    let lenient = Policy::builder()
        .algorithms([Algorithm::HS256])
        .require_expiration(false)
        .build()
        .unwrap();
    assert!(Verifier::new(&lenient)
        .verify(&mint(Algorithm::HS256, c), &hs_jwks(), NOW)
        .is_ok());
}

#[test]
fn checks_issuer_audience_and_subject_exactly() {
    let mut c = claims();
    c["iss"] = json!("https://idp.example/");
    assert_eq!(
        verify(&mint(Algorithm::HS256, c)).unwrap_err(),
        claim_err(Claim::Iss, ClaimReason::CheckFailed)
    );
    let mut c = claims();
    c["aud"] = json!(["billing", "orders-v2"]);
    assert_eq!(
        verify(&mint(Algorithm::HS256, c)).unwrap_err(),
        claim_err(Claim::Aud, ClaimReason::CheckFailed)
    );
    let mut c = claims();
    c["aud"] = json!(["billing", "orders"]);
    assert!(verify(&mint(Algorithm::HS256, c)).is_ok());
    let mut c = claims();
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        verify(&mint(Algorithm::HS256, c)).unwrap_err(),
        claim_err(Claim::Aud, ClaimReason::Missing)
    );

    let p = Policy::builder()
        .algorithms([Algorithm::HS256])
        .subject("bob")
        .build()
        .unwrap();
    let e = Verifier::new(&p)
        .verify(&mint(Algorithm::HS256, claims()), &hs_jwks(), NOW)
        .unwrap_err();
    assert_eq!(e, claim_err(Claim::Sub, ClaimReason::CheckFailed));
}

#[test]
fn enforces_typ_required_claims_lifetime_and_age() {
    let keys = hs_jwks();
    let token = mint(Algorithm::HS256, claims()); // typ JWT
    let p = Policy::builder()
        .algorithms([Algorithm::HS256])
        .typ("at+jwt")
        .build()
        .unwrap();
    assert_eq!(
        Verifier::new(&p).verify(&token, &keys, NOW).unwrap_err(),
        claim_err(Claim::Typ, ClaimReason::CheckFailed)
    );
    let at = sign_raw(
        Algorithm::HS256,
        r#"{"alg":"HS256","typ":"application/at+jwt","kid":"hs"}"#,
        claims().to_string().as_bytes(),
    );
    assert!(Verifier::new(&p).verify(&at, &keys, NOW).is_ok());

    let p = Policy::builder()
        .algorithms([Algorithm::HS256])
        .required_claim("tenant")
        .build()
        .unwrap();
    let e = Verifier::new(&p).verify(&token, &keys, NOW).unwrap_err();
    assert_eq!(e.claim(), Some("tenant"));
    assert_eq!(e.reason(), Some("missing"));

    let p = Policy::builder()
        .algorithms([Algorithm::HS256])
        .max_lifetime_seconds(300)
        .build()
        .unwrap();
    assert_eq!(
        Verifier::new(&p).verify(&token, &keys, NOW).unwrap_err(),
        claim_err(Claim::Exp, ClaimReason::LifetimeTooLong)
    );
    let p = Policy::builder()
        .algorithms([Algorithm::HS256])
        .max_lifetime_seconds(310)
        .build()
        .unwrap();
    assert!(Verifier::new(&p).verify(&token, &keys, NOW).is_ok());

    let p = Policy::builder()
        .algorithms([Algorithm::HS256])
        .max_age_seconds(5)
        .clock_skew_seconds(0)
        .build()
        .unwrap();
    let e = Verifier::new(&p).verify(&token, &keys, NOW).unwrap_err();
    assert_eq!(e, claim_err(Claim::Iat, ClaimReason::TooOld));
    // jose: too old is JWTExpired on `iat`, reason check_failed.
    assert_eq!(
        (e.code(), e.claim(), e.reason()),
        ("ERR_JWT_EXPIRED", Some("iat"), Some("check_failed"))
    );
    // maxTokenAge 0 is a policy (issued now, within the skew), as in jose.
    let zero = Policy::builder()
        .algorithms([Algorithm::HS256])
        .max_age_seconds(0)
        .build()
        .unwrap();
    assert!(Verifier::new(&zero).verify(&token, &keys, NOW).is_ok());
}

#[test]
fn the_allowlist_decides_the_algorithm() {
    let p = Policy::builder()
        .algorithms([Algorithm::ES256])
        .build()
        .unwrap();
    let e = Verifier::new(&p)
        .verify(&mint(Algorithm::HS256, claims()), &hs_jwks(), NOW)
        .unwrap_err();
    assert_eq!(e, Error::AlgorithmNotAllowed);
}

#[test]
fn hmac_with_a_public_key_as_secret_is_impossible() {
    // The classic confusion: sign HS256 with the bytes of the server's public key. The key
    // set holds only EC/OKP keys, which never support HS256.
    let p = Policy::builder()
        .algorithms([Algorithm::HS256, Algorithm::ES256])
        .build()
        .unwrap();
    let header = r#"{"alg":"HS256","kid":"ec"}"#;
    let token = sign_raw(Algorithm::HS256, header, claims().to_string().as_bytes());
    let e = Verifier::new(&p)
        .verify(&token, &public_jwks(), NOW)
        .unwrap_err();
    assert_eq!(e, Error::NoMatchingKey);
}

#[test]
fn unknown_kid_is_no_matching_key_and_key_set_order_does_not_matter() {
    let token = sign_raw(
        Algorithm::ES256,
        r#"{"alg":"ES256","kid":"rotated"}"#,
        claims().to_string().as_bytes(),
    );
    assert_eq!(verify(&token).unwrap_err(), Error::NoMatchingKey);
    let kidless = sign_raw(
        Algorithm::ES256,
        r#"{"alg":"ES256"}"#,
        claims().to_string().as_bytes(),
    );
    let v = verify(&kidless).unwrap();
    assert_eq!(v.key_id(), Some("ec"));
}

#[test]
fn claims_are_not_read_before_the_signature_checks_out() {
    // Garbage payload, bad signature: the answer is about the signature.
    let good = sign_raw(
        Algorithm::HS256,
        r#"{"alg":"HS256","kid":"hs"}"#,
        b"{not json",
    );
    let mut bad = good.clone();
    bad.replace_range(bad.len() - 2.., "AA");
    assert_eq!(verify(&bad).unwrap_err(), Error::SignatureInvalid);
    // Same payload, good signature: now it is about the claims.
    assert_eq!(verify(&good).unwrap_err().code(), "ERR_JWT_INVALID");
}

#[test]
fn duplicate_claims_are_rejected_even_when_signed() {
    let payload = br#"{"sub":"alice","sub":"admin","exp":1800000300,"iss":"https://idp.example","aud":"orders"}"#;
    let token = sign_raw(Algorithm::HS256, r#"{"alg":"HS256","kid":"hs"}"#, payload);
    assert_eq!(
        verify(&token).unwrap_err(),
        Error::MalformedClaims {
            reason: "duplicate member name"
        }
    );
}

#[test]
fn jws_level_accepts_any_payload_bytes() {
    let p = policy();
    let token = sign_raw(
        Algorithm::EdDSA,
        r#"{"alg":"EdDSA","kid":"ed"}"#,
        b"\x00\x01 not json",
    );
    let jws = Verifier::new(&p)
        .verify_jws(&token, &public_jwks())
        .unwrap();
    assert_eq!(jws.payload, b"\x00\x01 not json");
    assert_eq!(jws.key_id.as_deref(), Some("ed"));
}

#[test]
fn denylist_revokes_by_jti_subject_and_cutoff() {
    let p = policy();
    let keys = hs_jwks();
    let token = mint(Algorithm::HS256, claims());
    let check = |list: &str| {
        let d = Denylist::from_json(list).unwrap();
        Verifier::new(&p)
            .with_denylist(&d)
            .verify(&token, &keys, NOW)
            .err()
    };
    let revoked = |reason| Some(Error::Revoked { reason });
    assert_eq!(check(r#"{"jti":["id-1"]}"#), revoked(RevocationReason::Jti));
    assert_eq!(
        check(r#"{"jti":[{"value":"id-1","iss":"https://other"}]}"#),
        None
    );
    assert_eq!(
        check(r#"{"jti":[{"value":"id-1","expires_at":1800000000}]}"#),
        None
    );
    assert_eq!(
        check(r#"{"sub":[{"value":"alice","iss":"https://idp.example"}]}"#),
        revoked(RevocationReason::Subject)
    );
    assert_eq!(
        check(r#"{"sub_issued_before":[{"sub":"alice","before":1800000000}]}"#),
        revoked(RevocationReason::IssuedBeforeCutoff)
    );
    assert_eq!(
        check(r#"{"sub_issued_before":[{"sub":"alice","before":1799999000}]}"#),
        None
    );
    assert_eq!(check(r#"{"sub":["bob"],"jti":["other"]}"#), None);
    assert!(Denylist::from_json(r#"{"jtis":[]}"#).is_err());
    assert!(Denylist::from_json(r#"{"jti":[""]}"#).is_err());
}

struct Counting<'a>(&'a Cell<usize>);

impl SignatureBackend for Counting<'_> {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), BadSignature> {
        self.0.set(self.0.get() + 1);
        RustCrypto.verify(alg, key, msg, sig)
    }
}

#[test]
fn cache_hit_skips_only_the_signature() {
    let p = policy();
    let calls = Cell::new(0);
    let v = Verifier::new(&p).with_backend(Counting(&calls));
    let keys = public_jwks();
    let mut cache = TokenCache::new(8);
    let token = mint(Algorithm::ES256, claims());
    v.verify_cached(&token, &keys, NOW, &mut cache).unwrap();
    v.verify_cached(&token, &keys, NOW + 1, &mut cache).unwrap();
    assert_eq!((calls.get(), cache.hits(), cache.misses()), (1, 1, 1));

    // A hit still checks time claims...
    assert_eq!(
        v.verify_cached(&token, &keys, NOW + 300 + 60, &mut cache)
            .unwrap_err(),
        Error::Expired
    );
    // ...and the denylist.
    let mut cache = TokenCache::new(8);
    v.verify_cached(&token, &keys, NOW, &mut cache).unwrap();
    let deny = Denylist::from_json(r#"{"sub":["alice"]}"#).unwrap();
    let e = v
        .with_denylist(&deny)
        .verify_cached(&token, &keys, NOW, &mut cache)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_JWT_REVOKED");
    // ...and the policy.
    let strict = Policy::builder()
        .algorithms([Algorithm::ES256])
        .audience("billing")
        .build()
        .unwrap();
    let e = Verifier::new(&strict)
        .verify_cached(&token, &keys, NOW, &mut cache)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_JWT_CLAIM_VALIDATION_FAILED");
}

#[test]
fn cache_entries_die_with_the_key_set_or_the_token() {
    let p = policy();
    let calls = Cell::new(0);
    let v = Verifier::new(&p).with_backend(Counting(&calls));
    let mut cache = TokenCache::new(8);
    let token = mint(Algorithm::ES256, claims());
    v.verify_cached(&token, &public_jwks(), NOW, &mut cache)
        .unwrap();
    // Rotated key set (EC key only): a new version, so the signature is checked again.
    let rotated = JwkSet::from_value(&json!({"keys": [ec_jwk()]})).unwrap();
    assert_ne!(rotated.version(), public_jwks().version());
    v.verify_cached(&token, &rotated, NOW, &mut cache).unwrap();
    assert_eq!(calls.get(), 2);
    // At exp the entry is gone, even within the skew window where the token still verifies.
    assert!(cache
        .get(CacheScope::new(&p, &rotated), token.as_bytes(), NOW + 300)
        .is_none());
}

#[test]
fn cache_stores_no_failures_and_stays_bounded() {
    let p = policy();
    let keys = hs_jwks();
    let mut cache = TokenCache::new(3);
    let mut bad = mint(Algorithm::HS256, claims());
    bad.push('A');
    assert!(Verifier::new(&p)
        .verify_cached(&bad, &keys, NOW, &mut cache)
        .is_err());
    assert!(cache.is_empty());
    for i in 0..10 {
        let mut c = claims();
        c["exp"] = json!(NOW + 100 + i);
        Verifier::new(&p)
            .verify_cached(&mint(Algorithm::HS256, c), &keys, NOW, &mut cache)
            .unwrap();
        assert!(cache.len() <= 3);
    }
    // The soonest-expiring entries were evicted; the last three remain.
    let mut c = claims();
    c["exp"] = json!(NOW + 109);
    assert!(cache
        .get(
            CacheScope::new(&p, &keys),
            mint(Algorithm::HS256, c).as_bytes(),
            NOW
        )
        .is_some());
    let mut c = claims();
    c["exp"] = json!(NOW + 100);
    assert!(cache
        .get(
            CacheScope::new(&p, &keys),
            mint(Algorithm::HS256, c).as_bytes(),
            NOW
        )
        .is_none());
}

#[test]
fn authorization_failures_are_distinct_from_authentication() {
    let v = verify(&mint(Algorithm::HS256, claims())).unwrap();
    let req = |j: serde_json::Value| Requirement::from_value(j).unwrap();
    assert!(req(json!({"scopes_all": ["orders:read"]}))
        .check(v.claims())
        .is_ok());
    let e = req(json!({"scopes_all": ["orders:read", "orders:delete"]}))
        .check(v.claims())
        .unwrap_err();
    assert!(e.is_authorization_failure());
    assert_eq!(
        e,
        Error::InsufficientScope {
            required: "orders:read orders:delete".into()
        }
    );
    assert!(req(json!({"scopes_any": ["admin", "orders:write"]}))
        .check(v.claims())
        .is_ok());
    assert!(
        req(json!({"claims": [{"claim": "realm_access.roles", "contains": "ops"}]}))
            .check(v.claims())
            .is_ok()
    );
    assert!(req(json!({"claims": [{"claim": "sub", "equals": "alice"}, {"claim": "iss", "prefix": "https://"}]}))
        .check(v.claims())
        .is_ok());
    let e = req(json!({"claims": [{"claim": "realm_access.roles", "contains": "admin"}]}))
        .check(v.claims())
        .unwrap_err();
    assert_eq!(e.code(), "ERR_JWT_CLAIM_FORBIDDEN");
    // "contains" on a string is word membership, never a substring.
    assert!(
        req(json!({"claims": [{"claim": "scope", "contains": "orders"}]}))
            .check(v.claims())
            .is_err()
    );
    assert!(Requirement::from_value(
        json!({"claims": [{"claim": "a", "equals": 1, "prefix": "x"}]})
    )
    .is_err());
    assert!(Requirement::from_value(json!({"scopes": ["x"]})).is_err());
    assert!(!Error::SignatureInvalid.is_authorization_failure());
}

#[test]
fn certificate_bound_tokens_need_the_matching_certificate() {
    let der = b"not really DER, but any bytes hash";
    let thumb = tokengate::certificate_thumbprint(der);
    let mut c = claims();
    c["cnf"] = json!({"x5t#S256": tokengate::base64url_encode(&thumb)});
    let v = verify(&mint(Algorithm::HS256, c)).unwrap();
    assert!(check_certificate_binding(v.claims(), Some(&thumb)).is_ok());
    assert_eq!(
        check_certificate_binding(v.claims(), Some(&[0u8; 32])).unwrap_err(),
        Error::CertificateMismatch
    );
    assert_eq!(
        check_certificate_binding(v.claims(), None).unwrap_err(),
        Error::CertificateMismatch
    );
    let unbound = verify(&mint(Algorithm::HS256, claims())).unwrap();
    assert!(check_certificate_binding(unbound.claims(), None).is_ok());
}

#[test]
fn a_dpop_or_key_bound_token_is_not_a_bearer_token() {
    // RFC 9449 section 7.2: `cnf.jkt` binds the token to a DPoP key this gate cannot check.
    let der = b"client certificate";
    let thumb = tokengate::certificate_thumbprint(der);
    for cnf in [
        json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        json!({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}),
        json!({"kid": "k1"}),
        // Both a certificate and a DPoP key: the DPoP half cannot be checked, so no.
        json!({"x5t#S256": tokengate::base64url_encode(&thumb), "jkt": "abc"}),
    ] {
        let mut c = claims();
        c["cnf"] = cnf.clone();
        let v = verify(&mint(Algorithm::HS256, c)).unwrap();
        let e = check_certificate_binding(v.claims(), Some(&thumb)).unwrap_err();
        assert_eq!(e, Error::ConfirmationUnsupported, "{cnf}");
        assert_eq!(e.code(), "ERR_JWT_CONFIRMATION_UNSUPPORTED");
    }
}

/// Issue 12, item 7: one cache serves every provider, so a verdict must never cross policies
/// (allowlist, size limits) or key selection modes.
#[test]
fn the_cache_never_serves_a_token_across_policies_or_key_selection() {
    let keys = hs_jwks();
    let token = mint(Algorithm::HS256, claims());
    let mut cache = TokenCache::new(8);
    let lenient = Policy::builder()
        .algorithms([Algorithm::HS256, Algorithm::HS384])
        .issuer("https://idp.example")
        .build()
        .unwrap();
    Verifier::new(&lenient)
        .verify_cached(&token, &keys, NOW, &mut cache)
        .unwrap();
    // Another provider with the same keys allows HS384 only.
    let hs384 = Policy::builder()
        .algorithms([Algorithm::HS384])
        .issuer("https://idp.example")
        .build()
        .unwrap();
    assert_eq!(
        Verifier::new(&hs384)
            .verify_cached(&token, &keys, NOW, &mut cache)
            .unwrap_err(),
        Error::AlgorithmNotAllowed
    );
    // A smaller size limit than the token.
    let small = Policy::builder()
        .algorithms([Algorithm::HS256])
        .max_token_bytes(64)
        .build()
        .unwrap();
    assert_eq!(
        Verifier::new(&small)
            .verify_cached(&token, &keys, NOW, &mut cache)
            .unwrap_err()
            .code(),
        "ERR_JWT_TOO_LARGE"
    );
    // The same key given directly (kid ignored) then published with another kid: a kid that
    // would not match is not served from the cache.
    let direct = JwkSet::single(
        Jwk::from_json(
            &json!({"kty": "oct", "kid": "other", "k": tokengate::base64url_encode(&HS_SECRET)})
                .to_string(),
        )
        .unwrap(),
    );
    Verifier::new(&lenient)
        .verify_cached(&token, &direct, NOW, &mut cache)
        .unwrap();
    let published = JwkSet::from_value(
        &json!({"keys": [{"kty": "oct", "kid": "other", "k": tokengate::base64url_encode(&HS_SECRET)}]}),
    )
    .unwrap();
    assert_eq!(
        Verifier::new(&lenient)
            .verify_cached(&token, &published, NOW, &mut cache)
            .unwrap_err(),
        Error::NoMatchingKey
    );
    // The accepting scope still hits.
    let hits = cache.hits();
    Verifier::new(&lenient)
        .verify_cached(&token, &keys, NOW, &mut cache)
        .unwrap();
    assert_eq!(cache.hits(), hits + 1);
}

#[test]
fn errors_never_echo_the_token() {
    let token = mint(Algorithm::HS256, claims());
    let segments: Vec<&str> = token.split('.').collect();
    let mut broken = Vec::new();
    broken.push(format!("{}.{}.{}x", segments[0], segments[1], segments[2]));
    broken.push(format!("{}.{}", segments[0], segments[1]));
    broken.push(token.replace("eyJ", "eyK"));
    let mut c = claims();
    c["iss"] = json!("https://evil.example/secret-value");
    broken.push(mint(Algorithm::HS256, c));
    for t in &broken {
        let e = verify(t).unwrap_err();
        let shown = format!("{e} {e:?}");
        for s in &segments {
            assert!(!shown.contains(s), "error shows a token segment: {shown}");
        }
        assert!(
            !shown.contains("secret-value"),
            "error shows a claim value: {shown}"
        );
    }
}

#[test]
fn size_limit_applies_before_decoding() {
    let p = Policy::builder()
        .algorithms([Algorithm::HS256])
        .max_token_bytes(100)
        .build()
        .unwrap();
    let e = Verifier::new(&p)
        .verify(&mint(Algorithm::HS256, claims()), &hs_jwks(), NOW)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_JWT_TOO_LARGE");
}

/// Runs a future that never waits (the test backend answers at once) to completion.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// An asynchronous backend (as WebCrypto would be) that counts calls and defers to RustCrypto.
struct AsyncCounting<'a>(&'a Cell<usize>);

impl tokengate::AsyncSignatureBackend for AsyncCounting<'_> {
    async fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), BadSignature> {
        self.0.set(self.0.get() + 1);
        RustCrypto.verify(alg, key, msg, sig)
    }
}

#[test]
fn the_async_path_applies_the_same_rules() {
    let p = policy();
    let calls = Cell::new(0);
    let backend = AsyncCounting(&calls);
    let keys = public_jwks();
    let v = block_on(Verifier::new(&p).verify_async(
        &backend,
        &mint(Algorithm::ES256, claims()),
        &keys,
        NOW,
    ))
    .unwrap();
    assert_eq!(v.claims().subject(), Some("alice"));
    assert_eq!(calls.get(), 1);
    // Claims, policy and denylist are enforced after an async signature check too.
    let mut c = claims();
    c["aud"] = json!("billing");
    let e =
        block_on(Verifier::new(&p).verify_async(&backend, &mint(Algorithm::ES256, c), &keys, NOW))
            .unwrap_err();
    assert_eq!(e, claim_err(Claim::Aud, ClaimReason::CheckFailed));
    let deny = Denylist::from_json(r#"{"jti":["id-1"]}"#).unwrap();
    let e = block_on(Verifier::new(&p).with_denylist(&deny).verify_async(
        &backend,
        &mint(Algorithm::EdDSA, claims()),
        &keys,
        NOW,
    ))
    .unwrap_err();
    assert_eq!(e.code(), "ERR_JWT_REVOKED");
    // A bad signature fails, and the allowlist is checked before the backend is asked.
    let mut bad = mint(Algorithm::ES256, claims());
    bad.replace_range(bad.len() - 4.., "AAAA");
    let before = calls.get();
    assert_eq!(
        block_on(Verifier::new(&p).verify_async(&backend, &bad, &keys, NOW)).unwrap_err(),
        Error::SignatureInvalid
    );
    assert_eq!(calls.get(), before + 1);
    let only_hs = Policy::builder()
        .algorithms([Algorithm::HS256])
        .build()
        .unwrap();
    let e = block_on(Verifier::new(&only_hs).verify_async(
        &backend,
        &mint(Algorithm::ES256, claims()),
        &keys,
        NOW,
    ))
    .unwrap_err();
    assert_eq!(e, Error::AlgorithmNotAllowed);
    assert_eq!(calls.get(), before + 1);
}

/// Issue 15: a burst of distinct long-lived tokens (anyone who can get many of them) must not
/// evict the tokens other clients keep presenting. With the default 1,024 entries: 100 hot
/// tokens expiring in 10 minutes, sent 10 times each; then 2,000 distinct tokens expiring in an
/// hour, once each; then the same 1,000 hot requests again.
#[test]
fn a_burst_of_one_off_tokens_does_not_evict_the_hot_set() {
    let p = policy();
    let keys = hs_jwks();
    let v = Verifier::new(&p);
    let mut cache = TokenCache::new(1024);
    let token = |i: usize, life: i64| {
        let mut c = claims();
        c["jti"] = json!(format!("t-{i}"));
        c["exp"] = json!(NOW + life);
        mint(Algorithm::HS256, c)
    };
    let hot: Vec<String> = (0..100).map(|i| token(i, 600)).collect();
    let burst: Vec<String> = (0..2000).map(|i| token(100_000 + i, 3600)).collect();
    let hits_of = |cache: &mut TokenCache, tokens: &[String], rounds: usize| {
        let before = cache.hits();
        for _ in 0..rounds {
            for t in tokens {
                v.verify_cached(t, &keys, NOW, cache).unwrap();
            }
        }
        cache.hits() - before
    };
    assert_eq!(hits_of(&mut cache, &hot, 10), 900);
    assert_eq!(hits_of(&mut cache, &burst, 1), 0);
    assert!(cache.len() <= 1024);
    assert_eq!(
        hits_of(&mut cache, &hot, 10),
        1000,
        "the hot set survived the burst"
    );
    // Expired entries still go before anything else, and are never served.
    let mut small = TokenCache::new(2);
    let soon = token(7, 5);
    v.verify_cached(&soon, &keys, NOW, &mut small).unwrap();
    v.verify_cached(&soon, &keys, NOW, &mut small).unwrap(); // protected now
    v.verify_cached(&token(8, 600), &keys, NOW, &mut small)
        .unwrap();
    v.verify_cached(&token(9, 600), &keys, NOW + 10, &mut small)
        .unwrap();
    let hits = small.hits();
    v.verify_cached(&token(8, 600), &keys, NOW + 10, &mut small)
        .unwrap();
    assert_eq!(
        small.hits(),
        hits + 1,
        "the expired (protected) entry went first"
    );
}

/// The split verification a host with its own asynchronous crypto uses: `host_check` names the
/// candidate keys before any signature work, `host_checked` takes the host's verdict and only
/// then parses and checks the claims. A refused or unchecked-and-bad signature, another key
/// set, or claims the policy refuses are refused.
#[test]
fn host_checked_signatures_still_pass_every_other_rule() {
    let p = policy();
    let keys = public_jwks();
    let token = mint(Algorithm::EdDSA, claims());
    let v = Verifier::new(&p);
    let check = v.host_check(&token, &keys).unwrap();
    assert_eq!(check.key_indices().len(), 1, "one candidate");
    assert_eq!(check.alg(), Algorithm::EdDSA);
    assert_eq!(keys.keys()[check.key_index()].kid(), Some("ed"));
    // The decoded signature and the signing input are the token's.
    let (input, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(tokengate::base64url_encode(check.signature()), sig);
    assert_eq!(check.signing_input(), input.as_bytes());
    let ok = v
        .host_checked(check.clone(), &keys, HostVerdict::Valid, NOW)
        .unwrap();
    assert_eq!(ok.claims().subject(), Some("alice"));
    assert_eq!(ok.key_id(), Some("ed"));
    assert_eq!(
        v.host_checked(check.clone(), &keys, HostVerdict::Invalid, NOW)
            .unwrap_err(),
        Error::SignatureInvalid
    );
    // Unchecked: the verifier's own backend decides, on the real signature and on a forged one.
    assert!(v
        .host_checked(check.clone(), &keys, HostVerdict::Unchecked, NOW)
        .is_ok());
    let other_sig = mint(Algorithm::EdDSA, json!({"sub": "mallory"}));
    let forged = format!("{input}.{}", other_sig.rsplit_once('.').unwrap().1);
    let forged = v.host_check(&forged, &keys).unwrap();
    assert_eq!(
        v.host_checked(forged, &keys, HostVerdict::Unchecked, NOW)
            .unwrap_err(),
        Error::SignatureInvalid
    );
    // Another key set (even one with the same keys) is never taken on the host's word.
    assert_eq!(
        v.host_checked(check.clone(), &public_jwks(), HostVerdict::Valid, NOW)
            .unwrap_err(),
        Error::SignatureInvalid
    );
    // Nor under a policy that does not allow the algorithm.
    let hs_only = Policy::builder()
        .algorithms([Algorithm::HS256])
        .issuer("https://idp.example")
        .audience("orders")
        .build()
        .unwrap();
    assert_eq!(
        Verifier::new(&hs_only)
            .host_checked(check.clone(), &keys, HostVerdict::Valid, NOW)
            .unwrap_err(),
        Error::SignatureInvalid
    );
    // A good signature does not save bad claims; the denylist applies too.
    let mut late = claims();
    late["exp"] = json!(NOW - 3600);
    let expired = v.host_check(&mint(Algorithm::EdDSA, late), &keys).unwrap();
    assert_eq!(
        v.host_checked(expired, &keys, HostVerdict::Valid, NOW)
            .unwrap_err(),
        Error::Expired
    );
    let denylist = Denylist::from_json(r#"{"jti": ["id-1"]}"#).unwrap();
    assert!(matches!(
        v.with_denylist(&denylist)
            .host_checked(check, &keys, HostVerdict::Valid, NOW),
        Err(Error::Revoked { .. })
    ));
    // Refusals before the signature come from host_check itself.
    assert_eq!(
        v.host_check(&mint(Algorithm::HS256, claims()), &keys)
            .unwrap_err(),
        Error::NoMatchingKey
    );
}

/// A token without a `kid` and several keys that could verify it: the host tries the
/// candidates in the set's order, moving on (`next_key`) while it finds the signature invalid,
/// and its verdict is on the current key; as `verify` does, and never past the last candidate.
#[test]
fn host_checks_try_the_candidates_in_turn() {
    let p = policy();
    let v = Verifier::new(&p);
    let other = tokengate::base64url_encode(
        ed25519_dalek::SigningKey::from_bytes(&[7; 32])
            .verifying_key()
            .as_bytes(),
    );
    // The token's key second, between two others.
    let three = JwkSet::from_value(&json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "x": other, "kid": "seven"},
        {"kty": "OKP", "crv": "Ed25519", "x": ed_jwk()["x"]},
        {"kty": "OKP", "crv": "Ed25519", "x": other},
    ]}))
    .unwrap();
    let kidless = sign_raw(
        Algorithm::EdDSA,
        r#"{"alg":"EdDSA"}"#,
        claims().to_string().as_bytes(),
    );
    let check = v.host_check(&kidless, &three).unwrap();
    assert_eq!(check.key_indices().collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(check.key_index(), 0);
    // Valid under the wrong key is still only the host's word for that key: the second half
    // takes it (the host is trusted on its verdict), and reports that key as the verifier.
    let lied = v
        .host_checked(check.clone(), &three, HostVerdict::Valid, NOW)
        .unwrap();
    assert_eq!(lied.key_id(), Some("seven"));
    // The honest host: invalid under key 0, moves on, valid under key 1.
    let mut honest = check.clone();
    assert!(honest.next_key());
    assert_eq!(honest.key_index(), 1);
    let ok = v
        .host_checked(honest.clone(), &three, HostVerdict::Valid, NOW)
        .unwrap();
    assert_eq!(ok.claims().subject(), Some("alice"));
    assert_eq!(ok.key_id(), None);
    // Past the last candidate there is no next key, and the cursor stays on the last.
    let mut last = honest.clone();
    assert!(last.next_key());
    assert!(!last.next_key());
    assert_eq!(last.key_index(), 2);
    assert_eq!(
        v.host_checked(last.clone(), &three, HostVerdict::Unchecked, NOW)
            .unwrap_err(),
        Error::SignatureInvalid
    );
    // Unchecked: the verifier's own backend tries the current key and those after it, as
    // `verify` tries them all.
    assert_eq!(
        v.host_checked(check.clone(), &three, HostVerdict::Unchecked, NOW)
            .unwrap()
            .claims()
            .json(),
        v.verify(&kidless, &three, NOW).unwrap().claims().json()
    );
    assert!(v
        .host_checked(honest, &three, HostVerdict::Unchecked, NOW)
        .is_ok());
    assert_eq!(
        v.host_checked(check, &three, HostVerdict::Invalid, NOW)
            .unwrap_err(),
        Error::SignatureInvalid
    );
}
