//! The exported verification entry points.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use tokengate::{
    Algorithm, AsyncSignatureBackend, Error, FastVerify, HostCheck, HostVerdict, Part,
    SignatureBackend, Verifier,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::errors::token_error;
use crate::handles::{WasmKeySet, WasmPolicy};
use crate::webcrypto::{mask_bit, HostSync, WebCrypto};

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

/// Verifications between [`host_check`] and [`host_checked`], by id: a `crypto.subtle.verify`
/// is awaited in between, and several may be in flight. At most [`PENDING_MAX`] are kept; the
/// oldest is dropped beyond that (its `host_checked` then answers `undefined`, and JavaScript
/// verifies that token in the module instead).
struct Pending {
    next: u32,
    /// Oldest first; usually one entry, so a linear search.
    checks: Vec<(u32, HostCheck)>,
}

/// More than any real burst of concurrent verifications in one isolate.
const PENDING_MAX: usize = 256;

thread_local! {
    static PENDING: RefCell<Pending> = const {
        RefCell::new(Pending { next: 0, checks: Vec::new() })
    };
}

/// The first half of a verification whose signature JavaScript checks itself with
/// `crypto.subtle.verify` (see `Verifier::host_check`): everything before the signature. Returns
/// a little-endian `i32`, then for a non-negative one the pending id and the signing input's
/// length in bytes (little-endian `u32`s: the signed bytes are the token's first ones) and the
/// decoded signature (one call, one copy out). The `i32` is `keyIndex * 16 + algorithmBit`
/// (the bit as in [`algorithm_order`]) when the token's sole candidate key is to be checked by
/// the host; `-1` when its algorithm is not in `algorithms` (the module verifies it: call
/// [`verify_sync`]); `-2` when several keys are candidates (call [`verify_with_webcrypto`]).
/// Throws the coded error of a token refused before its signature.
#[wasm_bindgen(js_name = hostCheck)]
pub fn host_check(
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    token: &[u8],
    algorithms: u32,
) -> Result<Vec<u8>, JsValue> {
    let token = token_text(token)?;
    let check = Verifier::new(&policy.policy)
        .host_check(token, &keys.inner)
        .map_err(|e| token_error(&e))?;
    let check = match check {
        None => return Ok((-2i32).to_le_bytes().to_vec()),
        Some(c) if algorithms & mask_bit(c.alg()) == 0 => {
            return Ok((-1i32).to_le_bytes().to_vec())
        }
        Some(c) => c,
    };
    let bit = Algorithm::ALL
        .iter()
        .position(|a| *a == check.alg())
        .unwrap_or(0);
    let Ok(named) = i32::try_from(check.key_index() * 16 + bit) else {
        return Ok((-2i32).to_le_bytes().to_vec());
    };
    let Ok(signed_len) = u32::try_from(check.signing_input().len()) else {
        return Ok((-2i32).to_le_bytes().to_vec());
    };
    let mut out = Vec::with_capacity(12 + check.signature().len());
    out.extend_from_slice(&named.to_le_bytes());
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let id = p.next;
        p.next = p.next.wrapping_add(1);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&signed_len.to_le_bytes());
        out.extend_from_slice(check.signature());
        if p.checks.len() >= PENDING_MAX {
            p.checks.remove(0);
        }
        p.checks.push((id, check));
    });
    Ok(out)
}

/// The second half: the host's `verdict` on pending verification `id`'s signature (`1` valid,
/// `0` invalid, `2` not checked: the host could not import the key, so the module checks it),
/// then the claims. Returns the claims set's JSON text, throws a coded error
/// (`ERR_JWS_SIGNATURE_VERIFICATION_FAILED` for a refused signature), or returns `undefined`
/// when `id` is no longer pending.
#[wasm_bindgen(js_name = hostChecked)]
pub fn host_checked(
    id: u32,
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    now: f64,
    verdict: u8,
) -> Result<Option<String>, JsValue> {
    let taken = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let at = p.checks.iter().position(|(i, _)| *i == id)?;
        Some(p.checks.remove(at).1)
    });
    let Some(check) = taken else {
        return Ok(None);
    };
    let verdict = match verdict {
        1 => HostVerdict::Valid,
        2 => HostVerdict::Unchecked,
        _ => HostVerdict::Invalid,
    };
    let verifier = Verifier::new(&policy.policy);
    let verifier = match &policy.denylist {
        Some(d) => verifier.with_denylist(d),
        None => verifier,
    };
    verifier
        .host_checked(check, &keys.inner, verdict, seconds(now))
        .map(|v| Some(String::from(v.claims().json())))
        .map_err(|e| token_error(&e))
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
