//! The wasm-bindgen face of the tokengate core, wrapped by the npm package in `js/lib/`.
//!
//! This crate only translates: JSON text and numbers in, a claims JSON string or a coded
//! error out. Every JWT rule (parsing, key selection, the algorithm allowlist, the claims
//! policy, the denylist) is the core's. The JavaScript wrapper turns jose-style options into
//! the core's policy JSON, reads the clock, fetches remote key sets, and checks public-key
//! signatures with the runtime's crypto or the crypto module between the two halves of a
//! verification ([`host_check`], [`host_checked`]): this module has no public-key arithmetic.
//!
//! Errors cross the boundary as one string, `code \x1f message \x1f claim \x1f reason`
//! ([`errors`]), which the wrapper turns into `JOSEError` subclasses.

mod allocator;
mod errors;
#[cfg(feature = "gate")]
mod gate;
#[cfg(feature = "gate")]
mod gate_signatures;
mod handles;
// The verifier's entry points; the gate's module (feature `gate`) verifies through `WasmGate`.
#[cfg(not(feature = "gate"))]
mod verify;

#[cfg(feature = "gate")]
pub use gate::WasmGate;
#[cfg(not(feature = "gate"))]
pub use handles::WasmPolicy;
pub use handles::{WasmDenylist, WasmKeySet};
#[cfg(not(feature = "gate"))]
pub use verify::{
    host_check, host_checked, memory, take_error, token_buffer, token_bytes_max, verify_sync,
};
