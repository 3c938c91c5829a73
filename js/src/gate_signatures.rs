//! The npm gate's signatures checked by the runtime's WebCrypto, as `jwtVerify` does: in
//! workerd and browsers it checks RSA, P-256 and Ed25519 several times faster than the module.
//!
//! A decision is synchronous and WebCrypto is not, so a request is decided in two passes. The
//! first collects the signatures the host can check ([`Signatures::Collect`]: each is answered
//! "invalid" meanwhile, and that pass's decision is discarded) and files them under a ticket;
//! the wrapper awaits `crypto.subtle.verify` for each and decides again with the verdicts
//! ([`Signatures::Answered`]). A verdict counts only for a check with the same provider, the
//! same key set (the very object, held meanwhile), key, algorithm, signing input and signature,
//! so keys adopted between the passes cannot take another key's verdict; any other signature
//! of the second pass is checked by the module. Everything but the signature (which token, the claims, the policy, the
//! denylist, the cache) stays the core's.

use std::rc::Rc;

use tokengate::{Algorithm, HostCheck, HostVerdict, JwkSet};

use crate::handles::public_jwk;

/// At most this many first passes wait for their second; past it the oldest is dropped (its
/// second pass then checks its signatures in the module).
const MAX_TICKETS: usize = 256;

/// One signature the wrapper checks between the passes.
pub struct PendingCheck {
    provider: usize,
    /// The key set the check's key is in (held, so it cannot be another set at its address).
    keys: Rc<JwkSet>,
    key: usize,
    alg: Algorithm,
    input: Vec<u8>,
    signature: Vec<u8>,
}

impl PendingCheck {
    fn of(provider: usize, keys: &Rc<JwkSet>, check: &HostCheck) -> PendingCheck {
        PendingCheck {
            provider,
            keys: Rc::clone(keys),
            key: check.key_index(),
            alg: check.alg(),
            input: check.signing_input().to_vec(),
            signature: check.signature().to_vec(),
        }
    }

    /// Whether this is the check of `check`'s key (in the same key set object) and bytes.
    fn matches(&self, provider: usize, keys: &Rc<JwkSet>, check: &HostCheck) -> bool {
        self.provider == provider
            && Rc::ptr_eq(&self.keys, keys)
            && self.key == check.key_index()
            && self.alg == check.alg()
            && self.input == check.signing_input()
            && self.signature == check.signature()
    }

    /// The public JWK WebCrypto is to import.
    pub fn jwk(&self) -> String {
        public_jwk(&self.keys, self.key)
    }

    /// Which imported key checks it, for the wrapper's cache of imported keys:
    /// `provider version:index`. The set's version is a 64-bit fingerprint of its content, so
    /// the provider is part of the name: a set crafted to share another provider's version
    /// cannot take that provider's imported key (nor lend it its own).
    pub fn key_id(&self) -> String {
        format!("{} {}:{}", self.provider, self.keys.version(), self.key)
    }

    /// The algorithm's name.
    pub fn alg(&self) -> &'static str {
        self.alg.name()
    }

    /// The bytes the signature covers.
    pub fn input(&self) -> &[u8] {
        &self.input
    }

    /// The signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// How one pass of a decision checks signatures.
pub enum Signatures<'a> {
    /// First pass: the checks of `algorithms` are collected (none: all in the module).
    Collect(&'a [Algorithm], Vec<PendingCheck>),
    /// Second pass: the host's verdicts on the first pass's checks.
    Answered(Vec<(PendingCheck, bool)>),
}

impl Signatures<'_> {
    /// Whether the gate asks [`Signatures::verdict`] at all.
    pub fn host_checks(&self) -> bool {
        match self {
            Signatures::Collect(algorithms, _) => !algorithms.is_empty(),
            Signatures::Answered(verdicts) => !verdicts.is_empty(),
        }
    }

    /// The verdict on `check` (a token of `provider` naming a key of `keys`).
    pub fn verdict(
        &mut self,
        provider: usize,
        keys: &Rc<JwkSet>,
        check: &HostCheck,
    ) -> HostVerdict {
        match self {
            Signatures::Collect(algorithms, pending) => {
                if !algorithms.contains(&check.alg()) {
                    return HostVerdict::Unchecked;
                }
                if !pending.iter().any(|p| p.matches(provider, keys, check)) {
                    pending.push(PendingCheck::of(provider, keys, check));
                }
                // This pass's decision is discarded once anything is pending.
                HostVerdict::Invalid
            }
            Signatures::Answered(verdicts) => verdicts
                .iter()
                .find(|(p, _)| p.matches(provider, keys, check))
                .map_or(HostVerdict::Unchecked, |&(_, valid)| {
                    if valid {
                        HostVerdict::Valid
                    } else {
                        HostVerdict::Invalid
                    }
                }),
        }
    }
}

/// First passes waiting for their second, by ticket.
#[derive(Default)]
pub struct Tickets {
    next: u32,
    waiting: Vec<(u32, Vec<PendingCheck>)>,
}

impl Tickets {
    /// Files `pending` and returns its ticket.
    pub fn file(&mut self, pending: Vec<PendingCheck>) -> u32 {
        if self.waiting.len() >= MAX_TICKETS {
            self.waiting.remove(0);
        }
        self.next = self.next.wrapping_add(1);
        self.waiting.push((self.next, pending));
        self.next
    }

    /// The checks filed under `ticket`, if still there.
    pub fn get(&self, ticket: u32) -> Option<&[PendingCheck]> {
        self.waiting
            .iter()
            .find(|(t, _)| *t == ticket)
            .map(|(_, p)| p.as_slice())
    }

    /// Takes `ticket`'s checks with the wrapper's `verdicts` (one byte each: 1 valid, 0 not,
    /// anything else unchecked); an unknown ticket has none.
    pub fn answer(&mut self, ticket: u32, verdicts: &[u8]) -> Vec<(PendingCheck, bool)> {
        let Some(at) = self.waiting.iter().position(|(t, _)| *t == ticket) else {
            return Vec::new();
        };
        let (_, pending) = self.waiting.remove(at);
        pending
            .into_iter()
            .zip(verdicts)
            .filter(|(_, &v)| v <= 1)
            .map(|(p, &v)| (p, v == 1))
            .collect()
    }
}
