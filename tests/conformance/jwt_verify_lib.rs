//! Cases extracted from google/jwt_verify_lib, the library behind Envoy's jwt_authn:
//! verification (JWKS + token + now), token parsing, and JWKS parsing.

use serde_json::Value;
use tokengate::{decode_unverified, Algorithm, JwkSet, Limits, Policy, Verifier};

use crate::common::{load, Tally};

/// `now: null` in the vectors means wall-clock time; tokens then expire in 2033 or never. A
/// fixed instant keeps the run deterministic.
const WALL_CLOCK: i64 = 1_700_000_000;

/// Removes trailing commas (`,]` / `,}`) outside strings: some fixtures are not strict JSON.
fn normalise(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = json.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            escaped = !escaped && c == '\\';
            if c == '"' && !escaped {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn jwks_text(case: &Value, field: &str, tally: &mut Tally) -> String {
    let raw = match &case[field] {
        Value::String(s) => s.clone(),
        other => return other.to_string(),
    };
    if case["jwks_lenient_json"] == true {
        // Our JSON is strict: the raw text must be refused; the driver then tests the rest
        // of the case on the normalised text.
        let id = format!("{}#lenient-json", case["id"].as_str().expect("id"));
        let refused = JwkSet::from_json(&raw).is_err();
        tally.policy(id, refused, "trailing commas are not JSON (RFC 8259): refused; the case then runs on the normalised text");
        normalise(&raw)
    } else {
        raw
    }
}

fn expected_code(status: &str) -> Option<&'static str> {
    match status {
        "Ok" => None,
        "JwksKidAlgMismatch" => Some("ERR_JWKS_NO_MATCHING_KEY"),
        "JwtVerificationFail" => Some("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"),
        "JwtAudienceNotAllowed" => Some("ERR_JWT_CLAIM_VALIDATION_FAILED"),
        other => panic!("unmapped status {other}"),
    }
}

/// Verification cases whose expectation departs from ours by documented policy.
const VERIFY_POLICY: &[(&str, &str, Option<&str>)] = &[
    (
        "verify_jwk_ec_test/PubkeyNoKidOK",
        "a token that names a kid only matches keys with that kid (jose, RFC 7517 4.5); jwt_verify_lib also tries kid-less keys",
        Some("ERR_JWKS_NO_MATCHING_KEY"),
    ),
    (
        "verify_jwk_okp_test/PubkeyNoKidOK",
        "a token that names a kid only matches keys with that kid (jose, RFC 7517 4.5); jwt_verify_lib also tries kid-less keys",
        Some("ERR_JWKS_NO_MATCHING_KEY"),
    ),
    (
        "verify_audiences_test/MissingAudience",
        "the C++ test passes an empty JWKS; tokengate checks the signature before any claim, and refuses an empty key set",
        Some("ERR_JWKS_NO_USABLE_KEYS"),
    ),
];

#[test]
fn jwt_verify_lib_verify_cases() {
    let doc = load("jwt_verify_lib/jwt_verify_lib_conformance.json");
    let mut tally = Tally::new("jwt_verify_lib verify_cases");
    for case in doc["verify_cases"].as_array().expect("cases") {
        let id = case["id"].as_str().expect("id");
        let mut jwks: Value =
            serde_json::from_str(&jwks_text(case, "jwks", &mut tally)).expect("normalised JSON");
        if let Some(mutation) = case["jwks_mutation"].as_str() {
            let member = match mutation {
                "remove_alg" => "alg",
                "remove_kid" => "kid",
                other => panic!("unknown mutation {other}"),
            };
            for k in jwks["keys"].as_array_mut().expect("keys") {
                k.as_object_mut().expect("key").remove(member);
            }
        }
        let mut builder = Policy::builder()
            .algorithms(Algorithm::ALL)
            .require_expiration(false);
        for aud in case["allowed_audiences"].as_array().into_iter().flatten() {
            builder = builder.audience(aud.as_str().expect("aud"));
        }
        let policy = builder.build().expect("policy");
        let token = case["token"].as_str().expect("token");
        // `now: 1` is jwt_verify_lib's way of saying "before exp"; it does not check `iat`.
        // tokengate refuses an `iat` in the future, so tokens that carry one are verified at
        // their own `iat`, which is also before `exp`.
        let now = match case["now"].as_i64() {
            Some(1) => decode_unverified(token, &Limits::DEFAULT)
                .ok()
                .and_then(|t| t.claims.issued_at())
                .unwrap_or(1),
            Some(n) => n,
            None => WALL_CLOCK,
        };
        let outcome = match JwkSet::from_value(&jwks) {
            Err(e) => Err(e.code()),
            Ok(keys) => Verifier::new(&policy)
                .verify(token, &keys, now)
                .map(|_| ())
                .map_err(|e| e.code()),
        };
        if let Some((_, reason, ours)) = VERIFY_POLICY.iter().find(|(i, _, _)| *i == id) {
            tally.policy(id, outcome.err() == *ours, reason);
            continue;
        }
        let expected = expected_code(case["expected_status"].as_str().expect("status"));
        tally.check(
            id,
            outcome.err() == expected,
            format!("expected {expected:?}, got {outcome:?}"),
        );
    }
    tally.finish();
}

/// The tokengate code for a jwt_verify_lib parse status, and for claim errors the claim.
fn parse_expectation(status: &str) -> (Option<&'static str>, Option<String>) {
    if status == "Ok" {
        return (None, None);
    }
    if let Some(rest) = status.strip_prefix("JwtPayloadParseError") {
        for claim in ["Iss", "Sub", "Iat", "Nbf", "Exp", "Jti", "Aud"] {
            if rest.starts_with(claim) {
                return (
                    Some("ERR_JWT_CLAIM_VALIDATION_FAILED"),
                    Some(claim.to_ascii_lowercase()),
                );
            }
        }
        if rest == "BadJson" {
            return (Some("ERR_JWT_INVALID"), None);
        }
        return (Some("ERR_JWS_INVALID"), None); // BadBase64
    }
    match status {
        "JwtHeaderNotImplementedAlg" => (Some("ERR_JOSE_NOT_SUPPORTED"), None),
        _ => (Some("ERR_JWS_INVALID"), None),
    }
}

#[test]
fn jwt_verify_lib_parse_cases() {
    let doc = load("jwt_verify_lib/jwt_verify_lib_conformance.json");
    let mut tally = Tally::new("jwt_verify_lib jwt_parse_cases");
    for case in doc["jwt_parse_cases"].as_array().expect("cases") {
        let id = case["id"].as_str().expect("id");
        let token = case["token"].as_str().expect("token");
        let status = case["expected_parse_status"].as_str().expect("status");
        let (code, claim) = parse_expectation(status);
        let outcome = decode_unverified(token, &Limits::DEFAULT);
        let got_code = outcome.as_ref().err().map(|e| e.code());
        let got_claim = outcome
            .as_ref()
            .err()
            .and_then(|e| e.claim())
            .map(String::from);
        if id == "jwt_test/TestTooManySections" {
            tally.policy(
                id,
                got_code == Some("ERR_JOSE_NOT_SUPPORTED"),
                "five segments is the JWE compact form: reported as unsupported, not as malformed",
            );
            continue;
        }
        let ok = got_code == code && (claim.is_none() || got_claim == claim);
        tally.check(id, ok, format!("{status}: got {:?}", outcome.err()));
    }
    tally.finish();
}

/// JWKS parse cases whose expectation departs from ours by documented policy.
const NOT_ED25519: &str = "x is not an Ed25519 point (it is a P-256 x coordinate; checked independently): refused when the set is parsed, jwt_verify_lib only fails at verification";

const JWKS_POLICY: &[(&str, &str, bool)] = &[
    ("jwks_test/GoodOKP", NOT_ED25519, false),
    ("jwks_test/JwksIgnoreUnsupportedKey", NOT_ED25519, false),
    ("jwks_test/JwksIgnoreUnsupportedKeyInMiddle", NOT_ED25519, false),
    ("jwks_test/JwksECMissingBothAlgCrvES256", "EC keys must name their curve (RFC 7518 6.2.1.1 \"crv\" is required); jwt_verify_lib defaults to P-256", false),
    ("jwks_test/JwkECMissingCrv", "EC keys must name their curve (RFC 7518 6.2.1.1 \"crv\" is required); jwt_verify_lib derives it from alg", false),
    ("jwks_test/JwksECUnspecifiedCrv", "EC keys must name their curve (RFC 7518 6.2.1.1 \"crv\" is required)", false),
];

#[test]
fn jwt_verify_lib_jwks_cases() {
    let doc = load("jwt_verify_lib/jwt_verify_lib_conformance.json");
    let mut tally = Tally::new("jwt_verify_lib jwks_parse_cases");
    for case in doc["jwks_parse_cases"].as_array().expect("cases") {
        let id = case["id"].as_str().expect("id");
        let text = jwks_text(case, "jwks_text", &mut tally);
        let outcome = JwkSet::from_json(&text);
        if let Some((_, reason, accepted)) = JWKS_POLICY.iter().find(|(i, _, _)| *i == id) {
            tally.policy(id, outcome.is_ok() == *accepted, reason);
            continue;
        }
        let expect_ok = case["expected_status"] == "Ok";
        tally.check(
            id,
            outcome.is_ok() == expect_ok,
            format!(
                "expected {}, got {:?}",
                case["expected_status"],
                outcome.err()
            ),
        );
    }
    tally.finish();
}
