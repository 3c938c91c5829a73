//! A tight HS256 verify loop for profilers (`perf record`, `valgrind --tool=callgrind`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use serde_json::json;
use tokengate::{base64url_encode as b64, Algorithm, JwkSet, Policy, Verifier};

fn main() {
    let iterations: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let secret = [0x5au8; 32];
    let claims = json!({"iss":"https://login.example.com/realms/production","sub":"f3c2a7d1-6b8e-4c1f-9a2d-5e7b8c9d0a1b",
        "aud":"orders-api","exp":1900000000u64,"iat":1800000000u64,"nbf":1800000000u64,"jti":"0b9f6c2e-3d4a-4e5b-8c7d-1f2a3b4c5d6e",
        "azp":"storefront-web","scope":"openid profile email orders:read orders:write","sid":"7a8b9c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d",
        "email":"alice.liddell@example.com","email_verified":true,"name":"Alice Liddell","preferred_username":"alice",
        "realm_access":{"roles":["default-roles-production","offline_access","customer"]},"groups":["/customers/eu","/beta-testers"]});
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT","kid":"bench"}"#),
        b64(claims.to_string().as_bytes())
    );
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    m.update(input.as_bytes());
    let token = format!("{input}.{}", b64(&m.finalize().into_bytes()));
    let keys = JwkSet::from_value(&json!({"keys":[{"kty":"oct","kid":"bench","k": b64(&secret)}]}))
        .unwrap();
    let policy = Policy::builder()
        .algorithms([Algorithm::HS256])
        .issuer("https://login.example.com/realms/production")
        .audience("orders-api")
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        Verifier::new(&policy)
            .verify(std::hint::black_box(&token), &keys, 1_800_000_100)
            .unwrap();
    }
    let per = start.elapsed().as_nanos() as f64 / iterations as f64;
    println!(
        "HS256 verify: {per:.0} ns/op over {iterations} iterations (token {} bytes)",
        token.len()
    );
}
