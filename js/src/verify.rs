//! The exported verification entry points.

use std::cell::RefCell;

use tokengate::{
    Algorithm, Error, FastVerify, HostCheck, HostVerdict, Part, SignatureBackend, Verifier,
};
use wasm_bindgen::prelude::*;

use crate::errors::token_error;
use crate::handles::{WasmKeySet, WasmPolicy};

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

/// Verifications between [`host_check`] and [`host_checked`], by id: a `crypto.subtle.verify`
/// is awaited in between, and several may be in flight. At most [`PENDING_MAX`] are kept; the
/// oldest is dropped beyond that (its `host_checked` then answers `undefined`, and JavaScript
/// verifies that token again synchronously, with nothing pending across an await).
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
    /// [`host_check`]'s answer, rewritten by each call with its capacity kept: JavaScript copies
    /// it out of the module's memory before it calls the module again, so no buffer is
    /// allocated, handed over and freed per token (a fresh 300-byte `Uint8Array` per token
    /// cost about 1 us, 3-5 % of an RS256 verification in Node: BENCHMARKS.md, ninth stop).
    static ANSWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The first half of a verification whose signature JavaScript checks itself (WebCrypto,
/// `node:crypto` or the crypto module; see `Verifier::host_check`): everything before the
/// signature. Returns the address, in the module's memory ([`memory`]), of the answer's length
/// in bytes (a little-endian 32-bit word) followed by the answer, which the next call of this
/// function overwrites. The answer is little-endian 32-bit words, then the decoded signature:
/// the algorithm's bit (as in [`algorithm_order`]), or `-1` when the algorithm is not in
/// `algorithms` (the module verifies the token: call [`verify_sync`]); then, for a bit, the
/// pending id, the signing input's length in bytes (the signed bytes are the token's first
/// ones), the number of candidate keys and each one's index in the key set, in the order to
/// try. Throws the coded error of a token refused before its signature.
#[wasm_bindgen(js_name = hostCheck)]
pub fn host_check(
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    token: &[u8],
    algorithms: u32,
) -> Result<u32, JsValue> {
    let token = token_text(token)?;
    let check = Verifier::new(&policy.policy)
        .host_check(token, &keys.inner)
        .map_err(|e| token_error(&e))?;
    let bit = Algorithm::ALL.iter().position(|a| *a == check.alg());
    let word = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    Ok(ANSWER.with(|answer| {
        let mut out = answer.borrow_mut();
        out.clear();
        // The length, filled in below.
        out.extend_from_slice(&[0; 4]);
        match bit {
            Some(bit) if algorithms & (1 << bit) != 0 => {
                out.extend_from_slice(&word(bit));
                PENDING.with(|p| {
                    let mut p = p.borrow_mut();
                    let id = p.next;
                    p.next = p.next.wrapping_add(1);
                    out.extend_from_slice(&id.to_le_bytes());
                    out.extend_from_slice(&word(check.signing_input().len()));
                    out.extend_from_slice(&word(check.key_indices().len()));
                    for index in check.key_indices() {
                        out.extend_from_slice(&word(index));
                    }
                    out.extend_from_slice(check.signature());
                    if p.checks.len() >= PENDING_MAX {
                        p.checks.remove(0);
                    }
                    p.checks.push((id, check));
                });
            }
            _ => out.extend_from_slice(&(-1i32).to_le_bytes()),
        }
        let length = word(out.len() - 4);
        if let Some(head) = out.get_mut(..4) {
            head.copy_from_slice(&length);
        }
        // An address in wasm32's 32-bit memory.
        out.as_ptr() as usize as u32
    }))
}

/// The module's `WebAssembly.Memory`, where [`host_check`] leaves its answer.
#[wasm_bindgen(js_name = moduleMemory)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The second half: the host's `verdict` on pending verification `id`'s signature (`1` valid
/// under the candidate at `position` of [`host_check`]'s list, `0` invalid under every
/// candidate, `2` not checked: the module checks it), then the claims. Returns the claims set's
/// JSON text, throws a coded error (`ERR_JWS_SIGNATURE_VERIFICATION_FAILED` for a refused
/// signature), or returns `undefined` when `id` is no longer pending.
#[wasm_bindgen(js_name = hostChecked)]
pub fn host_checked(
    id: u32,
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    now: f64,
    verdict: u8,
    position: u32,
) -> Result<Option<String>, JsValue> {
    let taken = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let at = p.checks.iter().position(|(i, _)| *i == id)?;
        Some(p.checks.remove(at).1)
    });
    let Some(mut check) = taken else {
        return Ok(None);
    };
    let verdict = match verdict {
        // Valid under a candidate past the last is no verdict at all.
        1 if (0..position).all(|_| check.next_key()) => HostVerdict::Valid,
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
