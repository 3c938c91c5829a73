//! Strict base64url (RFC 7515 section 2): the URL-safe alphabet, no padding, no whitespace,
//! and canonical trailing bits, so that every byte string has exactly one encoding.

use alloc::vec::Vec;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Decodes strict base64url; `None` for anything non-canonical.
pub(crate) fn decode(input: &[u8]) -> Option<Vec<u8>> {
    STRICT.decode(input).ok()
}

/// Decodes strict base64url into `out`, returning the decoded length; `None` for anything
/// non-canonical or when `out` is too small. Lets hot paths decode onto the stack.
pub(crate) fn decode_to_slice(input: &[u8], out: &mut [u8]) -> Option<usize> {
    STRICT.decode_slice(input, out).ok()
}

/// Encodes as base64url without padding.
pub fn encode(input: &[u8]) -> alloc::string::String {
    STRICT.encode(input)
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

    #[test]
    fn round_trips() {
        let bytes: Vec<u8> = (0u8..=255).collect();
        assert_eq!(decode(encode(&bytes).as_bytes()), Some(bytes));
    }
}
