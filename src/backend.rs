//! Signature checks behind a small trait, so a host can bring its own primitives (WebCrypto
//! in the npm package, a faster verifier in wasm) while parsing, key selection and every
//! policy rule stay in this crate. [`RustCrypto`] is the default and the reference.

use hmac::Mac;
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::Verifier;

use crate::alg::Algorithm;
use crate::jwk::{Jwk, Prepared};

/// A signature did not verify. Deliberately opaque: why a signature failed is nobody's
/// business but an attacker's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSignature;

/// Verifies one signature with one key. Implementations must only return `Ok` for a valid
/// signature by `key` under exactly `alg`; the caller has already checked that `key` supports
/// `alg` ([`Jwk::supports`]).
pub trait SignatureBackend {
    /// Verifies `signature` over `message` (the JWS signing input).
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature>;
}

/// The pure-Rust RustCrypto primitives: `hmac`/`sha2`, `rsa` (PKCS#1 v1.5 and PSS with salt
/// length = hash length), `p256`/`p384`/`p521` (raw `r || s`, both in `[1, n-1]`), and
/// `ed25519-dalek` (strict verification: canonical `S`, no small-order `R` or key).
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCrypto;

impl SignatureBackend for RustCrypto {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        let ok = match (&key.prepared, alg) {
            (Prepared::Hmac(h), Algorithm::HS256) => h.hs256.clone().is_some_and(|mut m| {
                m.update(message);
                m.verify_slice(signature).is_ok()
            }),
            (Prepared::Hmac(h), Algorithm::HS384) => h.hs384.clone().is_some_and(|mut m| {
                m.update(message);
                m.verify_slice(signature).is_ok()
            }),
            (Prepared::Hmac(h), Algorithm::HS512) => h.hs512.clone().is_some_and(|mut m| {
                m.update(message);
                m.verify_slice(signature).is_ok()
            }),
            (Prepared::Rsa { key, .. }, Algorithm::RS256) => key
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(message),
                    signature,
                )
                .is_ok(),
            (Prepared::Rsa { key, .. }, Algorithm::RS384) => key
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha384>(),
                    &Sha384::digest(message),
                    signature,
                )
                .is_ok(),
            (Prepared::Rsa { key, .. }, Algorithm::RS512) => key
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha512>(),
                    &Sha512::digest(message),
                    signature,
                )
                .is_ok(),
            (Prepared::Rsa { key, .. }, Algorithm::PS256) => {
                key.pss_verify::<Sha256>(message, signature).is_ok()
            }
            (Prepared::Rsa { key, .. }, Algorithm::PS384) => {
                key.pss_verify::<Sha384>(message, signature).is_ok()
            }
            (Prepared::Rsa { key, .. }, Algorithm::PS512) => {
                key.pss_verify::<Sha512>(message, signature).is_ok()
            }
            (Prepared::P256 { key, .. }, Algorithm::ES256) => {
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|s| key.verify(message, &s).is_ok())
            }
            (Prepared::P384 { key, .. }, Algorithm::ES384) => {
                p384::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|s| key.verify(message, &s).is_ok())
            }
            (Prepared::P521 { key, .. }, Algorithm::ES512) => {
                p521::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|s| key.verify(message, &s).is_ok())
            }
            (Prepared::Ed25519 { key, .. }, Algorithm::EdDSA) => {
                ed25519_dalek::Signature::from_slice(signature)
                    .is_ok_and(|s| key.verify_strict(message, &s).is_ok())
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(BadSignature)
        }
    }
}
