//! Conformance drivers over `tests/vectors` (copied from upstream; see its README). Each prints
//! `conformance <file>: ran N, passed N, policy-dependent N` and fails when it ran nothing.
//! Run with `cargo test --test conformance -- --nocapture` to see the counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod jwt_verify_lib;
mod rfc;
mod wycheproof_jose;
mod wycheproof_primitives;
