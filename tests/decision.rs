//! The HTTP gate's decision rule (issue 12, item 4): every provider of a rule is looked at,
//! a present token that fails is a denial even under `allow_missing`, and nothing is allowed
//! without the verified tokens the rule requires.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;
use support::*;
use tokengate::{decide, Algorithm, Attempt, Error, Requirement, Requires, Verdict, Verifier};

fn verified() -> Attempt {
    let v = Verifier::new(&policy())
        .verify(&mint(Algorithm::HS256, claims()), &hs_jwks(), NOW)
        .unwrap();
    Attempt::Verified(Arc::new(v))
}

fn requires(all: bool, allow_missing: bool, requirement: &Requirement) -> Requires<'_> {
    Requires {
        all,
        allow_missing,
        allow_missing_or_failed: false,
        requirement,
    }
}

#[test]
fn allow_missing_never_hides_a_forged_token() {
    let none = Requirement::default();
    let forged = Attempt::Failed(Error::SignatureInvalid);
    // requires_all [a, b] + allow_missing: a forged b-token alone is denied.
    assert_eq!(
        decide(&requires(true, true, &none), &[&Attempt::Absent, &forged]),
        Verdict::Deny(Error::SignatureInvalid)
    );
    // No token at all passes unauthenticated.
    assert_eq!(
        decide(
            &requires(true, true, &none),
            &[&Attempt::Absent, &Attempt::Absent]
        ),
        Verdict::AllowUnauthenticated(Error::Missing)
    );
    // requires_any: a malformed credential denies even next to a verified token.
    assert_eq!(
        decide(
            &requires(false, true, &none),
            &[&verified(), &Attempt::Unusable(Error::Ambiguous)]
        ),
        Verdict::Deny(Error::Ambiguous)
    );
    // requires_any: one verified token is enough, another provider's failure does not matter.
    assert_eq!(
        decide(&requires(false, false, &none), &[&forged, &verified()]),
        Verdict::Allow(vec![1])
    );
    // Without allow_missing, nothing is a denial.
    assert_eq!(
        decide(&requires(false, false, &none), &[&Attempt::Absent]),
        Verdict::Deny(Error::Missing)
    );
}

#[test]
fn the_rule_requirement_applies_to_every_verified_token() {
    let admin = Requirement::from_value(json!({"scopes_all": ["orders:admin"]})).unwrap();
    match decide(&requires(true, false, &admin), &[&verified(), &verified()]) {
        Verdict::Deny(e) => assert_eq!(e.code(), "ERR_JWT_INSUFFICIENT_SCOPE"),
        other => panic!("{other:?}"),
    }
    let fail_open = Requires {
        allow_missing_or_failed: true,
        ..requires(false, false, &admin)
    };
    assert!(matches!(
        decide(&fail_open, &[&Attempt::Failed(Error::Expired)]),
        Verdict::AllowUnauthenticated(Error::Expired)
    ));
}

fn attempt() -> impl Strategy<Value = u8> {
    0u8..5
}

proptest! {
    /// Whatever the providers found, `Allow` only ever comes with the verified tokens the rule
    /// needs (all of them, or at least one), and with no unusable or (for all) failed one.
    #[test]
    fn allow_only_with_the_required_verified_tokens(
        kinds in proptest::collection::vec(attempt(), 0..5),
        all in any::<bool>(),
        allow_missing in any::<bool>(),
    ) {
        let v = verified();
        let attempts: Vec<Attempt> = kinds.iter().map(|k| match k {
            0 => Attempt::Absent,
            1 => Attempt::Unusable(Error::MalformedCredential),
            2 => v.clone(),
            3 => Attempt::Failed(Error::SignatureInvalid),
            _ => Attempt::Skipped,
        }).collect();
        let refs: Vec<&Attempt> = attempts.iter().collect();
        let none = Requirement::default();
        let verdict = decide(&requires(all, allow_missing, &none), &refs);
        let n_verified = kinds.iter().filter(|k| **k == 2).count();
        let any_unusable = kinds.contains(&1);
        match verdict {
            Verdict::Allow(idx) => {
                prop_assert!(!any_unusable);
                prop_assert_eq!(idx.len(), n_verified);
                prop_assert!(n_verified > 0);
                if all {
                    prop_assert_eq!(n_verified, kinds.len());
                }
            }
            Verdict::AllowUnauthenticated(e) => {
                prop_assert!(allow_missing);
                prop_assert_eq!(e, Error::Missing);
                // Only when nothing present failed.
                prop_assert!(!any_unusable && !kinds.contains(&3));
            }
            Verdict::Deny(_) => {}
        }
    }
}

#[test]
fn an_outage_is_undecided_not_a_bad_token() {
    let none = Requirement::default();
    let down = Attempt::Failed(Error::KeysUnavailable);
    let forged = Attempt::Failed(Error::SignatureInvalid);
    // requires_any: the token might have verified at the provider that is down.
    assert_eq!(
        decide(&requires(false, false, &none), &[&forged, &down]),
        Verdict::Deny(Error::KeysUnavailable)
    );
    // ...but one that verified still decides.
    assert_eq!(
        decide(&requires(false, false, &none), &[&down, &verified()]),
        Verdict::Allow(vec![1])
    );
    // requires_all: a definite failure decides even while another provider is down.
    assert_eq!(
        decide(&requires(true, false, &none), &[&down, &forged]),
        Verdict::Deny(Error::SignatureInvalid)
    );
    assert_eq!(
        decide(&requires(true, true, &none), &[&down, &Attempt::Absent]),
        Verdict::Deny(Error::KeysUnavailable)
    );
    assert!(Error::DenylistUnavailable.is_unavailable() && !Error::Expired.is_unavailable());
}

/// Many issuers on one rule: providers a token is not for (by its `iss`) only decide when no
/// provider it is for could say more, and never let anything through.
#[test]
fn a_token_for_no_provider_is_refused_with_the_issuer_error_last() {
    let none = Requirement::default();
    let other = Attempt::NotForIssuer(Error::ClaimInvalid {
        claim: tokengate::Claim::Iss,
        reason: tokengate::ClaimReason::CheckFailed,
    });
    let expired = Attempt::Failed(Error::Expired);
    let outage = Attempt::Failed(Error::KeysUnavailable);
    assert_eq!(
        decide(&requires(false, false, &none), &[&other]),
        Verdict::Deny(Error::ClaimInvalid {
            claim: tokengate::Claim::Iss,
            reason: tokengate::ClaimReason::CheckFailed,
        })
    );
    // The verdict of the provider the token is for wins, wherever it stands.
    assert_eq!(
        decide(&requires(false, false, &none), &[&other, &expired]),
        Verdict::Deny(Error::Expired)
    );
    assert_eq!(
        decide(&requires(false, false, &none), &[&other, &outage]),
        Verdict::Deny(Error::KeysUnavailable)
    );
    assert_eq!(
        decide(&requires(false, false, &none), &[&other, &verified()]),
        Verdict::Allow(vec![1])
    );
    // allow_missing lets no token through, not a token nobody is for.
    assert!(matches!(
        decide(&requires(false, true, &none), &[&other]),
        Verdict::Deny(_)
    ));
}
