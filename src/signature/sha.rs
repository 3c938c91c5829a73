//! The SHA-2 function of a JWS algorithm, chosen at run time, so that one copy of the RSA and
//! ECDSA verification code serves SHA-256, SHA-384 and SHA-512. (Generic over the hash, that
//! code was compiled once per hash: three PKCS#1 v1.5, three PSS and three ECDSA paths in
//! every build; see BENCHMARKS.md for what one copy saved in the npm module.)

use sha2::{Digest, Sha256, Sha384, Sha512};

/// A SHA-2 hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sha {
    Sha256,
    Sha384,
    Sha512,
}

/// A digest of at most 64 bytes.
pub(crate) struct Hash {
    bytes: [u8; 64],
    len: usize,
}

impl Hash {
    /// The digest's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn run<D: Digest>(parts: &[&[u8]], out: &mut [u8; 64]) -> usize {
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    let digest = hasher.finalize();
    out[..digest.len()].copy_from_slice(&digest);
    digest.len()
}

impl Sha {
    /// Bytes of output.
    pub(crate) fn output_len(self) -> usize {
        match self {
            Sha::Sha256 => 32,
            Sha::Sha384 => 48,
            Sha::Sha512 => 64,
        }
    }

    /// The hash of the concatenation of `parts`.
    pub(crate) fn hash(self, parts: &[&[u8]]) -> Hash {
        let mut bytes = [0u8; 64];
        let len = match self {
            Sha::Sha256 => run::<Sha256>(parts, &mut bytes),
            Sha::Sha384 => run::<Sha384>(parts, &mut bytes),
            Sha::Sha512 => run::<Sha512>(parts, &mut bytes),
        };
        Hash { bytes, len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_the_concatenation_with_the_chosen_function() {
        let whole = b"header.payload";
        for (sha, reference) in [
            (Sha::Sha256, Sha256::digest(whole).to_vec()),
            (Sha::Sha384, Sha384::digest(whole).to_vec()),
            (Sha::Sha512, Sha512::digest(whole).to_vec()),
        ] {
            assert_eq!(
                sha.hash(&[b"header", b".", b"payload"]).as_bytes(),
                reference
            );
            assert_eq!(sha.output_len(), reference.len());
        }
    }
}
