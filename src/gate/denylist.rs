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

use alloc::string::String;
use alloc::vec::Vec;

use crate::gate::denylist_json::{self, Entry};
use crate::jose::claims::Claims;
use crate::jose::error::{ConfigError, Error, RevocationReason};

/// Most entries a denylist may hold.
pub const MAX_ENTRIES: usize = 1_000_000;

/// Which tokens of a listed value an entry revokes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    /// Only this issuer's.
    iss: Option<String>,
    /// Only until then.
    expires_at: Option<i64>,
    /// For a `sub_issued_before` entry: only those issued before then (or without `iat`).
    before: Option<i64>,
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

/// Entries sorted by value (equal values in the order added), found by binary search: a
/// million entries cost one vector, not a tree of nodes, and a lookup is O(log n). (One
/// element type for the three lists, so the sort is compiled once.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Sorted(Vec<(String, Scope)>);

impl Sorted {
    /// Sorts `entries` (stably, so equal values keep their order).
    fn new(mut entries: Vec<(String, Scope)>) -> Self {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Sorted(entries)
    }

    fn insert(&mut self, value: String, scope: Scope) {
        let at = self.0.partition_point(|(v, _)| *v <= value);
        self.0.insert(at, (value, scope));
    }

    /// The scopes of `value`.
    fn get<'a>(&'a self, value: &str) -> impl Iterator<Item = &'a Scope> + 'a {
        let start = self.0.partition_point(|(v, _)| v.as_str() < value);
        let end = start + self.0[start..].partition_point(|(v, _)| v.as_str() <= value);
        self.0[start..end].iter().map(|(_, scope)| scope)
    }
}

/// A parsed denylist. Lookups are O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Denylist {
    jti: Sorted,
    sub: Sorted,
    cutoffs: Sorted,
    len: usize,
}

/// A `jti` or `sub` entry, checked.
fn scoped(entry: Entry) -> Result<(String, Scope), ConfigError> {
    if entry.value.is_empty() {
        return Err(ConfigError::Denylist {
            reason: "an entry has an empty value",
        });
    }
    Ok((
        entry.value,
        Scope {
            iss: entry.iss,
            expires_at: entry.expires_at,
            before: None,
        },
    ))
}

impl Denylist {
    /// An empty denylist.
    pub fn new() -> Self {
        Denylist::default()
    }

    /// Parses the JSON format described in the module docs.
    pub fn from_json(json: &str) -> Result<Denylist, ConfigError> {
        let doc = denylist_json::read(json, MAX_ENTRIES)?;
        let len = doc.jti.len() + doc.sub.len() + doc.sub_issued_before.len();
        if len > MAX_ENTRIES {
            return Err(ConfigError::Denylist {
                reason: "more entries than the limit",
            });
        }
        let jti = doc.jti.into_iter().map(scoped).collect::<Result<_, _>>()?;
        let sub = doc.sub.into_iter().map(scoped).collect::<Result<_, _>>()?;
        let cutoffs = doc
            .sub_issued_before
            .into_iter()
            .map(|c| {
                if c.sub.is_empty() {
                    return Err(ConfigError::Denylist {
                        reason: "an entry has an empty value",
                    });
                }
                let scope = Scope {
                    iss: c.iss,
                    expires_at: c.expires_at,
                    before: Some(c.before),
                };
                Ok((c.sub, scope))
            })
            .collect::<Result<_, _>>()?;
        Ok(Denylist {
            jti: Sorted::new(jti),
            sub: Sorted::new(sub),
            cutoffs: Sorted::new(cutoffs),
            len,
        })
    }

    /// Revokes a token id (for programmatic use).
    pub fn revoke_jti(
        &mut self,
        jti: impl Into<String>,
        iss: Option<String>,
        expires_at: Option<i64>,
    ) {
        let scope = Scope {
            iss,
            expires_at,
            before: None,
        };
        self.jti.insert(jti.into(), scope);
        self.len += 1;
    }

    /// Revokes every token of a subject.
    pub fn revoke_subject(
        &mut self,
        sub: impl Into<String>,
        iss: Option<String>,
        expires_at: Option<i64>,
    ) {
        let scope = Scope {
            iss,
            expires_at,
            before: None,
        };
        self.sub.insert(sub.into(), scope);
        self.len += 1;
    }

    /// Revokes a subject's tokens issued before `before`.
    pub fn revoke_issued_before(
        &mut self,
        sub: impl Into<String>,
        before: i64,
        iss: Option<String>,
    ) {
        let scope = Scope {
            iss,
            expires_at: None,
            before: Some(before),
        };
        self.cutoffs.insert(sub.into(), scope);
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
        if let Some(jti) = claims.jwt_id() {
            if self.jti.get(jti).any(|s| s.applies(claims, now)) {
                return Err(Error::Revoked {
                    reason: RevocationReason::Jti,
                });
            }
        }
        if let Some(sub) = claims.subject() {
            if self.sub.get(sub).any(|s| s.applies(claims, now)) {
                return Err(Error::Revoked {
                    reason: RevocationReason::Subject,
                });
            }
            let revoked = self.cutoffs.get(sub).any(|scope| {
                let issued_before = |before| claims.issued_at().is_none_or(|iat| iat < before);
                scope.applies(claims, now) && scope.before.is_some_and(issued_before)
            });
            if revoked {
                return Err(Error::Revoked {
                    reason: RevocationReason::IssuedBeforeCutoff,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    #[test]
    fn sorted_entries_find_every_scope_of_a_value_and_nothing_else() {
        let scope = |n: i64| Scope {
            iss: None,
            expires_at: Some(n),
            before: None,
        };
        let mut s = Sorted::new(vec![
            ("b".into(), scope(1)),
            ("a".into(), scope(2)),
            ("ab".into(), scope(3)),
            ("b".into(), scope(4)),
            ("".into(), scope(5)),
        ]);
        s.insert("b".into(), scope(6));
        s.insert("aa".into(), scope(7));
        s.insert("c".into(), scope(8));
        let items = |v: &str| s.get(v).filter_map(|s| s.expires_at).collect::<Vec<_>>();
        assert_eq!(items("b"), [1, 4, 6]);
        assert_eq!(items("a"), [2]);
        assert_eq!(items("ab"), [3]);
        assert_eq!(items("aa"), [7]);
        assert_eq!(items("c"), [8]);
        assert_eq!(items(""), [5]);
        for absent in ["0", "a0", "abc", "ba", "d", "\u{10ffff}"] {
            assert!(items(absent).is_empty(), "{absent}");
        }
    }

    #[test]
    fn a_large_list_is_read_once_and_searched() {
        let mut doc = String::from(r#"{"jti":["#);
        for i in 0..5000 {
            doc.push_str(&format!(r#""id-{i}","#));
        }
        doc.push_str(r#"{"value":"id-77","iss":"https://other"}],"#);
        doc.push_str(r#""sub_issued_before":[{"sub":"alice","before":100},{"sub":"alice","before":50,"iss":"x"}]}"#);
        let list = Denylist::from_json(&doc).unwrap();
        assert_eq!(list.len(), 5003);
        assert_eq!(list.jti.get("id-77").count(), 2);
        assert_eq!(list.jti.get("id-4999").count(), 1);
        assert_eq!(list.jti.get("id-5000").count(), 0);
        let cutoffs: Vec<_> = list.cutoffs.get("alice").map(|s| s.before).collect();
        assert_eq!(cutoffs, [Some(100), Some(50)]);
        assert_eq!(
            Denylist::from_json(r#"{"sub":["a",""]}"#).unwrap_err(),
            ConfigError::Denylist {
                reason: "an entry has an empty value"
            }
        );
    }
}
