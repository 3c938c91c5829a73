//! Signature checks behind a small trait, so a host can bring its own primitives (WebCrypto
//! in the npm package, a faster verifier in wasm) while parsing, key selection and every
//! policy rule stay in this crate. [`RustCrypto`] is the default and the reference.

use hmac::Mac;
#[cfg(feature = "reference")]
use sha2::{Digest, Sha256, Sha384, Sha512};
#[cfg(feature = "reference")]
use signature::Verifier;

use crate::jose::alg::Algorithm;
use crate::jose::jwk::{Jwk, Prepared};
use crate::signature::sha::Sha;

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

/// An asynchronous [`SignatureBackend`]: for hosts whose primitives return promises (WebCrypto's
/// `crypto.subtle.verify`). Used by [`crate::Verifier::verify_async`], which keeps parsing, key
/// selection and every policy rule in this crate; only the signature check is delegated.
pub trait AsyncSignatureBackend {
    /// Verifies `signature` over `message` (the JWS signing input). Same contract as
    /// [`SignatureBackend::verify`].
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        message: &[u8],
        signature: &[u8],
    ) -> impl core::future::Future<Output = Result<(), BadSignature>>;
}

/// A keyed HMAC state (cloned, so the prepared key is reused) over `message`, compared in
/// constant time with `tag`. `None`: the key may not be used with this hash.
fn mac_ok<M: Mac + Clone>(keyed: Option<&M>, message: &[u8], tag: &[u8]) -> bool {
    keyed.is_some_and(|m| {
        let mut m = m.clone();
        m.update(message);
        m.verify_slice(tag).is_ok()
    })
}

/// HMAC and EdDSA, which both backends check with the RustCrypto `hmac` and
/// `ed25519-dalek` crates. `None` for any other pair.
fn hmac_or_eddsa(alg: Algorithm, key: &Jwk, message: &[u8], signature: &[u8]) -> Option<bool> {
    Some(match (&key.prepared, alg) {
        (Prepared::Hmac(h), Algorithm::HS256) => mac_ok(h.hs256.as_ref(), message, signature),
        (Prepared::Hmac(h), Algorithm::HS384) => mac_ok(h.hs384.as_ref(), message, signature),
        (Prepared::Hmac(h), Algorithm::HS512) => mac_ok(h.hs512.as_ref(), message, signature),
        (Prepared::Ed25519 { key, .. }, Algorithm::EdDSA) => {
            ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify_strict(message, &s).is_ok())
        }
        _ => return None,
    })
}

/// RSASSA-PKCS1-v1_5 with the `DigestInfo` prefix of `D` (a missing NULL is refused).
#[cfg(feature = "reference")]
fn pkcs1_ok<D: Digest + sha2::digest::const_oid::AssociatedOid>(
    key: &rsa::PublicKey,
    message: &[u8],
    sig: &[u8],
) -> bool {
    key.verify(rsa::Pkcs1v15Sign::new::<D>(), &D::digest(message), sig)
        .is_ok()
}

/// The pure-Rust RustCrypto primitives: `hmac`/`sha2`, `rsa` (PKCS#1 v1.5 and PSS with salt
/// length = hash length), `p256`/`p384`/`p521` (raw `r || s`, both in `[1, n-1]`), and
/// `ed25519-dalek` (strict verification: canonical `S`, no small-order `R` or key). The
/// reference that [`FastVerify`] is tested against; only with the `reference` feature (on by
/// default; the npm module leaves it out).
#[cfg(feature = "reference")]
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCrypto;

#[cfg(feature = "reference")]
impl SignatureBackend for RustCrypto {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        if let Some(ok) = hmac_or_eddsa(alg, key, message, signature) {
            return if ok { Ok(()) } else { Err(BadSignature) };
        }
        let ok = match (&key.prepared, alg) {
            (Prepared::Rsa { key, .. }, Algorithm::RS256) => {
                pkcs1_ok::<Sha256>(key, message, signature)
            }
            (Prepared::Rsa { key, .. }, Algorithm::RS384) => {
                pkcs1_ok::<Sha384>(key, message, signature)
            }
            (Prepared::Rsa { key, .. }, Algorithm::RS512) => {
                pkcs1_ok::<Sha512>(key, message, signature)
            }
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
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(BadSignature)
        }
    }
}

/// The default backend: RSA (PKCS#1 v1.5 and PSS) through tokengate's own variable-time
/// Montgomery arithmetic, and ECDSA P-256/P-384/P-521 (ES256, ES384, ES512) through
/// unsaturated 29-bit field arithmetic with per-key comb tables built once a key is in use.
/// Both are several times faster than the RustCrypto reference in wasm32, where the generic
/// constant-time code has no 64x64->128 multiply to lean on. Verification handles only public
/// values, so variable time leaks nothing. HMAC and EdDSA go to the RustCrypto `hmac` and
/// `ed25519-dalek` crates. With the `reference` feature, `RustCrypto` is the reference: the
/// two agree on every Wycheproof case and on random differential inputs
/// (`tests/fast_verify.rs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FastVerify;

impl SignatureBackend for FastVerify {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        let ok = match (&key.prepared, alg) {
            (Prepared::Rsa { fast, .. }, Algorithm::RS256) => {
                fast.verify_pkcs1v15(Sha::Sha256, message, signature)
            }
            (Prepared::Rsa { fast, .. }, Algorithm::RS384) => {
                fast.verify_pkcs1v15(Sha::Sha384, message, signature)
            }
            (Prepared::Rsa { fast, .. }, Algorithm::RS512) => {
                fast.verify_pkcs1v15(Sha::Sha512, message, signature)
            }
            (Prepared::Rsa { fast, .. }, Algorithm::PS256) => {
                fast.verify_pss(Sha::Sha256, message, signature)
            }
            (Prepared::Rsa { fast, .. }, Algorithm::PS384) => {
                fast.verify_pss(Sha::Sha384, message, signature)
            }
            (Prepared::Rsa { fast, .. }, Algorithm::PS512) => {
                fast.verify_pss(Sha::Sha512, message, signature)
            }
            (Prepared::P256 { fast, .. }, Algorithm::ES256) => {
                fast.verify(Sha::Sha256, message, signature)
            }
            (Prepared::P384 { fast, .. }, Algorithm::ES384) => {
                fast.verify(Sha::Sha384, message, signature)
            }
            (Prepared::P521 { fast, .. }, Algorithm::ES512) => {
                fast.verify(Sha::Sha512, message, signature)
            }
            _ => hmac_or_eddsa(alg, key, message, signature).unwrap_or(false),
        };
        if ok {
            Ok(())
        } else {
            Err(BadSignature)
        }
    }
}
