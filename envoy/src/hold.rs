//! Requests held while the key set is fetched again for an unknown `kid`.
//!
//! When an issuer rotates its keys, the first tokens signed with the new key name a `kid` this
//! Envoy has not fetched yet. Instead of refusing them (401) and letting the client retry, the
//! filter pauses such a request while the early JWKS fetch it asked for runs, then decides it
//! again with whatever keys arrived: allowed if the new set has the key, refused as before if
//! not. A request is held only while a refetch is due or running (the shared
//! `unknown_kid_cooldown_seconds` still applies), never past the fetch's timeout plus the
//! ticks it takes to start and adopt it, and at most [`MAX_HELD`] per worker: a flood of
//! made-up `kid`s costs one refetch per cooldown and one bounded wait, then plain refusals.

use std::cell::RefCell;
use std::rc::Rc;

use crate::state::{Kind, Source};

/// At most this many requests are held at once per worker; past it, they are refused at once.
pub const MAX_HELD: usize = 256;

/// Ticks (seconds) beyond the fetch timeout that a held request may wait: one for the tick
/// that starts the fetch, one for the tick on which another worker's result is adopted.
const SLACK_SECONDS: u64 = 3;

/// One held request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The HTTP context (stream) to answer.
    pub context_id: u32,
    /// The provider whose key set it waits for.
    pub provider: usize,
    /// The key set's [`Source::adoptions`] when it was held: any later fetch result releases it.
    pub adoptions: u64,
    /// When it is released whatever happened (seconds).
    pub until: u64,
}

/// The held requests of one worker: shared by its root (which releases them) and its HTTP
/// contexts (which hold, and forget themselves when their stream ends).
pub type HeldList = Rc<RefCell<Vec<Held>>>;

/// Until when a request refused for an unknown `kid` of provider `i` may wait for its key set
/// at `now`, or `None` when no early fetch will come: the keys are not remote, the cooldown
/// since the last unknown-`kid` fetch has not run out and none is running, or the list is full.
pub fn deadline(sources: &[Source], held: &[Held], i: usize, now: u64) -> Option<u64> {
    if held.len() >= MAX_HELD {
        return None;
    }
    let src = sources
        .iter()
        .find(|s| s.provider == i && s.kind == Kind::Jwks)?;
    let remote = src.remote.as_ref()?;
    let timeout = remote.timeout_ms.div_ceil(1000);
    let last = src.last_kid_refetch;
    let will_fetch = now >= last.saturating_add(remote.unknown_kid_cooldown_seconds);
    let fetching = last != 0 && now <= last.saturating_add(timeout);
    (will_fetch || fetching).then(|| now.saturating_add(timeout).saturating_add(SLACK_SECONDS))
}

/// Holds the request of stream `context_id`, refused for an unknown `kid` of provider `i`,
/// if its key set's early fetch is worth waiting for ([`deadline`]); `false` when it is not.
pub fn hold(held: &HeldList, sources: &[Source], context_id: u32, i: usize, now: u64) -> bool {
    let Ok(mut list) = held.try_borrow_mut() else {
        return false;
    };
    let Some(until) = deadline(sources, &list, i, now) else {
        return false;
    };
    list.push(Held {
        context_id,
        provider: i,
        adoptions: adoptions(sources, i),
        until,
    });
    true
}

/// How many fetch results provider `i`'s key set has adopted.
fn adoptions(sources: &[Source], i: usize) -> u64 {
    sources
        .iter()
        .find(|s| s.provider == i && s.kind == Kind::Jwks)
        .map_or(0, |s| s.adoptions)
}

/// Takes the held requests that can be decided again at `now`: their key set adopted a new
/// fetch result since they were held, or their deadline passed.
pub fn take_ready(held: &HeldList, sources: &[Source], now: u64) -> Vec<Held> {
    let Ok(mut list) = held.try_borrow_mut() else {
        return Vec::new();
    };
    let (ready, waiting): (Vec<Held>, Vec<Held>) = list
        .drain(..)
        .partition(|h| now >= h.until || adoptions(sources, h.provider) != h.adoptions);
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
    use tokengate::Remote;

    fn source(last_kid_refetch: u64, adoptions: u64) -> Source {
        Source {
            provider: 0,
            kind: Kind::Jwks,
            remote: Some(Remote {
                cluster: "c".into(),
                authority: "a".into(),
                path: "/j".into(),
                refresh_seconds: 300,
                timeout_ms: 2500,
                unknown_kid_cooldown_seconds: 30,
                max_stale_seconds: 600,
            }),
            seen: None,
            in_flight: None,
            refetch_requested: false,
            fetched_at: None,
            last_kid_refetch,
            adoptions,
        }
    }

    #[test]
    fn holds_only_while_a_refetch_is_due_or_running() {
        // Never refetched: one is due; wait for the 3 s timeout plus the slack.
        assert_eq!(deadline(&[source(0, 0)], &[], 0, 1000), Some(1006));
        // A refetch went out at 1000: running until its timeout, then the cooldown holds.
        assert_eq!(deadline(&[source(1000, 0)], &[], 0, 1003), Some(1009));
        assert_eq!(deadline(&[source(1000, 0)], &[], 0, 1004), None);
        assert_eq!(deadline(&[source(1000, 0)], &[], 0, 1029), None);
        assert_eq!(deadline(&[source(1000, 0)], &[], 0, 1030), Some(1036));
        // Another provider, or keys that are not fetched: nothing to wait for.
        assert_eq!(deadline(&[source(0, 0)], &[], 1, 1000), None);
        let mut local = source(0, 0);
        local.remote = None;
        assert_eq!(deadline(&[local], &[], 0, 1000), None);
    }

    #[test]
    fn a_full_list_holds_no_more() {
        let full: Vec<Held> = (0..MAX_HELD as u32)
            .map(|id| Held {
                context_id: id,
                provider: 0,
                adoptions: 0,
                until: 9,
            })
            .collect();
        assert_eq!(deadline(&[source(0, 0)], &full, 0, 1000), None);
        assert!(deadline(&[source(0, 0)], &full[1..], 0, 1000).is_some());
        let list: HeldList = Rc::new(RefCell::new(full[1..].to_vec()));
        assert!(hold(&list, &[source(0, 7)], 900, 0, 1000));
        assert_eq!(
            list.borrow().last(),
            Some(&Held {
                context_id: 900,
                provider: 0,
                adoptions: 7,
                until: 1006
            })
        );
        assert!(!hold(&list, &[source(0, 7)], 901, 0, 1000), "full");
    }

    #[test]
    fn released_by_a_new_fetch_result_or_the_deadline() {
        let held: HeldList = Rc::new(RefCell::new(vec![
            Held {
                context_id: 1,
                provider: 0,
                adoptions: 4,
                until: 1006,
            },
            Held {
                context_id: 2,
                provider: 0,
                adoptions: 5,
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
            adoptions: 0,
            until: 0,
        });
        forget(&held, 3);
        assert!(held.borrow().is_empty());
    }
}
