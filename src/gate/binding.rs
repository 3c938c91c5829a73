//! Certificate-bound access tokens (RFC 8705 section 3): a token carrying
//! `cnf.x5t#S256` is only valid over a mutual-TLS connection whose client certificate has that
//! SHA-256 thumbprint.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::jose::b64;
use crate::jose::claims::Claims;
use crate::jose::error::Error;

/// SHA-256 of a certificate's DER encoding: what `x5t#S256` carries (base64url-encoded).
pub fn certificate_thumbprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Checks a token's proof-of-possession confirmation (`cnf`, RFC 7800) against what the
/// connection proved: the client certificate thumbprint (`None` when the connection presented
/// no certificate).
///
/// A token without `cnf` is a plain bearer token and passes. `cnf.x5t#S256` passes only when
/// it equals the presented certificate's thumbprint. Any other confirmation method (RFC 9449
/// DPoP `jkt`, RFC 7800 `jwk`, `jwe`, `jku`, `kid`) cannot be checked here, so the token is
/// refused with [`Error::ConfirmationUnsupported`]: a key-bound token presented as a bearer
/// token is exactly what binding exists to stop. A malformed `cnf` fails closed.
pub fn check_certificate_binding(
    claims: &Claims,
    presented: Option<&[u8; 32]>,
) -> Result<(), Error> {
    if !claims.contains("cnf") {
        return Ok(());
    }
    let Some(Value::Object(cnf)) = claims.lookup("cnf") else {
        return Err(Error::CertificateMismatch);
    };
    if cnf.keys().any(|k| k != "x5t#S256") {
        return Err(Error::ConfirmationUnsupported);
    }
    let bound = match cnf.get("x5t#S256") {
        None => return Ok(()), // an empty `cnf`: nothing is bound
        Some(Value::String(t)) => b64::decode(t.as_bytes()),
        Some(_) => None,
    };
    match (bound, presented) {
        (Some(b), Some(p)) if b.as_slice() == p.as_slice() => Ok(()),
        _ => Err(Error::CertificateMismatch),
    }
}
