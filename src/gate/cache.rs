//! A bounded cache of verified tokens, so a token presented again (the common case: one
//! client, many requests) skips signature verification and parsing.
//!
//! Keyed on a [`CacheScope`] (the policy's fingerprint, the key set's version and how keys are
//! selected) and the whole token bytes: a token verified under one policy or key set is never
//! served under another, so one cache can serve many providers. An entry is never returned at
//! or after `exp`, and tokens without `exp` are never cached. Eviction is a segmented LRU
//! (see [`TokenCache`]), so a burst of tokens used once cannot push out the ones in use.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use alloc::rc::Rc;

use crate::gate::http_gate::GateHost;
use crate::jose::error::Error;
use crate::jose::jwks::JwkSet;
use crate::jose::policy::Policy;
use crate::jose::verify::{HostVerdict, Verified, Verifier};
use crate::signature::backend::SignatureBackend;

/// Everything a cached verdict depends on besides the token and the time: the policy (its
/// allowlist, limits and claim rules, by [`Policy::fingerprint`]), the key set (by
/// [`JwkSet::version`]) and whether a token's `kid` selects the key ([`JwkSet::single`] keys
/// ignore it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheScope {
    policy: u64,
    keys: u64,
    direct: bool,
}

impl CacheScope {
    /// The scope of verifying under `policy` with `keys`.
    pub fn new(policy: &Policy, keys: &JwkSet) -> Self {
        CacheScope {
            policy: policy.fingerprint(),
            keys: keys.version(),
            direct: keys.is_direct(),
        }
    }

    const LEN: usize = 17;

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.policy.to_be_bytes());
        out.extend_from_slice(&self.keys.to_be_bytes());
        out.push(u8::from(self.direct));
    }
}

struct Entry {
    verified: Arc<Verified>,
    exp: i64,
    /// Tie-breaker of the expiry index.
    seq: u64,
    /// Position in its segment's recency order.
    tick: u64,
    /// In the protected segment (hit at least once since it was cached).
    protected: bool,
}

/// A bounded verified-token cache. Capacity 0 disables it.
///
/// Eviction is a segmented LRU, so the hot set survives a burst: a new entry starts in the
/// probationary segment and moves to the protected one (four fifths of the capacity) on its
/// first hit. A full cache drops an expired entry first, then the least recently used
/// probationary one, and only then a protected one. A flood of distinct tokens used once (for
/// example, many long-lived tokens from one client) only churns the probationary segment, and
/// every other client's repeated token stays cached.
pub struct TokenCache {
    capacity: usize,
    entries: BTreeMap<Arc<[u8]>, Entry>,
    by_expiry: BTreeMap<(i64, u64), Arc<[u8]>>,
    probation: BTreeMap<u64, Arc<[u8]>>,
    protected: BTreeMap<u64, Arc<[u8]>>,
    seq: u64,
    tick: u64,
    hits: u64,
    misses: u64,
    /// The lookup key being built (scope + token), reused between calls.
    scratch: Vec<u8>,
}

impl core::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .field("len", &self.entries.len())
            .field("protected", &self.protected.len())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl TokenCache {
    /// A cache holding at most `capacity` tokens.
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            entries: BTreeMap::new(),
            by_expiry: BTreeMap::new(),
            probation: BTreeMap::new(),
            protected: BTreeMap::new(),
            seq: 0,
            tick: 0,
            hits: 0,
            misses: 0,
            scratch: Vec::new(),
        }
    }

    fn key(&mut self, scope: CacheScope, token: &[u8]) {
        self.scratch.clear();
        self.scratch.reserve(CacheScope::LEN + token.len());
        scope.write(&mut self.scratch);
        self.scratch.extend_from_slice(token);
    }

    /// How many entries the protected segment holds at most.
    fn protected_capacity(&self) -> usize {
        self.capacity - self.capacity / 5
    }

    /// Number of cached tokens.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lookups that found a usable entry.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Lookups that did not.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Drops every entry (e.g. when the denylist or policy changes shape).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_expiry.clear();
        self.probation.clear();
        self.protected.clear();
    }

    fn remove(&mut self, key: &[u8]) {
        if let Some(e) = self.entries.remove(key) {
            self.by_expiry.remove(&(e.exp, e.seq));
            if e.protected {
                self.protected.remove(&e.tick);
            } else {
                self.probation.remove(&e.tick);
            }
        }
    }

    /// Moves the entry under `key` to the most recent end of the protected segment, demoting
    /// the protected segment's least recent entry to probation when it overflows.
    fn promote(&mut self, key: Arc<[u8]>) {
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        if e.protected {
            self.protected.remove(&e.tick);
        } else {
            self.probation.remove(&e.tick);
        }
        self.tick += 1;
        e.tick = self.tick;
        e.protected = true;
        self.protected.insert(self.tick, key);
        if self.protected.len() > self.protected_capacity() {
            if let Some((_, demoted)) = self.protected.pop_first() {
                if let Some(d) = self.entries.get_mut(&demoted) {
                    self.tick += 1;
                    d.tick = self.tick;
                    d.protected = false;
                    self.probation.insert(self.tick, demoted);
                }
            }
        }
    }

    /// The entry for `token` if it was verified in this `scope` and has not expired at `now`.
    /// A stale entry found on the way is removed.
    pub fn get(&mut self, scope: CacheScope, token: &[u8], now: i64) -> Option<Arc<Verified>> {
        self.key(scope, token);
        let found = self
            .entries
            .get_key_value(self.scratch.as_slice())
            .map(|(k, e)| (Arc::clone(k), now < e.exp, Arc::clone(&e.verified)));
        match found {
            None => {
                self.misses += 1;
                None
            }
            Some((key, true, verified)) => {
                self.hits += 1;
                self.promote(key);
                Some(verified)
            }
            Some((key, false, _)) => {
                self.misses += 1;
                self.remove(&key);
                None
            }
        }
    }

    /// Caches a token verified in `scope`. Tokens without `exp`, or already expired at `now`,
    /// are not cached. When full: an expired entry goes first, then the least recently used
    /// probationary one, then the least recently used protected one.
    pub fn insert(&mut self, scope: CacheScope, token: &[u8], verified: Arc<Verified>, now: i64) {
        let Some(exp) = verified.claims().expiration() else {
            return;
        };
        if self.capacity == 0 || now >= exp {
            return;
        }
        self.key(scope, token);
        let key: Arc<[u8]> = Arc::from(self.scratch.as_slice());
        self.remove(&key);
        while self.entries.len() >= self.capacity {
            let victim = match self.by_expiry.first_key_value() {
                Some((&(first_exp, _), k)) if first_exp <= now => Arc::clone(k),
                _ => match self
                    .probation
                    .first_key_value()
                    .or_else(|| self.protected.first_key_value())
                {
                    Some((_, k)) => Arc::clone(k),
                    None => break,
                },
            };
            self.remove(&victim);
        }
        self.seq += 1;
        self.tick += 1;
        self.by_expiry.insert((exp, self.seq), Arc::clone(&key));
        self.probation.insert(self.tick, Arc::clone(&key));
        self.entries.insert(
            key,
            Entry {
                verified,
                exp,
                seq: self.seq,
                tick: self.tick,
                protected: false,
            },
        );
    }
}

/// The cache seen from the verifier (here, so that the cache depends on the verifier and not
/// the other way round).
impl<B: SignatureBackend> Verifier<'_, B> {
    /// [`Verifier::verify`] through a cache of verified tokens. A hit skips the signature
    /// and parsing, never the time claims, the policy or the denylist; failures are not
    /// cached. Entries are keyed by [`CacheScope`]: a token verified under another policy
    /// (allowlist, size limits, claim rules), another key set or another key selection is a
    /// miss, so one cache can serve many providers.
    pub fn verify_cached(
        &self,
        token: &str,
        keys: &JwkSet,
        now: i64,
        cache: &mut TokenCache,
    ) -> Result<Arc<Verified>, Error> {
        let scope = CacheScope::new(self.policy(), keys);
        if let Some(hit) = cache.get(scope, token.as_bytes(), now) {
            self.check_verified(&hit, now)?;
            return Ok(hit);
        }
        let verified = Arc::new(self.verify(token, keys, now)?);
        cache.insert(scope, token.as_bytes(), Arc::clone(&verified), now);
        Ok(verified)
    }

    /// [`Verifier::verify_cached`] with the signature checked by `host`
    /// ([`GateHost::signature`]) for provider `provider`, candidate key by candidate key,
    /// through [`Verifier::host_check`] and [`Verifier::host_checked`]; the cache is the
    /// host's.
    pub(crate) fn verify_cached_by(
        &self,
        token: &str,
        keys: &Rc<JwkSet>,
        now: i64,
        host: &mut dyn GateHost,
        provider: usize,
    ) -> Result<Arc<Verified>, Error> {
        let scope = CacheScope::new(self.policy(), keys);
        if let Some(hit) = host.cache().get(scope, token.as_bytes(), now) {
            self.check_verified(&hit, now)?;
            return Ok(hit);
        }
        let mut check = self.host_check(token, keys)?;
        // Each candidate key in turn (several for a token without a `kid`), while the host
        // finds the signature invalid under it, as `verify` tries them.
        let verdict = loop {
            let verdict = host.signature(provider, keys, &check);
            if verdict != HostVerdict::Invalid || !check.next_key() {
                break verdict;
            }
        };
        let verified = self.host_checked(check, keys, verdict, now)?;
        let verified = Arc::new(verified);
        host.cache()
            .insert(scope, token.as_bytes(), Arc::clone(&verified), now);
        Ok(verified)
    }
}
