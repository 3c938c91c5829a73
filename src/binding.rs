//! Certificate-bound access tokens (RFC 8705 section 3): a token carrying
//! `cnf.x5t#S256` is only valid over a mutual-TLS connection whose client certificate has that
//! SHA-256 thumbprint.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::b64;
use crate::claims::Claims;
use crate::error::Error;

/// SHA-256 of a certificate's DER encoding: what `x5t#S256` carries (base64url-encoded).
pub fn certificate_thumbprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Checks a token's certificate binding against the connection's client certificate
/// thumbprint (`None` when the connection presented no certificate).
///
/// A token without `cnf` is not bound and passes. A token with a `cnf` that carries
/// `x5t#S256` passes only when it equals the presented certificate's thumbprint; a malformed
/// `cnf` fails closed.
pub fn check_certificate_binding(
    claims: &Claims,
    presented: Option<&[u8; 32]>,
) -> Result<(), Error> {
    if !claims.contains("cnf") {
        return Ok(());
    }
    let bound = match claims.lookup("cnf") {
        Some(Value::Object(cnf)) => match cnf.get("x5t#S256") {
            None => return Ok(()), // bound by another method (e.g. DPoP `jkt`), not ours to check
            Some(Value::String(t)) => b64::decode(t.as_bytes()),
            Some(_) => None,
        },
        _ => None,
    };
    match (bound, presented) {
        (Some(b), Some(p)) if b.as_slice() == p.as_slice() => Ok(()),
        _ => Err(Error::CertificateMismatch),
    }
}
