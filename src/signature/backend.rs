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
#[cfg(feature = "public-key-verify")]
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
/// selection and every policy rule in this crate; only the signature check is delegated. (A
/// host that awaits its crypto itself, without a callback, uses [`crate::Verifier::host_check`]
/// instead, as the npm package does.)
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

/// HMAC, which both backends check with the RustCrypto `hmac` crate. `None` for any other pair.
fn hmac(alg: Algorithm, key: &Jwk, message: &[u8], signature: &[u8]) -> Option<bool> {
    Some(match (&key.prepared, alg) {
        (Prepared::Hmac(h), Algorithm::HS256) => mac_ok(h.hs256.as_ref(), message, signature),
        (Prepared::Hmac(h), Algorithm::HS384) => mac_ok(h.hs384.as_ref(), message, signature),
        (Prepared::Hmac(h), Algorithm::HS512) => mac_ok(h.hs512.as_ref(), message, signature),
        _ => return None,
    })
}

/// EdDSA with the RustCrypto `ed25519-dalek` crate, for both backends (RFC 8032's strict
/// verification: canonical `S`, no small-order `R` or key).
#[cfg(any(feature = "public-key-verify", feature = "reference"))]
fn eddsa_ok(key: &ed25519_dalek::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    ed25519_dalek::Signature::from_slice(signature)
        .is_ok_and(|s| key.verify_strict(message, &s).is_ok())
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
        let ok = match (&key.prepared, alg) {
            (Prepared::Hmac(_), _) => hmac(alg, key, message, signature).unwrap_or(false),
            (Prepared::Ed25519 { key, .. }, Algorithm::EdDSA) => eddsa_ok(key, message, signature),
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
///
/// The public-key half (RSA, ECDSA, EdDSA) is the `public-key-verify` feature (on by default).
/// Without it `FastVerify` checks HMAC only and refuses every other signature, failing
/// closed: the npm package's main module is built so, and hands public-key signatures to the
/// runtime's crypto or to its separate crypto module. Keys are parsed and validated the same
/// way either way.
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
        let ok = match hmac(alg, key, message, signature) {
            Some(ok) => ok,
            None => public_key(alg, key, message, signature).unwrap_or(false),
        };
        if ok {
            Ok(())
        } else {
            Err(BadSignature)
        }
    }
}

/// RSA, ECDSA and Ed25519 with the crate's own arithmetic. `None` for any other pair.
#[cfg(feature = "public-key-verify")]
fn public_key(alg: Algorithm, key: &Jwk, message: &[u8], signature: &[u8]) -> Option<bool> {
    Some(match (&key.prepared, alg) {
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
        (Prepared::Ed25519 { key, .. }, Algorithm::EdDSA) => eddsa_ok(key, message, signature),
        _ => return None,
    })
}

/// Without the `public-key-verify` feature, the crate carries no public-key arithmetic and
/// refuses every RSA, ECDSA and EdDSA signature: the host must check them (see
/// [`FastVerify`]).
#[cfg(not(feature = "public-key-verify"))]
fn public_key(_: Algorithm, _: &Jwk, _: &[u8], _: &[u8]) -> Option<bool> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;
    use hmac::KeyInit;

    fn jwk(json: &str) -> Jwk {
        Jwk::from_json(json).expect("a valid test key")
    }

    /// `FastVerify` checks a public-key signature itself only with `public-key-verify`; without
    /// it (the npm package's main module) a valid one is refused, failing closed. HMAC is
    /// checked either way.
    #[test]
    fn public_key_signatures_need_the_feature() {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let x = crate::base64url_encode(&signing.verifying_key().to_bytes());
        let key = jwk(&alloc::format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#
        ));
        let signature = signing.sign(b"header.payload").to_bytes();
        let verdict = FastVerify.verify(Algorithm::EdDSA, &key, b"header.payload", &signature);
        assert_eq!(verdict.is_ok(), cfg!(feature = "public-key-verify"));
        let mut forged = signature;
        forged[0] ^= 1;
        assert!(FastVerify
            .verify(Algorithm::EdDSA, &key, b"header.payload", &forged)
            .is_err());

        let secret = jwk(r#"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"#);
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(b"secret-secret-secret-secret-secret")
                .expect("any key length");
        mac.update(b"header.payload");
        let tag = mac.finalize().into_bytes();
        assert!(FastVerify
            .verify(Algorithm::HS256, &secret, b"header.payload", &tag)
            .is_ok());
        assert!(FastVerify
            .verify(Algorithm::HS256, &secret, b"header.payloaD", &tag)
            .is_err());
    }
}
