//! Any bytes as a JWKS document, and each key it yields asked for every algorithm.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate::{Algorithm, JwkSet};

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = JwkSet::from_slice(data) {
        for key in set.keys() {
            for alg in Algorithm::ALL {
                let _ = key.supports(alg);
            }
        }
        let _ = set.algorithms();
    }
});
