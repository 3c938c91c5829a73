//! tokengate against `jsonwebtoken` (aws-lc-rs backend) on the same tokens, in the same run:
//! HS256, RS256, PS256, ES256, EdDSA with a ~500-byte realistic access-token payload, plus
//! tokengate's cache-hit path. `benches/ratios.rs` turns the same cases into ratios.
//!
//! Run: `cargo bench -p tokengate-bench --bench verify`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use tokengate::{TokenCache, Verifier};
use tokengate_bench::{cases, now, Claims};

fn bench(c: &mut Criterion) {
    let cases = cases();
    for case in &cases {
        let (policy, validation) = case.checks();
        let at = now() as i64;
        // Both must accept the token, or the comparison means nothing.
        Verifier::new(&policy)
            .verify(&case.token, &case.ours, at)
            .unwrap();
        jsonwebtoken::decode::<Claims>(&case.token, &case.theirs, &validation).unwrap();
        println!("{}: token {} bytes", case.name, case.token.len());

        let mut group = c.benchmark_group(case.name);
        group.bench_function("tokengate", |b| {
            b.iter(|| {
                Verifier::new(&policy)
                    .verify(std::hint::black_box(&case.token), &case.ours, at)
                    .unwrap()
            })
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Claims>(
                    std::hint::black_box(&case.token),
                    &case.theirs,
                    &validation,
                )
                .unwrap()
            })
        });
        if case.name == "RS256" {
            let mut cache = TokenCache::new(1024);
            Verifier::new(&policy)
                .verify_cached(&case.token, &case.ours, at, &mut cache)
                .unwrap();
            group.bench_function("tokengate_cache_hit", |b| {
                b.iter(|| {
                    Verifier::new(&policy)
                        .verify_cached(
                            std::hint::black_box(&case.token),
                            &case.ours,
                            at,
                            &mut cache,
                        )
                        .unwrap()
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
