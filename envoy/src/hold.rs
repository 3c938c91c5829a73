//! Requests held while the key set is fetched: again for an unknown `kid`, or for the first
//! time right after start.
//!
//! When an issuer rotates its keys, the first tokens signed with the new key name a `kid` this
//! Envoy has not fetched yet. Instead of refusing them (401) and letting the client retry, the
//! filter pauses such a request while the early JWKS fetch it asked for runs, then decides it
//! again with whatever keys arrived: allowed if the new set has the key, refused as before if
//! not. A request is held only while a refetch is due or running (the shared
//! `unknown_kid_cooldown_seconds` still applies), never past the fetch's timeout plus the
//! ticks it takes to start and adopt it, and at most [`MAX_HELD`] per worker: a flood of
//! made-up `kid`s costs one refetch per cooldown and one bounded wait, then plain refusals.
//!
//! Right after start, before the key set's first fetch has completed anywhere, a request that
//! would be refused for want of keys (503 `ERR_JWKS_UNAVAILABLE`) waits for that fetch the same
//! way, as the npm gate awaits it: a proxy that starts under traffic answers its first requests
//! instead of refusing them. Once a fetch has completed, good or not, nothing waits for keys.

use std::cell::RefCell;
use std::rc::Rc;

use crate::state::{Kind, Source};

/// At most this many requests are held at once per worker; past it, they are refused at once.
pub const MAX_HELD: usize = 256;

/// Ticks (seconds) beyond the fetch timeout that a held request may wait: one for the tick
/// that starts the fetch, one for the tick on which another worker's result is adopted.
const SLACK_SECONDS: u64 = 3;

/// What a refused request would wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The early refetch for a `kid` the key set lacks.
    UnknownKid,
    /// The key set's first fetch (no keys yet).
    FirstKeys,
}

impl Wait {
    /// The counter of requests held for this (`tokengate.<name>`).
    pub fn metric(self) -> &'static str {
        match self {
            Wait::UnknownKid => "unknown_kid_held",
            Wait::FirstKeys => "first_keys_held",
        }
    }
}

/// One held request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The HTTP context (stream) to answer.
    pub context_id: u32,
    /// The provider whose key set it waits for.
    pub provider: usize,
    /// The key set's [`Source::results_seen`] when it was held: any later fetch result releases it.
    pub results_seen: u64,
    /// When it was first held (milliseconds: a fetch that started a moment before it was
    /// held, in the same second, may predate the key it waits for).
    pub since_ms: u64,
    /// When it is released whatever happened (seconds).
    pub until: u64,
}

/// The held requests of one worker: shared by its root (which releases them) and its HTTP
/// contexts (which hold, and forget themselves when their stream ends).
pub type HeldList = Rc<RefCell<Vec<Held>>>;

/// Until when a request refused for want of provider `i`'s keys (`why`) may wait for its key
/// set at `now`, or `None` when no fetch worth waiting for will come: the keys are not remote;
/// for an unknown `kid`, the cooldown since the last unknown-`kid` fetch has not run out and
/// none is running; for the first keys, a fetch has completed already; or the list is full.
pub fn deadline(sources: &[Source], held: &[Held], i: usize, now: u64, why: Wait) -> Option<u64> {
    if held.len() >= MAX_HELD {
        return None;
    }
    let src = source(sources, i)?;
    let remote = src.remote.as_ref()?;
    let timeout = remote.timeout_ms.div_ceil(1000);
    let worth = match why {
        Wait::UnknownKid => {
            let last = src.last_kid_refetch;
            let will_fetch = now >= last.saturating_add(remote.unknown_kid_cooldown_seconds);
            let fetching = last != 0 && now <= last.saturating_add(timeout);
            will_fetch || fetching
        }
        Wait::FirstKeys => src.attempts == 0 && src.fetched_at.is_none(),
    };
    worth.then(|| now.saturating_add(timeout).saturating_add(SLACK_SECONDS))
}

/// Holds the request of stream `context_id`, refused for want of provider `i`'s keys (`why`),
/// if its key set's fetch is worth waiting for ([`deadline`]); `false` when it is not.
///
/// `again`: the request was held before, `(since_ms, until)`. Released by a fetch result that
/// still lacked its key, it waits on only if that fetch had started before it was first held
/// (a scheduled refresh already under way when the key was published), for the fetch still
/// due, and never past its first deadline.
pub fn hold(
    held: &HeldList,
    sources: &[Source],
    (context_id, again): (u32, Option<(u64, u64)>),
    (i, why): (usize, Wait),
    now_ms: u64,
) -> bool {
    let Ok(mut list) = held.try_borrow_mut() else {
        return false;
    };
    let now = now_ms / 1000;
    let (since_ms, cap) = again.unwrap_or((now_ms, u64::MAX));
    if again.is_some() && source(sources, i).is_none_or(|s| s.result_started_ms >= since_ms) {
        return false;
    }
    let Some(until) = deadline(sources, &list, i, now, why).map(|u| u.min(cap)) else {
        return false;
    };
    if now >= until {
        return false;
    }
    list.push(Held {
        context_id,
        provider: i,
        results_seen: results_seen(sources, i),
        since_ms,
        until,
    });
    true
}

/// Provider `i`'s key set source.
fn source(sources: &[Source], i: usize) -> Option<&Source> {
    sources
        .iter()
        .find(|s| s.provider == i && s.kind == Kind::Jwks)
}

/// How many fetch results provider `i`'s key set has adopted.
fn results_seen(sources: &[Source], i: usize) -> u64 {
    source(sources, i).map_or(0, |s| s.results_seen)
}

/// Takes the held requests that can be decided again at `now`: their key set adopted a new
/// fetch result since they were held, or their deadline passed.
pub fn take_ready(held: &HeldList, sources: &[Source], now: u64) -> Vec<Held> {
    let Ok(mut list) = held.try_borrow_mut() else {
        return Vec::new();
    };
    let (ready, waiting): (Vec<Held>, Vec<Held>) = list
        .drain(..)
        .partition(|h| now >= h.until || results_seen(sources, h.provider) != h.results_seen);
    *list = waiting;
    ready
}

/// Forgets a stream that ended while held (the client went away).
pub fn forget(held: &HeldList, context_id: u32) {
    if let Ok(mut list) = held.try_borrow_mut() {
        list.retain(|h| h.context_id != context_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(last_kid_refetch: u64, results_seen: u64) -> Source {
        Source {
            provider: 0,
            kind: Kind::Jwks,
            remote: Some(crate::remote_sync::test_remote()),
            seen: None,
            in_flight: None,
            refetch_requested: false,
            fetched_at: None,
            last_kid_refetch,
            results_seen,
            attempts: 0,
            result_started_ms: 0,
        }
    }

    #[test]
    fn holds_only_while_a_refetch_is_due_or_running() {
        // Never refetched: one is due; wait for the 3 s timeout plus the slack.
        assert_eq!(
            deadline(&[source(0, 0)], &[], 0, 1000, Wait::UnknownKid),
            Some(1006)
        );
        // A refetch went out at 1000: running until its timeout, then the cooldown holds.
        assert_eq!(
            deadline(&[source(1000, 0)], &[], 0, 1003, Wait::UnknownKid),
            Some(1009)
        );
        assert_eq!(
            deadline(&[source(1000, 0)], &[], 0, 1004, Wait::UnknownKid),
            None
        );
        assert_eq!(
            deadline(&[source(1000, 0)], &[], 0, 1029, Wait::UnknownKid),
            None
        );
        assert_eq!(
            deadline(&[source(1000, 0)], &[], 0, 1030, Wait::UnknownKid),
            Some(1036)
        );
        // Another provider, or keys that are not fetched: nothing to wait for.
        assert_eq!(
            deadline(&[source(0, 0)], &[], 1, 1000, Wait::UnknownKid),
            None
        );
        let mut local = source(0, 0);
        local.remote = None;
        assert_eq!(deadline(&[local], &[], 0, 1000, Wait::UnknownKid), None);
    }

    #[test]
    fn waits_for_the_first_keys_only_until_a_fetch_completed() {
        let first = |attempts, fetched_at| {
            let mut s = source(0, 0);
            s.attempts = attempts;
            s.fetched_at = fetched_at;
            deadline(&[s], &[], 0, 1000, Wait::FirstKeys)
        };
        assert_eq!(first(0, None), Some(1006));
        // A fetch failed somewhere: requests are refused (503) rather than held each time.
        assert_eq!(first(1, None), None);
        // Keys came and went stale: no waiting either.
        assert_eq!(first(3, Some(10)), None);
    }

    #[test]
    fn a_full_list_holds_no_more() {
        let full: Vec<Held> = (0..MAX_HELD as u32)
            .map(|id| Held {
                context_id: id,
                provider: 0,
                results_seen: 0,
                since_ms: 0,
                until: 9,
            })
            .collect();
        assert_eq!(
            deadline(&[source(0, 0)], &full, 0, 1000, Wait::UnknownKid),
            None
        );
        assert!(deadline(&[source(0, 0)], &full[1..], 0, 1000, Wait::UnknownKid).is_some());
        let list: HeldList = Rc::new(RefCell::new(full[1..].to_vec()));
        assert!(hold(
            &list,
            &[source(0, 7)],
            (900, None),
            (0, Wait::UnknownKid),
            1_000_000
        ));
        assert_eq!(
            list.borrow().last(),
            Some(&Held {
                context_id: 900,
                provider: 0,
                results_seen: 7,
                since_ms: 1_000_000,
                until: 1006
            })
        );
        assert!(
            !hold(
                &list,
                &[source(0, 7)],
                (901, None),
                (0, Wait::UnknownKid),
                1_000_000
            ),
            "full"
        );
        // Held again after a fetch result without the key: only if that fetch had started
        // before the request was held, and never past the first deadline.
        let again: HeldList = Rc::new(RefCell::new(Vec::new()));
        let started = |at| {
            let mut s = source(0, 8);
            s.result_started_ms = at;
            [s]
        };
        // First held at 999.500 s, until 1003 s; the fetch that released it started at
        // 999.400 s (the same second, a moment earlier): it waits on.
        let once = Some((999_500, 1003));
        let kid = (0, Wait::UnknownKid);
        assert!(hold(&again, &started(999_400), (902, once), kid, 1_001_000));
        assert_eq!(
            (again.borrow()[0].since_ms, again.borrow()[0].until),
            (999_500, 1003)
        );
        assert!(!hold(
            &again,
            &started(999_400),
            (903, once),
            kid,
            1_003_000
        ));
        assert!(!hold(
            &again,
            &started(999_600),
            (904, once),
            kid,
            1_001_000
        ));
    }

    #[test]
    fn released_by_a_new_fetch_result_or_the_deadline() {
        let held: HeldList = Rc::new(RefCell::new(vec![
            Held {
                context_id: 1,
                provider: 0,
                since_ms: 0,
                results_seen: 4,
                until: 1006,
            },
            Held {
                context_id: 2,
                provider: 0,
                since_ms: 0,
                results_seen: 5,
                until: 1008,
            },
        ]));
        let ids = |v: Vec<Held>| v.iter().map(|h| h.context_id).collect::<Vec<_>>();
        // The set adopted its 5th result: the request held at the 4th goes.
        assert_eq!(ids(take_ready(&held, &[source(0, 5)], 1001)), [1]);
        assert_eq!(
            ids(take_ready(&held, &[source(0, 5)], 1007)),
            Vec::<u32>::new()
        );
        assert_eq!(ids(take_ready(&held, &[source(0, 5)], 1008)), [2]);
        assert!(held.borrow().is_empty());
        // A stream that ended is forgotten.
        held.borrow_mut().push(Held {
            context_id: 3,
            provider: 0,
            since_ms: 0,
            results_seen: 0,
            until: 0,
        });
        forget(&held, 3);
        assert!(held.borrow().is_empty());
    }
}
