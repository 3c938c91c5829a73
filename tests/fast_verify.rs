//! Differential test of `FastVerify`'s ECDSA path (tokengate's own P-256/P-384/P-521 arithmetic)
//! against the `RustCrypto` reference: random keys, random messages, and signatures that are
//! valid, bit-flipped, truncated, extended, high-`s`, with `r` or `s` of 0, 1, n - 1, n, n + 1,
//! p, all ones, or random, and valid signatures over another message. Both backends must give
//! the same verdict on every case, and accept every valid signature.
//!
//! `TOKENGATE_DIFF_CASES` sets the number of keys per curve (default 24; `make diff-long` runs
//! 2,000). The RSA path has its own differential tests (`src/signature/bignum.rs` and
//! `js/test/fast-verify.test.mjs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::{json, Map, Value};
use signature::Signer;
use tokengate::{base64url_encode, Algorithm, FastVerify, Jwk, RustCrypto, SignatureBackend};

extern crate alloc;

/// The crate's own test generator (xorshift64), so a failing case reproduces.
#[path = "../src/test_rng.rs"]
mod test_rng;
use test_rng::Rng;

fn cases() -> usize {
    std::env::var("TOKENGATE_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Big-endian `a + k` for a small `k` (wrapping at the byte length).
fn plus(a: &[u8], k: u8) -> Vec<u8> {
    let mut out = a.to_vec();
    let mut carry = k as u16;
    for b in out.iter_mut().rev() {
        let v = *b as u16 + carry;
        *b = v as u8;
        carry = v >> 8;
    }
    out
}

/// Big-endian `a - b` (`a >= b`).
fn minus(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = a.to_vec();
    let mut borrow = 0i16;
    for (x, y) in out.iter_mut().rev().zip(b.iter().rev()) {
        let v = *x as i16 - *y as i16 - borrow;
        *x = v.rem_euclid(256) as u8;
        borrow = (v < 0) as i16;
    }
    out
}

struct CurveCase {
    alg: Algorithm,
    crv: &'static str,
    len: usize,
    n: Vec<u8>,
    p: Vec<u8>,
}

fn jwk(crv: &str, len: usize, sec1: &[u8]) -> Jwk {
    let v = json!({"kty": "EC", "crv": crv,
        "x": base64url_encode(&sec1[1..1 + len]), "y": base64url_encode(&sec1[1 + len..])});
    let Value::Object(map) = v else {
        unreachable!()
    };
    Jwk::from_object(&map as &Map<String, Value>).expect("a valid EC key")
}

/// The signatures to try for one valid `r || s`.
fn mutations(rng: &mut Rng, c: &CurveCase, good: &[u8]) -> Vec<Vec<u8>> {
    let (r, s) = good.split_at(c.len);
    let with = |r: &[u8], s: &[u8]| [r, s].concat();
    let mut flipped = good.to_vec();
    flipped[rng.below(good.len())] ^= 1 << rng.below(8);
    let one = plus(&vec![0; c.len], 1);
    let zero = vec![0; c.len];
    let n_minus_1 = minus(&c.n, &one);
    vec![
        good.to_vec(),
        flipped,
        good[..good.len() - 1].to_vec(),
        [good, &[0]].concat(),
        with(r, &minus(&c.n, s)), // high s: ECDSA accepts both s and n - s
        with(&zero, s),
        with(r, &zero),
        with(&one, s),
        with(r, &one),
        with(&n_minus_1, s),
        with(r, &n_minus_1),
        with(&c.n, s),
        with(r, &c.n),
        with(&plus(&c.n, 1), s),
        with(r, &plus(&c.n, 1)),
        with(&c.p, s),
        with(&vec![0xff; c.len], s),
        with(r, &vec![0xff; c.len]),
        rng.bytes(2 * c.len),
        Vec::new(),
    ]
}

fn run(c: &CurveCase, sign: impl Fn(&[u8], &[u8]) -> Option<(Vec<u8>, Vec<u8>)>) {
    let mut rng = Rng(0x5eed ^ c.len as u64);
    let (mut ran, mut valid) = (0usize, 0usize);
    for _ in 0..cases() {
        let mut secret = rng.bytes(c.len);
        // P-521's order is 521 bits in 66 bytes: keep the secret's top byte in range.
        if c.n[0] < 0x80 {
            secret[0] &= c.n[0];
        }
        let len = 1 + rng.below(600);
        let message = rng.bytes(len);
        // A zero or out-of-range secret is refused by the signer: draw again.
        let Some((sec1, good)) = sign(&secret, &message) else {
            continue;
        };
        let key = jwk(c.crv, c.len, &sec1);
        let mut other = message.clone();
        other.push(1);
        let mut tries: Vec<(Vec<u8>, Vec<u8>)> = mutations(&mut rng, c, &good)
            .into_iter()
            .map(|sig| (message.clone(), sig))
            .collect();
        tries.push((other, good.clone()));
        for (i, (msg, sig)) in tries.iter().enumerate() {
            let fast = FastVerify.verify(c.alg, &key, msg, sig).is_ok();
            let reference = RustCrypto.verify(c.alg, &key, msg, sig).is_ok();
            assert_eq!(
                fast, reference,
                "{:?} mutation {i}: FastVerify {fast}, RustCrypto {reference}",
                c.alg
            );
            if i == 0 || i == 4 {
                assert!(
                    fast,
                    "{:?}: a valid signature was refused (mutation {i})",
                    c.alg
                );
            }
            ran += 1;
            valid += fast as usize;
        }
    }
    assert!(
        ran > 0 && valid >= 2,
        "{:?}: {ran} cases, {valid} valid",
        c.alg
    );
    println!(
        "fast-verify differential {:?}: ran {ran}, valid {valid}",
        c.alg
    );
}

#[test]
fn es256_agrees_with_rustcrypto() {
    let c = CurveCase {
        alg: Algorithm::ES256,
        crv: "P-256",
        len: 32,
        n: hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
        p: hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
    };
    run(&c, |secret, message| {
        let sk = p256::ecdsa::SigningKey::from_slice(secret).ok()?;
        let sig: p256::ecdsa::Signature = sk.sign(message);
        let point = sk.verifying_key().to_sec1_point(false);
        Some((point.as_bytes().to_vec(), sig.to_bytes().to_vec()))
    });
}

#[test]
fn es384_agrees_with_rustcrypto() {
    let c = CurveCase {
        alg: Algorithm::ES384,
        crv: "P-384",
        len: 48,
        n: hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"),
        p: hex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"),
    };
    run(&c, |secret, message| {
        let sk = p384::ecdsa::SigningKey::from_slice(secret).ok()?;
        let sig: p384::ecdsa::Signature = sk.sign(message);
        let point = sk.verifying_key().to_sec1_point(false);
        Some((point.as_bytes().to_vec(), sig.to_bytes().to_vec()))
    });
}

#[test]
fn es512_agrees_with_rustcrypto() {
    let c = CurveCase {
        alg: Algorithm::ES512,
        crv: "P-521",
        len: 66,
        n: hex("01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"),
        p: hex("01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    };
    run(&c, |secret, message| {
        let sk = p521::ecdsa::SigningKey::from_slice(secret).ok()?;
        let sig: p521::ecdsa::Signature = sk.sign(message);
        let point = sk.verifying_key().to_sec1_point(false);
        Some((point.as_bytes().to_vec(), sig.to_bytes().to_vec()))
    });
}
