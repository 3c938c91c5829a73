//! Variable-time Montgomery arithmetic modulo a public prime of at most 521 bits, for the
//! ECDSA verify path of [`crate::FastVerify`] (the P-256, P-384 and P-521 base fields and group
//! orders). Everything it handles is public (keys, signatures, messages), so it may branch.
//!
//! Numbers are `N` unsaturated limbs of 29 bits in `u32`s. A 29x29-bit product fits 58 bits,
//! so a whole Montgomery multiplication accumulates its `2N^2` products in `u64` columns with
//! one carry per column: no carry chains, which wasm32 (no add-with-carry, no 64x64->128
//! multiply) pays dearly for. Values are always fully reduced, in `[0, m)`.

/// Bits per limb.
const W: u32 = 29;
/// The low `W` bits.
const MASK: u32 = (1 << W) - 1;
/// The largest limb count the column buffer holds (18 limbs = 522 bits, enough for P-521).
const MAX_LIMBS: usize = 18;

/// A public odd prime `m` prepared for Montgomery multiplication with `R = 2^(29 N)`.
#[derive(Clone, Debug)]
pub(crate) struct MontField<const N: usize> {
    m: [u32; N],
    /// `-m^-1 mod 2^29`.
    m_inv: u32,
    /// `R^2 mod m`: to Montgomery form.
    r2: [u32; N],
    /// `R^3 mod m`: back to Montgomery form after a plain inversion.
    r3: [u32; N],
    /// `R mod m`: one, in Montgomery form.
    one: [u32; N],
}

impl<const N: usize> MontField<N> {
    /// Prepares the odd modulus `m` (big-endian). `None` if it is even, too long for `N` limbs
    /// (or for the column buffer), or smaller than 3.
    pub(crate) fn new(m_be: &[u8]) -> Option<Self> {
        if N == 0 || N > MAX_LIMBS {
            return None;
        }
        let m = Self::limbs_from_be(m_be)?;
        // Two values below m must add without overflowing N limbs.
        if m[0] & 1 == 0 || m[N - 1] >> (W - 1) != 0 || (m[0] < 3 && m[1..].iter().all(|&l| l == 0))
        {
            return None;
        }
        // Newton's iteration doubles the correct low bits of m^-1 mod 2^32 each step.
        let mut inv: u32 = 1;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(m[0].wrapping_mul(inv)));
        }
        let mut field = MontField {
            m,
            m_inv: inv.wrapping_neg() & MASK,
            r2: [0; N],
            r3: [0; N],
            one: [0; N],
        };
        // R^2 mod m by doubling 1 modulo m, 2 * 29 * N times.
        let mut x = [0u32; N];
        x[0] = 1;
        for i in 0..2 * W as usize * N {
            if i == W as usize * N {
                field.one = x;
            }
            x = field.add(&x, &x);
        }
        field.r2 = x;
        field.r3 = field.mul(&x, &x);
        Some(field)
    }

    /// `a` (big-endian, any length with leading zeros) as plain limbs, if it fits `N` limbs.
    pub(crate) fn limbs_from_be(be: &[u8]) -> Option<[u32; N]> {
        let mut out = [0u32; N];
        for (i, &byte) in be.iter().rev().enumerate() {
            if byte == 0 {
                continue;
            }
            let bit = i * 8;
            let (limb, shift) = (bit / W as usize, bit % W as usize);
            let wide = u64::from(byte) << shift;
            *out.get_mut(limb)? |= (wide as u32) & MASK;
            let high = (wide >> W) as u32;
            if high != 0 {
                *out.get_mut(limb + 1)? |= high;
            }
        }
        Some(out)
    }

    /// A plain integer `a < m` (big-endian) in Montgomery form; `None` if `a >= m`.
    pub(crate) fn element_from_be(&self, be: &[u8]) -> Option<[u32; N]> {
        let a = Self::limbs_from_be(be)?;
        self.is_reduced(&a).then(|| self.to_mont(&a))
    }

    /// Whether the plain limbs `a` are below `m`.
    pub(crate) fn is_reduced(&self, a: &[u32; N]) -> bool {
        less(a, &self.m)
    }

    /// The modulus as plain limbs.
    pub(crate) fn modulus(&self) -> &[u32; N] {
        &self.m
    }

    /// Plain `a < m` to Montgomery form.
    pub(crate) fn to_mont(&self, a: &[u32; N]) -> [u32; N] {
        self.mul(a, &self.r2)
    }

    /// Montgomery form back to the plain integer.
    pub(crate) fn to_plain(&self, a: &[u32; N]) -> [u32; N] {
        let mut one = [0u32; N];
        one[0] = 1;
        self.mul(a, &one)
    }

    /// One, in Montgomery form.
    pub(crate) fn one(&self) -> [u32; N] {
        self.one
    }

    /// `a * b * R^-1 mod m`. Not inlined: fully unrolled it is a few kilobytes of wasm, and
    /// a call costs little next to its `2N^2` multiplications.
    #[inline(never)]
    pub(crate) fn mul(&self, a: &[u32; N], b: &[u32; N]) -> [u32; N] {
        let mut t = [0u64; 2 * MAX_LIMBS];
        for i in 0..N {
            let bi = u64::from(b[i]);
            for j in 0..N {
                t[i + j] += u64::from(a[j]) * bi;
            }
        }
        self.reduce(&mut t)
    }

    /// `a^2 * R^-1 mod m`, with the cross products counted once and doubled.
    #[inline(never)]
    pub(crate) fn sqr(&self, a: &[u32; N]) -> [u32; N] {
        let mut t = [0u64; 2 * MAX_LIMBS];
        for i in 0..N {
            let ai = u64::from(a[i]);
            let ai2 = ai << 1;
            t[2 * i] += ai * ai;
            for j in i + 1..N {
                t[i + j] += u64::from(a[j]) * ai2;
            }
        }
        self.reduce(&mut t)
    }

    /// Montgomery reduction of the `2N` product columns: each column holds at most `N`
    /// products and `N` reduction products below `2^58`, and one carry below `2^35`, so `u64`
    /// never overflows for `N <= 31` (`MAX_LIMBS` is 18). The result is fully reduced.
    fn reduce(&self, t: &mut [u64; 2 * MAX_LIMBS]) -> [u32; N] {
        for i in 0..N {
            let q = u64::from((t[i] as u32).wrapping_mul(self.m_inv) & MASK);
            for j in 0..N {
                t[i + j] += q * u64::from(self.m[j]);
            }
            t[i + 1] += t[i] >> W;
        }
        let mut r = [0u32; N];
        let mut carry = 0u64;
        for j in 0..N {
            let v = t[N + j] + carry;
            r[j] = (v as u32) & MASK;
            carry = v >> W;
        }
        // The result is below 2m < 2^(29 N), so nothing is carried out.
        if !less(&r, &self.m) {
            sub_in_place(&mut r, &self.m);
        }
        r
    }

    /// `a + b mod m`.
    #[inline(never)]
    pub(crate) fn add(&self, a: &[u32; N], b: &[u32; N]) -> [u32; N] {
        let mut r = [0u32; N];
        let mut carry = 0u32;
        for j in 0..N {
            let v = a[j] + b[j] + carry;
            r[j] = v & MASK;
            carry = v >> W;
        }
        if !less(&r, &self.m) {
            sub_in_place(&mut r, &self.m);
        }
        r
    }

    /// `a - b mod m`.
    #[inline(never)]
    pub(crate) fn sub(&self, a: &[u32; N], b: &[u32; N]) -> [u32; N] {
        let mut r = *a;
        if sub_in_place(&mut r, b) {
            add_in_place(&mut r, &self.m);
        }
        r
    }

    /// `-a mod m`.
    pub(crate) fn neg(&self, a: &[u32; N]) -> [u32; N] {
        self.sub(&[0; N], a)
    }

    /// The inverse of a Montgomery-form `a`, in Montgomery form; `None` for zero.
    pub(crate) fn invert(&self, a: &[u32; N]) -> Option<[u32; N]> {
        // inverse_plain(aR) = a^-1 R^-1; times R^3 (a Montgomery product divides by R once).
        Some(self.mul(&self.inverse_plain(a)?, &self.r3))
    }

    /// The inverse of the plain integer `a` modulo the prime `m` (binary extended Euclid,
    /// variable time); `None` for zero.
    pub(crate) fn inverse_plain(&self, a: &[u32; N]) -> Option<[u32; N]> {
        if is_zero(a) || !less(a, &self.m) {
            return None;
        }
        let (mut u, mut v) = (*a, self.m);
        let (mut x1, mut x2) = ([0u32; N], [0u32; N]);
        x1[0] = 1;
        loop {
            while u[0] & 1 == 0 {
                shr1(&mut u);
                self.halve(&mut x1);
            }
            while v[0] & 1 == 0 {
                shr1(&mut v);
                self.halve(&mut x2);
            }
            if is_one(&u) {
                return Some(x1);
            }
            if is_one(&v) {
                return Some(x2);
            }
            // u and v are odd and coprime, so they differ; the larger loses the smaller.
            if less(&v, &u) {
                sub_in_place(&mut u, &v);
                x1 = self.sub(&x1, &x2);
            } else {
                sub_in_place(&mut v, &u);
                x2 = self.sub(&x2, &x1);
            }
            if is_zero(&u) || is_zero(&v) {
                // Only if m were not prime.
                return None;
            }
        }
    }

    /// `x / 2 mod m`.
    fn halve(&self, x: &mut [u32; N]) {
        if x[0] & 1 == 1 {
            add_in_place(x, &self.m);
        }
        shr1(x);
    }
}

/// Whether the limbs are all zero.
pub(crate) fn is_zero<const N: usize>(a: &[u32; N]) -> bool {
    a.iter().all(|&l| l == 0)
}

fn is_one<const N: usize>(a: &[u32; N]) -> bool {
    a[0] == 1 && a[1..].iter().all(|&l| l == 0)
}

/// `a < b` for normalised limbs.
pub(crate) fn less<const N: usize>(a: &[u32; N], b: &[u32; N]) -> bool {
    for j in (0..N).rev() {
        if a[j] != b[j] {
            return a[j] < b[j];
        }
    }
    false
}

/// `a -= b`; returns the borrow out (the result wrapped modulo `2^(29 N)`).
fn sub_in_place<const N: usize>(a: &mut [u32; N], b: &[u32; N]) -> bool {
    let mut borrow = 0u32;
    for j in 0..N {
        let v = a[j].wrapping_sub(b[j]).wrapping_sub(borrow);
        a[j] = v & MASK;
        borrow = v >> 31;
    }
    borrow != 0
}

/// `a += b`, wrapping modulo `2^(29 N)`.
fn add_in_place<const N: usize>(a: &mut [u32; N], b: &[u32; N]) {
    let mut carry = 0u32;
    for j in 0..N {
        let v = a[j] + b[j] + carry;
        a[j] = v & MASK;
        carry = v >> W;
    }
}

fn shr1<const N: usize>(a: &mut [u32; N]) {
    for j in 0..N - 1 {
        a[j] = (a[j] >> 1) | ((a[j + 1] & 1) << (W - 1));
    }
    a[N - 1] >>= 1;
}

/// The `width` bits of the plain limbs `a` starting at bit `offset` (`width <= 29`).
pub(crate) fn bits_at<const N: usize>(a: &[u32; N], offset: usize, width: u32) -> u32 {
    let (limb, shift) = (offset / W as usize, offset % W as usize);
    let low = a.get(limb).map_or(0, |&l| u64::from(l) >> shift);
    let high = a
        .get(limb + 1)
        .map_or(0, |&l| u64::from(l) << (W as usize - shift));
    ((low | high) & ((1u64 << width) - 1)) as u32
}

/// Plain limbs to `len` big-endian bytes (the value must fit).
#[cfg(test)]
pub(crate) fn limbs_to_be<const N: usize>(a: &[u32; N], len: usize) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec![0u8; len];
    for (i, byte) in out.iter_mut().rev().enumerate() {
        *byte = bits_at(a, i * 8, 8) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    const P256: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

    fn hex(s: &str) -> alloc::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    #[test]
    fn matches_u128_arithmetic_on_a_small_prime() {
        // 2^61 - 1 is prime; products fit u128.
        let m: u128 = (1 << 61) - 1;
        let f = MontField::<3>::new(&(m as u64).to_be_bytes()).unwrap_or_else(|| unreachable!());
        let mut rng = Rng(7);
        for _ in 0..2000 {
            let (a, b) = (u128::from(rng.next()) % m, u128::from(rng.next()) % m);
            let am = f
                .element_from_be(&(a as u64).to_be_bytes())
                .unwrap_or_else(|| unreachable!());
            let bm = f
                .element_from_be(&(b as u64).to_be_bytes())
                .unwrap_or_else(|| unreachable!());
            let plain = |x: [u32; 3]| -> u128 {
                let p = f.to_plain(&x);
                u128::from(p[0]) | u128::from(p[1]) << 29 | u128::from(p[2]) << 58
            };
            assert_eq!(plain(f.mul(&am, &bm)), a * b % m);
            assert_eq!(plain(f.sqr(&am)), a * a % m);
            assert_eq!(plain(f.add(&am, &bm)), (a + b) % m);
            assert_eq!(plain(f.sub(&am, &bm)), (a + m - b) % m);
            if a != 0 {
                let inv = f.invert(&am).unwrap_or_else(|| unreachable!());
                assert_eq!(plain(f.mul(&inv, &am)), 1);
            } else {
                assert!(f.invert(&am).is_none());
            }
        }
    }

    #[test]
    fn p256_inverse_and_byte_round_trip() {
        let f = MontField::<9>::new(&hex(P256)).unwrap_or_else(|| unreachable!());
        let mut rng = Rng(99);
        for _ in 0..200 {
            let mut be = [0u8; 32];
            for chunk in be.chunks_mut(8) {
                chunk.copy_from_slice(&rng.next().to_be_bytes());
            }
            be[0] &= 0x7f;
            let a = f.element_from_be(&be).unwrap_or_else(|| unreachable!());
            assert_eq!(limbs_to_be(&f.to_plain(&a), 32), be);
            let inv = f.invert(&a).unwrap_or_else(|| unreachable!());
            assert_eq!(f.mul(&a, &inv), f.one());
            assert_eq!(f.sqr(&a), f.mul(&a, &a));
            assert_eq!(f.add(&a, &f.neg(&a)), [0; 9]);
        }
        // m itself and anything above it is refused as a field element.
        assert!(f.element_from_be(&hex(P256)).is_none());
        assert!(f.element_from_be(&[0xff; 32]).is_none());
        assert!(f.element_from_be(&[1; 33]).is_none());
    }

    #[test]
    fn refuses_bad_moduli() {
        assert!(MontField::<9>::new(&[0x10]).is_none());
        assert!(MontField::<9>::new(&[1]).is_none());
        assert!(MontField::<9>::new(&[0xff; 40]).is_none());
        assert!(MontField::<19>::new(&[0x0b]).is_none());
    }
}
