//! What one worker's root context shares with its HTTP contexts (same thread: `Rc<RefCell>`):
//! the validated configuration, the remote documents and what was parsed from them (keys,
//! denylists), the verified-token cache and the metrics.

use std::rc::Rc;

use tokengate::{Denylist, JwkSet, TokenCache};

use crate::config::{Config, Remote};
use crate::metrics::Metrics;

/// What a remote document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jwks,
    Discovery,
    Denylist,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Jwks => "jwks",
            Kind::Discovery => "discovery",
            Kind::Denylist => "denylist",
        }
    }
}

/// One remote document of one provider, as this root sees it (the shared record is the truth).
pub struct Source {
    pub provider: usize,
    pub kind: Kind,
    /// Where to fetch it; for a JWKS found through discovery, `None` until the metadata names it.
    pub remote: Option<Remote>,
    /// The text last adopted.
    pub seen: Option<String>,
    /// The call this root has outstanding, if it won the claim.
    pub in_flight: Option<u32>,
    /// A token named a `kid` the set does not have: ask for an early fetch.
    pub refetch_requested: bool,
}

pub struct Shared {
    pub config: Config,
    pub sources: Vec<Source>,
    /// Per provider: the fetched key set and when it was fetched.
    pub keys: Vec<Option<(Rc<JwkSet>, u64)>>,
    /// Per provider: the fetched denylist.
    pub denylists: Vec<Option<Rc<Denylist>>>,
    pub cache: TokenCache,
    pub metrics: Metrics,
}

impl Shared {
    pub fn new(config: Config) -> Shared {
        let mut sources = Vec::new();
        for (i, p) in config.providers.iter().enumerate() {
            let mut add = |kind, remote: Option<Remote>| {
                sources.push(Source {
                    provider: i,
                    kind,
                    remote,
                    seen: None,
                    in_flight: None,
                    refetch_requested: false,
                })
            };
            if let Some(d) = &p.discovery {
                add(Kind::Discovery, Some(d.clone()));
                add(Kind::Jwks, None);
            } else if let Some(r) = &p.remote_jwks {
                add(Kind::Jwks, Some(r.clone()));
            }
            if let Some(d) = &p.denylist {
                add(Kind::Denylist, Some(d.clone()));
            }
        }
        let n = config.providers.len();
        let cache = TokenCache::new(config.cache_capacity);
        Shared {
            config,
            sources,
            keys: vec![None; n],
            denylists: vec![None; n],
            cache,
            metrics: Metrics::default(),
        }
    }

    /// The keys provider `i` verifies with at `now`: fetched keys while fresh enough
    /// (`refresh_seconds + max_stale_seconds` since the last good fetch), else the inline keys
    /// as bootstrap, else none (requests then fail closed with `ERR_JWKS_UNAVAILABLE`).
    pub fn keys(&self, i: usize, now: u64) -> Option<Rc<JwkSet>> {
        let remote = self
            .sources
            .iter()
            .find(|s| s.provider == i && s.kind == Kind::Jwks)
            .and_then(|s| s.remote.as_ref());
        if let (Some(r), Some((keys, at))) = (remote, &self.keys[i]) {
            if now
                <= at
                    .saturating_add(r.refresh_seconds)
                    .saturating_add(r.max_stale_seconds)
            {
                return Some(Rc::clone(keys));
            }
        }
        self.config.providers[i].local_jwks.clone()
    }
}

/// Asks for an early JWKS fetch for provider `i` (a token named an unknown `kid`). A free
/// function over the sources alone, so callers can hold the configuration meanwhile.
pub fn request_refetch(sources: &mut [Source], i: usize) {
    for s in sources.iter_mut() {
        if s.provider == i && s.kind == Kind::Jwks {
            s.refetch_requested = true;
        }
    }
}
