//! Same-run ratios, tokengate time / jsonwebtoken time, per algorithm, as a Markdown table.
//!
//! Sequential benchmarks drift on a shared machine (the same binary varied by a third between
//! runs here), so this harness interleaves: each round times a short batch of one library,
//! then the other, swapping the order every round, and the medians of the per-round times
//! are compared. Bounded: about 3 seconds per algorithm.
//!
//! Run: `cargo bench -p tokengate-bench --bench ratios`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tokengate::{base64url_decode, decode_unverified, Limits, RustCrypto, TokenCache, Verifier};
use tokengate_bench::{cases, now, Claims};

fn per_op(batch: u32, f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(batch)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Interleaved medians of two functions, in ns per call.
fn compare(a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> (f64, f64) {
    // Size batches to ~2 ms so timer resolution is irrelevant.
    let probe = per_op(20, a).max(1.0);
    let batch = ((2_000_000.0 / probe) as u32).clamp(5, 50_000);
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut round = 0u32;
    while Instant::now() < deadline || round < 20 {
        if round % 2 == 0 {
            ta.push(per_op(batch, a));
            tb.push(per_op(batch, b));
        } else {
            tb.push(per_op(batch, b));
            ta.push(per_op(batch, a));
        }
        round += 1;
        if round >= 400 {
            break;
        }
    }
    (median(&mut ta), median(&mut tb))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing useful.
    let at = now() as i64;
    println!("| alg | tokengate us | jsonwebtoken (aws-lc-rs) us | ratio tokengate/jsonwebtoken |");
    println!("|---|---:|---:|---:|");
    for case in cases() {
        let (policy, validation) = case.checks();
        let v = Verifier::new(&policy);
        v.verify(&case.token, &case.ours, at).unwrap();
        jsonwebtoken::decode::<Claims>(&case.token, &case.theirs, &validation).unwrap();
        let (ours, theirs) = compare(
            &mut || {
                black_box(v.verify(black_box(&case.token), &case.ours, at).unwrap());
            },
            &mut || {
                black_box(
                    jsonwebtoken::decode::<Claims>(
                        black_box(&case.token),
                        &case.theirs,
                        &validation,
                    )
                    .unwrap(),
                );
            },
        );
        println!(
            "| {} | {:.2} | {:.2} | {:.2} |",
            case.name,
            ours / 1000.0,
            theirs / 1000.0,
            ours / theirs
        );
        if case.name == "RS256" {
            let mut cache = TokenCache::new(1024);
            let (hit, _) = compare(
                &mut || {
                    black_box(
                        v.verify_cached(black_box(&case.token), &case.ours, at, &mut cache)
                            .unwrap(),
                    );
                },
                &mut || {
                    black_box(
                        jsonwebtoken::decode::<Claims>(
                            black_box(&case.token),
                            &case.theirs,
                            &validation,
                        )
                        .unwrap(),
                    );
                },
            );
            println!(
                "| RS256 cache hit | {:.3} | {:.2} | {:.3} |",
                hit / 1000.0,
                theirs / 1000.0,
                hit / theirs
            );
        }
    }
    // Reading a token's header and claims without its signature: tokengate's strict JSON
    // reader (duplicates, depth, member counts; registered claims typed, the rest validated)
    // against serde_json's typed decoding of the same JSON, as jsonwebtoken does it.
    println!();
    println!("| token reading | tokengate decode_unverified us | jsonwebtoken insecure_decode us | ratio |");
    println!("|---|---:|---:|---:|");
    let case = &cases()[0];
    decode_unverified(&case.token, &Limits::DEFAULT).unwrap();
    jsonwebtoken::dangerous::insecure_decode::<Claims>(&case.token).unwrap();
    let (ours, theirs) = compare(
        &mut || {
            black_box(decode_unverified(black_box(&case.token), &Limits::DEFAULT).unwrap());
        },
        &mut || {
            black_box(
                jsonwebtoken::dangerous::insecure_decode::<Claims>(black_box(&case.token)).unwrap(),
            );
        },
    );
    println!(
        "| {} header + claims | {:.2} | {:.2} | {:.2} |",
        case.name,
        ours / 1000.0,
        theirs / 1000.0,
        ours / theirs
    );
    // The strict base64url codec (hand-rolled, for the npm module's size) against the base64
    // crate configured the same way, on a token's payload segment.
    println!();
    println!("| base64url | tokengate us | base64 crate us | ratio |");
    println!("|---|---:|---:|---:|");
    let engine = {
        use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
        use base64::engine::DecodePaddingMode;
        GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new()
                .with_encode_padding(false)
                .with_decode_padding_mode(DecodePaddingMode::RequireNone)
                .with_decode_allow_trailing_bits(false),
        )
    };
    let payload = cases()[0].token.split('.').nth(1).unwrap().to_owned();
    assert_eq!(
        base64url_decode(payload.as_bytes()),
        base64::Engine::decode(&engine, payload.as_bytes()).ok()
    );
    let (ours, theirs) = compare(
        &mut || {
            black_box(base64url_decode(black_box(payload.as_bytes())).unwrap());
        },
        &mut || {
            black_box(base64::Engine::decode(&engine, black_box(payload.as_bytes())).unwrap());
        },
    );
    println!(
        "| decode, {} characters | {:.3} | {:.3} | {:.2} |",
        payload.len(),
        ours / 1000.0,
        theirs / 1000.0,
        ours / theirs
    );
    // The default backend (FastVerify) against the RustCrypto reference it replaces for RSA.
    println!();
    println!("| alg | FastVerify us | RustCrypto us | ratio FastVerify/RustCrypto |");
    println!("|---|---:|---:|---:|");
    for case in cases() {
        let (policy, _) = case.checks();
        let fast = Verifier::new(&policy);
        let reference = Verifier::new(&policy).with_backend(RustCrypto);
        fast.verify(&case.token, &case.ours, at).unwrap();
        reference.verify(&case.token, &case.ours, at).unwrap();
        let (f, r) = compare(
            &mut || {
                black_box(fast.verify(black_box(&case.token), &case.ours, at).unwrap());
            },
            &mut || {
                black_box(
                    reference
                        .verify(black_box(&case.token), &case.ours, at)
                        .unwrap(),
                );
            },
        );
        println!(
            "| {} | {:.2} | {:.2} | {:.2} |",
            case.name,
            f / 1000.0,
            r / 1000.0,
            f / r
        );
    }
}
