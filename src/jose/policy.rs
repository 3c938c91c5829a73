//! A verification policy: validated once when built, immutable after.
//!
//! Built in code with [`Policy::builder`] or from JSON ([`Policy::from_json`]) with these
//! snake_case fields (unknown fields are refused):
//!
//! | field | type | default | meaning |
//! |---|---|---|---|
//! | `algorithms` | array of `alg` names | required, non-empty | the only algorithms accepted; `none` is refused |
//! | `issuers` | non-empty array of strings | not checked when absent | `iss` must equal one of them (and is then required) |
//! | `audiences` | non-empty array of strings | not checked when absent | `aud` (string or array) must contain one of them (and is then required) |
//! | `subjects` | non-empty array of strings | not checked when absent | `sub` must equal one of them |
//! | `typ` | string | any | the header `typ` must match (RFC 7515 4.1.9: case-insensitive, `application/` optional), e.g. `at+jwt` |
//! | `clock_skew_seconds` | integer 0..=600 | 60 | leeway for `exp`, `nbf`, `iat` |
//! | `require_expiration` | bool | true | `exp` must be present |
//! | `max_lifetime_seconds` | integer | none | `exp - iat` at most this; makes `exp` and `iat` required |
//! | `max_age_seconds` | integer (0 allowed) | none | `now - iat` at most this (jose `maxTokenAge`); makes `iat` required; failing it is `ERR_JWT_EXPIRED` |
//! | `required_claims` | array of strings | none | these top-level claims must be present |
//! | `max_token_bytes` | integer 64..=1048576 | 16384 | size limit checked before decoding |
//! | `max_header_bytes` | integer 64..=`max_token_bytes` | 8192 | size limit of the base64url header segment (an `x5c` chain needs ~6 KB) |
//!
//! An empty `issuers`, `audiences` or `subjects` list is refused: no spelling of "any" exists
//! but leaving the field out, so a list emptied by mistake can never turn a check off.

use alloc::string::String;
use alloc::vec::Vec;

use crate::jose::alg::Algorithm;
use crate::jose::claims::Claims;
use crate::jose::error::{Claim, ClaimReason, ConfigError, Error};
use crate::jose::header::Header;
use crate::jose::limits::Limits;

/// Default leeway for time claims, in seconds.
pub const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 60;
/// Largest leeway a policy may set, in seconds.
pub const MAX_CLOCK_SKEW_SECONDS: u64 = 600;

/// A validated, immutable verification policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    algorithms: Vec<Algorithm>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    subjects: Vec<String>,
    typ: Option<String>,
    clock_skew: i64,
    require_expiration: bool,
    max_lifetime: Option<i64>,
    max_age: Option<i64>,
    required_claims: Vec<String>,
    limits: Limits,
    /// A digest of everything above, computed when first asked for: equal policies have equal
    /// fingerprints.
    fingerprint: crate::jose::fingerprint::LazyFingerprint,
}

/// The JSON form of a policy (see the module docs for the fields).
#[derive(Debug, Clone, Default)]
pub struct PolicyConfig {
    /// `algorithms`
    pub algorithms: Vec<String>,
    /// `issuers` (`None`: not checked; `Some` of an empty list is refused)
    pub issuers: Option<Vec<String>>,
    /// `audiences` (`None`: not checked; `Some` of an empty list is refused)
    pub audiences: Option<Vec<String>>,
    /// `subjects` (`None`: not checked; `Some` of an empty list is refused)
    pub subjects: Option<Vec<String>>,
    /// `typ`
    pub typ: Option<String>,
    /// `clock_skew_seconds`
    pub clock_skew_seconds: Option<u64>,
    /// `require_expiration`
    pub require_expiration: Option<bool>,
    /// `max_lifetime_seconds`
    pub max_lifetime_seconds: Option<u64>,
    /// `max_age_seconds`
    pub max_age_seconds: Option<u64>,
    /// `required_claims`
    pub required_claims: Vec<String>,
    /// `max_token_bytes`
    pub max_token_bytes: Option<usize>,
    /// `max_header_bytes`
    pub max_header_bytes: Option<usize>,
}

/// Builds a [`Policy`]; [`PolicyBuilder::build`] validates.
#[derive(Debug, Clone, Default)]
pub struct PolicyBuilder {
    config: PolicyConfig,
}

fn invalid(field: &'static str, reason: &'static str) -> ConfigError {
    ConfigError::Policy { field, reason }
}

fn seconds(field: &'static str, v: Option<u64>) -> Result<Option<i64>, ConfigError> {
    match v {
        None => Ok(None),
        Some(0) => Err(invalid(field, "must be positive")),
        Some(s) if s > crate::jose::claims::MAX_NUMERIC_DATE as u64 => {
            Err(invalid(field, "too large"))
        }
        Some(s) => Ok(Some(s as i64)),
    }
}

fn non_empty_strings(field: &'static str, v: Vec<String>) -> Result<Vec<String>, ConfigError> {
    if v.iter().any(String::is_empty) {
        return Err(invalid(field, "contains an empty string"));
    }
    Ok(v)
}

/// An allowlist: absent means the claim is not checked; present must name at least one value.
fn allowlist(field: &'static str, v: Option<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    match v {
        None => Ok(Vec::new()),
        Some(v) if v.is_empty() => Err(invalid(
            field,
            "is empty: an empty list never means \"any\"; leave the field out to skip the check",
        )),
        Some(v) => non_empty_strings(field, v),
    }
}

impl PolicyConfig {
    /// Validates into a [`Policy`].
    pub fn validate(self) -> Result<Policy, ConfigError> {
        if self.algorithms.is_empty() {
            return Err(invalid("algorithms", "must list at least one algorithm"));
        }
        let mut algorithms = Vec::with_capacity(self.algorithms.len());
        for name in &self.algorithms {
            if name.eq_ignore_ascii_case("none") {
                return Err(invalid("algorithms", "\"none\" can never be allowed"));
            }
            let alg = Algorithm::from_name(name)
                .ok_or(invalid("algorithms", "names an unsupported algorithm"))?;
            if !algorithms.contains(&alg) {
                algorithms.push(alg);
            }
        }
        let audiences = allowlist("audiences", self.audiences)?;
        if audiences.iter().any(|a| a == "*") {
            return Err(invalid(
                "audiences",
                "\"*\" is not a wildcard: list the exact audiences of this service",
            ));
        }
        let clock_skew = self
            .clock_skew_seconds
            .unwrap_or(DEFAULT_CLOCK_SKEW_SECONDS);
        if clock_skew > MAX_CLOCK_SKEW_SECONDS {
            return Err(invalid("clock_skew_seconds", "at most 600"));
        }
        let typ = match self.typ {
            Some(t) if t.is_empty() => return Err(invalid("typ", "must not be empty")),
            t => t,
        };
        let mut limits = Limits::DEFAULT;
        if let Some(max) = self.max_token_bytes {
            if !(64..=Limits::MAX_TOKEN_BYTES_CEILING).contains(&max) {
                return Err(invalid("max_token_bytes", "must be between 64 and 1048576"));
            }
            limits.max_token_bytes = max;
        }
        if let Some(max) = self.max_header_bytes {
            if !(64..=limits.max_token_bytes).contains(&max) {
                return Err(invalid(
                    "max_header_bytes",
                    "must be between 64 and max_token_bytes",
                ));
            }
            limits.max_header_bytes = max;
        }
        // A token's header can never be larger than the token.
        limits.max_header_bytes = limits.max_header_bytes.min(limits.max_token_bytes);
        Ok(Policy {
            algorithms,
            issuers: allowlist("issuers", self.issuers)?,
            audiences,
            subjects: allowlist("subjects", self.subjects)?,
            typ,
            clock_skew: clock_skew as i64,
            require_expiration: self.require_expiration.unwrap_or(true),
            max_lifetime: seconds("max_lifetime_seconds", self.max_lifetime_seconds)?,
            // 0 is allowed, as in jose: the token must be issued now (within the skew).
            max_age: match self.max_age_seconds {
                Some(0) => Some(0),
                other => seconds("max_age_seconds", other)?,
            },
            required_claims: non_empty_strings("required_claims", self.required_claims)?,
            limits,
            fingerprint: crate::jose::fingerprint::LazyFingerprint::new(),
        })
    }
}

impl PolicyBuilder {
    /// Sets the allowed algorithms (required).
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.config.algorithms = algs.into_iter().map(|a| String::from(a.name())).collect();
        self
    }
    /// Adds an accepted issuer.
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.config
            .issuers
            .get_or_insert_with(Vec::new)
            .push(iss.into());
        self
    }
    /// Sets the accepted issuers; an empty list fails [`PolicyBuilder::build`].
    pub fn issuers<S: Into<String>>(mut self, iss: impl IntoIterator<Item = S>) -> Self {
        self.config.issuers = Some(iss.into_iter().map(Into::into).collect());
        self
    }
    /// Adds an accepted audience.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.config
            .audiences
            .get_or_insert_with(Vec::new)
            .push(aud.into());
        self
    }
    /// Sets the accepted audiences; an empty list fails [`PolicyBuilder::build`].
    pub fn audiences<S: Into<String>>(mut self, aud: impl IntoIterator<Item = S>) -> Self {
        self.config.audiences = Some(aud.into_iter().map(Into::into).collect());
        self
    }
    /// Adds an accepted subject.
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.config
            .subjects
            .get_or_insert_with(Vec::new)
            .push(sub.into());
        self
    }
    /// Requires this header `typ`.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.config.typ = Some(typ.into());
        self
    }
    /// Sets the clock skew in seconds (default 60, at most 600).
    pub fn clock_skew_seconds(mut self, s: u64) -> Self {
        self.config.clock_skew_seconds = Some(s);
        self
    }
    /// Whether `exp` is required (default true).
    pub fn require_expiration(mut self, required: bool) -> Self {
        self.config.require_expiration = Some(required);
        self
    }
    /// Maximum `exp - iat`.
    pub fn max_lifetime_seconds(mut self, s: u64) -> Self {
        self.config.max_lifetime_seconds = Some(s);
        self
    }
    /// Maximum `now - iat`.
    pub fn max_age_seconds(mut self, s: u64) -> Self {
        self.config.max_age_seconds = Some(s);
        self
    }
    /// Requires a top-level claim to be present.
    pub fn required_claim(mut self, name: impl Into<String>) -> Self {
        self.config.required_claims.push(name.into());
        self
    }
    /// Sets the token size limit in bytes.
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.config.max_token_bytes = Some(n);
        self
    }
    /// Sets the header segment size limit in bytes.
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.config.max_header_bytes = Some(n);
        self
    }
    /// Validates and builds.
    pub fn build(self) -> Result<Policy, ConfigError> {
        self.config.validate()
    }
}

/// RFC 7515 4.1.9: media type names compare case-insensitively, and `application/` may be
/// omitted.
fn typ_matches(expected: &str, actual: &str) -> bool {
    fn strip(s: &str) -> &str {
        match s.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &s[12..],
            _ => s,
        }
    }
    strip(expected).eq_ignore_ascii_case(strip(actual))
}

fn claim_error(claim: Claim, reason: ClaimReason) -> Error {
    Error::ClaimInvalid { claim, reason }
}

impl Policy {
    /// Starts a builder.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// Parses and validates a JSON policy.
    pub fn from_json(json: &str) -> Result<Policy, ConfigError> {
        crate::jose::policy_json::read(json)?.validate()
    }

    /// Validates a policy given as a serde_json value (by way of its JSON text, so that one
    /// reader decides every policy).
    pub fn from_value(value: serde_json::Value) -> Result<Policy, ConfigError> {
        Policy::from_json(&alloc::string::ToString::to_string(&value))
    }

    /// The allowed algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }
    /// Accepted issuers (empty: `iss` is not checked, which only an absent `issuers` gives).
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }
    /// A digest of the whole policy: equal policies have equal fingerprints. The verified-token
    /// cache is keyed by it, so a token accepted under one policy is never served from the
    /// cache under another.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint.get_or(|| self.digest())
    }

    fn digest(&self) -> u64 {
        let mut f = crate::jose::fingerprint::Fingerprint::new();
        let mut field = |tag: u8, bytes: &[u8]| f.field(tag, bytes);
        for a in &self.algorithms {
            field(b'a', a.name().as_bytes());
        }
        for (tag, list) in [
            (b'i', &self.issuers),
            (b'u', &self.audiences),
            (b's', &self.subjects),
            (b'r', &self.required_claims),
        ] {
            for v in list {
                field(tag, v.as_bytes());
            }
        }
        field(b't', self.typ.as_deref().unwrap_or("").as_bytes());
        field(b'T', &[u8::from(self.typ.is_some())]);
        field(b'k', &self.clock_skew.to_be_bytes());
        field(b'e', &[u8::from(self.require_expiration)]);
        field(b'l', &self.max_lifetime.unwrap_or(-1).to_be_bytes());
        field(b'g', &self.max_age.unwrap_or(-1).to_be_bytes());
        let l = &self.limits;
        for (tag, n) in [
            (b'1', l.max_token_bytes),
            (b'2', l.max_header_bytes),
            (b'3', l.max_json_depth),
            (b'4', l.max_members),
        ] {
            field(tag, &(n as u64).to_be_bytes());
        }
        f.finish()
    }
    /// Accepted audiences (empty: `aud` is not checked, which only an absent `audiences` gives).
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }
    /// The clock skew in seconds.
    pub fn clock_skew_seconds(&self) -> i64 {
        self.clock_skew
    }
    /// Resource limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether `alg` is allowed.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    /// Checks the header and claims of a token whose signature has been verified, at `now`
    /// (seconds since the epoch). The order follows jose's, so the same token fails with the
    /// same error in both.
    pub fn check_claims(&self, header: &Header, claims: &Claims, now: i64) -> Result<(), Error> {
        if let Some(expected) = &self.typ {
            match &header.typ {
                None => return Err(claim_error(Claim::Typ, ClaimReason::Missing)),
                Some(t) if !typ_matches(expected, t) => {
                    return Err(claim_error(Claim::Typ, ClaimReason::CheckFailed))
                }
                Some(_) => {}
            }
        }
        for name in &self.required_claims {
            if !claims.contains(name) {
                return Err(claim_error(named(name), ClaimReason::Missing));
            }
        }
        if !self.issuers.is_empty() {
            let iss = claims
                .issuer()
                .ok_or(claim_error(Claim::Iss, ClaimReason::Missing))?;
            if !self.issuers.iter().any(|i| i == iss) {
                return Err(claim_error(Claim::Iss, ClaimReason::CheckFailed));
            }
        }
        if !self.subjects.is_empty() {
            let sub = claims
                .subject()
                .ok_or(claim_error(Claim::Sub, ClaimReason::Missing))?;
            if !self.subjects.iter().any(|s| s == sub) {
                return Err(claim_error(Claim::Sub, ClaimReason::CheckFailed));
            }
        }
        if !self.audiences.is_empty() {
            let mut aud = claims
                .audiences()
                .ok_or(claim_error(Claim::Aud, ClaimReason::Missing))?;
            if !aud.any(|a| self.audiences.iter().any(|x| x == a)) {
                return Err(claim_error(Claim::Aud, ClaimReason::CheckFailed));
            }
        }
        let skew = self.clock_skew;
        let iat = claims.issued_at();
        let exp = claims.expiration();
        if let Some(iat) = iat {
            if iat > now.saturating_add(skew) {
                return Err(claim_error(Claim::Iat, ClaimReason::IssuedInFuture));
            }
        }
        if let Some(max_age) = self.max_age {
            let iat = iat.ok_or(claim_error(Claim::Iat, ClaimReason::Missing))?;
            if now.saturating_sub(iat) > max_age.saturating_add(skew) {
                return Err(claim_error(Claim::Iat, ClaimReason::TooOld));
            }
        }
        if let Some(nbf) = claims.not_before() {
            if nbf > now.saturating_add(skew) {
                return Err(claim_error(Claim::Nbf, ClaimReason::NotYetValid));
            }
        }
        match exp {
            // RFC 7519 4.1.4: not accepted "on or after" exp.
            Some(exp) if now >= exp.saturating_add(skew) => return Err(Error::Expired),
            Some(_) => {}
            None if self.require_expiration || self.max_lifetime.is_some() => {
                return Err(claim_error(Claim::Exp, ClaimReason::Missing))
            }
            None => {}
        }
        if let (Some(max), Some(exp)) = (self.max_lifetime, exp) {
            let iat = iat.ok_or(claim_error(Claim::Iat, ClaimReason::Missing))?;
            if exp.saturating_sub(iat) > max {
                return Err(claim_error(Claim::Exp, ClaimReason::LifetimeTooLong));
            }
        }
        Ok(())
    }
}

fn named(name: &str) -> Claim {
    match name {
        "exp" => Claim::Exp,
        "nbf" => Claim::Nbf,
        "iat" => Claim::Iat,
        "iss" => Claim::Iss,
        "aud" => Claim::Aud,
        "sub" => Claim::Sub,
        "jti" => Claim::Jti,
        other => Claim::Other(String::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_algorithms_none_and_unknown() {
        let e = Policy::from_json(r#"{"algorithms":[]}"#).unwrap_err();
        assert_eq!(e, invalid("algorithms", "must list at least one algorithm"));
        assert!(Policy::from_json(r#"{"algorithms":["none"]}"#).is_err());
        assert!(Policy::from_json(r#"{"algorithms":["RS256","NONE"]}"#).is_err());
        assert!(Policy::from_json(r#"{"algorithms":["XS256"]}"#).is_err());
        assert!(Policy::builder().build().is_err());
    }

    #[test]
    fn refuses_unknown_fields_wildcard_audience_and_bad_bounds() {
        assert_eq!(
            Policy::from_json(r#"{"algorithms":["RS256"],"audience":["a"]}"#)
                .unwrap_err()
                .code(),
            "ERR_CONFIG_JSON"
        );
        assert!(Policy::from_json(r#"{"algorithms":["RS256"],"audiences":["*"]}"#).is_err());
        assert!(Policy::from_json(r#"{"algorithms":["RS256"],"audiences":[""]}"#).is_err());
        assert!(Policy::from_json(r#"{"algorithms":["RS256"],"clock_skew_seconds":601}"#).is_err());
        assert!(Policy::from_json(r#"{"algorithms":["RS256"],"max_lifetime_seconds":0}"#).is_err());
        assert!(Policy::from_json(r#"{"algorithms":["RS256"],"max_token_bytes":10}"#).is_err());
        assert!(Policy::from_json(r#"{"algorithms":["RS256"],"typ":""}"#).is_err());
    }

    #[test]
    fn an_empty_list_is_never_any() {
        for field in ["issuers", "audiences", "subjects"] {
            let json = alloc::format!(r#"{{"algorithms":["RS256"],"{field}":[]}}"#);
            let e = Policy::from_json(&json).unwrap_err();
            assert_eq!(e.code(), "ERR_POLICY_INVALID", "{field}");
            assert!(alloc::format!("{e}").contains(field), "{e}");
        }
        let none: [&str; 0] = [];
        let b = || Policy::builder().algorithms([Algorithm::RS256]);
        assert!(b().issuers(none).build().is_err());
        assert!(b().audiences(none).build().is_err());
        assert!(b().issuers(["a"]).audiences(["b"]).build().is_ok());
        // Absent: not checked.
        assert!(b().build().unwrap().issuers().is_empty());
    }

    #[test]
    fn header_limit_is_a_policy_limit() {
        let p = Policy::from_json(r#"{"algorithms":["ES256"],"max_header_bytes":4096}"#).unwrap();
        assert_eq!(p.limits().max_header_bytes, 4096);
        assert_eq!(
            Policy::from_json(r#"{"algorithms":["ES256"]}"#)
                .unwrap()
                .limits()
                .max_header_bytes,
            8192
        );
        assert!(Policy::from_json(r#"{"algorithms":["ES256"],"max_header_bytes":10}"#).is_err());
        assert!(Policy::from_json(
            r#"{"algorithms":["ES256"],"max_token_bytes":1000,"max_header_bytes":2000}"#
        )
        .is_err());
        let small =
            Policy::from_json(r#"{"algorithms":["ES256"],"max_token_bytes":1000}"#).unwrap();
        assert_eq!(small.limits().max_header_bytes, 1000);
    }

    #[test]
    fn fingerprints_follow_content() {
        let a = Policy::from_json(r#"{"algorithms":["HS256"],"issuers":["x"]}"#).unwrap();
        let a2 = Policy::from_json(r#"{"algorithms":["HS256"],"issuers":["x"]}"#).unwrap();
        let b = Policy::from_json(r#"{"algorithms":["HS384"],"issuers":["x"]}"#).unwrap();
        let c =
            Policy::from_json(r#"{"algorithms":["HS256"],"issuers":["x"],"max_token_bytes":900}"#)
                .unwrap();
        let d = Policy::from_json(r#"{"algorithms":["HS256"],"audiences":["x"]}"#).unwrap();
        assert_eq!(a.fingerprint(), a2.fingerprint());
        for other in [&b, &c, &d] {
            assert_ne!(a.fingerprint(), other.fingerprint());
        }
    }

    #[test]
    fn defaults_are_safe() {
        let p = Policy::from_json(r#"{"algorithms":["ES256"]}"#).unwrap();
        assert_eq!(p.clock_skew_seconds(), 60);
        assert!(p.require_expiration);
        assert_eq!(p.limits().max_token_bytes, 16 * 1024);
    }

    #[test]
    fn typ_comparison_follows_rfc7515() {
        assert!(typ_matches("at+jwt", "application/AT+JWT"));
        assert!(typ_matches("application/at+jwt", "at+jwt"));
        assert!(!typ_matches("at+jwt", "jwt"));
    }
}
