//! What one worker's root context shares with its HTTP contexts (same thread: `Rc<RefCell>`):
//! the validated configuration, each provider's current keys, the verified-token cache and
//! the metrics.

use std::rc::Rc;

use tokengate::{JwkSet, TokenCache};

use crate::config::Config;
use crate::metrics::Metrics;

/// This root's view of one provider's remote key set (the shared record is the truth).
#[derive(Default)]
pub struct RemoteState {
    /// The parsed key set, the text it was parsed from, and when it was fetched.
    pub keys: Option<(Rc<JwkSet>, String, u64)>,
    /// The call this root has outstanding, if it won the claim.
    pub in_flight: Option<u32>,
    /// A token named a `kid` the set does not have: ask for an early fetch.
    pub refetch_requested: bool,
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
        if let (Some(r), Some((keys, _, at))) = (&p.remote_jwks, &self.remote[i].keys) {
            if now <= at + r.refresh_seconds + r.max_stale_seconds {
                return Some(Rc::clone(keys));
            }
        }
        p.local_jwks.clone()
    }
}
