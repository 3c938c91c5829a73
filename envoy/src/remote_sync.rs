//! One fetch per refresh per Envoy, not per worker, for every remote document: JWKS, denylist,
//! OIDC discovery metadata.
//!
//! Every root context of a VM (one per worker, plus the main thread's) shares proxy-wasm shared
//! data, which is scoped by `vm_id`. For each remote document there is one record there: the
//! last good text, when it was fetched, and when the next fetch is due. On each tick a root
//! adopts a newer published document (re-parsing only when the text changed), and when a fetch
//! is due it tries to claim it by compare-and-swap, pushing `next_fetch` forward; the one root
//! that wins fetches over the Envoy cluster and publishes. An unknown `kid` seen by any worker
//! asks for an early JWKS fetch, under the shared cooldown.
//!
//! No bootstrap extension is needed, so this also works under Istio's `WasmPlugin`. Envoy's
//! CAS does not guard key creation, so the empty record is created first and then claimed;
//! two roots creating it in the same instant can still both fetch once at start-up.

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;
use serde::{Deserialize, Serialize};

use tokengate::Remote;

/// The shared record for one remote document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When the next scheduled fetch is due (seconds).
    pub next_fetch: u64,
    /// When the last unknown-`kid` refetch went out (the cooldown's start).
    pub last_kid_refetch: u64,
    /// When `doc` was fetched.
    pub ok_at: Option<u64>,
    /// The last good document.
    pub doc: Option<String>,
    /// How many fetches have completed, good or not (requests held for the first keys wait
    /// for the first).
    #[serde(default)]
    pub attempts: u64,
    /// When the fetch whose result this is started, in milliseconds (a result from a fetch
    /// that started before a request was held may predate the key it waits for).
    #[serde(default)]
    pub started_ms: u64,
}

/// The shared-data key: per kind and location, so plugins fetching the same document share it.
pub fn key(kind: &str, remote: &Remote) -> String {
    format!(
        "tokengate/{kind}/{}/{}{}",
        remote.cluster, remote.authority, remote.path
    )
}

/// The record and its CAS token; `None` when absent or unreadable.
pub fn read(key: &str) -> Option<(Record, u32)> {
    match hostcalls::get_shared_data(key) {
        Ok((Some(bytes), Some(cas))) => serde_json::from_slice(&bytes).ok().map(|r| (r, cas)),
        _ => None,
    }
}

/// Writes the record if nobody changed it since `cas` (`None`: unconditionally).
pub fn write(key: &str, record: &Record, cas: Option<u32>) -> Result<(), Status> {
    let bytes = serde_json::to_vec(record).map_err(|_| Status::InternalFailure)?;
    hostcalls::set_shared_data(key, Some(&bytes), cas)
}

/// Reads the record, creating an empty one first if there is none.
pub fn read_or_create(key: &str) -> Option<(Record, u32)> {
    if let Some(found) = read(key) {
        return Some(found);
    }
    write(key, &Record::default(), None).ok()?;
    read(key)
}

/// Whether a fetch is due at `now`, and the record that claims it.
pub fn due(record: &Record, remote: &Remote, now: u64, kid_wanted: bool) -> Option<(Record, bool)> {
    let kid_due = kid_wanted
        && now
            >= record
                .last_kid_refetch
                .saturating_add(remote.unknown_kid_cooldown_seconds);
    if now < record.next_fetch && !kid_due {
        return None;
    }
    let mut claimed = record.clone();
    // Nobody else fetches until this call has had its full timeout.
    claimed.next_fetch = now
        .saturating_add(remote.timeout_ms.div_ceil(1000))
        .saturating_add(1);
    if kid_due {
        claimed.last_kid_refetch = now;
    }
    Some((claimed, kid_due))
}

/// The record after a fetch: new keys, or the old ones with a retry scheduled.
pub fn after_fetch(
    record: &Record,
    remote: &Remote,
    (started_ms, now): (u64, u64),
    fetched: Option<String>,
    retry: u64,
) -> Record {
    let mut r = record.clone();
    r.attempts = r.attempts.saturating_add(1);
    r.started_ms = started_ms;
    match fetched {
        Some(doc) => {
            r.doc = Some(doc);
            r.ok_at = Some(now);
            r.next_fetch = now.saturating_add(remote.refresh_seconds);
        }
        None => r.next_fetch = now.saturating_add(retry.min(remote.refresh_seconds)),
    }
    r
}

/// A remote document for tests: refreshed every 300 s, 2.5 s timeout, 30 s kid cooldown.
#[cfg(test)]
pub fn test_remote() -> Remote {
    Remote {
        cluster: "c".into(),
        authority: "a".into(),
        path: "/j".into(),
        refresh_seconds: 300,
        timeout_ms: 2500,
        unknown_kid_cooldown_seconds: 30,
        max_stale_seconds: 600,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote() -> Remote {
        test_remote()
    }

    #[test]
    fn a_claim_pushes_the_schedule_past_the_timeout() {
        let r = Record::default();
        let (claimed, kid) = due(&r, &remote(), 100, false).unwrap();
        assert!(!kid);
        assert_eq!(claimed.next_fetch, 104);
        assert!(due(&claimed, &remote(), 103, false).is_none());
    }

    #[test]
    fn unknown_kid_refetch_respects_the_cooldown() {
        let r = Record {
            next_fetch: 1000,
            last_kid_refetch: 90,
            ..Record::default()
        };
        assert!(due(&r, &remote(), 100, true).is_none());
        let (claimed, kid) = due(&r, &remote(), 120, true).unwrap();
        assert!(kid);
        assert_eq!(claimed.last_kid_refetch, 120);
        assert!(due(&r, &remote(), 120, false).is_none());
    }

    #[test]
    fn huge_configured_durations_saturate_instead_of_overflowing() {
        let mut r = remote();
        r.refresh_seconds = u64::MAX;
        r.timeout_ms = u64::MAX;
        r.unknown_kid_cooldown_seconds = u64::MAX;
        let rec = Record {
            last_kid_refetch: 5,
            ..Record::default()
        };
        let (claimed, _) = due(&rec, &r, u64::MAX - 1, true).unwrap();
        assert_eq!(claimed.next_fetch, u64::MAX);
        assert_eq!(
            after_fetch(&rec, &r, (9, 10), Some("{}".into()), 5).next_fetch,
            u64::MAX
        );
    }

    #[test]
    fn failures_keep_the_keys_and_retry_soon() {
        let good = after_fetch(&Record::default(), &remote(), (9, 10), Some("{}".into()), 5);
        assert_eq!(
            (good.ok_at, good.next_fetch, good.attempts),
            (Some(10), 310, 1)
        );
        let failed = after_fetch(&good, &remote(), (398, 400), None, 5);
        assert_eq!(
            (failed.doc.as_deref(), failed.ok_at, failed.next_fetch),
            (Some("{}"), Some(10), 405)
        );
        assert_eq!((failed.attempts, failed.started_ms), (2, 398));
    }
}
