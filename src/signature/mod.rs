//! Signature arithmetic, which most readers never need to open: the backends
//! ([`backend`]: `FastVerify`, the default, and the `RustCrypto` reference), tokengate's own
//! variable-time RSA (`rsa_verify` on `bignum`, with `bignum_simd` rows under wasm `simd128`,
//! and the `roca` weak-key check) and ECDSA P-256/P-384/P-521 (`ec_verify` on `ec_field`).
//! Verification only handles public data, so variable time is safe here.
//!
//! Without the `public-key-verify` feature only key parsing uses the arithmetic (moduli and
//! curve points are still validated, the points by the compact `curve_point` check): its
//! verification code is then unused, not wrong.

pub(crate) mod backend;
#[cfg_attr(not(feature = "public-key-verify"), allow(dead_code))]
pub(crate) mod bignum;
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
#[cfg_attr(not(feature = "public-key-verify"), allow(dead_code))]
pub(crate) mod bignum_simd;
pub(crate) mod curve_point;
#[cfg_attr(not(feature = "public-key-verify"), allow(dead_code))]
pub(crate) mod ec_field;
#[cfg_attr(not(feature = "public-key-verify"), allow(dead_code))]
pub(crate) mod ec_verify;
pub(crate) mod roca;
#[cfg_attr(not(feature = "public-key-verify"), allow(dead_code))]
pub(crate) mod rsa_verify;
#[cfg_attr(not(feature = "public-key-verify"), allow(dead_code))]
pub(crate) mod sha;
