//! The async path's signature backend: hands chosen algorithms to a JavaScript function that
//! calls `crypto.subtle.verify` (see `js/lib/webcrypto.js`), and checks the rest with the
//! core's own backend (FastVerify). Parsing, key selection and every policy rule stay in the core;
//! only the signature arithmetic moves.
//!
//! The JavaScript function is called as `check(alg, keyIndex, message, signature)` and must
//! return a promise of `true` (valid), `false` (invalid), or `null` (this runtime's WebCrypto
//! cannot check this key or algorithm: the core's own backend decides instead).

use js_sys::{Array, Function, Promise, Uint8Array};
use tokengate::{
    Algorithm, AsyncSignatureBackend, BadSignature, FastVerify, Jwk, JwkSet, SignatureBackend,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Bit `i` stands for `Algorithm::ALL[i]`.
pub(crate) fn mask_bit(alg: Algorithm) -> u32 {
    Algorithm::ALL
        .iter()
        .position(|a| *a == alg)
        .map_or(0, |i| 1u32 << i)
}

/// Delegates the algorithms in `algorithms` (a [`mask_bit`] mask) to `check`.
pub(crate) struct WebCrypto<'a> {
    /// The key set the core selects candidates from; a key's index in it names the key to
    /// JavaScript, which caches the imported `CryptoKey`.
    pub keys: &'a JwkSet,
    /// Which algorithms go to WebCrypto.
    pub algorithms: u32,
    /// `check(alg, keyIndex, message, signature) -> Promise<boolean | null>`.
    pub check: &'a Function,
}

impl WebCrypto<'_> {
    async fn delegate(&self, alg: Algorithm, index: usize, message: &[u8], sig: &[u8]) -> Verdict {
        let args = Array::of4(
            &JsValue::from_str(alg.name()),
            &JsValue::from_f64(index as f64),
            &Uint8Array::from(message),
            &Uint8Array::from(sig),
        );
        let Ok(returned) = self.check.apply(&JsValue::NULL, &args) else {
            return Verdict::Invalid;
        };
        match JsFuture::from(Promise::resolve(&returned)).await {
            Ok(v) if v.is_null() || v.is_undefined() => Verdict::Unsupported,
            Ok(v) if v.as_bool() == Some(true) => Verdict::Valid,
            _ => Verdict::Invalid,
        }
    }
}

enum Verdict {
    Valid,
    Invalid,
    Unsupported,
}

impl AsyncSignatureBackend for WebCrypto<'_> {
    async fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        let index = self.keys.keys().iter().position(|k| core::ptr::eq(k, key));
        if let (true, Some(index)) = (self.algorithms & mask_bit(alg) != 0, index) {
            match self.delegate(alg, index, message, signature).await {
                Verdict::Valid => return Ok(()),
                Verdict::Invalid => return Err(BadSignature),
                Verdict::Unsupported => {}
            }
        }
        FastVerify.verify(alg, key, message, signature)
    }
}

/// The synchronous counterpart of [`WebCrypto`], for hosts whose crypto is synchronous
/// (`node:crypto`'s `verify`): `check(alg, keyIndex, message, signature)` returns `true`,
/// `false`, or `null` (cannot check this one: the core's own backend decides).
pub(crate) struct HostSync<'a> {
    /// As in [`WebCrypto`].
    pub keys: &'a JwkSet,
    /// Which algorithms go to the host.
    pub algorithms: u32,
    /// `check(alg, keyIndex, message, signature) -> boolean | null`.
    pub check: &'a Function,
}

impl SignatureBackend for HostSync<'_> {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        let index = self.keys.keys().iter().position(|k| core::ptr::eq(k, key));
        if let (true, Some(index)) = (self.algorithms & mask_bit(alg) != 0, index) {
            let args = Array::of4(
                &JsValue::from_str(alg.name()),
                &JsValue::from_f64(index as f64),
                &Uint8Array::from(message),
                &Uint8Array::from(signature),
            );
            match self.check.apply(&JsValue::NULL, &args) {
                Ok(v) if v.as_bool() == Some(true) => return Ok(()),
                Ok(v) if v.is_null() || v.is_undefined() => {}
                _ => return Err(BadSignature),
            }
        }
        FastVerify.verify(alg, key, message, signature)
    }
}
