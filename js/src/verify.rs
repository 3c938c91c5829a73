//! The exported verification entry points.

use std::cell::RefCell;

use tokengate::{
    Algorithm, Error, FastVerify, HostCheck, HostVerdict, Limits, Part, Policy, SignatureBackend,
    Verifier,
};
use wasm_bindgen::prelude::*;

use crate::errors::token_error;
use crate::handles::{WasmKeySet, WasmPolicy};

/// Seconds since the epoch from JavaScript's number (the wrapper floors it).
fn seconds(now: f64) -> i64 {
    now as i64
}

/// The answer of an entry point that refused the token: JavaScript then takes the coded error
/// with [`take_error`]. The entry points answer an address rather than a `Result`, which
/// wasm-bindgen hands to JavaScript as a fresh array per call.
const REFUSED: u32 = u32::MAX;

/// The largest token the module's token buffer holds: [`Limits::MAX_TOKEN_BYTES_CEILING`], so
/// a longer one is too large under every policy.
const TOKEN_BYTES_MAX: usize = Limits::MAX_TOKEN_BYTES_CEILING;

thread_local! {
    /// [`token_buffer`]: the token JavaScript writes into the module's memory.
    static TOKEN: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The answers of [`host_check`], [`host_checked`] and [`verify_sync`], rewritten by each
    /// call with their capacity kept: JavaScript reads an answer in the module's memory before
    /// it calls the module again, so no buffer is allocated, handed over and freed per token
    /// (a fresh 300-byte `Uint8Array` per token cost about 1 us, 3-5 % of an RS256
    /// verification in Node: BENCHMARKS.md, ninth stop).
    static ANSWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The error of the last call that answered [`REFUSED`].
    static REFUSAL: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// The room the token buffer keeps from token to token at most: a token at the default 16 KB
/// limit, at up to three bytes per character. A huge token's room is given back at the next
/// ordinary one.
const TOKEN_ROOM_KEPT: usize = 3 * 16 * 1024;

/// Room for a token of `capacity` bytes (at most [`token_bytes_max`]) in the module's memory:
/// its address. JavaScript writes the token's UTF-8 bytes there itself (`TextEncoder.encodeInto`
/// straight into the module's memory) and passes their length to [`host_check`] or
/// [`verify_sync`], so no buffer is allocated, copied in and freed per token. Ask for every
/// token: the address holds until the next call of this function (which may move the buffer),
/// a view of the memory until the memory grows.
#[wasm_bindgen(js_name = tokenBuffer)]
pub fn token_buffer(capacity: usize) -> u32 {
    let capacity = capacity.min(TOKEN_BYTES_MAX);
    TOKEN.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        if buffer.len() < capacity
            || (buffer.len() > TOKEN_ROOM_KEPT && capacity <= TOKEN_ROOM_KEPT)
        {
            *buffer = vec![0; capacity.max(4096)];
        }
        // An address in wasm32's 32-bit memory.
        buffer.as_ptr() as usize as u32
    })
}

/// The largest capacity [`token_buffer`] gives: a token longer than this is passed with its
/// whole length and refused as too large (under every policy) without being copied.
#[wasm_bindgen(js_name = tokenBytesMax)]
pub fn token_bytes_max() -> u32 {
    TOKEN_BYTES_MAX as u32
}

/// The coded error of the last entry point that answered [`REFUSED`] (`u32::MAX`), for
/// JavaScript to throw.
#[wasm_bindgen(js_name = takeError)]
pub fn take_error() -> JsValue {
    REFUSAL
        .with(|r| r.borrow_mut().take())
        .map_or(JsValue::UNDEFINED, |e| token_error(&e))
}

/// `REFUSED`, keeping `e` for [`take_error`].
fn refuse(e: Error) -> u32 {
    REFUSAL.with(|r| *r.borrow_mut() = Some(e));
    REFUSED
}

/// Runs `f` on the `length`-byte token JavaScript wrote into [`token_buffer`], as text. A
/// length beyond the buffer (a token longer than [`token_bytes_max`]) is refused as the core
/// refuses a token over the policy's size limit.
fn with_token<T>(
    policy: &Policy,
    length: usize,
    f: impl FnOnce(&str) -> Result<T, Error>,
) -> Result<T, Error> {
    TOKEN.with(|buffer| {
        let buffer = buffer.borrow();
        let Some(bytes) = buffer.get(..length) else {
            policy.limits().check_token_size(length)?;
            // Not reached: the buffer holds every token the largest limit allows.
            return Err(Error::TooLarge {
                part: Part::Token,
                limit: buffer.len(),
            });
        };
        // The token arrives as UTF-8 bytes: `TextEncoder.encodeInto` is several times faster
        // than wasm-bindgen's per-character string copy for a token-sized string.
        let text = core::str::from_utf8(bytes).map_err(|_| Error::MalformedJws {
            part: Part::Header,
            reason: "not UTF-8",
        })?;
        f(text)
    })
}

/// `n` as a little-endian 32-bit word of an answer.
fn word(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

/// Rewrites [`ANSWER`]: its length in bytes (a little-endian 32-bit word), then what `write`
/// puts there. Returns the answer's address.
fn answer(write: impl FnOnce(&mut Vec<u8>)) -> u32 {
    ANSWER.with(|answer| {
        let mut out = answer.borrow_mut();
        out.clear();
        // The length, filled in below.
        out.extend_from_slice(&[0; 4]);
        write(&mut out);
        let length = word(out.len() - 4);
        if let Some(head) = out.get_mut(..4) {
            head.copy_from_slice(&length);
        }
        // An address in wasm32's 32-bit memory.
        out.as_ptr() as usize as u32
    })
}

/// `text` as the answer.
fn answer_text(text: &str) -> u32 {
    answer(|out| out.extend_from_slice(text.as_bytes()))
}

/// The verifier for `policy`, with its denylist if it has one.
fn verifier(policy: &WasmPolicy) -> Verifier<'_> {
    let verifier = Verifier::new(&policy.policy);
    match &policy.denylist {
        Some(d) => verifier.with_denylist(d),
        None => verifier,
    }
}

/// Verifies the `length`-byte token in [`token_buffer`] with the module's own backend (the
/// core's default, `FastVerify`). Returns the address, in the module's memory ([`memory`]), of
/// the claims set's length in bytes (a little-endian 32-bit word) followed by its JSON text,
/// which the next verification overwrites; or [`REFUSED`].
#[wasm_bindgen(js_name = verifySync)]
pub fn verify_sync(policy: &WasmPolicy, keys: &WasmKeySet, length: usize, now: f64) -> u32 {
    with_token(&policy.policy, length, |token| {
        verifier(policy).verify(token, &keys.inner, seconds(now))
    })
    .map_or_else(refuse, |v| answer_text(v.claims().json()))
}

/// Verifications between [`host_check`] and [`host_checked`], by id: a `crypto.subtle.verify`
/// is awaited in between, and several may be in flight. At most [`PENDING_MAX`] are kept; the
/// oldest is dropped beyond that (its `host_checked` then answers `0`, and JavaScript verifies
/// that token again synchronously, with nothing pending across an await).
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

/// The first half of a verification whose signature JavaScript checks itself (WebCrypto,
/// `node:crypto` or the crypto module; see `Verifier::host_check`): everything before the
/// signature, of the `length`-byte token in [`token_buffer`]. Returns the address, in the
/// module's memory ([`memory`]), of the answer's length in bytes (a little-endian 32-bit word)
/// followed by the answer, which the next call into the module overwrites; or [`REFUSED`] for
/// a token refused before its signature. The answer is little-endian 32-bit words, then the
/// decoded signature: the algorithm's bit (as in [`algorithm_order`]), or `-1` when the
/// algorithm is not in `algorithms` (the module verifies the token: call [`verify_sync`]);
/// then, for a bit, the pending id, the signing input's length in bytes (the signed bytes are
/// the token's first ones), the number of candidate keys and each one's index in the key set,
/// in the order to try.
#[wasm_bindgen(js_name = hostCheck)]
pub fn host_check(policy: &WasmPolicy, keys: &WasmKeySet, length: usize, algorithms: u32) -> u32 {
    let check = match with_token(&policy.policy, length, |token| {
        Verifier::new(&policy.policy).host_check(token, &keys.inner)
    }) {
        Ok(check) => check,
        Err(e) => return refuse(e),
    };
    let bit = Algorithm::ALL.iter().position(|a| *a == check.alg());
    answer(|out| match bit {
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
    })
}

/// The module's `WebAssembly.Memory`, where [`host_check`] leaves its answer.
#[wasm_bindgen(js_name = moduleMemory)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The second half: the host's `verdict` on pending verification `id`'s signature (`1` valid
/// under the candidate at `position` of [`host_check`]'s list, `0` invalid under every
/// candidate, `2` not checked: the module checks it), then the claims. Returns the address of
/// the claims set's JSON text after its length, as [`verify_sync`] does; `0` when `id` is no
/// longer pending; or [`REFUSED`] (`ERR_JWS_SIGNATURE_VERIFICATION_FAILED` for a refused
/// signature).
#[wasm_bindgen(js_name = hostChecked)]
pub fn host_checked(
    id: u32,
    policy: &WasmPolicy,
    keys: &WasmKeySet,
    now: f64,
    verdict: u8,
    position: u32,
) -> u32 {
    let taken = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let at = p.checks.iter().position(|(i, _)| *i == id)?;
        Some(p.checks.remove(at).1)
    });
    let Some(mut check) = taken else {
        return 0;
    };
    let verdict = match verdict {
        // Valid under a candidate past the last is no verdict at all.
        1 if (0..position).all(|_| check.next_key()) => HostVerdict::Valid,
        2 => HostVerdict::Unchecked,
        _ => HostVerdict::Invalid,
    };
    verifier(policy)
        .host_checked(check, &keys.inner, verdict, seconds(now))
        .map_or_else(refuse, |v| answer_text(v.claims().json()))
}

/// The algorithm names in the order of the bits of the `algorithms` mask, space-separated.
#[wasm_bindgen(js_name = algorithmOrder)]
pub fn algorithm_order() -> String {
    let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
    names.join(" ")
}

/// For `js/test/base64url.test.mjs` only (not part of the package's API): the core's strict
/// base64url decoder as this module runs it (sixteen characters at a time with SIMD); `None`
/// (undefined) for anything it refuses.
#[wasm_bindgen(js_name = base64urlDecodeInModule)]
pub fn base64url_decode_in_module(input: &[u8]) -> Option<Vec<u8>> {
    tokengate::base64url_decode(input)
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
