//! The exported verification entry points.

use std::rc::Rc;

use js_sys::{Function, Promise};
use tokengate::{Algorithm, AsyncSignatureBackend, Verifier};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::errors::token_error;
use crate::handles::{WasmKeySet, WasmPolicy};
use crate::webcrypto::WebCrypto;

/// Seconds since the epoch from JavaScript's number (the wrapper floors it).
fn seconds(now: f64) -> i64 {
    now as i64
}

/// Verifies `token` with the RustCrypto backend: the claims set's JSON text, or a thrown
/// coded error.
#[wasm_bindgen(js_name = verifySync)]
pub fn verify_sync(
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    token: &str,
    now: f64,
) -> Result<String, JsValue> {
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

/// Verifies `token`, delegating the signature check for the algorithms in `algorithms` (bit
/// `i` for the `i`-th name of [`algorithm_order`]) to `check` (see [`crate::webcrypto`]).
/// Resolves to the claims set's JSON text; rejects with a coded error.
#[wasm_bindgen(js_name = verifyWithWebCrypto)]
pub fn verify_with_webcrypto(
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    token: String,
    now: f64,
    algorithms: u32,
    check: Function,
) -> Promise {
    let denylist = policy.denylist.clone();
    let policy = Rc::clone(&policy.policy);
    let keys = Rc::clone(&keys.inner);
    future_to_promise(async move {
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
            .verify_async(&backend, &token, &keys, seconds(now))
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
