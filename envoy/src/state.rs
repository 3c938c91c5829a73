//! What one worker's root context shares with its HTTP contexts (same thread: `Rc<RefCell>`):
//! the validated configuration, each provider's current keys, the verified-token cache and
//! the metrics.

use std::rc::Rc;

use tokengate::{JwkSet, TokenCache};

use crate::config::Config;
use crate::metrics::Metrics;

/// Remote key-set bookkeeping for one provider.
#[derive(Default)]
pub struct RemoteState {
    /// The last good key set and when it was fetched (seconds).
    pub keys: Option<(Rc<JwkSet>, u64)>,
    /// When to fetch next.
    pub next_fetch: u64,
    /// The outstanding call, if any.
    pub in_flight: Option<u32>,
    /// A token named a `kid` the set does not have: refetch (outside the cooldown).
    pub refetch_requested: bool,
    /// When the last unknown-kid refetch went out.
    pub last_kid_refetch: u64,
}

pub struct Shared {
    pub config: Config,
    pub remote: Vec<RemoteState>,
    pub cache: TokenCache,
    pub metrics: Metrics,
}

impl Shared {
    pub fn new(config: Config) -> Shared {
        let remote = config
            .providers
            .iter()
            .map(|_| RemoteState::default())
            .collect();
        let cache = TokenCache::new(config.cache_capacity);
        Shared {
            config,
            remote,
            cache,
            metrics: Metrics::default(),
        }
    }

    /// The keys provider `i` verifies with at `now`: fetched keys while fresh enough
    /// (`refresh_seconds + max_stale_seconds` since the last good fetch), else the inline keys
    /// as bootstrap, else none (requests then fail closed with `ERR_JWKS_UNAVAILABLE`).
    pub fn keys(&self, i: usize, now: u64) -> Option<Rc<JwkSet>> {
        let p = &self.config.providers[i];
        if let (Some(r), Some((keys, at))) = (&p.remote_jwks, &self.remote[i].keys) {
            if now <= at + r.refresh_seconds + r.max_stale_seconds {
                return Some(Rc::clone(keys));
            }
        }
        p.local_jwks.as_ref().map(|k| Rc::new(k.clone()))
    }
}
