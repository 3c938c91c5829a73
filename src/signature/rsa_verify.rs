//! RSA signature verification on [`crate::signature::bignum`]: RSASSA-PKCS1-v1_5 and RSASSA-PSS
//! (RFC 8017 sections 8.1.2 and 8.2.2), with the verdicts of the RustCrypto `rsa` crate it
//! stands in for (PSS salt length = hash length, as RFC 7518 3.5 requires).

use alloc::boxed::Box;
use alloc::vec::Vec;

use once_cell::race::OnceBox;

use crate::signature::bignum::Modulus;
use crate::signature::sha::Sha;

/// `DigestInfo` prefixes (RFC 8017 9.2 note 1), with the `NULL` parameters.
const SHA256_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const SHA384_PREFIX: &[u8] = &[
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const SHA512_PREFIX: &[u8] = &[
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

/// The PKCS#1 `DigestInfo` prefix of a hash.
fn digest_info_prefix(sha: Sha) -> &'static [u8] {
    match sha {
        Sha::Sha256 => SHA256_PREFIX,
        Sha::Sha384 => SHA384_PREFIX,
        Sha::Sha512 => SHA512_PREFIX,
    }
}

/// An RSA public key for fast verification. Its Montgomery form is built on its first
/// verification here (or by [`RsaVerifyKey::warm`]), not when the key is parsed: a host that
/// checks RSA with its own crypto (WebCrypto, node:crypto) never builds it, so a fresh
/// isolate's first key set neither compiles nor runs that code.
#[derive(Clone)]
pub(crate) struct RsaVerifyKey {
    /// The big-endian modulus, without leading zeros.
    n: Vec<u8>,
    e: u64,
    modulus: OnceBox<Option<Modulus>>,
}

impl RsaVerifyKey {
    /// Checks `(n, e)` (big-endian bytes) and keeps `n`. `None` for an even or tiny modulus,
    /// or an exponent that is zero or wider than 64 bits (the JWK parser has already applied
    /// the key-size and exponent rules). A key accepted here always has a Montgomery form (the
    /// same checks as [`Modulus::new`]; a test holds them together).
    pub(crate) fn new(mut n: Vec<u8>, e: &[u8]) -> Option<RsaVerifyKey> {
        let e_bytes = e.iter().skip_while(|&&b| b == 0).collect::<Vec<_>>();
        if e_bytes.is_empty() || e_bytes.len() > 8 {
            return None;
        }
        let e = e_bytes
            .iter()
            .fold(0u64, |acc, &&b| (acc << 8) | u64::from(b));
        let zeros = n.iter().take_while(|&&b| b == 0).count();
        n.drain(..zeros);
        let (&first, &last) = (n.first()?, n.last()?);
        // Odd, and at least 2 bits.
        if last & 1 == 0 || (n.len() == 1 && first < 2) {
            return None;
        }
        Some(RsaVerifyKey {
            n,
            e,
            modulus: OnceBox::new(),
        })
    }

    /// The modulus, big-endian, without leading zeros.
    pub(crate) fn n(&self) -> &[u8] {
        &self.n
    }

    /// The Montgomery form, built once.
    fn modulus(&self) -> Option<&Modulus> {
        self.modulus
            .get_or_init(|| Box::new(Modulus::new(&self.n)))
            .as_ref()
    }

    /// Builds the Montgomery form now, for a host that adopts keys off the request path.
    pub(crate) fn warm(&self) {
        self.modulus();
    }

    /// RSAVP1 with the length checks of RFC 8017 8.x.2 step 1: `m = s^e mod n` as `k` bytes,
    /// or `None` if the signature is not exactly `k` bytes or its integer is not below `n`.
    fn open(&self, signature: &[u8]) -> Option<Vec<u8>> {
        let modulus = self.modulus()?;
        if signature.len() != modulus.byte_len() {
            return None;
        }
        modulus.pow_be(signature, self.e)
    }

    /// RSASSA-PKCS1-v1_5 verification of `signature` over `message` with hash `sha`: the
    /// recovered block must equal `00 01 FF..FF 00 DigestInfo(sha(message))` exactly (at least
    /// 8 `FF`).
    pub(crate) fn verify_pkcs1v15(&self, sha: Sha, message: &[u8], signature: &[u8]) -> bool {
        let Some(em) = self.open(signature) else {
            return false;
        };
        let digest = sha.hash(&[message]);
        let digest = digest.as_bytes();
        let prefix = digest_info_prefix(sha);
        let k = em.len();
        let t_len = prefix.len() + digest.len();
        if k < t_len + 11 {
            return false;
        }
        let ps_end = k - t_len - 1;
        em[0] == 0x00
            && em[1] == 0x01
            && em[2..ps_end].iter().all(|&b| b == 0xff)
            && em[ps_end] == 0x00
            && &em[ps_end + 1..ps_end + 1 + prefix.len()] == prefix
            && em[k - digest.len()..] == *digest
    }

    /// RSASSA-PSS verification of `signature` over `message` with hash `sha`, MGF1 with `sha`,
    /// and a salt as long as the hash.
    pub(crate) fn verify_pss(&self, sha: Sha, message: &[u8], signature: &[u8]) -> bool {
        let Some(m) = self.open(signature) else {
            return false;
        };
        let Some(modulus) = self.modulus() else {
            return false;
        };
        let em_bits = modulus.bits() - 1;
        let em_len = em_bits.div_ceil(8);
        // I2OSP(m, emLen): when emLen = k - 1 the top byte of m must be zero.
        let (high, em) = m.split_at(m.len() - em_len);
        if high.iter().any(|&b| b != 0) {
            return false;
        }
        let h_len = sha.output_len();
        let s_len = h_len;
        if em_len < h_len + s_len + 2 || em[em_len - 1] != 0xbc {
            return false;
        }
        let m_hash = sha.hash(&[message]);
        let (masked_db, rest) = em.split_at(em_len - h_len - 1);
        let h = &rest[..h_len];
        let unused_bits = 8 * em_len - em_bits;
        let top_mask = 0xffu8 >> unused_bits;
        if masked_db[0] & !top_mask != 0 {
            return false;
        }
        // DB = maskedDB xor MGF1(H, emLen - hLen - 1).
        let mut db = masked_db.to_vec();
        mgf1_xor(sha, h, &mut db);
        db[0] &= top_mask;
        let zeros = em_len - h_len - s_len - 2;
        if db[..zeros].iter().any(|&b| b != 0) || db[zeros] != 0x01 {
            return false;
        }
        let salt = &db[db.len() - s_len..];
        sha.hash(&[&[0u8; 8], m_hash.as_bytes(), salt]).as_bytes() == h
    }
}

/// `out ^= MGF1(seed)` (RFC 8017 B.2.1) with hash `sha`.
fn mgf1_xor(sha: Sha, seed: &[u8], out: &mut [u8]) {
    for (counter, chunk) in out.chunks_mut(sha.output_len()).enumerate() {
        let mask = sha.hash(&[seed, &(counter as u32).to_be_bytes()]);
        for (o, m) in chunk.iter_mut().zip(mask.as_bytes()) {
            *o ^= m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A key accepted at parse always has a Montgomery form, built later: the two checks
        /// agree on every modulus, with or without leading zeros.
        #[test]
        fn accepted_keys_have_a_montgomery_form(
            zeros in 0usize..3,
            n in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            let padded = [alloc::vec![0u8; zeros], n].concat();
            let key = RsaVerifyKey::new(padded.clone(), &[1, 0, 1]);
            proptest::prop_assert_eq!(key.is_some(), Modulus::new(&padded).is_some());
            if let Some(key) = key {
                proptest::prop_assert!(key.modulus().is_some());
                let first = padded.iter().position(|&b| b != 0).unwrap_or(padded.len());
                proptest::prop_assert_eq!(key.n(), &padded[first..]);
            }
        }
    }

    #[test]
    fn tiny_even_and_empty_moduli_are_refused() {
        for n in [&[][..], &[0], &[0, 1], &[1], &[2], &[0, 4], &[1, 0]] {
            assert!(RsaVerifyKey::new(n.to_vec(), &[3]).is_none(), "{n:?}");
        }
        for n in [&[3][..], &[0, 3], &[1, 1]] {
            assert!(RsaVerifyKey::new(n.to_vec(), &[3]).is_some(), "{n:?}");
        }
    }
}
