//! tokengate's strict base64url codec against the `base64` crate configured as RFC 7515 asks
//! (URL-safe alphabet, no padding, canonical trailing bits), on any bytes: both decoders take
//! and refuse the same inputs with the same output (the sixteen-character block decoder
//! WebAssembly SIMD runs, too), and encoding round-trips and agrees.
#![no_main]

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use libfuzzer_sys::fuzz_target;
use tokengate::{base64url_decode, base64url_decode_by_blocks, base64url_encode};

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

fuzz_target!(|data: &[u8]| {
    let ours = base64url_decode(data);
    assert_eq!(ours, STRICT.decode(data).ok(), "decode disagrees on {data:?}");
    // The sixteen-character blocks WebAssembly SIMD decodes with, here lane by lane.
    assert_eq!(base64url_decode_by_blocks(data), ours, "blocks disagree on {data:?}");
    let encoded = base64url_encode(data);
    assert_eq!(encoded, STRICT.encode(data));
    assert_eq!(base64url_decode(encoded.as_bytes()).as_deref(), Some(data));
});
