//! The on-curve check of a public key for builds that verify no ECDSA signature themselves
//! (the npm package's main module): `y^2 = x^3 - 3x + b (mod p)` with `x` and `y` below `p`,
//! in a few hundred bytes of code.
//!
//! It runs once per key, when a key set is read, so it favours size over speed: each product
//! is a double-and-add over the multiplier's bits on 32-bit limbs (P-521: about 2,600 modular
//! doublings and additions of 18 limbs). In Node that reads a P-521 key 0.1 ms slower than the
//! Montgomery arithmetic RSA uses, which this replaces here (P-256: no difference measured),
//! but that arithmetic was 5.4 KB of what a fresh isolate compiles for its first ES256 token.
//! Public data only, so variable time is safe.

use alloc::vec::Vec;

/// Whether `(x, y)` (big-endian) is a point of `y^2 = x^3 - 3x + b` over the prime `p`
/// (big-endian, odd, `b < p`), both coordinates below `p`.
pub(crate) fn is_on_curve(p: &[u8], b: &[u8], x: &[u8], y: &[u8]) -> bool {
    // One limb of headroom above p: a sum of two values below p fits.
    let n = p.len().div_ceil(4) + 1;
    let (Some(p), Some(b), Some(x), Some(y)) = (limbs(p, n), limbs(b, n), limbs(x, n), limbs(y, n))
    else {
        return false;
    };
    if !below(&x, &p) || !below(&y, &p) || !below(&b, &p) {
        return false;
    }
    let left = mul_mod(&y, &y, &p);
    let mut right = mul_mod(&mul_mod(&x, &x, &p), &x, &p);
    let mut three_x = x.clone();
    add_mod(&mut three_x, &x, &p);
    add_mod(&mut three_x, &x, &p);
    sub_mod(&mut right, &three_x, &p);
    add_mod(&mut right, &b, &p);
    left == right
}

/// `n` little-endian 32-bit limbs of a big-endian value, or `None` if it needs more.
fn limbs(be: &[u8], n: usize) -> Option<Vec<u32>> {
    let mut out = alloc::vec![0u32; n];
    for (i, byte) in be.iter().rev().enumerate() {
        if *byte != 0 {
            *out.get_mut(i / 4)? |= u32::from(*byte) << (8 * (i % 4));
        }
    }
    Some(out)
}

/// `a < b`, both of the same length.
fn below(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().zip(b).rev() {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b`, with `a >= b`.
fn sub(a: &mut [u32], b: &[u32]) {
    let mut borrow = false;
    for (x, y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(*y);
        let (d, b2) = d.overflowing_sub(u32::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
}

/// `a += b`, the sum fitting (the spare limb holds the carry).
fn add(a: &mut [u32], b: &[u32]) {
    let mut carry = 0u64;
    for (x, y) in a.iter_mut().zip(b) {
        let s = u64::from(*x) + u64::from(*y) + carry;
        *x = s as u32;
        carry = s >> 32;
    }
}

/// `a = (a + b) mod p`, with `a` and `b` below `p`.
fn add_mod(a: &mut [u32], b: &[u32], p: &[u32]) {
    add(a, b);
    if !below(a, p) {
        sub(a, p);
    }
}

/// `a = (a - b) mod p`, with `a` and `b` below `p`.
fn sub_mod(a: &mut [u32], b: &[u32], p: &[u32]) {
    if below(a, b) {
        add(a, p);
    }
    sub(a, b);
}

/// `a = 2a mod p`, with `a` below `p`.
fn double_mod(a: &mut [u32], p: &[u32]) {
    let mut carry = 0;
    for x in a.iter_mut() {
        let next = *x >> 31;
        *x = *x << 1 | carry;
        carry = next;
    }
    if !below(a, p) {
        sub(a, p);
    }
}

/// `a * b mod p` by doubling and adding over `b`'s bits, from the top.
fn mul_mod(a: &[u32], b: &[u32], p: &[u32]) -> Vec<u32> {
    let mut r = alloc::vec![0u32; p.len()];
    for limb in b.iter().rev() {
        for bit in (0..32).rev() {
            double_mod(&mut r, p);
            if limb >> bit & 1 == 1 {
                add_mod(&mut r, a, p);
            }
        }
    }
    r
}
