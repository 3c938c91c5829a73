//! A bounded cache of verified tokens, so a token presented again (the common case: one
//! client, many requests) skips signature verification and parsing.
//!
//! Keyed on the whole token bytes; each entry remembers the key-set version it was verified
//! under and the token's `exp`. An entry is never returned at or after `exp` nor under another
//! key-set version, tokens without `exp` are never cached, and when the cache is full the
//! entry closest to expiry is evicted (it had the least life left to save).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use crate::verify::Verified;

struct Entry {
    verified: Arc<Verified>,
    key_version: u64,
    exp: i64,
    seq: u64,
}

/// A bounded verified-token cache. Capacity 0 disables it.
pub struct TokenCache {
    capacity: usize,
    entries: BTreeMap<Arc<[u8]>, Entry>,
    by_expiry: BTreeMap<(i64, u64), Arc<[u8]>>,
    seq: u64,
    hits: u64,
    misses: u64,
}

impl core::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .field("len", &self.entries.len())
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
            seq: 0,
            hits: 0,
            misses: 0,
        }
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
    }

    /// The entry for `token` if it was verified under `key_version` and has not expired at
    /// `now`. Stale entries found on the way are removed.
    pub fn get(&mut self, token: &[u8], key_version: u64, now: i64) -> Option<Arc<Verified>> {
        match self.entries.get(token) {
            None => {
                self.misses += 1;
                return None;
            }
            Some(e) if e.key_version == key_version && now < e.exp => {
                self.hits += 1;
                return Some(Arc::clone(&e.verified));
            }
            Some(_) => {}
        }
        self.misses += 1;
        if let Some(e) = self.entries.remove(token) {
            self.by_expiry.remove(&(e.exp, e.seq));
        }
        None
    }

    /// Caches a verified token. Tokens without `exp`, or already expired at `now`, are not
    /// cached.
    pub fn insert(&mut self, token: &[u8], verified: Arc<Verified>, key_version: u64, now: i64) {
        let Some(exp) = verified.claims().expiration() else {
            return;
        };
        if self.capacity == 0 || now >= exp {
            return;
        }
        if let Some(old) = self.entries.remove(token) {
            self.by_expiry.remove(&(old.exp, old.seq));
        }
        // Expired entries go first, then the soonest to expire.
        while self.entries.len() >= self.capacity {
            let Some((&(exp_key, seq), _)) = self.by_expiry.iter().next() else {
                break;
            };
            if let Some(victim) = self.by_expiry.remove(&(exp_key, seq)) {
                self.entries.remove(&victim);
            }
        }
        self.seq += 1;
        let key: Arc<[u8]> = Arc::from(token);
        self.by_expiry.insert((exp, self.seq), Arc::clone(&key));
        self.entries.insert(
            key,
            Entry {
                verified,
                key_version,
                exp,
                seq: self.seq,
            },
        );
    }
}
