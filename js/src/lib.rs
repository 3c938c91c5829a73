//! The wasm-bindgen face of the tokengate core, wrapped by the npm package in `js/lib/`.
//!
//! This crate only translates: JSON text and numbers in, a claims JSON string or a coded
//! error out. Every JWT rule (parsing, key selection, the algorithm allowlist, the claims
//! policy, the denylist) is the core's. The JavaScript wrapper turns jose-style options into
//! the core's policy JSON, reads the clock, fetches remote key sets, and calls WebCrypto when
//! the async path delegates a signature check ([`webcrypto`]).
//!
//! Errors cross the boundary as one string, `code \x1f message \x1f claim \x1f reason`
//! ([`errors`]), which the wrapper turns into `JOSEError` subclasses.

mod errors;
#[cfg(feature = "gate")]
mod gate;
#[cfg(feature = "gate")]
mod gate_signatures;
mod handles;
mod verify;
mod webcrypto;

#[cfg(feature = "gate")]
pub use gate::WasmGate;
pub use handles::{WasmDenylist, WasmKeySet, WasmPolicy};
pub use verify::{
    host_check, host_checked, verify_signature_for_testing, verify_signature_for_testing_sync,
    verify_sync, verify_with_host, verify_with_webcrypto,
};
