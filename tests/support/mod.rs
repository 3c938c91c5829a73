//! Token minting for tests: fixed keys, deterministic signatures (HMAC, RFC 6979 ECDSA,
//! Ed25519), so every test builds exactly the token it needs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use signature::Signer;
use tokengate::{base64url_encode as b64, Algorithm, JwkSet, Policy};

pub const HS_SECRET: [u8; 32] = [0x42; 32];
pub const EC_SECRET: [u8; 32] = [0x17; 32];
pub const ED_SECRET: [u8; 32] = [0x29; 32];
pub const NOW: i64 = 1_800_000_000;

pub fn hs_jwks() -> JwkSet {
    JwkSet::from_value(&json!({"keys": [{"kty": "oct", "kid": "hs", "k": b64(&HS_SECRET)}]}))
        .unwrap()
}

pub fn ec_signing_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&EC_SECRET).unwrap()
}

pub fn ed_signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&ED_SECRET)
}

pub fn ec_jwk() -> Value {
    let point = ec_signing_key().verifying_key().to_sec1_point(false);
    let bytes = point.as_bytes();
    json!({"kty": "EC", "crv": "P-256", "kid": "ec", "x": b64(&bytes[1..33]), "y": b64(&bytes[33..65])})
}

pub fn ed_jwk() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64(ed_signing_key().verifying_key().as_bytes())})
}

pub fn public_jwks() -> JwkSet {
    JwkSet::from_value(&json!({"keys": [ec_jwk(), ed_jwk()]})).unwrap()
}

/// Signs `header.payload` (raw JSON texts, base64url-encoded here) with the algorithm's
/// fixed test key.
pub fn sign_raw(alg: Algorithm, header: &str, payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload));
    let sig = match alg {
        Algorithm::HS256 => {
            let mut m = Hmac::<Sha256>::new_from_slice(&HS_SECRET).unwrap();
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Algorithm::ES256 => {
            let s: p256::ecdsa::Signature = ec_signing_key().sign(input.as_bytes());
            s.to_bytes().to_vec()
        }
        Algorithm::EdDSA => ed_signing_key().sign(input.as_bytes()).to_bytes().to_vec(),
        other => panic!("no test signer for {other}"),
    };
    format!("{input}.{}", b64(&sig))
}

/// A token with the default header for `alg` (kid of the test key) and these claims.
pub fn mint(alg: Algorithm, claims: Value) -> String {
    let kid = match alg {
        Algorithm::HS256 => "hs",
        Algorithm::ES256 => "ec",
        _ => "ed",
    };
    let header = json!({"alg": alg.name(), "typ": "JWT", "kid": kid}).to_string();
    sign_raw(alg, &header, claims.to_string().as_bytes())
}

/// Typical access-token claims, valid at [`NOW`].
pub fn claims() -> Value {
    json!({"iss": "https://idp.example", "sub": "alice", "aud": "orders", "iat": NOW - 10,
           "exp": NOW + 300, "jti": "id-1", "scope": "orders:read orders:write",
           "realm_access": {"roles": ["ops", "dev"]}})
}

pub fn policy() -> Policy {
    Policy::builder()
        .algorithms([Algorithm::HS256, Algorithm::ES256, Algorithm::EdDSA])
        .issuer("https://idp.example")
        .audience("orders")
        .build()
        .unwrap()
}
