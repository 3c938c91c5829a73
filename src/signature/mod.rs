//! Signature arithmetic, which most readers never need to open: the backends
//! ([`backend`]: `FastVerify`, the default, and the `RustCrypto` reference), tokengate's own
//! variable-time RSA (`rsa_verify` on `bignum`, with `bignum_simd` rows under wasm `simd128`,
//! and the `roca` weak-key check) and ECDSA P-256/P-384/P-521 (`ec_verify` on `ec_field`).
//! Verification only handles public data, so variable time is safe here.

pub(crate) mod backend;
pub(crate) mod bignum;
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
pub(crate) mod bignum_simd;
pub(crate) mod ec_field;
pub(crate) mod ec_verify;
pub(crate) mod roca;
pub(crate) mod rsa_verify;
pub(crate) mod sha;
