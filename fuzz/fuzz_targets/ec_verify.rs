//! Differential fuzzing of the default ECDSA path: any message and signature through
//! `FastVerify` (tokengate's own P-256/P-384 arithmetic and comb tables) and through the
//! `RustCrypto` reference must never panic and must give the same verdict.
//!
//! Layout: byte 0 picks the curve (bit 0), whether the signature is a real one over the
//! message with the fuzzer's bytes XORed in (bit 1), so both random and near-valid signatures
//! are explored, and one of eight fixed keys per curve (bits 2-4; the keys and their comb
//! tables are built once, so the fuzzer spends its time on signatures). Then the signature
//! bytes (twice the curve's length, or fewer), then the message.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use signature::Signer;
use tokengate::{base64url_encode, Algorithm, FastVerify, Jwk, RustCrypto, SignatureBackend};

/// A parsed public key and a signer for real signatures over the fuzzer's message.
struct Key {
    jwk: Jwk,
    /// The JWK's JSON, to parse a fresh (table-less) copy.
    json: String,
    sign: Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>,
}

fn jwk_json(crv: &str, len: usize, point: &[u8]) -> String {
    format!(
        r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
        base64url_encode(&point[1..1 + len]),
        base64url_encode(&point[1 + len..])
    )
}

fn keys() -> &'static [Vec<Key>; 2] {
    static KEYS: OnceLock<[Vec<Key>; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let p256 = (1u8..=8)
            .map(|i| {
                let sk = p256::ecdsa::SigningKey::from_slice(&[i; 32]).expect("scalar");
                let point = sk.verifying_key().to_sec1_point(false);
                let json = jwk_json("P-256", 32, point.as_bytes());
                Key {
                    jwk: Jwk::from_json(&json).expect("a valid EC key"),
                    json,
                    sign: Box::new(move |m| {
                        let s: p256::ecdsa::Signature = sk.sign(m);
                        s.to_bytes().to_vec()
                    }),
                }
            })
            .collect();
        let p384 = (1u8..=8)
            .map(|i| {
                let sk = p384::ecdsa::SigningKey::from_slice(&[i; 48]).expect("scalar");
                let point = sk.verifying_key().to_sec1_point(false);
                let json = jwk_json("P-384", 48, point.as_bytes());
                Key {
                    jwk: Jwk::from_json(&json).expect("a valid EC key"),
                    json,
                    sign: Box::new(move |m| {
                        let s: p384::ecdsa::Signature = sk.sign(m);
                        s.to_bytes().to_vec()
                    }),
                }
            })
            .collect();
        [p256, p384]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&select, rest)) = data.split_first() else {
        return;
    };
    let curve = usize::from(select & 1);
    let (alg, len) = [(Algorithm::ES256, 32), (Algorithm::ES384, 48)][curve];
    let key = &keys()[curve][usize::from((select >> 2) & 7)];
    let (fuzz_sig, message) = rest.split_at(rest.len().min(2 * len));
    let signature: Vec<u8> = if select & 2 != 0 {
        // A real signature with the fuzzer's bytes XORed in (shorter input: truncated).
        (key.sign)(message)
            .iter()
            .zip(fuzz_sig)
            .map(|(a, b)| a ^ b)
            .collect()
    } else {
        fuzz_sig.to_vec()
    };
    // Bit 5: a freshly parsed copy of the key, which verifies without tables (the shared keys
    // build theirs after a few uses).
    let cold;
    let fast_key = if select & 0x20 != 0 {
        cold = Jwk::from_json(&key.json).expect("the key again");
        &cold
    } else {
        &key.jwk
    };
    let fast = FastVerify
        .verify(alg, fast_key, message, &signature)
        .is_ok();
    let reference = RustCrypto
        .verify(alg, &key.jwk, message, &signature)
        .is_ok();
    assert_eq!(
        fast, reference,
        "{alg:?}: FastVerify {fast}, RustCrypto {reference}"
    );
});
