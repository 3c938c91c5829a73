//! Strict base64url (RFC 7515 section 2): the URL-safe alphabet, no padding, no whitespace,
//! and canonical trailing bits, so that every byte string has exactly one encoding.
//!
//! Hand-rolled rather than the `base64` crate: the codec is eighty lines, and the crate's
//! general-purpose engine was 6.4 KB of the npm module's code, all of it compiled on a fresh
//! isolate's first key set and first verification (BENCHMARKS.md, "sixth stop"). The tests
//! below hold it to the crate (a dev-dependency) on every short input and on random input, and
//! so does the `base64url` fuzz target. A WebAssembly build with `simd128` decodes sixteen
//! characters at a time first (`b64_blocks.rs`), and this code the rest.

use alloc::string::String;
use alloc::vec::Vec;

/// The URL-safe alphabet (RFC 4648 section 5).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Each byte's 6-bit value, or 0xFF for a byte outside the alphabet (padding and whitespace
/// included): a valid value never has either of the two high bits set.
const VALUES: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The decoded length of `len` characters; `None` for a length no encoding has (4k + 1).
fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        rest => Some(len / 4 * 3 + rest.saturating_sub(1)),
    }
}

/// Decodes strict base64url; `None` for anything non-canonical.
pub fn decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = alloc::vec![0u8; decoded_len(input.len())?];
    decode_to_slice(input, &mut out)?;
    Some(out)
}

/// [`VALUES`] shifted into place for each of a quad's four characters (the first character's
/// six bits on top of a 24-bit group), with every bit of the top byte set for a byte outside
/// the alphabet: a quad decodes with four lookups and three ORs, and is valid exactly when the
/// top byte of the OR is clear. 4 KB of tables (0.5 KB gzipped) for 1.3-1.4x the native
/// speed of shifting each value into one accumulator in turn, which waits on every lookup
/// (BENCHMARKS.md, "tenth stop"). A SIMD build decodes all but the last few characters in
/// blocks (b64_blocks.rs) and does without them.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
const SHIFTED: [[u32; 256]; 4] = {
    let mut tables = [[0u32; 256]; 4];
    let mut t = 0;
    while t < 4 {
        let mut c = 0;
        while c < 256 {
            let value = VALUES[c];
            tables[t][c] = if value == 0xFF {
                0xFF00_0000
            } else {
                (value as u32) << (18 - 6 * t)
            };
            c += 1;
        }
        t += 1;
    }
    tables
};

/// The 24 bits of one quad, or a value with its top byte set when a character is outside the
/// alphabet.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn quad(q: &[u8]) -> u32 {
    match *q {
        [a, b, c, d] => {
            SHIFTED[0][usize::from(a)]
                | SHIFTED[1][usize::from(b)]
                | SHIFTED[2][usize::from(c)]
                | SHIFTED[3][usize::from(d)]
        }
        _ => 0xFF00_0000,
    }
}

/// [`quad`] for a SIMD build, which decodes at most fifteen characters and the tail this way:
/// one lookup in [`VALUES`] per character, without the 4 KB of shifted tables.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn quad(q: &[u8]) -> u32 {
    let (mut bits, mut outside) = (0u32, 0u8);
    for &c in q {
        let value = VALUES[usize::from(c)];
        outside |= value;
        bits = bits << 6 | u32::from(value & 63);
    }
    if q.len() != 4 || outside & 0xC0 != 0 {
        return 0xFF00_0000;
    }
    bits
}

/// Decodes strict base64url into `out`, returning the decoded length; `None` for anything
/// non-canonical or when `out` is too small. Lets hot paths decode onto the stack.
pub(crate) fn decode_to_slice(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = decoded_len(input.len())?;
    let out = out.get_mut(..len)?;
    // With WebAssembly SIMD, sixteen characters at a time first (b64_blocks.rs).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    blocks_then_rest(input, out)?;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    decode_exactly(input, out)?;
    Some(len)
}

/// [`decode`] by way of the sixteen-character blocks of `b64_blocks.rs` wherever it runs (the
/// blocks' own lane-by-lane form natively): for the tests and the `base64url` fuzz target,
/// which hold it to the `base64` crate. Not part of the API.
#[doc(hidden)]
pub fn decode_by_blocks(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = alloc::vec![0u8; decoded_len(input.len())?];
    blocks_then_rest(input, &mut out)?;
    Some(out)
}

/// Decodes `input` into `out` (exactly its decoded length): whole sixteen-character blocks,
/// then the rest with [`decode_exactly`].
fn blocks_then_rest(input: &[u8], out: &mut [u8]) -> Option<()> {
    let done = super::b64_blocks::decode_blocks(input, out)?;
    decode_exactly(&input[done..], &mut out[done / 16 * 12..])
}

/// Decodes `input` into `out`, which is exactly its decoded length.
fn decode_exactly(input: &[u8], out: &mut [u8]) -> Option<()> {
    // Eight characters (48 bits) at a time, then one last group of four.
    let (wide, narrow) = input.split_at(input.len() / 8 * 8);
    let (wide_out, narrow_out) = out.split_at_mut(wide.len() / 8 * 6);
    for (group, bytes) in wide.chunks_exact(8).zip(wide_out.chunks_exact_mut(6)) {
        let (high, low) = group.split_at(4);
        let (high, low) = (quad(high), quad(low));
        if (high | low) >> 24 != 0 {
            return None;
        }
        let v = u64::from(high) << 24 | u64::from(low);
        bytes.copy_from_slice(&v.to_be_bytes()[2..]);
    }
    let quads = narrow.chunks_exact(4);
    let tail = quads.remainder();
    let mut triples = narrow_out.chunks_exact_mut(3);
    for (quad, triple) in quads.zip(&mut triples) {
        let v = self::quad(quad);
        if v >> 24 != 0 {
            return None;
        }
        triple.copy_from_slice(&v.to_be_bytes()[1..]);
    }
    let last = triples.into_remainder();
    // Two characters carry one byte and four spare bits, three carry two bytes and two spare
    // bits; the spare bits must be zero, so that every byte string has one encoding.
    let mut v = 0u32;
    for &ch in tail {
        let value = VALUES[usize::from(ch)];
        if value & 0xC0 != 0 {
            return None;
        }
        v = v << 6 | u32::from(value);
    }
    let spare = tail.len() * 6 - last.len() * 8;
    if v & ((1 << spare) - 1) != 0 {
        return None;
    }
    v >>= spare;
    for (i, byte) in last.iter_mut().rev().enumerate() {
        *byte = (v >> (8 * i)) as u8;
    }
    Some(())
}

/// Encodes as base64url without padding.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    let mut push = |v: u32, chars: usize| {
        for i in 0..chars {
            out.push(char::from(ALPHABET[(v >> (18 - 6 * i) & 63) as usize]));
        }
    };
    let triples = input.chunks_exact(3);
    let tail = triples.remainder();
    for t in triples {
        push(
            u32::from(t[0]) << 16 | u32::from(t[1]) << 8 | u32::from(t[2]),
            4,
        );
    }
    match *tail {
        [a] => push(u32::from(a) << 16, 2),
        [a, b] => push(u32::from(a) << 16 | u32::from(b) << 8, 3),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_padding_whitespace_and_standard_alphabet() {
        assert_eq!(decode(b"Zm9v").as_deref(), Some(&b"foo"[..]));
        assert!(decode(b"Zm8=").is_none());
        assert!(decode(b"Zm 8").is_none());
        assert!(decode(b"Zm8\n").is_none());
        assert!(decode(b"+/8").is_none());
        assert_eq!(decode(b"-_8").as_deref(), Some(&[0xfb, 0xff][..]));
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // "Zm8" is the canonical encoding of "fo"; "Zm9" decodes to the same bytes with a
        // non-zero trailing bit and must be refused.
        assert_eq!(decode(b"Zm8").as_deref(), Some(&b"fo"[..]));
        assert!(decode(b"Zm9").is_none());
    }

    #[test]
    fn rejects_impossible_length() {
        assert!(decode(b"Z").is_none());
        assert!(decode(b"Zm9vY").is_none());
    }

    #[test]
    fn slice_decoding_agrees_and_refuses_short_buffers() {
        let mut buf = [0u8; 8];
        assert_eq!(decode_to_slice(b"Zm9vYmFy", &mut buf), Some(6));
        assert_eq!(&buf[..6], b"foobar");
        assert_eq!(decode_to_slice(b"Zm9vYmFy", &mut buf[..5]), None);
        assert_eq!(decode_to_slice(b"Zm9", &mut buf), None);
    }

    /// The `base64` crate configured as RFC 7515 asks: URL-safe, no padding, canonical bits.
    fn reference() -> base64::engine::GeneralPurpose {
        use base64::engine::general_purpose::GeneralPurposeConfig;
        use base64::engine::{DecodePaddingMode, GeneralPurpose};
        GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new()
                .with_encode_padding(false)
                .with_decode_padding_mode(DecodePaddingMode::RequireNone)
                .with_decode_allow_trailing_bits(false),
        )
    }

    #[test]
    fn agrees_with_the_base64_crate_on_every_short_input() {
        use base64::Engine;
        let engine = reference();
        let mut cases = 0;
        // Every string of up to three characters over the alphabet and a few outsiders, so
        // every tail length and every spare-bit pattern is seen.
        let chars: Vec<u8> = ALPHABET.iter().copied().chain(*b"=+/ .\n\0\xff").collect();
        let mut inputs: Vec<Vec<u8>> = alloc::vec![Vec::new()];
        for len in 1..=3 {
            let shorter: Vec<Vec<u8>> = inputs
                .iter()
                .filter(|v| v.len() == len - 1)
                .cloned()
                .collect();
            for prefix in shorter {
                for &c in &chars {
                    let mut v = prefix.clone();
                    v.push(c);
                    inputs.push(v);
                }
            }
        }
        for input in &inputs {
            // Behind a valid quad too, so the tail is also decoded after full chunks.
            for body in [input.clone(), [&b"QUJD"[..], input].concat()] {
                assert_eq!(decode(&body), engine.decode(&body).ok(), "{body:?}");
                cases += 1;
            }
        }
        for len in 0..=64 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(encode(&bytes), engine.encode(&bytes));
            cases += 1;
        }
        assert!(cases > 280_000, "{cases}");
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_base64_crate_on_random_input(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            text in "[A-Za-z0-9_=+/ -]{0,80}",
            cut in 0usize..200,
        ) {
            use base64::Engine;
            let engine = reference();
            let encoded = encode(&bytes);
            proptest::prop_assert_eq!(&encoded, &engine.encode(&bytes));
            proptest::prop_assert_eq!(decode(encoded.as_bytes()), Some(bytes.clone()));
            proptest::prop_assert_eq!(decode(text.as_bytes()), engine.decode(text.as_bytes()).ok());
            // A short buffer is refused, as the crate's decode_slice refuses it.
            let mut out = alloc::vec![0u8; cut.min(bytes.len() + 2)];
            proptest::prop_assert_eq!(
                decode_to_slice(encoded.as_bytes(), &mut out),
                engine.decode_slice(encoded.as_bytes(), &mut out).ok()
            );
        }
    }

    /// The sixteen-character blocks (b64_blocks.rs) against the table decoder: every byte value
    /// at every position of a block (and of the second block, behind a valid one), every block
    /// boundary around a short tail, and random text. Its test of the real SIMD instructions is
    /// js/test/base64url.test.mjs.
    #[test]
    fn blocks_agree_with_the_table_decoder() {
        let mut cases = 0;
        let valid: Vec<u8> = (0..48).map(|i| ALPHABET[(i * 29 + 7) % 64]).collect();
        for len in [16, 17, 18, 19, 20, 32, 34, 35, 48] {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut input = valid[..len].to_vec();
                    input[at] = byte;
                    assert_eq!(decode_by_blocks(&input), decode(&input), "{input:?}");
                    cases += 1;
                }
            }
        }
        for len in 0..=70 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 53 + 3) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(decode_by_blocks(text.as_bytes()), Some(bytes));
            cases += 1;
        }
        assert!(cases > 60_000, "{cases}");
    }

    proptest::proptest! {
        #[test]
        fn blocks_agree_on_random_input(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            text in "[A-Za-z0-9_=+/ -]{0,120}",
        ) {
            let encoded = encode(&bytes);
            proptest::prop_assert_eq!(decode_by_blocks(encoded.as_bytes()), Some(bytes));
            proptest::prop_assert_eq!(decode_by_blocks(text.as_bytes()), decode(text.as_bytes()));
        }
    }

    #[test]
    fn round_trips() {
        let bytes: Vec<u8> = (0u8..=255).collect();
        assert_eq!(decode(encode(&bytes).as_bytes()), Some(bytes));
    }
}
