//! Variable-time Montgomery arithmetic for wasm32 with `simd128`: the same interface as
//! [`crate::signature::bignum`], four 32x32->64 products per two instructions.
//!
//! Limbs are 28 bits in 32-bit words, so a product is below 2^56 and up to 256 of them add up
//! in a 64-bit accumulator without a carry. The multiplication is Montgomery's in operand-
//! scanning form (row `i` adds `a * b_i + n * m_i` to the accumulators `t[i..i + s]`), with the
//! carries propagated lazily: once per row for the limb the row retires, and through the whole
//! window every 64 rows for moduli wider than 3,400 bits. A row is then only
//! `i64x2.extmul_{low,high}_i32x4_u` and `i64x2.add` over the limbs, four at a time; zero
//! padding rounds every operand up to whole groups of four.
//!
//! Natively (for the tests) the row update is plain scalar code over the same layout.

use alloc::vec;
use alloc::vec::Vec;

/// Bits per limb.
const W: u32 = 28;
/// The low `W` bits.
const MASK: u32 = (1 << W) - 1;
/// Zero limbs after an operand's `s` limbs: rows run over whole groups of four.
const PAD: usize = 4;
/// Rows between full carry propagations when a window could otherwise overflow: each row adds at
/// most two products below 2^56 to an accumulator, so 64 rows stay below 2^63.
const ROWS_PER_NORMALISATION: usize = 64;

/// A public odd modulus `n` prepared for Montgomery multiplication with `R = 2^(28 * limbs)`.
#[derive(Clone)]
pub(crate) struct Modulus {
    /// `s`: the number of 28-bit limbs.
    limbs: usize,
    /// `n`'s limbs, little endian, then `PAD` zeros.
    n: Vec<u32>,
    /// `-n^-1 mod 2^28`.
    n0_inv: u32,
    /// `R^2 mod n`, padded like `n`.
    r2: Vec<u32>,
    /// `n`'s length in bytes (`k` in RFC 8017).
    byte_len: usize,
    /// `n`'s length in bits.
    bits: usize,
}

/// Scratch space for one exponentiation.
struct Scratch {
    /// The lazily carried 64-bit column accumulators of one product.
    t: Vec<u64>,
    /// `2a`, padded, for squaring.
    double: Vec<u32>,
}

impl Modulus {
    /// Prepares `n` (big-endian bytes, leading zeros allowed). `None` unless `n` is odd and
    /// greater than 1.
    pub(crate) fn new(n_be: &[u8]) -> Option<Modulus> {
        let first = n_be.iter().position(|&b| b != 0)?;
        let n_be = &n_be[first..];
        let bits = 8 * n_be.len() - n_be[0].leading_zeros() as usize;
        if n_be[n_be.len() - 1] & 1 == 0 || bits < 2 {
            return None;
        }
        let s = bits.div_ceil(W as usize);
        let n = from_be(n_be, s)?;
        let mut inv: u32 = n[0];
        for _ in 0..4 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        let n0_inv = inv.wrapping_neg() & MASK;
        let mut m = Modulus {
            limbs: s,
            n,
            n0_inv,
            r2: Vec::new(),
            byte_len: bits.div_ceil(8),
            bits,
        };
        m.r2 = m.r_squared();
        Some(m)
    }

    /// `n`'s length in bytes (`k`).
    pub(crate) fn byte_len(&self) -> usize {
        self.byte_len
    }

    /// `n`'s length in bits.
    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// `base^e mod n` as `k` big-endian bytes. `None` when `base >= n` or `e` is zero.
    pub(crate) fn pow_be(&self, base_be: &[u8], e: u64) -> Option<Vec<u8>> {
        if e == 0 {
            return None;
        }
        let s = self.limbs;
        let base = from_be(base_be, s)?;
        if !less(&base[..s], &self.n[..s]) {
            return None;
        }
        let mut scratch = Scratch {
            t: vec![0; 2 * s + 2 * PAD],
            double: vec![0; s + PAD],
        };
        let mut base_m = vec![0u32; s + PAD];
        self.mul(&base, &self.r2, &mut base_m, &mut scratch);
        let top = 63 - e.leading_zeros();
        let mut acc = base_m.clone();
        let mut tmp = vec![0u32; s + PAD];
        for bit in (0..top).rev() {
            self.sqr(&acc, &mut tmp, &mut scratch);
            core::mem::swap(&mut acc, &mut tmp);
            if (e >> bit) & 1 == 1 {
                // The last factor is `base` itself: the product leaves Montgomery form.
                let factor = if bit == 0 { &base } else { &base_m };
                self.mul(&acc, factor, &mut tmp, &mut scratch);
                core::mem::swap(&mut acc, &mut tmp);
            }
        }
        if e & 1 == 0 || top == 0 {
            let mut one = vec![0u32; s + PAD];
            one[0] = 1;
            self.mul(&acc, &one, &mut tmp, &mut scratch);
            core::mem::swap(&mut acc, &mut tmp);
        }
        Some(to_be(&acc[..s], self.byte_len))
    }

    /// `out = a * b * R^-1 mod n` for `a, b < n` (padded operands).
    fn mul(&self, a: &[u32], b: &[u32], out: &mut [u32], scratch: &mut Scratch) {
        let s = self.limbs;
        let s4 = (s + 3) & !3;
        let a = &a[..s4];
        let n = &self.n[..s4];
        let t = &mut scratch.t[..2 * s + 2 * PAD];
        t.fill(0);
        let lazy = s4 <= 2 * ROWS_PER_NORMALISATION - 8;
        for (i, &bi) in b[..s].iter().enumerate() {
            // m_i makes t_i + a_0 * b_i + n_0 * m_i divisible by 2^28; only low bits matter.
            let ti = t[i].wrapping_add(u64::from(a[0]) * u64::from(bi));
            let mi = (ti as u32).wrapping_mul(self.n0_inv) & MASK;
            add_row(&mut t[i..i + s4], a, bi, n, mi);
            // Retire limb i: its low 28 bits are now zero.
            let carry = t[i] >> W;
            t[i + 1] += carry;
            if !lazy && (i + 1) % ROWS_PER_NORMALISATION == 0 {
                normalise(&mut t[i + 1..2 * s + 1]);
            }
        }
        self.finish(t, out);
    }

    /// `out = a^2 * R^-1 mod n` for `a < n`: each cross product once (against `2a`), then the
    /// Montgomery reduction rows; three quarters of [`Self::mul`]'s products.
    fn sqr(&self, a: &[u32], out: &mut [u32], scratch: &mut Scratch) {
        let s = self.limbs;
        let s4 = (s + 3) & !3;
        let Scratch { t, double } = scratch;
        let t = &mut t[..2 * s + 2 * PAD];
        t.fill(0);
        for (d, &x) in double.iter_mut().zip(&a[..s]) {
            *d = x << 1;
        }
        for i in 0..s {
            let ai = a[i];
            t[2 * i] += u64::from(ai) * u64::from(ai);
            // t[i + j] += 2 a_i a_j for j > i, over whole groups of four (zeros past s).
            let len = (s - i - 1 + 3) & !3;
            if len > 0 {
                add_scaled(
                    &mut t[2 * i + 1..2 * i + 1 + len],
                    &double[i + 1..i + 1 + len],
                    ai,
                );
            }
        }
        // A column holds at most s / 2 + 1 products below 2^57: carry them all through once so
        // the reduction rows start from 28-bit limbs.
        normalise(&mut t[..2 * s + 1]);
        let lazy = s4 <= 2 * ROWS_PER_NORMALISATION - 8;
        let n = &self.n[..s4];
        for i in 0..s {
            let mi = (t[i] as u32).wrapping_mul(self.n0_inv) & MASK;
            add_scaled(&mut t[i..i + s4], n, mi);
            let carry = t[i] >> W;
            t[i + 1] += carry;
            if !lazy && (i + 1) % ROWS_PER_NORMALISATION == 0 {
                normalise(&mut t[i + 1..2 * s + 1]);
            }
        }
        self.finish(t, out);
    }

    /// Carries the upper half of the accumulators (`t / R`, below `2n`) into `out`, subtracting
    /// `n` once if needed.
    fn finish(&self, t: &[u64], out: &mut [u32]) {
        let s = self.limbs;
        let mut carry = 0u64;
        for (o, &v) in out[..s].iter_mut().zip(&t[s..2 * s]) {
            let v = v + carry;
            *o = v as u32 & MASK;
            carry = v >> W;
        }
        out[s..].fill(0);
        self.subtract_n_if_needed(out, carry != 0);
    }

    /// `x - n` in place when `x` (its `s` limbs, plus `overflow` above them: below `2n`) is
    /// not below `n`.
    fn subtract_n_if_needed(&self, x: &mut [u32], overflow: bool) {
        let s = self.limbs;
        if overflow || !less(&x[..s], &self.n[..s]) {
            let mut borrow = 0i64;
            for (o, &n) in x[..s].iter_mut().zip(&self.n[..s]) {
                let d = i64::from(*o) - i64::from(n) + borrow;
                *o = d as u32 & MASK;
                borrow = d >> W;
            }
        }
    }

    /// `R^2 mod n` with `R = 2^L`, `L = 28 * s = k * 2^m` (`k` odd): `2^(L + k)` (the
    /// Montgomery form of `2^k`) by doubling `2^(bits - 1)` modulo `n`, then `m` Montgomery
    /// squarings, each doubling the exponent inside the Montgomery form, to `2^L`'s: `R^2`. For
    /// RSA-2048 (74 limbs) that is 284 doublings and 3 squarings, where doubling 1 all the way
    /// took 4,144 doublings (the key's main set-up cost).
    fn r_squared(&self) -> Vec<u32> {
        let s = self.limbs;
        let l = W as usize * s;
        let m = l.trailing_zeros() as usize;
        let k = l >> m;
        let mut x = vec![0u32; s + PAD];
        let top = self.bits - 1;
        x[top / W as usize] = 1 << (top % W as usize);
        for _ in 0..k + l - top {
            self.double_mod(&mut x);
        }
        let mut scratch = Scratch {
            t: vec![0; 2 * s + 2 * PAD],
            double: vec![0; s + PAD],
        };
        let mut tmp = vec![0u32; s + PAD];
        for _ in 0..m {
            self.sqr(&x, &mut tmp, &mut scratch);
            core::mem::swap(&mut x, &mut tmp);
        }
        x
    }

    /// `x = 2x mod n` for `x < n` (padded like `n`).
    fn double_mod(&self, x: &mut [u32]) {
        let s = self.limbs;
        let mut carry = 0u32;
        for limb in x[..s].iter_mut() {
            let v = (*limb << 1) | carry;
            carry = v >> W;
            *limb = v & MASK;
        }
        self.subtract_n_if_needed(x, carry != 0);
    }

    /// Whether `R^2 mod n` equals doubling 1 modulo `n` `2 * 28 * s` times: the reference the
    /// squaring shortcut is tested against.
    #[cfg(test)]
    pub(crate) fn r2_matches_reference(&self) -> bool {
        let mut x = vec![0u32; self.limbs + PAD];
        x[0] = 1;
        for _ in 0..2 * W as usize * self.limbs {
            self.double_mod(&mut x);
        }
        x == self.r2
    }
}

/// Propagates the carries of a window of accumulators so each holds 28 bits (the last keeps the
/// rest).
fn normalise(t: &mut [u64]) {
    let mut carry = 0u64;
    let last = t.len() - 1;
    for v in t[..last].iter_mut() {
        let x = *v + carry;
        *v = x & u64::from(MASK);
        carry = x >> W;
    }
    t[last] += carry;
}

/// `t[j] += a[j] * bi + n[j] * mi` for every `j` (lengths a multiple of four).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn add_row(t: &mut [u64], a: &[u32], bi: u32, n: &[u32], mi: u32) {
    use core::arch::wasm32::{
        i64x2_add, u32x4, u32x4_splat, u64x2, u64x2_extmul_high_u32x4, u64x2_extmul_low_u32x4,
        u64x2_extract_lane, v128_and, v128_or,
    };
    // LLVM represents `extmul` as a multiplication of two zero-extensions, and re-forms it only
    // when both extensions sit next to the multiplication. Left alone it folds an extension
    // into its load (`load32x2_u`) or hoists the splat's out of the loop, and emits
    // `i64x2.mul`, which V8 emulates on x86-64 with about nine instructions. An all-zero vector
    // it cannot see through, or-ed into every operand inside the loop, keeps each `extmul`
    // whole (measured: 1.4x faster rows in V8).
    let opaque = core::hint::black_box(u32x4_splat(0));
    let splat_b = u32x4_splat(bi);
    let splat_m = u32x4_splat(mi);
    for ((t, a), n) in t
        .chunks_exact_mut(4)
        .zip(a.chunks_exact(4))
        .zip(n.chunks_exact(4))
    {
        let raw_a = u32x4(a[0], a[1], a[2], a[3]);
        let zero = v128_and(raw_a, opaque);
        let va = v128_or(raw_a, opaque);
        let vn = v128_or(u32x4(n[0], n[1], n[2], n[3]), opaque);
        let vb = v128_or(splat_b, zero);
        let vm = v128_or(splat_m, zero);
        let lo = i64x2_add(
            u64x2_extmul_low_u32x4(va, vb),
            u64x2_extmul_low_u32x4(vn, vm),
        );
        let hi = i64x2_add(
            u64x2_extmul_high_u32x4(va, vb),
            u64x2_extmul_high_u32x4(vn, vm),
        );
        let lo = i64x2_add(lo, u64x2(t[0], t[1]));
        let hi = i64x2_add(hi, u64x2(t[2], t[3]));
        t[0] = u64x2_extract_lane::<0>(lo);
        t[1] = u64x2_extract_lane::<1>(lo);
        t[2] = u64x2_extract_lane::<0>(hi);
        t[3] = u64x2_extract_lane::<1>(hi);
    }
}

/// The portable form of [`add_row`]: what the native tests run, over the same layout.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn add_row(t: &mut [u64], a: &[u32], bi: u32, n: &[u32], mi: u32) {
    for ((t, &a), &n) in t.iter_mut().zip(a).zip(n) {
        *t += u64::from(a) * u64::from(bi) + u64::from(n) * u64::from(mi);
    }
}

/// `t[j] += x[j] * c` for every `j` (lengths a multiple of four).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn add_scaled(t: &mut [u64], x: &[u32], c: u32) {
    use core::arch::wasm32::{
        i64x2_add, u32x4, u32x4_splat, u64x2, u64x2_extmul_high_u32x4, u64x2_extmul_low_u32x4,
        u64x2_extract_lane, v128_and, v128_or,
    };
    // As in `add_row`: keeps each `extmul` whole.
    let opaque = core::hint::black_box(u32x4_splat(0));
    let splat_c = u32x4_splat(c);
    for (t, x) in t.chunks_exact_mut(4).zip(x.chunks_exact(4)) {
        let raw = u32x4(x[0], x[1], x[2], x[3]);
        let vc = v128_or(splat_c, v128_and(raw, opaque));
        let vx = v128_or(raw, opaque);
        let lo = i64x2_add(u64x2_extmul_low_u32x4(vx, vc), u64x2(t[0], t[1]));
        let hi = i64x2_add(u64x2_extmul_high_u32x4(vx, vc), u64x2(t[2], t[3]));
        t[0] = u64x2_extract_lane::<0>(lo);
        t[1] = u64x2_extract_lane::<1>(lo);
        t[2] = u64x2_extract_lane::<0>(hi);
        t[3] = u64x2_extract_lane::<1>(hi);
    }
}

/// The portable form of [`add_scaled`].
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn add_scaled(t: &mut [u64], x: &[u32], c: u32) {
    for (t, &x) in t.iter_mut().zip(x) {
        *t += u64::from(x) * u64::from(c);
    }
}

/// `a < b` for equal-length little-endian limb strings.
fn less(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// Big-endian bytes to `s` 28-bit limbs followed by `PAD` zeros; `None` if the value needs more.
fn from_be(bytes: &[u8], s: usize) -> Option<Vec<u32>> {
    let mut limbs = vec![0u32; s + PAD];
    let mut acc: u64 = 0;
    let mut acc_bits = 0;
    let mut i = 0;
    for &byte in bytes.iter().rev() {
        acc |= u64::from(byte) << acc_bits;
        acc_bits += 8;
        while acc_bits >= W {
            if acc as u32 & MASK != 0 {
                *limbs.get_mut(i).filter(|_| i < s)? = acc as u32 & MASK;
            }
            i += 1;
            acc >>= W;
            acc_bits -= W;
        }
    }
    if acc != 0 {
        *limbs.get_mut(i).filter(|_| i < s)? = acc as u32;
    }
    Some(limbs)
}

/// `s` 28-bit limbs to exactly `len` big-endian bytes (the value must fit).
fn to_be(limbs: &[u32], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut acc: u64 = 0;
    let mut acc_bits = 0;
    let mut pos = len;
    for &limb in limbs {
        acc |= u64::from(limb) << acc_bits;
        acc_bits += W;
        while acc_bits >= 8 && pos > 0 {
            pos -= 1;
            out[pos] = acc as u8;
            acc >>= 8;
            acc_bits -= 8;
        }
    }
    while pos > 0 && acc != 0 {
        pos -= 1;
        out[pos] = acc as u8;
        acc >>= 8;
    }
    out
}
