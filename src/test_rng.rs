//! A small xorshift generator for tests, so a failing case reproduces from its seed. The
//! crate's unit tests use it as `crate::test_rng` (`#[cfg(test)]` only); `tests/fast_verify.rs`
//! includes this same file by path.
#![allow(dead_code)]

use alloc::vec::Vec;

/// xorshift64 state; any nonzero seed.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// A pseudo-random index below `n` (nonzero).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
