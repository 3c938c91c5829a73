//! RFC 7515 appendix A (A.1-A.5) and the JOSE cookbook (RFC 7520 section 4, RFC 7797,
//! RFC 8037).

use serde_json::{json, Value};
use tokengate::{Algorithm, JwkSet, Policy, Verifier};

use crate::common::{any_alg_policy, key_set, load, vectors_dir, Tally};

/// The RFC 7515 A.1 payload's `exp` (2011-03-22): verify just before it.
const A1_NOW: i64 = 1_300_819_000;

/// A JWK with its private members removed: tokengate refuses private keys, and a verifier
/// only ever needs the public half.
fn public_half(jwk: &Value) -> Value {
    let mut j = jwk.clone();
    if let Some(m) = j.as_object_mut() {
        if m.get("kty") != Some(&json!("oct")) {
            for private in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
                m.remove(private);
            }
        }
    }
    j
}

#[test]
fn rfc7515_appendix_a() {
    let doc = load("rfc/rfc7515_appendix_a.json");
    let vectors = doc["vectors"].as_array().expect("vectors");
    let a1_keys = key_set(&vectors[0]["public_jwk"]).expect("A.1 key");
    let mut tally = Tally::new("rfc7515_appendix_a");
    for v in vectors {
        let id = v["id"].as_str().expect("id");
        let token = v["compact"].as_str().expect("compact");
        let keys = match v.get("public_jwk") {
            Some(jwk) => key_set(&public_half(jwk)).expect("key"),
            None => a1_keys.clone(),
        };
        let jws_policy = any_alg_policy();
        let jwt_policy = Policy::builder()
            .algorithms(Algorithm::ALL)
            .issuer("joe")
            .build()
            .expect("policy");
        let jws = Verifier::new(&jws_policy).verify_jws(token, &keys);
        let jwt = Verifier::new(&jwt_policy).verify(token, &keys, A1_NOW);
        match id {
            // A.1-A.3 carry the RFC 7519 example claims set; A.1 and A.2 also expire.
            "RFC7515-A.1" | "RFC7515-A.2" | "RFC7515-A.3" => {
                let claims_ok = jwt.as_ref().is_ok_and(|t| {
                    t.claims().issuer() == Some("joe")
                        && t.claims().contains("http://example.com/is_root")
                });
                let expired = Verifier::new(&jwt_policy)
                    .verify(token, &keys, A1_NOW + 3600)
                    .map_err(|e| e.code());
                tally.check(
                    id,
                    jws.is_ok() && claims_ok && expired == Err("ERR_JWT_EXPIRED"),
                    format!("{jws:?} {jwt:?} {expired:?}"),
                );
            }
            // A.4's payload is the bytes "Payload": a valid JWS, not a JWT.
            "RFC7515-A.4" => {
                let ok = jws.as_ref().is_ok_and(|j| j.payload == b"Payload")
                    && jwt.as_ref().map_err(|e| e.code()).err() == Some("ERR_JWT_INVALID");
                tally.check(id, ok, format!("{jws:?} {jwt:?}"));
            }
            // A.5 is unsecured (`alg: none`): never verifies.
            "RFC7515-A.5" => {
                let ok =
                    jws.as_ref().map_err(|e| e.code()).err() == Some("ERR_JOSE_ALG_NOT_ALLOWED");
                tally.check(id, ok, format!("{jws:?}"));
            }
            other => panic!("unexpected vector {other}"),
        }
    }
    tally.finish();
}

#[test]
fn jose_cookbook() {
    let base = vectors_dir().join("jose-cookbook");
    let mut files: Vec<String> = Vec::new();
    for dir in ["jws", "rfc7797", "curve25519"] {
        for entry in std::fs::read_dir(base.join(dir)).expect("cookbook dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("name");
            if name.ends_with(".json") && !(dir == "curve25519" && name != "jws.json") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    files.sort();
    let policy = any_alg_policy();
    let verifier = Verifier::new(&policy);
    let mut tally = Tally::new("jose-cookbook");
    for file in &files {
        let doc = load(&format!("jose-cookbook/{file}"));
        let key = match &doc["input"]["key"] {
            Value::Array(keys) => json!({"keys": keys.iter().map(public_half).collect::<Vec<_>>()}),
            k => json!({"keys": [public_half(k)]}),
        };
        // A set built from the cookbook keys; 4_8 mixes RSA, EC and oct keys, which a
        // tokengate key set refuses, so each key is also tried alone.
        let sets: Vec<JwkSet> = match JwkSet::from_value(&key) {
            Ok(s) => vec![s],
            Err(_) => key["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .filter_map(|k| key_set(k).ok())
                .collect(),
        };
        assert!(!sets.is_empty(), "{file}: no key");
        let out = &doc["output"];
        if let Some(compact) = out["compact"].as_str() {
            let accepted = sets.iter().any(|s| verifier.verify_jws(compact, s).is_ok());
            let id = format!("{file}#compact");
            if file.starts_with("rfc7797") {
                let code = sets[0]
                    .keys()
                    .first()
                    .map(|_| verifier.verify_jws(compact, &sets[0]).map_err(|e| e.code()));
                tally.policy(id, code == Some(Err("ERR_JOSE_NOT_SUPPORTED")), "b64:false (RFC 7797) is a crit extension this verifier does not implement: refused");
            } else if file.contains("4_5.") {
                tally.policy(id, !accepted, "detached content: the compact form carries no payload, and detached payloads are not supported");
            } else {
                tally.check(id, accepted, "valid compact JWS refused");
            }
        }
        for form in ["json", "json_flat"] {
            if let Some(j) = out.get(form) {
                let outcome = verifier
                    .verify_jws(&j.to_string(), &sets[0])
                    .map_err(|e| e.code());
                tally.policy(
                    format!("{file}#{form}"),
                    outcome == Err("ERR_JOSE_NOT_SUPPORTED"),
                    "JWS JSON serialization: only the compact serialization is accepted",
                );
            }
        }
    }
    tally.finish();
}
