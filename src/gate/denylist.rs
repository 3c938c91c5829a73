//! Revocation: a denylist of token ids, subjects, and per-subject "issued before" cutoffs
//! (logout everywhere, password change), checked after the signature and the claims.
//!
//! JSON format (every member optional, unknown members refused):
//!
//! ```json
//! {
//!   "jti": ["4f1c...", {"value": "9a2b...", "iss": "https://idp.example", "expires_at": 1800000000}],
//!   "sub": ["mallory", {"value": "eve", "expires_at": 1800000000}],
//!   "sub_issued_before": [{"sub": "alice", "before": 1790000000, "iss": "https://idp.example"}]
//! }
//! ```
//!
//! - `jti` / `sub`: a token whose `jti` / `sub` equals `value` is revoked. A bare string is
//!   shorthand for `{"value": ...}`.
//! - `sub_issued_before`: a token of that subject whose `iat` is before `before` (or that has
//!   no `iat`: fail closed) is revoked.
//! - `iss`, when given, limits an entry to tokens of that issuer (ids are unique per issuer).
//! - `expires_at`, when given, ends the entry at that time (set it to the revoked tokens'
//!   last `exp` so the list does not grow forever).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::gate::denylist_json::{self, Entry};
use crate::jose::claims::Claims;
use crate::jose::error::{ConfigError, Error, RevocationReason};

/// Most entries a denylist may hold.
pub const MAX_ENTRIES: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    iss: Option<String>,
    expires_at: Option<i64>,
}

impl Scope {
    fn applies(&self, claims: &Claims, now: i64) -> bool {
        self.expires_at.is_none_or(|t| now < t)
            && self
                .iss
                .as_deref()
                .is_none_or(|i| claims.issuer() == Some(i))
    }
}

/// A parsed denylist. Lookups are O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Denylist {
    jti: BTreeMap<String, Vec<Scope>>,
    sub: BTreeMap<String, Vec<Scope>>,
    cutoffs: BTreeMap<String, Vec<(i64, Scope)>>,
    len: usize,
}

fn add(map: &mut BTreeMap<String, Vec<Scope>>, entry: Entry) -> Result<(), ConfigError> {
    if entry.value.is_empty() {
        return Err(ConfigError::Denylist {
            reason: "an entry has an empty value",
        });
    }
    map.entry(entry.value).or_default().push(Scope {
        iss: entry.iss,
        expires_at: entry.expires_at,
    });
    Ok(())
}

impl Denylist {
    /// An empty denylist.
    pub fn new() -> Self {
        Denylist::default()
    }

    /// Parses the JSON format described in the module docs.
    pub fn from_json(json: &str) -> Result<Denylist, ConfigError> {
        let doc = denylist_json::read(json, MAX_ENTRIES)?;
        let mut list = Denylist::new();
        list.len = doc.jti.len() + doc.sub.len() + doc.sub_issued_before.len();
        if list.len > MAX_ENTRIES {
            return Err(ConfigError::Denylist {
                reason: "more entries than the limit",
            });
        }
        for e in doc.jti {
            add(&mut list.jti, e)?;
        }
        for e in doc.sub {
            add(&mut list.sub, e)?;
        }
        for c in doc.sub_issued_before {
            if c.sub.is_empty() {
                return Err(ConfigError::Denylist {
                    reason: "an entry has an empty value",
                });
            }
            list.cutoffs.entry(c.sub).or_default().push((
                c.before,
                Scope {
                    iss: c.iss,
                    expires_at: c.expires_at,
                },
            ));
        }
        Ok(list)
    }

    /// Revokes a token id (for programmatic use).
    pub fn revoke_jti(
        &mut self,
        jti: impl Into<String>,
        iss: Option<String>,
        expires_at: Option<i64>,
    ) {
        self.jti
            .entry(jti.into())
            .or_default()
            .push(Scope { iss, expires_at });
        self.len += 1;
    }

    /// Revokes every token of a subject.
    pub fn revoke_subject(
        &mut self,
        sub: impl Into<String>,
        iss: Option<String>,
        expires_at: Option<i64>,
    ) {
        self.sub
            .entry(sub.into())
            .or_default()
            .push(Scope { iss, expires_at });
        self.len += 1;
    }

    /// Revokes a subject's tokens issued before `before`.
    pub fn revoke_issued_before(
        &mut self,
        sub: impl Into<String>,
        before: i64,
        iss: Option<String>,
    ) {
        self.cutoffs.entry(sub.into()).or_default().push((
            before,
            Scope {
                iss,
                expires_at: None,
            },
        ));
        self.len += 1;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `Err(Error::Revoked)` if the token is revoked at `now`.
    pub fn check(&self, claims: &Claims, now: i64) -> Result<(), Error> {
        let applies = |scopes: Option<&Vec<Scope>>| {
            scopes.is_some_and(|v| v.iter().any(|s| s.applies(claims, now)))
        };
        if let Some(jti) = claims.jwt_id() {
            if applies(self.jti.get(jti)) {
                return Err(Error::Revoked {
                    reason: RevocationReason::Jti,
                });
            }
        }
        if let Some(sub) = claims.subject() {
            if applies(self.sub.get(sub)) {
                return Err(Error::Revoked {
                    reason: RevocationReason::Subject,
                });
            }
            if let Some(cutoffs) = self.cutoffs.get(sub) {
                let revoked = cutoffs.iter().any(|(before, scope)| {
                    scope.applies(claims, now) && claims.issued_at().is_none_or(|iat| iat < *before)
                });
                if revoked {
                    return Err(Error::Revoked {
                        reason: RevocationReason::IssuedBeforeCutoff,
                    });
                }
            }
        }
        Ok(())
    }
}
