//! Wycheproof primitive files, run through the signature backend with keys parsed from JWK
//! form: RSA PKCS#1 v1.5 and PSS, ECDSA (P1363 raw and DER), Ed25519, HMAC. Each file runs
//! through the default `FastVerify` backend and through the `RustCrypto` reference, each with
//! its own tally.

use serde_json::{json, Map, Value};
use tokengate::{base64url_encode, Algorithm, FastVerify, Jwk, RustCrypto, SignatureBackend};

use crate::common::{hex, load, Tally};

fn hash_bits(sha: &str) -> Option<u32> {
    match sha {
        "SHA-256" => Some(256),
        "SHA-384" => Some(384),
        "SHA-512" => Some(512),
        _ => None,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// The backends every primitive file runs through, with the name their tallies carry.
const BACKENDS: [(&str, &dyn SignatureBackend); 2] =
    [("FastVerify", &FastVerify), ("RustCrypto", &RustCrypto)];

/// Verifies one case; a key that does not parse counts as a rejection.
fn verdict(
    backend: &dyn SignatureBackend,
    key: &Result<Jwk, tokengate::ConfigError>,
    alg: Algorithm,
    msg: &[u8],
    sig: &[u8],
) -> bool {
    match key {
        Ok(k) => k.supports(alg) && backend.verify(alg, k, msg, sig).is_ok(),
        Err(_) => false,
    }
}

/// An EC JWK from the group's JWK, or from its uncompressed SEC1 point when it has none.
fn ec_jwk(g: &Value, crv: &str, len: usize) -> Result<Jwk, tokengate::ConfigError> {
    if let Some(j) = g.get("publicKeyJwk") {
        return Jwk::from_object(&obj(j.clone()));
    }
    let point = hex(g["publicKey"]["uncompressed"].as_str().expect("point"));
    if point.len() != 1 + 2 * len || point[0] != 4 {
        return Jwk::from_json("{}"); // not an uncompressed point: a refused key
    }
    let jwk = json!({"kty": "EC", "crv": crv,
        "x": base64url_encode(&point[1..1 + len]), "y": base64url_encode(&point[1 + len..])});
    Jwk::from_object(&obj(jwk))
}

fn rsa_jwk_from_components(public_key: &Value) -> Value {
    let n = hex(public_key["modulus"].as_str().expect("modulus"));
    let e = hex(public_key["publicExponent"].as_str().expect("exponent"));
    json!({"kty": "RSA", "n": base64url_encode(&n), "e": base64url_encode(&e)})
}

/// The per-case loop shared by every primitive file, once per backend. `group_key` maps a
/// group to its key, algorithm, and the policy reason when our expectation departs from the
/// label.
fn run_file(
    file: &str,
    group_key: impl FnMut(
        &Value,
    ) -> (
        Result<Jwk, tokengate::ConfigError>,
        Algorithm,
        Option<&'static str>,
    ),
    sig_field: &str,
) {
    let mut group_key = group_key;
    for (name, backend) in BACKENDS {
        run_file_with(
            backend,
            &format!("{file} [{name}]"),
            file,
            &mut group_key,
            sig_field,
        );
    }
}

fn run_file_with(
    backend: &dyn SignatureBackend,
    label: &str,
    file: &str,
    group_key: &mut impl FnMut(
        &Value,
    ) -> (
        Result<Jwk, tokengate::ConfigError>,
        Algorithm,
        Option<&'static str>,
    ),
    sig_field: &str,
) {
    let doc = load(&format!("wycheproof/{file}.json"));
    let mut tally = Tally::new(label);
    for group in doc["testGroups"].as_array().expect("groups") {
        let (key, alg, group_policy) = group_key(group);
        for t in group["tests"].as_array().expect("tests") {
            let id = t["tcId"].as_u64().expect("tcId");
            let msg = hex(t["msg"].as_str().expect("msg"));
            let sig = hex(t[sig_field].as_str().expect("sig"));
            let accepted = verdict(backend, &key, alg, &msg, &sig);
            let label = t["result"].as_str().expect("result");
            match (label, group_policy) {
                ("valid", Some(reason)) => tally.policy(id, !accepted, reason),
                ("acceptable", _) => tally.policy(
                    id,
                    !accepted,
                    "'acceptable' (legacy encoding): a strict verifier rejects it",
                ),
                _ => tally.check(
                    id,
                    accepted == (label == "valid"),
                    format!("{} -> accepted={accepted}", t["comment"]),
                ),
            }
        }
    }
    tally.finish();
}

fn rsa_pkcs1(file: &str) {
    run_file(
        file,
        |g| {
            let alg = match hash_bits(g["sha"].as_str().expect("sha")) {
                Some(256) => Algorithm::RS256,
                Some(384) => Algorithm::RS384,
                _ => Algorithm::RS512,
            };
            (Jwk::from_object(&obj(g["keyJwk"].clone())), alg, None)
        },
        "sig",
    );
}

#[test]
fn wycheproof_rsa_pkcs1() {
    for bits in [2048, 3072, 4096] {
        for sha in [256, 384, 512] {
            rsa_pkcs1(&format!("rsa_signature_{bits}_sha{sha}_test"));
        }
    }
}

fn pss_group(
    g: &Value,
) -> (
    Result<Jwk, tokengate::ConfigError>,
    Algorithm,
    Option<&'static str>,
) {
    let sha = hash_bits(g["sha"].as_str().expect("sha"));
    let mgf = hash_bits(g["mgfSha"].as_str().expect("mgfSha"));
    let slen = g["sLen"].as_u64().expect("sLen");
    let alg = match sha {
        Some(384) => Algorithm::PS384,
        Some(512) => Algorithm::PS512,
        _ => Algorithm::PS256,
    };
    let jwk = match g.get("publicKeyJwk") {
        Some(j) => {
            let mut j = j.clone();
            // The JWK's alg names the file's parameters; drop it so a mismatching group is
            // refused by the signature check rather than by key selection.
            if let Some(m) = j.as_object_mut() {
                m.remove("alg");
            }
            j
        }
        None => rsa_jwk_from_components(&g["publicKey"]),
    };
    let fits = sha.is_some() && mgf == sha && sha.map(|b| u64::from(b / 8)) == Some(slen);
    let policy = (!fits).then_some(
        "JWS PSxxx fixes MGF1 hash = message hash and salt length = hash length (RFC 7518 3.5): other parameters are refused",
    );
    (Jwk::from_object(&obj(jwk)), alg, policy)
}

#[test]
fn wycheproof_rsa_pss() {
    for file in [
        "rsa_pss_2048_sha256_mgf1_32_test",
        "rsa_pss_2048_sha384_mgf1_48_test",
        "rsa_pss_3072_sha256_mgf1_32_test",
        "rsa_pss_4096_sha256_mgf1_32_test",
        "rsa_pss_4096_sha384_mgf1_48_test",
        "rsa_pss_4096_sha512_mgf1_64_test",
        "rsa_pss_misc_test",
    ] {
        run_file(file, pss_group, "sig");
    }
}

#[test]
fn wycheproof_ecdsa_p1363() {
    for (file, alg, crv, len) in [
        (
            "ecdsa_secp256r1_sha256_p1363_test",
            Algorithm::ES256,
            "P-256",
            32,
        ),
        (
            "ecdsa_secp384r1_sha384_p1363_test",
            Algorithm::ES384,
            "P-384",
            48,
        ),
        (
            "ecdsa_secp521r1_sha512_p1363_test",
            Algorithm::ES512,
            "P-521",
            66,
        ),
    ] {
        run_file(file, |g| (ec_jwk(g, crv, len), alg, None), "sig");
    }
}

#[test]
fn wycheproof_ecdsa_der_is_refused() {
    run_file(
        "ecdsa_secp256r1_sha256_test",
        |g| {
            (
                ec_jwk(g, "P-256", 32),
                Algorithm::ES256,
                Some("ES256 signatures are raw r||s (RFC 7518 3.4): DER-encoded signatures are refused"),
            )
        },
        "sig",
    );
}

#[test]
fn wycheproof_ed25519() {
    run_file(
        "ed25519_test",
        |g| {
            (
                Jwk::from_object(&obj(g["publicKeyJwk"].clone())),
                Algorithm::EdDSA,
                None,
            )
        },
        "sig",
    );
}

#[test]
fn wycheproof_hmac() {
    for (file, alg) in [
        ("hmac_sha256_test", Algorithm::HS256),
        ("hmac_sha384_test", Algorithm::HS384),
        ("hmac_sha512_test", Algorithm::HS512),
    ] {
        let hash_bits = (alg.hash_len() * 8) as u64;
        let doc = load(&format!("wycheproof/{file}.json"));
        let mut tally = Tally::new(file);
        for g in doc["testGroups"].as_array().expect("groups") {
            let truncated = g["tagSize"].as_u64() != Some(hash_bits);
            let short_key = g["keySize"].as_u64().is_some_and(|k| k < hash_bits);
            for t in g["tests"].as_array().expect("tests") {
                let id = t["tcId"].as_u64().expect("tcId");
                let key = hex(t["key"].as_str().expect("key"));
                let jwk =
                    Jwk::from_object(&obj(json!({"kty": "oct", "k": base64url_encode(&key)})));
                let accepted = verdict(
                    &RustCrypto,
                    &jwk,
                    alg,
                    &hex(t["msg"].as_str().expect("msg")),
                    &hex(t["tag"].as_str().expect("tag")),
                );
                let valid = t["result"] == "valid";
                if valid && truncated {
                    tally.policy(id, !accepted, "truncated tag: JWS HS* MACs are full length");
                } else if valid && short_key {
                    tally.policy(
                        id,
                        !accepted,
                        "key shorter than the hash: refused (RFC 7518 3.2)",
                    );
                } else {
                    tally.check(
                        id,
                        accepted == valid,
                        format!("{} -> accepted={accepted}", t["comment"]),
                    );
                }
            }
        }
        tally.finish();
    }
}
