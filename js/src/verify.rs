//! The exported verification entry points.

use std::rc::Rc;

use js_sys::{Function, Promise};
use tokengate::{
    Algorithm, AsyncSignatureBackend, Error, FastVerify, Part, SignatureBackend, Verifier,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::errors::token_error;
use crate::handles::{WasmKeySet, WasmPolicy};
use crate::webcrypto::{HostSync, WebCrypto};

/// Seconds since the epoch from JavaScript's number (the wrapper floors it).
fn seconds(now: f64) -> i64 {
    now as i64
}

/// The token as text. It arrives as UTF-8 bytes: `TextEncoder.encodeInto` is several times
/// faster than wasm-bindgen's per-character string copy for a token-sized string.
fn token_text(token: &[u8]) -> Result<&str, JsValue> {
    core::str::from_utf8(token).map_err(|_| {
        token_error(&Error::MalformedJws {
            part: Part::Header,
            reason: "not UTF-8",
        })
    })
}

/// Verifies `token` with the module's own backend (the core's default, `FastVerify`): the
/// claims set's JSON text, or a thrown coded error.
#[wasm_bindgen(js_name = verifySync)]
pub fn verify_sync(
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    token: &[u8],
    now: f64,
) -> Result<String, JsValue> {
    let token = token_text(token)?;
    let verifier = Verifier::new(&policy.policy);
    let verifier = match &policy.denylist {
        Some(d) => verifier.with_denylist(d),
        None => verifier,
    };
    verifier
        .verify(token, &keys.inner, seconds(now))
        .map(|v| String::from(v.claims().json()))
        .map_err(|e| token_error(&e))
}

/// [`verify_sync`] with the signature check for the algorithms in `algorithms` delegated to a
/// synchronous host function (`node:crypto` in Node; see [`crate::webcrypto::HostSync`]).
#[wasm_bindgen(js_name = verifyWithHost)]
pub fn verify_with_host(
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    token: &[u8],
    now: f64,
    algorithms: u32,
    check: &Function,
) -> Result<String, JsValue> {
    let token = token_text(token)?;
    let backend = HostSync {
        keys: &keys.inner,
        algorithms,
        check,
    };
    let verifier = Verifier::new(&policy.policy).with_backend(backend);
    let verifier = match &policy.denylist {
        Some(d) => verifier.with_denylist(d),
        None => verifier,
    };
    verifier
        .verify(token, &keys.inner, seconds(now))
        .map(|v| String::from(v.claims().json()))
        .map_err(|e| token_error(&e))
}

/// Verifies `token`, delegating the signature check for the algorithms in `algorithms` (bit
/// `i` for the `i`-th name of [`algorithm_order`]) to `check` (see [`crate::webcrypto`]).
/// Resolves to the claims set's JSON text; rejects with a coded error.
#[wasm_bindgen(js_name = verifyWithWebCrypto)]
pub fn verify_with_webcrypto(
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    token: Vec<u8>,
    now: f64,
    algorithms: u32,
    check: Function,
) -> Promise {
    let denylist = policy.denylist.clone();
    let policy = Rc::clone(&policy.policy);
    let keys = Rc::clone(&keys.inner);
    future_to_promise(async move {
        let token = token_text(&token)?;
        let backend = WebCrypto {
            keys: &keys,
            algorithms,
            check: &check,
        };
        let verifier = Verifier::new(&policy);
        let verifier = match &denylist {
            Some(d) => verifier.with_denylist(d),
            None => verifier,
        };
        verifier
            .verify_async(&backend, token, &keys, seconds(now))
            .await
            .map(|v| JsValue::from_str(v.claims().json()))
            .map_err(|e| token_error(&e))
    })
}

/// The algorithm names in the order of the bits of the `algorithms` mask, space-separated.
#[wasm_bindgen(js_name = algorithmOrder)]
pub fn algorithm_order() -> String {
    let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
    names.join(" ")
}

/// For the conformance tests only (not part of the package's API): checks one raw signature
/// with key `index` of `keys` through the same backend the async path uses. Resolves to
/// whether it verified; a key that does not support `alg` never does.
#[wasm_bindgen(js_name = verifySignatureForTesting)]
pub fn verify_signature_for_testing(
    keys: &WasmKeySet,
    index: usize,
    alg: &str,
    message: Vec<u8>,
    signature: Vec<u8>,
    algorithms: u32,
    check: Function,
) -> Promise {
    let keys = Rc::clone(&keys.inner);
    let alg = Algorithm::from_name(alg);
    future_to_promise(async move {
        let backend = WebCrypto {
            keys: &keys,
            algorithms,
            check: &check,
        };
        let ok = match (alg, keys.keys().get(index)) {
            (Some(alg), Some(key)) if key.supports(alg) => {
                backend.verify(alg, key, &message, &signature).await.is_ok()
            }
            _ => false,
        };
        Ok(JsValue::from_bool(ok))
    })
}

/// [`verify_signature_for_testing`] through the synchronous host backend.
#[wasm_bindgen(js_name = verifySignatureForTestingSync)]
pub fn verify_signature_for_testing_sync(
    keys: &WasmKeySet,
    index: usize,
    alg: &str,
    message: &[u8],
    signature: &[u8],
    algorithms: u32,
    check: &Function,
) -> bool {
    let backend = HostSync {
        keys: &keys.inner,
        algorithms,
        check,
    };
    match (Algorithm::from_name(alg), keys.inner.keys().get(index)) {
        (Some(alg), Some(key)) if key.supports(alg) => {
            SignatureBackend::verify(&backend, alg, key, message, signature).is_ok()
        }
        _ => false,
    }
}

/// For the conformance tests and `bench/verify-wasm.mjs` only (not part of the package's API):
/// checks one raw signature with key `index` of `keys` in the module, through the default
/// `FastVerify` backend (the module carries no other: the RustCrypto reference is held against
/// it in the core's native tests).
#[wasm_bindgen(js_name = verifySignatureInModule)]
pub fn verify_signature_in_module(
    keys: &WasmKeySet,
    index: usize,
    alg: &str,
    message: &[u8],
    signature: &[u8],
) -> bool {
    match (Algorithm::from_name(alg), keys.inner.keys().get(index)) {
        (Some(alg), Some(key)) if key.supports(alg) => {
            FastVerify.verify(alg, key, message, signature).is_ok()
        }
        _ => false,
    }
}
