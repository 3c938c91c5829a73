//! Content fingerprints: SHA-256 over tagged, length-prefixed fields, truncated to 64 bits.
//! Equal contents give equal fingerprints (a re-fetched but unchanged JWKS keeps its version,
//! equal policies share cache entries); the tags and lengths keep distinct contents apart.

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
