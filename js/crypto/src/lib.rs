//! The npm package's crypto module (`pkg/tokengate_crypto_bg.wasm`): the core's own RSA
//! (PKCS#1 v1.5, PSS), ECDSA (P-256, P-384, P-521) and EdDSA (Ed25519) verification, which the
//! main module leaves out to stay small. `js/lib/modulecrypto.js` loads it only when a
//! verification needs it and hands it one key and one signature: the main module has already
//! parsed the token, chosen the key and applied every policy rule, and checks the claims after
//! the verdict. This module decides nothing but whether a signature is valid.

use tokengate::{Algorithm, FastVerify, Jwk, SignatureBackend};
use wasm_bindgen::prelude::*;

// Talc in place of dlmalloc, as in the main module (`js/src/allocator.rs`): less code for an
// isolate to compile on the first verification that loads this module.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// One public key, parsed and validated by the core (the same code as the main module's).
#[wasm_bindgen]
pub struct ModuleKey {
    key: Jwk,
}

#[wasm_bindgen]
impl ModuleKey {
    /// Parses a public JWK (JSON text, as the main module's `publicJwk` writes it); `undefined`
    /// when the core refuses it (such a key never verifies anything).
    pub fn parse(jwk: &str) -> Option<ModuleKey> {
        Jwk::from_json(jwk).ok().map(|key| ModuleKey { key })
    }

    /// Whether `signature` is a valid `alg` signature over `message` by this key. `false` for
    /// an algorithm the key cannot take, or a name the core does not know.
    pub fn verify(&self, alg: &str, message: &[u8], signature: &[u8]) -> bool {
        match Algorithm::from_name(alg) {
            Some(alg) if self.key.supports(alg) => FastVerify
                .verify(alg, &self.key, message, signature)
                .is_ok(),
            _ => false,
        }
    }
}
