//! The JOSE and JWT rules: the compact serialization and its size limits, strict base64url and
//! JSON, the protected header, algorithms, JWKs and key sets with key selection, the claims
//! set, the policy, the verification pipeline, and the error codes. Everything here follows
//! RFC 7515/7517/7518/7519 and RFC 8725; the signature arithmetic itself is in
//! [`crate::signature`].

pub(crate) mod alg;
pub(crate) mod b64;
mod b64_blocks;
pub(crate) mod claims;
pub(crate) mod compact;
pub(crate) mod error;
pub(crate) mod fingerprint;
pub(crate) mod header;
pub(crate) mod json;
pub(crate) mod jwk;
pub(crate) mod jwks;
pub(crate) mod limits;
pub(crate) mod policy;
pub(crate) mod policy_json;
pub(crate) mod verify;
