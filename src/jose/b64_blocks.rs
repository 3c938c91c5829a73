//! Strict base64url decoding sixteen characters at a time, the way WebAssembly SIMD does it:
//! each character classified by range and shifted to its six bits in one pass over the
//! vector, the 96 bits packed with shifts and one byte shuffle, no table read.
//!
//! On wasm32 with `simd128` (the npm and proxy-wasm modules) [`Lanes`] is a `v128`; elsewhere
//! it is sixteen bytes worked lane by lane with the same semantics, which is slower than the
//! table decoder in `b64.rs` and is used only to test and fuzz this algorithm natively
//! ([`super::b64::decode_by_blocks`]). `js/test/base64url.test.mjs` checks the module's real
//! SIMD instructions against a reference decoder.

/// Decodes whole blocks of sixteen characters from the start of `input` into `out`, twelve
/// bytes each, while both have room; returns how many characters it decoded, or `None` if one
/// of them is outside the URL-safe alphabet. The caller decodes the rest (fewer than sixteen
/// characters when `out` is sized for `input`, and the final partial quad with its spare bits).
pub(super) fn decode_blocks(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut decoded = 0;
    for (chars, bytes) in input.chunks_exact(16).zip(out.chunks_exact_mut(12)) {
        let chars: &[u8; 16] = chars.try_into().ok()?;
        let bytes: &mut [u8; 12] = bytes.try_into().ok()?;
        decode_block(chars, bytes)?;
        decoded += 16;
    }
    Some(decoded)
}

/// One block: sixteen characters to twelve bytes, `None` for a character outside the alphabet.
#[inline(always)]
fn decode_block(chars: &[u8; 16], bytes: &mut [u8; 12]) -> Option<()> {
    let c = Lanes::load(chars);
    // The classes of the alphabet and, per class, what turns a character into its six bits
    // (mod 256): 'A'-'Z' are 0-25, 'a'-'z' 26-51, '0'-'9' 52-61, '-' 62 and '_' 63.
    let upper = c.sub(b'A').at_most(25);
    let lower = c.sub(b'a').at_most(25);
    let digit = c.sub(b'0').at_most(9);
    let dash = c.equals(b'-');
    let underscore = c.equals(b'_');
    if !upper.or(lower).or(digit).or(dash).or(underscore).all_set() {
        return None;
    }
    let offset = upper
        .and_each(0u8.wrapping_sub(b'A'))
        .or(lower.and_each(26u8.wrapping_sub(b'a')))
        .or(digit.and_each(52u8.wrapping_sub(b'0')))
        .or(dash.and_each(62u8.wrapping_sub(b'-')))
        .or(underscore.and_each(63u8.wrapping_sub(b'_')));
    let sixes = c.add(offset);
    // Little-endian lanes: a 16-bit lane holds characters (a, b) as a | b << 8, so a << 6 | b is
    // their twelve bits; a 32-bit lane holds two of those (ab, cd), so ab << 12 | cd is the
    // quad's 24 bits, whose big-endian bytes are the lane's bytes 2, 1, 0.
    let twelves = sixes.pairs_to_twelve_bits();
    let quads = twelves.pairs_to_24_bits();
    *bytes = quads.big_endian_triples();
    Some(())
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use portable::Lanes;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::Lanes;

/// The operations on a `v128`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::{
        i16x8_shl, i32x4_shl, i8x16, i8x16_swizzle, u16x8_shr, u16x8_splat, u32x4_extract_lane,
        u32x4_shr, u32x4_splat, u64x2_extract_lane, u8x16, u8x16_add, u8x16_all_true, u8x16_eq,
        u8x16_le, u8x16_splat, u8x16_sub, v128, v128_and, v128_or,
    };

    /// Sixteen bytes in one vector.
    #[derive(Clone, Copy)]
    pub(super) struct Lanes(v128);

    impl Lanes {
        #[inline(always)]
        pub(super) fn load(b: &[u8; 16]) -> Lanes {
            Lanes(u8x16(
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15],
            ))
        }
        #[inline(always)]
        pub(super) fn sub(self, k: u8) -> Lanes {
            Lanes(u8x16_sub(self.0, u8x16_splat(k)))
        }
        #[inline(always)]
        pub(super) fn add(self, other: Lanes) -> Lanes {
            Lanes(u8x16_add(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn at_most(self, k: u8) -> Lanes {
            Lanes(u8x16_le(self.0, u8x16_splat(k)))
        }
        #[inline(always)]
        pub(super) fn equals(self, k: u8) -> Lanes {
            Lanes(u8x16_eq(self.0, u8x16_splat(k)))
        }
        #[inline(always)]
        pub(super) fn or(self, other: Lanes) -> Lanes {
            Lanes(v128_or(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn and_each(self, k: u8) -> Lanes {
            Lanes(v128_and(self.0, u8x16_splat(k)))
        }
        #[inline(always)]
        pub(super) fn all_set(self) -> bool {
            u8x16_all_true(self.0)
        }
        #[inline(always)]
        pub(super) fn pairs_to_twelve_bits(self) -> Lanes {
            let first = i16x8_shl(v128_and(self.0, u16x8_splat(0x00FF)), 6);
            Lanes(v128_or(first, u16x8_shr(self.0, 8)))
        }
        #[inline(always)]
        pub(super) fn pairs_to_24_bits(self) -> Lanes {
            let first = i32x4_shl(v128_and(self.0, u32x4_splat(0xFFFF)), 12);
            Lanes(v128_or(first, u32x4_shr(self.0, 16)))
        }
        #[inline(always)]
        pub(super) fn big_endian_triples(self) -> [u8; 12] {
            let packed = i8x16_swizzle(
                self.0,
                i8x16(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1),
            );
            let mut out = [0u8; 12];
            out[..8].copy_from_slice(&u64x2_extract_lane::<0>(packed).to_le_bytes());
            out[8..].copy_from_slice(&u32x4_extract_lane::<2>(packed).to_le_bytes());
            out
        }
    }
}

/// The same operations lane by lane, for the native tests and fuzzing.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable {
    /// Sixteen bytes.
    #[derive(Clone, Copy)]
    pub(super) struct Lanes([u8; 16]);

    impl Lanes {
        pub(super) fn load(b: &[u8; 16]) -> Lanes {
            Lanes(*b)
        }
        fn map(self, f: impl Fn(u8) -> u8) -> Lanes {
            Lanes(self.0.map(f))
        }
        fn zip(self, other: Lanes, f: impl Fn(u8, u8) -> u8) -> Lanes {
            let mut out = self.0;
            for (o, b) in out.iter_mut().zip(other.0) {
                *o = f(*o, b);
            }
            Lanes(out)
        }
        /// Every `N`-byte little-endian lane mapped by `f`.
        fn lanes<const N: usize>(self, f: impl Fn(u32) -> u32) -> Lanes {
            let mut out = [0u8; 16];
            for (o, i) in out.chunks_exact_mut(N).zip(self.0.chunks_exact(N)) {
                let mut word = [0u8; 4];
                word[..N].copy_from_slice(i);
                o.copy_from_slice(&f(u32::from_le_bytes(word)).to_le_bytes()[..N]);
            }
            Lanes(out)
        }
        pub(super) fn sub(self, k: u8) -> Lanes {
            self.map(|a| a.wrapping_sub(k))
        }
        pub(super) fn add(self, other: Lanes) -> Lanes {
            self.zip(other, u8::wrapping_add)
        }
        pub(super) fn at_most(self, k: u8) -> Lanes {
            self.map(|a| if a <= k { 0xFF } else { 0 })
        }
        pub(super) fn equals(self, k: u8) -> Lanes {
            self.map(|a| if a == k { 0xFF } else { 0 })
        }
        pub(super) fn or(self, other: Lanes) -> Lanes {
            self.zip(other, |a, b| a | b)
        }
        pub(super) fn and_each(self, k: u8) -> Lanes {
            self.map(|a| a & k)
        }
        pub(super) fn all_set(self) -> bool {
            self.0.iter().all(|&a| a != 0)
        }
        pub(super) fn pairs_to_twelve_bits(self) -> Lanes {
            // i16x8.shl wraps within the lane, as the mask on the result does here.
            self.lanes::<2>(|x| ((x & 0xFF) << 6 | x >> 8) & 0xFFFF)
        }
        pub(super) fn pairs_to_24_bits(self) -> Lanes {
            self.lanes::<4>(|x| (x & 0xFFFF) << 12 | x >> 16)
        }
        pub(super) fn big_endian_triples(self) -> [u8; 12] {
            let mut out = [0u8; 12];
            for (o, lane) in out.chunks_exact_mut(3).zip(self.0.chunks_exact(4)) {
                o.copy_from_slice(&[lane[2], lane[1], lane[0]]);
            }
            out
        }
    }
}
