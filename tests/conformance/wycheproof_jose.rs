//! Wycheproof JOSE files: compact JWS against a JWK or JWKS (`json_web_signature`,
//! `json_web_key`, `json_web_crypto`). Signature level only: the payloads are not claims sets.

use serde_json::Value;
use tokengate::Verifier;

use crate::common::{any_alg_policy, key_set, load, Tally};

/// Cases whose Wycheproof label depends on policy (Wycheproof marks them with flags; each is listed here with its reason). Our
/// documented verdict for each is "reject"; the reason says why.
const REJECTED_BY_POLICY: &[(&str, u64, &str)] = &[
    (
        "json_web_signature",
        372,
        "token contains '?': strict base64url rejects it (RFC 7515 2)",
    ),
    (
        "json_web_signature",
        373,
        "token contains '?': strict base64url rejects it (RFC 7515 2)",
    ),
    (
        "json_web_signature",
        346,
        "JWK alg PS256 but header alg PS384: the JWK's alg must equal the token's",
    ),
    (
        "json_web_signature",
        350,
        "JWK alg PS256 but header alg PS384: the JWK's alg must equal the token's",
    ),
    (
        "json_web_signature",
        347,
        "JWK alg 'ES521' is not a registered algorithm: the key is skipped as unsupported",
    ),
    (
        "json_web_signature",
        351,
        "JWK alg 'ES521' is not a registered algorithm: the key is skipped as unsupported",
    ),
];

/// Cases labelled invalid that a correct verifier must accept: the token as stored in this
/// copy is canonical base64url and its HMAC verifies (checked with Python's `hmac`); the
/// padding the label names is not in the stored token.
const ACCEPTED_BY_POLICY: &[(&str, u64, &str)] = &[
    (
        "json_web_signature",
        367,
        "stored token is canonical and its MAC verifies; the padding the label names is absent",
    ),
    (
        "json_web_signature",
        370,
        "stored token is canonical and its MAC verifies; the padding the label names is absent",
    ),
];

fn run(file: &str) {
    let doc = load(&format!("wycheproof/{file}_test.json"));
    let policy = any_alg_policy();
    let verifier = Verifier::new(&policy);
    let mut tally = Tally::new(file);
    for group in doc["testGroups"].as_array().expect("groups") {
        let key = group
            .get("public")
            .or_else(|| group.get("private"))
            .expect("key");
        let keys = key_set(key);
        for t in group["tests"].as_array().expect("tests") {
            let id = t["tcId"].as_u64().expect("tcId");
            let flags: Vec<&str> = t["flags"]
                .as_array()
                .map(|f| f.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let outcome = match (&keys, &t["jws"]) {
                (Err(e), _) => Err(e.code()),
                (Ok(keys), Value::String(jws)) => verifier
                    .verify_jws(jws, keys)
                    .map(|_| ())
                    .map_err(|e| e.code()),
                // The JSON serialization, fed as its JSON text.
                (Ok(keys), other) => verifier
                    .verify_jws(&other.to_string(), keys)
                    .map(|_| ())
                    .map_err(|e| e.code()),
            };
            let detail = format!("{} ({}) -> {:?}", t["comment"], flags.join(","), outcome);
            if let Some((_, _, reason)) = REJECTED_BY_POLICY
                .iter()
                .find(|(f, i, _)| *f == file && *i == id)
            {
                tally.policy(id, outcome.is_err(), reason);
                continue;
            }
            if let Some((_, _, reason)) = ACCEPTED_BY_POLICY
                .iter()
                .find(|(f, i, _)| *f == file && *i == id)
            {
                tally.policy(id, outcome.is_ok(), reason);
                continue;
            }
            if group["comment"]
                .as_str()
                .is_some_and(|c| c.starts_with("jwe"))
            {
                // JWE is out of scope for a JWS verifier: every JWE token must be refused,
                // including the ones Wycheproof expects a JWE library to decrypt.
                if t["result"] == "valid" {
                    tally.policy(
                        id,
                        outcome.is_err(),
                        "JWE (encryption) is not supported: refused",
                    );
                } else {
                    tally.check(id, outcome.is_err(), detail);
                }
                continue;
            }
            let mut ok = outcome.is_ok() == (t["result"] == "valid");
            // Where the flag names the reason, the error code must name it too.
            if keys.is_err() {
                // The key set was refused; there is no token-level code to compare.
            } else if flags.contains(&"AlgIsNone") {
                ok &= outcome == Err("ERR_JOSE_ALG_NOT_ALLOWED");
            }
            if keys.is_ok() && flags.contains(&"JsonSerialization") {
                ok &= outcome == Err("ERR_JOSE_NOT_SUPPORTED");
            }
            tally.check(id, ok, detail);
        }
    }
    tally.finish();
}

#[test]
fn wycheproof_json_web_signature() {
    run("json_web_signature");
}

#[test]
fn wycheproof_json_web_key() {
    run("json_web_key");
}

#[test]
fn wycheproof_json_web_crypto() {
    run("json_web_crypto");
}
