//! Many issuers on one route: picks, from a `requires_any` rule's providers, the ones a token
//! can be for, by the token's unverified `iss`, so a rule with 100 tenants costs what a rule
//! with one does.
//!
//! The `iss` read here only chooses which providers try the token; the signature and every
//! policy check (including `iss` itself) still decide. A provider skipped here could never
//! have accepted the token, because its policy requires an `iss` the token does not carry.
//! A token whose payload cannot be read as a claims set is refused once with the reason
//! (no provider could accept it), so garbage cannot make every provider look up a key or
//! check a signature.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::jose::b64;
use crate::jose::compact;
use crate::jose::error::{Claim, ClaimReason, Error};
use crate::jose::json::{ParseFailure, Reader, Scalar};
use crate::jose::limits::Limits;
use crate::jose::policy::Policy;

/// A rule's providers (by position in the rule), indexed by the issuers their policies accept.
#[derive(Debug, Clone, Default)]
pub struct IssuerIndex {
    by_issuer: BTreeMap<String, Vec<usize>>,
    /// Positions whose policy does not check `iss`: candidates for every token.
    any_issuer: Vec<usize>,
    /// The most generous size limits among the providers, for reading the payload.
    limits: Limits,
}

/// What the unverified payload says about the issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    Issuer(String),
    /// No `iss` member.
    Absent,
    /// An `iss` that is not a string.
    NotAString,
}

/// The providers (positions) that may try one token.
#[derive(Debug)]
pub struct Candidates<'a> {
    /// Positions of the providers of the named issuer (resolved once per token).
    named_by: &'a [usize],
    /// Positions of the providers that do not check `iss`.
    any_issuer: &'a [usize],
    named: Named,
}

impl IssuerIndex {
    /// Indexes a rule's providers, given their policies in the rule's order.
    pub fn new<'p>(policies: impl IntoIterator<Item = &'p Policy>) -> IssuerIndex {
        let mut index = IssuerIndex {
            limits: Limits {
                max_token_bytes: 0,
                max_header_bytes: 0,
                ..Limits::DEFAULT
            },
            ..IssuerIndex::default()
        };
        for (position, policy) in policies.into_iter().enumerate() {
            let l = policy.limits();
            index.limits.max_token_bytes = index.limits.max_token_bytes.max(l.max_token_bytes);
            index.limits.max_header_bytes = index.limits.max_header_bytes.max(l.max_header_bytes);
            index.limits.max_json_depth = index.limits.max_json_depth.max(l.max_json_depth);
            index.limits.max_members = index.limits.max_members.max(l.max_members);
            if policy.issuers().is_empty() {
                index.any_issuer.push(position);
            }
            for iss in policy.issuers() {
                let at = index.by_issuer.entry(iss.clone()).or_default();
                if at.last() != Some(&position) {
                    at.push(position);
                }
            }
        }
        index
    }

    /// The providers that may try `token`, or the reason no provider could accept it (the
    /// token is not a compact JWS within the providers' limits, or its payload is not a JSON
    /// object with at most one `iss`).
    pub fn candidates(&self, token: &[u8]) -> Result<Candidates<'_>, Error> {
        let segments = compact::split(token, &self.limits)?;
        let payload = b64::decode(segments.payload).ok_or(Error::MalformedJws {
            part: crate::jose::error::Part::Payload,
            reason: "invalid base64url",
        })?;
        let named = core::str::from_utf8(&payload)
            .ok()
            .and_then(|text| read_issuer(text, &self.limits).ok())
            .ok_or(Error::MalformedClaims {
                reason: "the payload is not a JSON object with at most one \"iss\"",
            })?;
        let named_by = match &named {
            Named::Issuer(iss) => self
                .by_issuer
                .get(iss.as_str())
                .map_or(&[][..], Vec::as_slice),
            Named::Absent | Named::NotAString => &[],
        };
        Ok(Candidates {
            named_by,
            any_issuer: &self.any_issuer,
            named,
        })
    }
}

/// Reads the payload as strictly as the claims parser does, keeping only `iss`.
fn read_issuer(text: &str, limits: &Limits) -> Result<Named, ParseFailure> {
    let mut r = Reader::new(text, limits.max_json_depth, limits.max_members);
    let mut object = r.object(1)?;
    let depth = object.inner();
    let mut named = Named::Absent;
    while let Some(name) = object.next(&mut r)? {
        if name == "iss" {
            named = match r.scalar(depth)? {
                Scalar::Str(s) => Named::Issuer(s.into_owned()),
                _ => Named::NotAString,
            };
        } else {
            r.skip(depth)?;
        }
    }
    r.finish()?;
    Ok(named)
}

impl Candidates<'_> {
    /// Whether the provider at `position` in the rule may try the token.
    pub fn includes(&self, position: usize) -> bool {
        self.named_by.binary_search(&position).is_ok()
            || self.any_issuer.binary_search(&position).is_ok()
    }

    /// The positions that may try the token, in the rule's order.
    pub fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        let (mut a, mut b) = (
            self.named_by.iter().copied().peekable(),
            self.any_issuer.iter().copied().peekable(),
        );
        core::iter::from_fn(move || match (a.peek().copied(), b.peek().copied()) {
            (Some(x), Some(y)) if x == y => {
                b.next();
                a.next()
            }
            (Some(x), Some(y)) if x < y => a.next(),
            (Some(_), Some(_)) | (None, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => None,
        })
    }

    /// The error for a provider the token is not for: what its policy's `iss` check would say.
    pub fn refusal(&self) -> Error {
        let reason = match self.named {
            Named::Issuer(_) => ClaimReason::CheckFailed,
            Named::Absent => ClaimReason::Missing,
            Named::NotAString => ClaimReason::Invalid,
        };
        Error::ClaimInvalid {
            claim: Claim::Iss,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::alg::Algorithm;
    use crate::jose::b64::encode;
    use alloc::format;

    fn policy(iss: Option<&[&str]>) -> Policy {
        let b = Policy::builder()
            .algorithms([Algorithm::RS256])
            .audience("api");
        match iss {
            Some(i) => b.issuers(i.iter().copied()),
            None => b,
        }
        .build()
        .unwrap()
    }

    fn token(payload: &str) -> alloc::vec::Vec<u8> {
        format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", encode(payload.as_bytes())).into_bytes()
    }

    #[test]
    fn picks_the_providers_of_the_named_issuer() {
        let tenants: Vec<Policy> = (0..100)
            .map(|n| {
                let iss = format!("https://t{n}.example");
                policy(Some(&[iss.as_str()]))
            })
            .collect();
        let index = IssuerIndex::new(&tenants);
        let c = index
            .candidates(&token(r#"{"iss":"https://t73.example","sub":"a"}"#))
            .unwrap();
        let picked: Vec<usize> = (0..100).filter(|&p| c.includes(p)).collect();
        assert_eq!(picked, [73]);
        assert_eq!(c.positions().collect::<Vec<_>>(), [73]);
        let c = index
            .candidates(&token(r#"{"iss":"https://nobody.example"}"#))
            .unwrap();
        assert!((0..100).all(|p| !c.includes(p)));
        assert_eq!(c.refusal().code(), "ERR_JWT_CLAIM_VALIDATION_FAILED");
    }

    #[test]
    fn providers_without_issuers_try_every_token() {
        let policies = [
            policy(Some(&["a", "b"])),
            policy(None),
            policy(Some(&["b"])),
        ];
        let index = IssuerIndex::new(&policies);
        let c = index.candidates(&token(r#"{"iss":"b"}"#)).unwrap();
        assert_eq!(
            (0..3).map(|p| c.includes(p)).collect::<Vec<_>>(),
            [true, true, true]
        );
        let c = index.candidates(&token(r#"{"iss":"a"}"#)).unwrap();
        assert_eq!(
            (0..3).map(|p| c.includes(p)).collect::<Vec<_>>(),
            [true, true, false]
        );
        let c = index.candidates(&token(r#"{"sub":"x"}"#)).unwrap();
        assert_eq!(
            (0..3).map(|p| c.includes(p)).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert_eq!(
            c.refusal(),
            Error::ClaimInvalid {
                claim: Claim::Iss,
                reason: ClaimReason::Missing
            }
        );
        let c = index.candidates(&token(r#"{"iss":7}"#)).unwrap();
        assert!(!c.includes(0) && c.includes(1));
        assert_eq!(
            c.refusal(),
            Error::ClaimInvalid {
                claim: Claim::Iss,
                reason: ClaimReason::Invalid
            }
        );
    }

    #[test]
    fn unreadable_tokens_are_refused_once_with_the_reason() {
        let index = IssuerIndex::new(&[policy(Some(&["a"])), policy(Some(&["b"]))]);
        for (t, code) in [
            (b"garbage".to_vec(), "ERR_JWS_INVALID"),
            (b"a.b.c.d.e".to_vec(), "ERR_JOSE_NOT_SUPPORTED"),
            (b"eyJhbGciOiJSUzI1NiJ9.***.c2ln".to_vec(), "ERR_JWS_INVALID"),
            (token("[1,2]"), "ERR_JWT_INVALID"),
            (token("not json"), "ERR_JWT_INVALID"),
            (token(r#"{"iss":"a","iss":"b"}"#), "ERR_JWT_INVALID"),
            (alloc::vec![b'a'; 17 * 1024], "ERR_JWT_TOO_LARGE"),
        ] {
            assert_eq!(index.candidates(&t).unwrap_err().code(), code);
        }
    }
}
