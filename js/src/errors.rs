//! Core errors as one string for the JavaScript wrapper to split:
//! `code \x1f message \x1f claim \x1f reason` (empty fields when absent).

use tokengate::ConfigError;
#[cfg(not(feature = "gate"))]
use tokengate::Error;
use wasm_bindgen::JsValue;

/// The field separator (ASCII unit separator): never in a code, a message, or a claim name
/// the core reports.
const SEP: char = '\u{1f}';

/// A token error, for `throw` (the verifier's entry points).
#[cfg(not(feature = "gate"))]
pub(crate) fn token_error(e: &Error) -> JsValue {
    let mut s = alloc_string(e.code(), &e.to_string());
    s.push(SEP);
    s.push_str(e.claim().unwrap_or(""));
    s.push(SEP);
    s.push_str(e.reason().unwrap_or(""));
    JsValue::from_str(&s)
}

/// A configuration error (policy, key set, denylist), for `throw`.
pub(crate) fn config_error(e: &ConfigError) -> JsValue {
    JsValue::from_str(&alloc_string(e.code(), &e.to_string()))
}

fn alloc_string(code: &str, message: &str) -> String {
    let mut s = String::with_capacity(code.len() + message.len() + 8);
    s.push_str(code);
    s.push(SEP);
    s.push_str(message);
    s
}
