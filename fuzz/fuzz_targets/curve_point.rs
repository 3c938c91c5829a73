//! Differential fuzzing of the compact on-curve check (`src/signature/curve_point.rs`, what the
//! npm verifier's module checks EC keys with) against the per-curve check a JWK gets with the
//! full ECDSA arithmetic: for any coordinates of a curve's length, the two must agree, and
//! neither may panic.
//!
//! Layout: byte 0 picks the curve (`% 3`) and whether the coordinates are a real point of it
//! with the fuzzer's bytes XORed in (bit 7), so near-valid points are explored as well as
//! random ones; bits 2-6 pick one of 32 fixed real points. Then `x`, then `y` (each the curve's
//! coordinate length; shorter input is padded with zeros).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokengate::{base64url_encode, Curve, Jwk};

const CURVES: [(Curve, &str, usize); 3] = [
    (Curve::P256, "P-256", 32),
    (Curve::P384, "P-384", 48),
    (Curve::P521, "P-521", 66),
];

/// The public point (x ‖ y) of `$curve`'s private scalar `$scalar`.
macro_rules! point {
    ($curve:ident, $scalar:expr) => {
        $curve::ecdsa::SigningKey::from_slice(&$scalar)
            .expect("scalar")
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()[1..]
            .to_vec()
    };
}

/// 32 real points (x ‖ y) per curve, from fixed private scalars.
fn points() -> &'static [Vec<Vec<u8>>; 3] {
    static POINTS: OnceLock<[Vec<Vec<u8>>; 3]> = OnceLock::new();
    POINTS.get_or_init(|| {
        [
            (1u8..=32).map(|i| point!(p256, [i; 32])).collect(),
            (1u8..=32).map(|i| point!(p384, [i; 48])).collect(),
            (1u8..=32)
                .map(|i| point!(p521, [&[0u8][..], &[i; 65]].concat()))
                .collect(),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&select, rest)) = data.split_first() else {
        return;
    };
    let which = usize::from(select % 3);
    let (curve, crv, len) = CURVES[which];
    let mut xy = vec![0u8; 2 * len];
    for (out, byte) in xy.iter_mut().zip(rest) {
        *out = *byte;
    }
    if select & 0x80 != 0 {
        let point = &points()[which][usize::from((select >> 2) & 31)];
        for (out, p) in xy.iter_mut().zip(point) {
            *out ^= p;
        }
    }
    let (x, y) = xy.split_at(len);
    let compact = tokengate::__compact_curve_point(curve, x, y);
    let json = format!(
        r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
        base64url_encode(x),
        base64url_encode(y)
    );
    let full = Jwk::from_json(&json).is_ok();
    assert_eq!(compact, full, "{crv}: x {x:02x?} y {y:02x?}");
});
