//! Errors: [`Error`] for anything wrong with a token, [`ConfigError`] for anything wrong with
//! what the caller configured (policy, JWK, JWKS, denylist).
//!
//! Both carry a stable [`code()`](Error::code) string. The codes are the public contract: the
//! npm package exposes them as `error.code`, the Envoy filter as log reasons and metric labels.
//! Where jose (panva/jose) has an error with the same meaning, the code is jose's.
//!
//! No message ever contains the token, a claim value taken from the token, or key material:
//! only static text and names that came from the caller's own policy.

use alloc::string::String;
use core::fmt;

/// A registered (or policy-named) claim that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// `exp`
    Exp,
    /// `nbf`
    Nbf,
    /// `iat`
    Iat,
    /// `iss`
    Iss,
    /// `aud`
    Aud,
    /// `sub`
    Sub,
    /// `jti`
    Jti,
    /// The `typ` header parameter (validated like a claim, as jose does).
    Typ,
    /// `scope` / `scp`
    Scope,
    /// Any other claim, named by the caller's policy.
    Other(String),
}

impl Claim {
    /// The claim's name as it appears in the token.
    pub fn name(&self) -> &str {
        match self {
            Claim::Exp => "exp",
            Claim::Nbf => "nbf",
            Claim::Iat => "iat",
            Claim::Iss => "iss",
            Claim::Aud => "aud",
            Claim::Sub => "sub",
            Claim::Jti => "jti",
            Claim::Typ => "typ",
            Claim::Scope => "scope",
            Claim::Other(name) => name,
        }
    }
}

/// Why a claim failed validation. The strings match jose's `reason` where jose has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimReason {
    /// The claim is required by policy but absent (jose: `missing`).
    Missing,
    /// The claim has the wrong JSON type or an out-of-range value (jose: `invalid`).
    Invalid,
    /// The claim's value is not one the policy accepts (jose: `check_failed`).
    CheckFailed,
    /// `nbf` is in the future beyond the allowed skew.
    NotYetValid,
    /// `iat` is in the future beyond the allowed skew.
    IssuedInFuture,
    /// `now - iat` exceeds the policy's maximum token age.
    TooOld,
    /// `exp - iat` exceeds the policy's maximum lifetime.
    LifetimeTooLong,
}

impl ClaimReason {
    /// Stable reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimReason::Missing => "missing",
            ClaimReason::Invalid => "invalid",
            ClaimReason::CheckFailed => "check_failed",
            ClaimReason::NotYetValid => "not_yet_valid",
            ClaimReason::IssuedInFuture => "issued_in_future",
            ClaimReason::TooOld => "too_old",
            ClaimReason::LifetimeTooLong => "lifetime_too_long",
        }
    }
}

/// Why a token was found revoked by the [`Denylist`](crate::Denylist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    /// Its `jti` is listed.
    Jti,
    /// Its `sub` is listed.
    Subject,
    /// Its `sub` has an "issued before" cutoff and the token's `iat` is older (or absent).
    IssuedBeforeCutoff,
}

/// Which part of a compact token was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The token as a whole (segment count, characters).
    Token,
    /// The protected header.
    Header,
    /// The payload.
    Payload,
    /// The signature.
    Signature,
}

impl Part {
    fn as_str(self) -> &'static str {
        match self {
            Part::Token => "token",
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        }
    }
}

/// Everything that can be wrong with a token, an authorization decision, or its key lookup.
///
/// Match on [`code()`](Error::code) for stable behaviour; variants may be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No token was presented (adapters use this; the core never sees an absent token).
    /// Code `ERR_JWT_MISSING`.
    Missing,
    /// The token exceeds a size limit; checked before any decoding. Code `ERR_JWT_TOO_LARGE`.
    TooLarge {
        /// The part that was too large.
        part: Part,
        /// The limit in bytes.
        limit: usize,
    },
    /// The compact JWS structure, its base64url, or the header JSON is malformed.
    /// Code `ERR_JWS_INVALID`.
    MalformedJws {
        /// Where.
        part: Part,
        /// What, as static text.
        reason: &'static str,
    },
    /// The payload is not a valid JWT claims set (not JSON, not an object, duplicate
    /// members, too deep, too many claims). Code `ERR_JWT_INVALID`.
    MalformedClaims {
        /// What, as static text.
        reason: &'static str,
    },
    /// The token uses something this verifier deliberately does not implement: the JSON
    /// serializations, an unknown `alg`, a `crit` extension, `b64: false`.
    /// Code `ERR_JOSE_NOT_SUPPORTED`.
    NotSupported {
        /// What, as static text.
        reason: &'static str,
    },
    /// The header's `alg` is not in the policy's allowlist (this includes `none`, which no
    /// policy can list). Code `ERR_JOSE_ALG_NOT_ALLOWED`.
    AlgorithmNotAllowed,
    /// No key in the set matches the token's `kid` and algorithm.
    /// Code `ERR_JWKS_NO_MATCHING_KEY`.
    NoMatchingKey,
    /// More than one key matches the token's `kid` and algorithm, so the choice would be
    /// ambiguous. Code `ERR_JWKS_MULTIPLE_MATCHING_KEYS`.
    MultipleMatchingKeys,
    /// No key set is available yet (adapters: remote JWKS not fetched). Fail closed.
    /// Code `ERR_JWKS_UNAVAILABLE`.
    KeysUnavailable,
    /// A revocation denylist is configured but has not been loaded yet (adapters; fail closed
    /// unless the host explicitly opts out). Code `ERR_DENYLIST_UNAVAILABLE`.
    DenylistUnavailable,
    /// The signature does not verify. Code `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`.
    SignatureInvalid,
    /// `exp` is in the past beyond the allowed skew. Code `ERR_JWT_EXPIRED`.
    Expired,
    /// A claim failed validation. Code `ERR_JWT_CLAIM_VALIDATION_FAILED`, except for
    /// [`ClaimReason::TooOld`] (`iat` older than the policy's maximum age), which is
    /// `ERR_JWT_EXPIRED` with reason `check_failed`, as in jose.
    ClaimInvalid {
        /// Which claim.
        claim: Claim,
        /// Why.
        reason: ClaimReason,
    },
    /// The token is revoked by the denylist. Code `ERR_JWT_REVOKED`.
    Revoked {
        /// Which entry matched.
        reason: RevocationReason,
    },
    /// Authorization: the token lacks a required scope. Code `ERR_JWT_INSUFFICIENT_SCOPE`.
    InsufficientScope {
        /// The scopes the rule asked for (from configuration, never from the token),
        /// space-delimited as in RFC 6750 `scope=`.
        required: String,
    },
    /// Authorization: a claim condition did not hold. Code `ERR_JWT_CLAIM_FORBIDDEN`.
    ClaimForbidden {
        /// The claim path named by the rule.
        claim: String,
    },
    /// The token is bound to a client certificate (RFC 8705 `cnf.x5t#S256`) that the
    /// connection did not present. Code `ERR_JWT_CERTIFICATE_MISMATCH`.
    CertificateMismatch,
    /// The token is bound to a proof-of-possession key by a confirmation method this gate
    /// cannot check (RFC 9449 DPoP `cnf.jkt`, RFC 7800 `cnf.jwk`/`jku`/`kid`/`jwe`). A bound
    /// token presented as a plain bearer token is refused. Code `ERR_JWT_CONFIRMATION_UNSUPPORTED`.
    ConfirmationUnsupported,
    /// The request carries more than one credential where one is expected: a token header
    /// repeated, a bearer token in a multi-valued header, or a token in two of a provider's
    /// locations (RFC 6750 section 2: one method per request). Code `ERR_JWT_AMBIGUOUS`.
    Ambiguous,
    /// A credential with the configured scheme in another spelling or separator, or with
    /// bytes no token can hold (`Bearer\t..`, non-UTF-8, a space inside the token).
    /// Code `ERR_JWT_MALFORMED_CREDENTIAL`.
    MalformedCredential,
    /// The request path is not in normal form (a `.`/`..` segment, `//`, a backslash, a `;`
    /// path parameter, a percent-encoded `/`, `\`, `.`, `%` or unreserved character, broken
    /// percent-encoding), so route rules could be bypassed. HTTP 400.
    /// Code `ERR_PATH_NOT_NORMALIZED`.
    PathNotNormalized,
}

impl Error {
    /// The stable code string.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Missing => "ERR_JWT_MISSING",
            Error::TooLarge { .. } => "ERR_JWT_TOO_LARGE",
            Error::MalformedJws { .. } => "ERR_JWS_INVALID",
            Error::MalformedClaims { .. } => "ERR_JWT_INVALID",
            Error::NotSupported { .. } => "ERR_JOSE_NOT_SUPPORTED",
            Error::AlgorithmNotAllowed => "ERR_JOSE_ALG_NOT_ALLOWED",
            Error::NoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            Error::MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            Error::KeysUnavailable => "ERR_JWKS_UNAVAILABLE",
            Error::DenylistUnavailable => "ERR_DENYLIST_UNAVAILABLE",
            Error::SignatureInvalid => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            Error::Expired => "ERR_JWT_EXPIRED",
            // jose: a token older than `maxTokenAge` is `JWTExpired` (claim `iat`).
            Error::ClaimInvalid {
                reason: ClaimReason::TooOld,
                ..
            } => "ERR_JWT_EXPIRED",
            Error::ClaimInvalid { .. } => "ERR_JWT_CLAIM_VALIDATION_FAILED",
            Error::Revoked { .. } => "ERR_JWT_REVOKED",
            Error::InsufficientScope { .. } => "ERR_JWT_INSUFFICIENT_SCOPE",
            Error::ClaimForbidden { .. } => "ERR_JWT_CLAIM_FORBIDDEN",
            Error::CertificateMismatch => "ERR_JWT_CERTIFICATE_MISMATCH",
            Error::ConfirmationUnsupported => "ERR_JWT_CONFIRMATION_UNSUPPORTED",
            Error::Ambiguous => "ERR_JWT_AMBIGUOUS",
            Error::MalformedCredential => "ERR_JWT_MALFORMED_CREDENTIAL",
            Error::PathNotNormalized => "ERR_PATH_NOT_NORMALIZED",
        }
    }

    /// Every code [`Error::code`] can return, for documentation and metric pre-registration.
    pub const ALL_CODES: &'static [&'static str] = &[
        "ERR_JWT_MISSING",
        "ERR_JWT_TOO_LARGE",
        "ERR_JWS_INVALID",
        "ERR_JWT_INVALID",
        "ERR_JOSE_NOT_SUPPORTED",
        "ERR_JOSE_ALG_NOT_ALLOWED",
        "ERR_JWKS_NO_MATCHING_KEY",
        "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
        "ERR_JWKS_UNAVAILABLE",
        "ERR_DENYLIST_UNAVAILABLE",
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        "ERR_JWT_EXPIRED",
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
        "ERR_JWT_REVOKED",
        "ERR_JWT_INSUFFICIENT_SCOPE",
        "ERR_JWT_CLAIM_FORBIDDEN",
        "ERR_JWT_CERTIFICATE_MISMATCH",
        "ERR_JWT_CONFIRMATION_UNSUPPORTED",
        "ERR_JWT_AMBIGUOUS",
        "ERR_JWT_MALFORMED_CREDENTIAL",
        "ERR_PATH_NOT_NORMALIZED",
    ];

    /// Whether the gate could not decide because something it needs is unavailable (no key set
    /// yet, keys or denylist stale past their limit): not a verdict on the token. Hosts answer
    /// HTTP 503 with `Retry-After`, never `invalid_token`, so clients keep their token instead
    /// of asking the IdP for a new one (which would turn an IdP outage into a refresh storm).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::KeysUnavailable | Error::DenylistUnavailable)
    }

    /// Whether this refuses the request itself rather than its credential (HTTP 400, RFC 6750
    /// `invalid_request`): only [`Error::PathNotNormalized`].
    pub fn is_bad_request(&self) -> bool {
        matches!(self, Error::PathNotNormalized)
    }

    /// Whether this is an authorization failure (HTTP 403: the token is authentic but not
    /// enough) rather than an authentication failure (HTTP 401).
    pub fn is_authorization_failure(&self) -> bool {
        matches!(
            self,
            Error::InsufficientScope { .. } | Error::ClaimForbidden { .. }
        )
    }

    /// The claim name for [`Error::ClaimInvalid`], [`Error::Expired`] (`exp`) and
    /// [`Error::ClaimForbidden`]; `None` otherwise. Mirrors jose's `error.claim`.
    pub fn claim(&self) -> Option<&str> {
        match self {
            Error::ClaimInvalid { claim, .. } => Some(claim.name()),
            Error::Expired => Some("exp"),
            Error::ClaimForbidden { claim } => Some(claim),
            _ => None,
        }
    }

    /// The reason string for [`Error::ClaimInvalid`] and [`Error::Expired`]; mirrors jose's
    /// `error.reason` (so a token past `max_age_seconds` is `check_failed`, as in jose).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Error::ClaimInvalid {
                reason: ClaimReason::TooOld,
                ..
            } => Some("check_failed"),
            Error::ClaimInvalid { reason, .. } => Some(reason.as_str()),
            Error::Expired => Some("check_failed"),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Missing => f.write_str("no token was presented"),
            Error::TooLarge { part, limit } => {
                write!(f, "{} exceeds the {limit}-byte limit", part.as_str())
            }
            Error::MalformedJws { part, reason } => {
                write!(f, "malformed JWS {}: {reason}", part.as_str())
            }
            Error::MalformedClaims { reason } => write!(f, "malformed JWT claims: {reason}"),
            Error::NotSupported { reason } => write!(f, "not supported: {reason}"),
            Error::AlgorithmNotAllowed => f.write_str("\"alg\" (Algorithm) not allowed"),
            Error::NoMatchingKey => f.write_str("no applicable key found in the JSON Web Key Set"),
            Error::MultipleMatchingKeys => {
                f.write_str("multiple matching keys found in the JSON Web Key Set")
            }
            Error::KeysUnavailable => f.write_str("no JSON Web Key Set is available yet"),
            Error::DenylistUnavailable => f.write_str("the revocation denylist is not loaded yet"),
            Error::SignatureInvalid => f.write_str("signature verification failed"),
            Error::Expired => f.write_str("\"exp\" claim timestamp check failed"),
            Error::ClaimInvalid { claim, reason } => {
                let name = claim.name();
                match reason {
                    ClaimReason::Missing => write!(f, "missing required \"{name}\" claim"),
                    ClaimReason::Invalid => {
                        write!(f, "\"{name}\" claim has an invalid type or value")
                    }
                    ClaimReason::CheckFailed => write!(f, "unexpected \"{name}\" claim value"),
                    ClaimReason::NotYetValid => {
                        write!(f, "\"{name}\" claim timestamp check failed (not yet valid)")
                    }
                    ClaimReason::IssuedInFuture => {
                        write!(f, "\"{name}\" claim timestamp is in the future")
                    }
                    ClaimReason::TooOld => {
                        write!(
                            f,
                            "\"{name}\" claim timestamp check failed (too far in the past)"
                        )
                    }
                    ClaimReason::LifetimeTooLong => {
                        f.write_str("token lifetime (exp - iat) exceeds the policy's maximum")
                    }
                }
            }
            Error::Revoked { reason } => f.write_str(match reason {
                RevocationReason::Jti => "token revoked (jti)",
                RevocationReason::Subject => "token revoked (sub)",
                RevocationReason::IssuedBeforeCutoff => "token revoked (issued before cutoff)",
            }),
            Error::InsufficientScope { required } => {
                write!(f, "insufficient scope, requires: {required}")
            }
            Error::ClaimForbidden { claim } => write!(f, "claim \"{claim}\" condition failed"),
            Error::CertificateMismatch => {
                f.write_str("token is bound to a different client certificate")
            }
            Error::ConfirmationUnsupported => f.write_str(
                "token is bound to a proof-of-possession key (cnf) this gate cannot check",
            ),
            Error::Ambiguous => f.write_str("more than one token was presented"),
            Error::MalformedCredential => {
                f.write_str("the credential does not follow the configured scheme")
            }
            Error::PathNotNormalized => f.write_str("the request path is not in normal form"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// What is wrong with caller-supplied configuration: a policy, a JWK, a JWKS, a denylist.
///
/// Kept apart from [`Error`]: these are mistakes of whoever configured the verifier (or of
/// the key server), not of whoever sent the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The policy is invalid. Code `ERR_POLICY_INVALID`.
    Policy {
        /// The offending field, as named in the JSON policy format.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A JWK is invalid. Code `ERR_JWK_INVALID`.
    Jwk {
        /// Index of the key in its set, if it came from a set.
        index: Option<usize>,
        /// The offending JWK member (`n`, `crv`, ...), or `""` for the key as a whole.
        member: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A JWK uses a key type, curve or algorithm this verifier does not implement, or is not
    /// meant for signature verification (`use`, `key_ops`). Code `ERR_JWK_UNSUPPORTED`.
    /// Inside a JWKS such keys are skipped and counted instead.
    JwkUnsupported {
        /// What is unsupported.
        reason: &'static str,
    },
    /// The key set as a whole is invalid (not JSON, no `keys` array, too many keys, mixed
    /// symmetric and asymmetric keys). Code `ERR_JWKS_INVALID`.
    Jwks {
        /// What is wrong.
        reason: &'static str,
    },
    /// The key set has no key usable for verification. Code `ERR_JWKS_NO_USABLE_KEYS`.
    NoUsableKeys {
        /// How many keys were skipped as unsupported.
        skipped: usize,
    },
    /// The denylist document is invalid. Code `ERR_DENYLIST_INVALID`.
    Denylist {
        /// What is wrong.
        reason: &'static str,
    },
    /// OIDC discovery metadata that cannot name the provider's key set: another issuer's, or
    /// no http(s) `jwks_uri`. Code `ERR_DISCOVERY_INVALID`.
    Discovery {
        /// What is wrong.
        reason: &'static str,
    },
    /// A JSON configuration document could not be read. Code `ERR_CONFIG_JSON`.
    Json {
        /// Which document (`policy`, `jwks`, `denylist`, ...).
        document: &'static str,
        /// Line of the problem (1-based, 0 when unknown).
        line: usize,
        /// Column of the problem (1-based, 0 when unknown).
        column: usize,
    },
}

impl ConfigError {
    /// The stable code string.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Policy { .. } => "ERR_POLICY_INVALID",
            ConfigError::Jwk { .. } => "ERR_JWK_INVALID",
            ConfigError::JwkUnsupported { .. } => "ERR_JWK_UNSUPPORTED",
            ConfigError::Jwks { .. } => "ERR_JWKS_INVALID",
            ConfigError::NoUsableKeys { .. } => "ERR_JWKS_NO_USABLE_KEYS",
            ConfigError::Denylist { .. } => "ERR_DENYLIST_INVALID",
            ConfigError::Discovery { .. } => "ERR_DISCOVERY_INVALID",
            ConfigError::Json { .. } => "ERR_CONFIG_JSON",
        }
    }

    pub(crate) const fn jwk(member: &'static str, reason: &'static str) -> Self {
        ConfigError::Jwk {
            index: None,
            member,
            reason,
        }
    }

    pub(crate) fn from_json(document: &'static str, e: &serde_json::Error) -> Self {
        ConfigError::Json {
            document,
            line: e.line(),
            column: e.column(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Policy { field, reason } => write!(f, "policy field `{field}`: {reason}"),
            ConfigError::Jwk {
                index,
                member,
                reason,
            } => {
                f.write_str("JWK")?;
                if let Some(i) = index {
                    write!(f, " #{i}")?;
                }
                if !member.is_empty() {
                    write!(f, " member `{member}`")?;
                }
                write!(f, ": {reason}")
            }
            ConfigError::JwkUnsupported { reason } => write!(f, "unsupported JWK: {reason}"),
            ConfigError::Jwks { reason } => write!(f, "JWKS: {reason}"),
            ConfigError::NoUsableKeys { skipped } => write!(
                f,
                "JWKS has no key usable for signature verification ({skipped} skipped as unsupported)"
            ),
            ConfigError::Denylist { reason } => write!(f, "denylist: {reason}"),
            ConfigError::Discovery { reason } => write!(f, "OIDC discovery metadata: {reason}"),
            ConfigError::Json {
                document,
                line,
                column,
            } => write!(f, "{document}: invalid JSON at line {line} column {column}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConfigError {}
