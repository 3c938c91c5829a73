//! # tokengate
//!
//! A strict JWS/JWT verifier for services that check OAuth2 access tokens on every hop. One
//! `no_std + alloc` core that the Envoy filter, the npm package and the CLI all call: the only
//! place where JWT rules live.
//!
//! ```text
//! token ─► compact::split   size limits, three segments (JSON serialization / JWE: unsupported)
//!       ─► header::parse    strict base64url, strict JSON (no duplicate names), alg, kid, typ, crit
//!       ─► Policy::allows   the allowlist decides; `none` can never be listed
//!       ─► JwkSet::select   by kid, then by key type/curve/length and the JWK's own alg
//!       ─► SignatureBackend FastVerify by default (own RSA and ECDSA arithmetic, RustCrypto's
//!                           hmac and ed25519-dalek); the RustCrypto reference or WebCrypto
//!                           can plug in
//!       ─► claims::parse    only now: registered claims typed, the rest kept as JSON text
//!       ─► Policy::check_claims, Denylist::check   then, per route, authz::Requirement
//! ```
//!
//! The core is pure: no clock, I/O or randomness. `now` and key material are arguments.
//!
//! ## Deliberately not supported
//! JWE, the JWS JSON serializations, `crit` extensions (including RFC 7797 `b64: false`),
//! keys embedded in or referenced from the header (`jwk`, `jku`, `x5u`, `x5c`: ignored),
//! RSA keys under 2048 bits, HMAC keys shorter than the hash, key sets mixing shared secrets
//! with public keys, and key sets containing private keys.
//!
//! ## Features
//! - `std` (default): `std::error::Error` impls. Everything else works without it; the crate
//!   builds for `wasm32-unknown-unknown` and `x86_64-unknown-none`.
//! - `reference` (default): the [`RustCrypto`] reference backend (`rsa`, `p256`, `p384`,
//!   `p521`), which the tests hold [`FastVerify`] against. Keys are validated by the same rules
//!   without it; the npm module leaves it out for size.
//! - `regex` (default): gate rules that match paths by regular expression (`regex-lite`,
//!   which needs std). Without it a configuration with a `regex` rule is refused.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod gate;
mod jose;
mod signature;
#[cfg(test)]
mod test_rng;

pub use gate::authz::{ClaimCondition, Condition, Requirement};
pub use gate::binding::{certificate_thumbprint, check_certificate_binding};
pub use gate::cache::{CacheScope, TokenCache};
pub use gate::config::{
    folds_to, ArrayEncoding, ClaimHeader, GateConfig, GateConfigError, GateProvider, GateRule,
    HeaderSource, Mode, Remote, RemoteDocument,
};
pub use gate::credential::{
    from_cookies, from_header_value, from_query, without_cookie, without_query_param, Presented,
};
pub use gate::decision::{decide, Attempt, Requires, Verdict};
pub use gate::denial::{
    denial, is_grpc, Denial, DenialStyle, GRPC_INVALID_ARGUMENT, GRPC_PERMISSION_DENIED,
    GRPC_UNAUTHENTICATED, GRPC_UNAVAILABLE, RETRY_AFTER_SECONDS,
};
pub use gate::denylist::Denylist;
pub use gate::http_gate::{Gate, GateHost, Routing};
pub use gate::issuer_index::{Candidates, IssuerIndex};
pub use gate::outcome::{Audit, AuditVerdict, Decision, HeaderEdit};
pub use gate::request_path::{check_normal_form, path_of};
pub use gate::route::PathMatch;
pub use jose::alg::{Algorithm, Curve, KeyFamily};
#[doc(hidden)]
pub use jose::b64::decode_by_blocks as base64url_decode_by_blocks;
pub use jose::b64::{decode as base64url_decode, encode as base64url_encode};
pub use jose::claims::{lookup_path, Claims, Strings, MAX_NUMERIC_DATE};
pub use jose::error::{Claim, ClaimReason, ConfigError, Error, Part, RevocationReason};
pub use jose::header::Header;
pub use jose::jwk::{Jwk, KeyMaterial, RSA_MAX_BITS, RSA_MIN_BITS};
pub use jose::jwks::{JwkSet, MAX_KEYS, MAX_KIDLESS_CANDIDATES};
pub use jose::limits::Limits;
pub use jose::policy::{
    Policy, PolicyBuilder, PolicyConfig, DEFAULT_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS,
};
pub use jose::verify::{
    decode_unverified, HostCheck, HostVerdict, Unverified, Verified, VerifiedJws, Verifier,
};
#[cfg(feature = "reference")]
pub use signature::backend::RustCrypto;
pub use signature::backend::{AsyncSignatureBackend, BadSignature, FastVerify, SignatureBackend};

/// The compact on-curve check of the npm verifier's module (which has no ECDSA arithmetic of
/// its own), exposed for the differential fuzz target (`fuzz/fuzz_targets/curve_point.rs`)
/// only: whether `(x, y)` (big-endian) is a point of `curve`. Not part of the API.
#[doc(hidden)]
pub fn __compact_curve_point(curve: Curve, x: &[u8], y: &[u8]) -> bool {
    signature::ec_verify::is_curve_point(curve, x, y)
}

/// The strict JSON reader every document goes through, exposed for the differential fuzz
/// target (`fuzz/fuzz_targets/json.rs`) only: `input` as a serde_json value, or `None` when
/// it is refused (not JSON, a duplicate member name, deeper than `max_depth`, an object or
/// array of more than `max_members` entries). Not part of the API.
#[doc(hidden)]
pub fn __strict_json(
    input: &[u8],
    max_depth: usize,
    max_members: usize,
) -> Option<serde_json::Value> {
    jose::json::parse_value(input, max_depth, max_members).ok()
}
