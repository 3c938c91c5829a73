//! What one worker's root context shares with its HTTP contexts (same thread: `Rc<RefCell>`):
//! the validated configuration, the remote documents and what was parsed from them (keys,
//! denylists), the verified-token cache and the metrics.

use std::rc::Rc;

use tokengate::{Denylist, Gate, GateConfig, JwkSet, Remote, TokenCache};

use crate::hold::HeldList;
use crate::metrics::Metrics;

/// What a remote document is; the core bounds each kind's size for both hosts.
pub use tokengate::RemoteDocument as Kind;

/// One remote document of one provider, as this root sees it (the shared record is the truth).
pub struct Source {
    pub provider: usize,
    pub kind: Kind,
    /// Where to fetch it; for a JWKS found through discovery, `None` until the metadata names it.
    pub remote: Option<Remote>,
    /// The text last adopted.
    pub seen: Option<String>,
    /// The call this root has outstanding, if it won the claim, and when it started
    /// (milliseconds).
    pub in_flight: Option<(u32, u64)>,
    /// A token named a `kid` the set does not have: ask for an early fetch.
    pub refetch_requested: bool,
    /// When the document this root uses was fetched (the shared record's `ok_at`).
    pub fetched_at: Option<u64>,
    /// When the last unknown-`kid` refetch went out, as the shared record last said.
    pub last_kid_refetch: u64,
    /// How many fetch results this root has adopted (a held request waits for the next).
    pub results_seen: u64,
    /// How many fetches of this document have completed anywhere, good or not, as the shared
    /// record last said.
    pub attempts: u64,
    /// When the fetch of the last result started (milliseconds), as the shared record last
    /// said.
    pub result_started_ms: u64,
}

pub struct Shared {
    /// Shared with the request in flight, which reads it while it updates the rest.
    pub gate: Rc<Gate>,
    pub sources: Vec<Source>,
    /// Per provider: the fetched key set and when it was fetched.
    pub keys: Vec<Option<(Rc<JwkSet>, u64)>>,
    /// Per provider: the fetched denylist and when it was fetched.
    pub denylists: Vec<Option<(Rc<Denylist>, u64)>>,
    pub cache: TokenCache,
    pub metrics: Metrics,
    /// When this configuration was loaded (ages of documents never fetched count from here).
    pub started: u64,
    /// Requests held for a key refetch (see `hold`).
    pub held: HeldList,
}

impl Shared {
    pub fn new(gate: Gate, started: u64) -> Shared {
        let config = gate.config();
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
                    fetched_at: None,
                    last_kid_refetch: 0,
                    results_seen: 0,
                    attempts: 0,
                    result_started_ms: 0,
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
        // Inline keys get their verification tables now, at configuration, not on requests.
        for keys in config
            .providers
            .iter()
            .filter_map(|p| p.local_jwks.as_ref())
        {
            keys.warm();
        }
        let n = config.providers.len();
        let cache = TokenCache::new(config.cache_capacity);
        Shared {
            gate: Rc::new(gate),
            sources,
            keys: vec![None; n],
            denylists: vec![None; n],
            cache,
            metrics: Metrics::default(),
            started,
            held: HeldList::default(),
        }
    }

    /// Sets the per-provider health gauges (`tokengate.provider.<name>.*`): `keys_loaded` (0/1:
    /// usable keys right now), `keys_count`, and for each remote document
    /// `<jwks|discovery|denylist>_age_seconds` (since the last good fetch, or since start when
    /// never fetched), and `denylist_loaded` (0/1) when a denylist is configured.
    pub fn record_health(&mut self, now: u64) {
        for i in 0..self.config().providers.len() {
            let name = crate::metrics::segment(&self.config().providers[i].name);
            let keys = self.keys(i, now);
            let denylist = self.config().providers[i]
                .denylist
                .is_some()
                .then(|| u64::from(matches!(self.denylist(i, now), Ok(Some(_)))));
            let ages: Vec<(&'static str, u64)> = self
                .sources
                .iter()
                .filter(|s| s.provider == i)
                .map(|s| {
                    let since = s.fetched_at.unwrap_or(self.started);
                    (s.kind.name(), now.saturating_sub(since))
                })
                .collect();
            let m = &mut self.metrics;
            m.set(
                &format!("provider.{name}.keys_loaded"),
                u64::from(keys.is_some()),
            );
            m.set(
                &format!("provider.{name}.keys_count"),
                keys.map_or(0, |k| k.keys().len() as u64),
            );
            for (kind, age) in ages {
                m.set(&format!("provider.{name}.{kind}_age_seconds"), age);
            }
            if let Some(loaded) = denylist {
                m.set(&format!("provider.{name}.denylist_loaded"), loaded);
            }
        }
    }

    /// The validated configuration.
    pub fn config(&self) -> &GateConfig {
        self.gate.config()
    }

    /// The keys provider `i` verifies with at `now` (the core's rule,
    /// [`tokengate::GateProvider::keys_at`]), from the set this worker adopted and where the
    /// set comes from now.
    pub fn keys(&self, i: usize, now: u64) -> Option<Rc<JwkSet>> {
        let remote = self
            .sources
            .iter()
            .find(|s| s.provider == i && s.kind == Kind::Jwks)
            .and_then(|s| s.remote.as_ref());
        let fetched = self.keys[i].as_ref().map(|(k, at)| (k, *at));
        self.config().providers[i].keys_at(fetched, remote, now)
    }

    /// Provider `i`'s denylist at `now` (the core's rule,
    /// [`tokengate::GateProvider::denylist_at`]): `Ok(None)` when there is none to check.
    pub fn denylist(&self, i: usize, now: u64) -> Result<Option<Rc<Denylist>>, tokengate::Error> {
        let fetched = self.denylists[i].as_ref().map(|(list, at)| (list, *at));
        self.config().providers[i].denylist_at(fetched, now)
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
