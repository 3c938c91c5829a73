//! Content fingerprints: SHA-256 over tagged, length-prefixed fields, truncated to 64 bits.
//! Equal contents give equal fingerprints (a re-fetched but unchanged JWKS keeps its version,
//! equal policies share cache entries); the tags and lengths keep distinct contents apart.

use alloc::boxed::Box;
use core::fmt;

use once_cell::race::OnceBox;
use sha2::{Digest, Sha256};

/// A fingerprint being built.
pub(crate) struct Fingerprint(Sha256);

impl Fingerprint {
    pub(crate) fn new() -> Self {
        Fingerprint(Sha256::new())
    }

    /// Adds one field: its tag, its length, its bytes.
    pub(crate) fn field(&mut self, tag: u8, bytes: &[u8]) {
        self.0.update([tag]);
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }

    /// The first 64 bits of the digest, big-endian.
    pub(crate) fn finish(self) -> u64 {
        let digest = self.0.finalize();
        let mut v = [0u8; 8];
        v.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(v)
    }
}

/// A fingerprint of the value that holds it, computed on first use and kept, so a host that
/// never asks (the npm verifier has no verified-token cache) never hashes. It is a function of
/// its holder's other fields, so it compares as always equal: the holder's derived `PartialEq`
/// then compares the content alone.
#[derive(Clone)]
pub(crate) struct LazyFingerprint(OnceBox<u64>);

impl LazyFingerprint {
    pub(crate) fn new() -> Self {
        LazyFingerprint(OnceBox::new())
    }

    /// The fingerprint, from `digest` the first time.
    pub(crate) fn get_or(&self, digest: impl FnOnce() -> u64) -> u64 {
        *self.0.get_or_init(|| Box::new(digest()))
    }
}

impl PartialEq for LazyFingerprint {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for LazyFingerprint {}

impl fmt::Debug for LazyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LazyFingerprint")
            .field(&self.0.get())
            .finish()
    }
}
