//! Differential fuzzing of the default RSA path: any modulus, exponent, message and signature
//! bytes through `FastVerify` and through the `RustCrypto` reference must never panic and must
//! give the same verdict, for every RSA algorithm.
//!
//! Layout: byte 0 picks the modulus size (2048 to 8192 bits, not only whole bytes) and the
//! exponent; the next bytes are the modulus (its top bit and low bit forced, so it is a valid
//! odd public key of that size), then the signature, then the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate::{base64url_encode, Algorithm, FastVerify, Jwk, RustCrypto, SignatureBackend};

const RSA: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

fuzz_target!(|data: &[u8]| {
    let Some((&select, rest)) = data.split_first() else {
        return;
    };
    let bits = [2048usize, 2051, 2056, 3072, 4096, 8192][usize::from(select % 6)];
    let e: &[u8] = match (select / 6) % 3 {
        0 => &[1, 0, 1],
        1 => &[3],
        _ => &[1, 0, 3],
    };
    let len = bits.div_ceil(8);
    if rest.len() < len {
        return;
    }
    let (n, rest) = rest.split_at(len);
    let mut n = n.to_vec();
    let excess = 8 * len - bits;
    n[0] = (n[0] & (0xff >> excess)) | (0x80 >> excess);
    n[len - 1] |= 1;
    // The signature: as long as the modulus when there are enough bytes (so RSAVP1 runs), else
    // whatever is left (a length the checks must refuse).
    let sig_len = len.min(rest.len());
    let (signature, message) = rest.split_at(sig_len);
    let json = format!(
        r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
        base64url_encode(&n),
        base64url_encode(e)
    );
    let Ok(key) = Jwk::from_json(&json) else {
        return; // e.g. the ROCA fingerprint
    };
    for alg in RSA {
        let fast = FastVerify.verify(alg, &key, message, signature).is_ok();
        let reference = RustCrypto.verify(alg, &key, message, signature).is_ok();
        assert_eq!(
            fast, reference,
            "{alg:?}: FastVerify {fast}, RustCrypto {reference}"
        );
    }
});
