//! Variable-time Montgomery arithmetic modulo a public odd modulus, for RSA signature
//! verification (RSAVP1).
//!
//! Everything here handles public data only (the key, the signature, the message), so it may
//! branch and index on values; that is what makes it several times faster than the constant-time
//! generic bignum code in wasm32, which has no 64x64->128 multiply. Limbs are 32-bit, little
//! endian, with 64-bit products, which wasm's `i64.mul` computes in one instruction; on 64-bit
//! targets they are 64-bit with 128-bit products (one `mul` on x86-64 and aarch64).
//!
//! The per-key work (`-n^-1 mod 2^w`, `R^2 mod n`) is done once, when the JWK is parsed.
//!
//! The arithmetic is written once (`montgomery!`) and instantiated for both limb widths; a
//! target uses the one it multiplies natively, and the tests run both.

/// The Montgomery arithmetic over the `Limb`, `Wide` (double width) and `SWide` (signed
/// double width) types in scope where it is expanded.
#[cfg(any(test, not(all(target_arch = "wasm32", target_feature = "simd128"))))]
macro_rules! montgomery {
    () => {
        /// Bits per limb.
        const W: u32 = Limb::BITS;
        /// Bytes per limb.
        const LIMB_BYTES: usize = (W / 8) as usize;

        /// A public odd modulus `n` prepared for Montgomery multiplication with `R = 2^(W * limbs)`.
        #[derive(Clone)]
        pub(crate) struct Modulus {
            /// `n`, little-endian limbs, the top limb non-zero.
            n: Vec<Limb>,
            /// `-n^-1 mod 2^W`.
            n0_inv: Limb,
            /// `R^2 mod n`, to bring a value into Montgomery form with one multiplication.
            r2: Vec<Limb>,
            /// `n`'s length in bytes (`k` in RFC 8017).
            byte_len: usize,
            /// `n`'s length in bits.
            bits: usize,
        }

        /// Scratch space for one exponentiation: every buffer an operation needs, allocated once.
        struct Scratch {
            t: Vec<Limb>,
            wide: Vec<Limb>,
        }

        impl Modulus {
            /// Prepares `n` (big-endian bytes, leading zeros allowed). `None` unless `n` is odd and
            /// greater than 1.
            pub(crate) fn new(n_be: &[u8]) -> Option<Modulus> {
                let n = limbs_from_be(n_be);
                let n = trim(n);
                if n.is_empty() || n[0] & 1 == 0 || (n.len() == 1 && n[0] == 1) {
                    return None;
                }
                let s = n.len();
                let bits = W as usize * s - n[s - 1].leading_zeros() as usize;
                // Newton's iteration for n^-1 mod 2^W: each step doubles the correct low bits
                // (n * n = 1 mod 8 for odd n gives 3 to start).
                let mut inv: Limb = n[0];
                for _ in 0..6 {
                    inv = inv.wrapping_mul((2 as Limb).wrapping_sub(n[0].wrapping_mul(inv)));
                }
                let n0_inv = inv.wrapping_neg();
                let mut m = Modulus {
                    n,
                    n0_inv,
                    r2: Vec::new(),
                    byte_len: bits.div_ceil(8),
                    bits,
                };
                m.r2 = m.r_squared();
                Some(m)
            }

            /// `R^2 mod n` with `R = 2^L`, `L = W * limbs(n) = k * 2^m` (`k` odd): `2^(L + k)`
            /// (the Montgomery form of `2^k`) by doubling `2^(bits - 1)` modulo `n`, then `m`
            /// Montgomery squarings, each doubling the exponent inside the Montgomery form, to
            /// `2^L`'s: `R^2`. For RSA-2048 that is 2 doublings and 11 squarings with 64-bit limbs,
            /// where doubling 1 all the way took 4,096 doublings (the key's main set-up cost).
            fn r_squared(&self) -> Vec<Limb> {
                let s = self.n.len();
                let l = W as usize * s;
                let m = l.trailing_zeros() as usize;
                let k = l >> m;
                let mut x = vec![0 as Limb; s + 1];
                let top = self.bits - 1;
                x[top / W as usize] = (1 as Limb) << (top % W as usize);
                for _ in 0..k + l - top {
                    double_mod(&mut x, &self.n);
                }
                x.truncate(s);
                let mut scratch = Scratch {
                    t: vec![0; s + 2],
                    wide: vec![0; 2 * s + 1],
                };
                let mut tmp = vec![0 as Limb; s];
                for _ in 0..m {
                    self.sqr(&x, &mut tmp, &mut scratch);
                    core::mem::swap(&mut x, &mut tmp);
                }
                x
            }

            /// `n`'s length in bytes (`k`).
            pub(crate) fn byte_len(&self) -> usize {
                self.byte_len
            }

            /// `n`'s length in bits.
            pub(crate) fn bits(&self) -> usize {
                self.bits
            }

            /// `base^e mod n` as `k` big-endian bytes, for `base` given as big-endian bytes. `None`
            /// when `base >= n` (RFC 8017 RSAVP1 step 1: "signature representative out of range") or
            /// `e` is zero.
            pub(crate) fn pow_be(&self, base_be: &[u8], e: u64) -> Option<Vec<u8>> {
                if e == 0 {
                    return None;
                }
                let s = self.n.len();
                let mut base = limbs_from_be(base_be);
                if trim_len(&base) > s {
                    return None;
                }
                base.resize(s, 0);
                if cmp(&base, &self.n) != core::cmp::Ordering::Less {
                    return None;
                }
                let mut scratch = Scratch {
                    t: vec![0; s + 2],
                    wide: vec![0; 2 * s + 1],
                };
                let result = self.pow(&base, e, &mut scratch);
                Some(limbs_to_be(&result, self.byte_len))
            }

            /// `base^e mod n` for `base < n`, `e > 0`: left-to-right binary exponentiation in
            /// Montgomery form. The last multiplication takes `base` itself rather than its Montgomery
            /// form, which leaves the result out of Montgomery form with no extra step (e is odd for
            /// every RSA key, but even exponents are handled too).
            fn pow(&self, base: &[Limb], e: u64, scratch: &mut Scratch) -> Vec<Limb> {
                let s = self.n.len();
                let mut base_m = vec![0 as Limb; s];
                self.mul(base, &self.r2, &mut base_m, scratch);
                let top = 63 - e.leading_zeros();
                let mut acc = base_m.clone();
                let mut tmp = vec![0 as Limb; s];
                for bit in (0..top).rev() {
                    self.sqr(&acc, &mut tmp, scratch);
                    core::mem::swap(&mut acc, &mut tmp);
                    if (e >> bit) & 1 == 1 {
                        let factor = if bit == 0 { base } else { &base_m };
                        self.mul(&acc, factor, &mut tmp, scratch);
                        core::mem::swap(&mut acc, &mut tmp);
                    }
                }
                if e & 1 == 0 || top == 0 {
                    // Still in Montgomery form: multiplying by 1 leaves it.
                    let mut one = vec![0 as Limb; s];
                    one[0] = 1;
                    self.mul(&acc, &one, &mut tmp, scratch);
                    core::mem::swap(&mut acc, &mut tmp);
                }
                acc
            }

            /// `out = a * b * R^-1 mod n` for `a, b < n` (CIOS, the reduction interleaved with the
            /// multiplication so each row reads and writes `t` once).
            fn mul(&self, a: &[Limb], b: &[Limb], out: &mut [Limb], scratch: &mut Scratch) {
                let s = self.n.len();
                let n = &self.n[..s];
                let a = &a[..s];
                let t = &mut scratch.t[..s + 1];
                t.fill(0);
                for &bi in &b[..s] {
                    let bi = Wide::from(bi);
                    let x = Wide::from(t[0]) + Wide::from(a[0]) * bi;
                    let m = Wide::from((x as Limb).wrapping_mul(self.n0_inv));
                    let y = Wide::from(x as Limb) + m * Wide::from(n[0]);
                    let mut c1 = x >> W;
                    let mut c2 = y >> W;
                    for j in 1..s {
                        let x = Wide::from(t[j]) + Wide::from(a[j]) * bi + c1;
                        c1 = x >> W;
                        let y = Wide::from(x as Limb) + m * Wide::from(n[j]) + c2;
                        c2 = y >> W;
                        t[j - 1] = y as Limb;
                    }
                    let x = Wide::from(t[s]) + c1 + c2;
                    t[s - 1] = x as Limb;
                    t[s] = (x >> W) as Limb;
                }
                self.finish(out, scratch);
            }

            /// `out = a^2 * R^-1 mod n` for `a < n`: the square computed with each cross product once
            /// (doubled), then a separate Montgomery reduction; about three quarters of [`Self::mul`]'s
            /// work.
            fn sqr(&self, a: &[Limb], out: &mut [Limb], scratch: &mut Scratch) {
                let s = self.n.len();
                let a = &a[..s];
                let w = &mut scratch.wide[..2 * s + 1];
                w.fill(0);
                // Cross products a[i] * a[j], i < j.
                for i in 0..s {
                    let ai = Wide::from(a[i]);
                    let mut c: Wide = 0;
                    for j in i + 1..s {
                        let x = Wide::from(w[i + j]) + ai * Wide::from(a[j]) + c;
                        w[i + j] = x as Limb;
                        c = x >> W;
                    }
                    w[i + s] = c as Limb;
                }
                // Double them and add the squares a[i]^2.
                let mut carry: Wide = 0;
                let mut shifted_out: Limb = 0;
                for i in 0..s {
                    let lo = w[2 * i];
                    let hi = w[2 * i + 1];
                    let lo2 = (lo << 1) | shifted_out;
                    let hi2 = (hi << 1) | (lo >> (W - 1));
                    shifted_out = hi >> (W - 1);
                    let sq = Wide::from(a[i]) * Wide::from(a[i]);
                    let x = Wide::from(lo2) + (sq & Limb::MAX as Wide) + carry;
                    w[2 * i] = x as Limb;
                    let y = Wide::from(hi2) + (sq >> W) + (x >> W);
                    w[2 * i + 1] = y as Limb;
                    carry = y >> W;
                }
                // Montgomery reduction of the 2s-limb square, one limb per row.
                let n = &self.n[..s];
                let mut top: Wide = 0;
                for i in 0..s {
                    let m = Wide::from(w[i].wrapping_mul(self.n0_inv));
                    let mut c: Wide = 0;
                    for j in 0..s {
                        let x = Wide::from(w[i + j]) + m * Wide::from(n[j]) + c;
                        w[i + j] = x as Limb;
                        c = x >> W;
                    }
                    let x = Wide::from(w[i + s]) + c + top;
                    w[i + s] = x as Limb;
                    top = x >> W;
                }
                let t = &mut scratch.t[..s + 1];
                t[..s].copy_from_slice(&w[s..2 * s]);
                t[s] = top as Limb;
                self.finish(out, scratch);
            }

            /// Copies `t` (an `s + 1`-limb value below `2n`) to `out`, subtracting `n` once if needed.
            fn finish(&self, out: &mut [Limb], scratch: &Scratch) {
                let s = self.n.len();
                let t = &scratch.t[..s + 1];
                let out = &mut out[..s];
                if t[s] != 0 || cmp(&t[..s], &self.n) != core::cmp::Ordering::Less {
                    let mut borrow: SWide = 0;
                    for j in 0..s {
                        let d = SWide::from(t[j]) - SWide::from(self.n[j]) + borrow;
                        out[j] = d as Limb;
                        borrow = d >> W;
                    }
                } else {
                    out.copy_from_slice(&t[..s]);
                }
            }
        }

        /// `x = 2x mod n` for `x < n`, `x` one limb longer than `n`.
        fn double_mod(x: &mut [Limb], n: &[Limb]) {
            let s = n.len();
            let mut carry: Limb = 0;
            for limb in x.iter_mut() {
                let next = *limb >> (W - 1);
                *limb = (*limb << 1) | carry;
                carry = next;
            }
            if x[s] != 0 || cmp(&x[..s], n) != core::cmp::Ordering::Less {
                let mut borrow: SWide = 0;
                for j in 0..s {
                    let d = SWide::from(x[j]) - SWide::from(n[j]) + borrow;
                    x[j] = d as Limb;
                    borrow = d >> W;
                }
                x[s] = (SWide::from(x[s]) + borrow) as Limb;
            }
        }

        impl Modulus {
            /// Whether `R^2 mod n` equals doubling 1 modulo `n` `2 * W * limbs` times: the
            /// reference the squaring shortcut is tested against.
            #[cfg(test)]
            pub(crate) fn r2_matches_reference(&self) -> bool {
                let s = self.n.len();
                let mut x = vec![0 as Limb; s + 1];
                x[0] = 1;
                for _ in 0..2 * W as usize * s {
                    double_mod(&mut x, &self.n);
                }
                x.truncate(s);
                x == self.r2
            }
        }

        /// Compares two equal-length little-endian limb strings.
        fn cmp(a: &[Limb], b: &[Limb]) -> core::cmp::Ordering {
            for (x, y) in a.iter().rev().zip(b.iter().rev()) {
                if x != y {
                    return x.cmp(y);
                }
            }
            core::cmp::Ordering::Equal
        }

        /// Big-endian bytes to little-endian limbs.
        fn limbs_from_be(bytes: &[u8]) -> Vec<Limb> {
            let mut limbs = Vec::with_capacity(bytes.len().div_ceil(LIMB_BYTES));
            for chunk in bytes.rchunks(LIMB_BYTES) {
                let mut limb: Limb = 0;
                for &b in chunk {
                    limb = (limb << 8) | Limb::from(b);
                }
                limbs.push(limb);
            }
            limbs
        }

        /// Little-endian limbs to exactly `len` big-endian bytes (the value must fit).
        fn limbs_to_be(limbs: &[Limb], len: usize) -> Vec<u8> {
            let mut out = vec![0u8; len];
            for (i, byte) in out.iter_mut().rev().enumerate() {
                if let Some(limb) = limbs.get(i / LIMB_BYTES) {
                    *byte = (limb >> (8 * (i % LIMB_BYTES))) as u8;
                }
            }
            out
        }

        /// The number of limbs without leading (most significant) zeros.
        fn trim_len(limbs: &[Limb]) -> usize {
            limbs.iter().rposition(|&l| l != 0).map_or(0, |p| p + 1)
        }

        fn trim(mut limbs: Vec<Limb>) -> Vec<Limb> {
            limbs.truncate(trim_len(&limbs));
            limbs
        }
    };
}

/// 32-bit limbs with 64-bit products: wasm32 without `simd128` (`i64.mul`) and other 32-bit
/// targets. With `simd128`, [`crate::signature::bignum_simd`] takes over.
#[cfg(any(
    test,
    all(
        not(target_pointer_width = "64"),
        not(all(target_arch = "wasm32", target_feature = "simd128"))
    )
))]
pub(crate) mod limb32 {
    use alloc::vec;
    use alloc::vec::Vec;
    /// One digit.
    type Limb = u32;
    /// Holds `t + a * b + c` for limbs `t, a, b, c`.
    type Wide = u64;
    /// A signed [`Wide`], for borrows.
    type SWide = i64;
    montgomery!();
}

/// 64-bit limbs with 128-bit products (one `mul` on x86-64 and aarch64).
#[cfg(any(test, target_pointer_width = "64"))]
pub(crate) mod limb64 {
    use alloc::vec;
    use alloc::vec::Vec;
    /// One digit.
    type Limb = u64;
    /// Holds `t + a * b + c` for limbs `t, a, b, c`.
    type Wide = u128;
    /// A signed [`Wide`], for borrows.
    type SWide = i128;
    montgomery!();
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) use crate::signature::bignum_simd::Modulus;
#[cfg(all(
    not(target_pointer_width = "64"),
    not(all(target_arch = "wasm32", target_feature = "simd128"))
))]
pub(crate) use limb32::Modulus;
#[cfg(target_pointer_width = "64")]
pub(crate) use limb64::Modulus;

/// The same tests for both limb widths.
#[cfg(test)]
macro_rules! montgomery_tests {
    () => {
        /// Reference: square-and-multiply with schoolbook `u128` arithmetic on small moduli.
        fn pow_ref(b: u128, e: u64, n: u128) -> u128 {
            let mut r = 1u128 % n;
            let mut b = b % n;
            let mut e = e;
            while e > 0 {
                if e & 1 == 1 {
                    r = r * b % n;
                }
                b = b * b % n;
                e >>= 1;
            }
            r
        }

        #[test]
        fn matches_a_reference_on_small_odd_moduli() {
            let mut seed = 0x9e37_79b9_7f4a_7c15u64;
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            for round in 0..2000 {
                // Moduli below 2^63 so the reference's products fit in u128.
                let n = (u128::from(next() >> 1) | 1).max(3);
                let b = u128::from(next()) % n;
                let e = match round % 4 {
                    0 => 65537,
                    1 => 3,
                    2 => 1,
                    _ => next() | 1,
                };
                let m = Modulus::new(&n.to_be_bytes()).unwrap();
                let got = m.pow_be(&b.to_be_bytes(), e).unwrap();
                let want = pow_ref(b, e, n);
                let want_bytes = want.to_be_bytes();
                assert_eq!(got, want_bytes[16 - m.byte_len()..], "n={n} b={b} e={e}");
                // Even exponents too.
                let got2 = m.pow_be(&b.to_be_bytes(), e + 1).unwrap();
                let want2 = pow_ref(b, e + 1, n).to_be_bytes();
                assert_eq!(got2, want2[16 - m.byte_len()..], "n={n} b={b} e={}", e + 1);
            }
        }

        use crate::test_rng::Rng;

        /// How many random moduli the differential test draws: a few in the unit test run,
        /// `TOKENGATE_DIFF_CASES` in the long benchmark-style job (`make diff-long`).
        fn diff_cases(default: usize) -> usize {
            std::env::var("TOKENGATE_DIFF_CASES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        }

        #[test]
        fn matches_rustcrypto_rsavp1_on_random_large_moduli() {
            let mut rng = Rng(0x2545_f491_4f6c_dd1d);
            let cases = diff_cases(24);
            let mut ran = 0;
            for round in 0..cases {
                // Random odd moduli of 2048 to 8192 bits, any bit length (not only whole bytes).
                let bits = 2048 + (rng.next() % (8192 - 2048 + 1)) as usize;
                let mut n = rng.bytes(bits.div_ceil(8));
                let excess = 8 * n.len() - bits;
                n[0] &= 0xff >> excess;
                n[0] |= 0x80 >> excess;
                *n.last_mut().unwrap() |= 1;
                let e: u64 = match round % 3 {
                    0 => 65537,
                    1 => 3,
                    _ => (rng.next() % (1 << 33)) | 1 | (1 << 16),
                };
                let reference = rsa::PublicKey::new_with_size_limits(
                    rsa::BoxedUint::from_be_slice_vartime(&n),
                    rsa::BoxedUint::from_be_slice_vartime(&e.to_be_bytes()),
                    2048..=8192,
                )
                .unwrap();
                let m = Modulus::new(&n).unwrap();
                assert_eq!(m.bits(), bits);
                let mut n_minus_1 = n.clone();
                *n_minus_1.last_mut().unwrap() -= 1;
                let mut bases = vec![vec![0u8], vec![1u8], vec![2u8], n_minus_1];
                for _ in 0..3 {
                    let mut s = rng.bytes(n.len());
                    s[0] &= n[0] >> 1;
                    bases.push(s);
                }
                for s in bases {
                    let want = rsa::hazmat::rsa_encrypt(
                        &reference,
                        &rsa::BoxedUint::from_be_slice(&s, n.len() as u32 * 8).unwrap(),
                    )
                    .unwrap()
                    .to_be_bytes();
                    let want = &want[want.len() - m.byte_len()..];
                    assert_eq!(m.pow_be(&s, e).as_deref(), Some(want), "bits={bits} e={e}");
                    ran += 1;
                }
                // Out of range: n itself and anything above.
                assert!(m.pow_be(&n, e).is_none());
            }
            assert!(ran >= cases * 7);
        }

        /// `R^2 mod n` by Montgomery squarings equals the plain doubling, on moduli of every
        /// size class: tiny, one limb, the RSA sizes, any bit length.
        #[test]
        fn r_squared_shortcut_matches_doubling() {
            let mut rng = Rng(0x52_5351_5541_5245);
            let mut sizes: alloc::vec::Vec<usize> = (2..=130).collect();
            sizes.extend([2047, 2048, 2049, 2056, 3072, 4095, 4096, 8192]);
            for _ in 0..20 {
                sizes.push(2048 + (rng.next() % 6145) as usize);
            }
            for bits in sizes {
                let mut n = rng.bytes(bits.div_ceil(8));
                let excess = 8 * n.len() - bits;
                n[0] &= 0xff >> excess;
                n[0] |= 0x80 >> excess;
                *n.last_mut().unwrap() |= 1;
                let m = Modulus::new(&n).unwrap();
                assert!(m.r2_matches_reference(), "bits={bits}");
            }
        }

        #[test]
        fn refuses_out_of_range_inputs() {
            let m = Modulus::new(&[0x01, 0x00, 0x01]).unwrap();
            assert!(m.pow_be(&[0x01, 0x00, 0x01], 3).is_none());
            assert!(m.pow_be(&[0xff, 0xff, 0xff, 0xff, 0xff], 3).is_none());
            assert!(m.pow_be(&[0, 0, 0, 0, 0, 2], 3).is_some());
            assert!(m.pow_be(&[2], 0).is_none());
            assert!(Modulus::new(&[0x10]).is_none());
            assert!(Modulus::new(&[0, 1]).is_none());
            assert!(Modulus::new(&[]).is_none());
        }
    };
}

#[cfg(test)]
mod tests32 {
    use super::limb32::Modulus;
    use alloc::vec;
    montgomery_tests!();
}

#[cfg(test)]
mod tests64 {
    use super::limb64::Modulus;
    use alloc::vec;
    montgomery_tests!();
}

#[cfg(test)]
mod tests_simd_layout {
    use crate::signature::bignum_simd::Modulus;
    use alloc::vec;
    montgomery_tests!();
}
