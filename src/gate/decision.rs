//! A route's verdict from what each of its providers found: the HTTP gate's one decision rule,
//! shared by every host.
//!
//! Every provider of the rule is looked at before anything is decided, so a forged token
//! cannot hide behind a missing one:
//! - a credential that is present but unusable (malformed, repeated, in two places) denies,
//!   whatever else the request carries;
//! - `requires_any`: the first provider whose token verifies decides; otherwise, when a
//!   provider could not decide ([`Error::is_unavailable`]), the gate cannot either; otherwise a
//!   token that failed denies with its error; otherwise a token no provider is for (by its
//!   issuer) denies with the issuer error; otherwise the request carries no token;
//! - `requires_all`: every provider must verify its own token; a definite failure denies, and
//!   otherwise a provider that could not decide makes the gate unable to;
//! - no token at all is [`Error::Missing`], which `allow_missing` lets through
//!   unauthenticated. A present token that fails is a denial even under `allow_missing`;
//!   only `allow_missing_or_failed` (fail-open by name) lets that through;
//! - the route's [`Requirement`] (scopes, claim conditions) is checked on every verified token.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::gate::authz::Requirement;
use crate::jose::error::Error;
use crate::jose::verify::Verified;

/// What one provider made of the request.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// No credential for this provider.
    Absent,
    /// A credential is present but unusable (see [`crate::Presented::Invalid`]).
    Unusable(Error),
    /// A token that verified.
    Verified(Arc<Verified>),
    /// A token that failed verification.
    Failed(Error),
    /// Not tried: an earlier provider of a `requires_any` rule already verified.
    Skipped,
    /// Not tried: the token names an issuer this provider does not accept (see
    /// [`crate::IssuerIndex`]); the error is what the provider's `iss` check would say. It
    /// decides only when no provider the token is for could say more.
    NotForIssuer(Error),
}

/// What a rule requires.
#[derive(Debug, Clone, Copy)]
pub struct Requires<'a> {
    /// Every provider must verify (`requires_all`), else any one (`requires_any`).
    pub all: bool,
    /// Requests without any token pass unauthenticated.
    pub allow_missing: bool,
    /// FAIL-OPEN: requests pass unauthenticated whatever their tokens.
    pub allow_missing_or_failed: bool,
    /// Scopes and claim conditions every verified token must meet.
    pub requirement: &'a Requirement,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Authenticated: the indexes of the verified attempts (claims to forward).
    Allow(Vec<usize>),
    /// Let through without identity (`allow_missing`, or fail-open), with why.
    AllowUnauthenticated(Error),
    /// Refused.
    Deny(Error),
}

/// Decides a rule from its providers' attempts, in the rule's provider order.
pub fn decide(r: &Requires<'_>, attempts: &[&Attempt]) -> Verdict {
    let fail = |e: Error| {
        if r.allow_missing_or_failed {
            Verdict::AllowUnauthenticated(e)
        } else {
            Verdict::Deny(e)
        }
    };
    let missing = || {
        if r.allow_missing || r.allow_missing_or_failed {
            Verdict::AllowUnauthenticated(Error::Missing)
        } else {
            Verdict::Deny(Error::Missing)
        }
    };
    if let Some(e) = attempts.iter().find_map(|a| match a {
        Attempt::Unusable(e) => Some(e.clone()),
        _ => None,
    }) {
        return fail(e);
    }
    let failed_where = |unavailable: bool| {
        attempts.iter().find_map(|a| match a {
            Attempt::Failed(e) if e.is_unavailable() == unavailable => Some(e.clone()),
            _ => None,
        })
    };
    let (definite, undecided) = (failed_where(false), failed_where(true));
    let other_issuer = attempts.iter().find_map(|a| match a {
        Attempt::NotForIssuer(e) => Some(e.clone()),
        _ => None,
    });
    let verified: Vec<usize> = attempts
        .iter()
        .enumerate()
        .filter(|(_, a)| matches!(a, Attempt::Verified(_)))
        .map(|(i, _)| i)
        .collect();
    if r.all {
        if let Some(e) = definite.or(other_issuer).or(undecided) {
            return fail(e);
        }
        if attempts.is_empty() || verified.len() != attempts.len() {
            return missing();
        }
    } else if verified.is_empty() {
        return match undecided.or(definite).or(other_issuer) {
            Some(e) => fail(e),
            None => missing(),
        };
    }
    for &i in &verified {
        if let Attempt::Verified(v) = attempts[i] {
            if let Err(e) = r.requirement.check(v.claims()) {
                return fail(e);
            }
        }
    }
    Verdict::Allow(verified)
}
