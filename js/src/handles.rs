//! Validated, immutable core objects held by JavaScript: a key set, a policy, a denylist.
//! Each is parsed once; the wrapper caches them (key sets for their lifetime, policies by
//! their options).

use std::rc::Rc;

#[cfg(not(feature = "gate"))]
use tokengate::Policy;
use tokengate::{Denylist, Jwk, JwkSet, KeyMaterial};
use wasm_bindgen::prelude::*;

use crate::errors::config_error;

/// A parsed JWK Set (`{"keys": [...]}`), shared with pending async verifications.
#[wasm_bindgen]
pub struct WasmKeySet {
    pub(crate) inner: Rc<JwkSet>,
}

#[wasm_bindgen]
impl WasmKeySet {
    /// Parses a JWK Set from its JSON text; throws a coded configuration error.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<WasmKeySet, JsValue> {
        JwkSet::from_json(json)
            .map(|set| WasmKeySet {
                inner: Rc::new(set),
            })
            .map_err(|e| config_error(&e))
    }

    /// One JWK given directly (a secret, a public JWK, a `KeyObject` or `CryptoKey` exported
    /// to JWK): as in jose, a token's `kid` is not matched against it. Throws a coded
    /// configuration error.
    pub fn single(json: &str) -> Result<WasmKeySet, JsValue> {
        Jwk::from_json(json)
            .map(|key| WasmKeySet {
                inner: Rc::new(JwkSet::single(key)),
            })
            .map_err(|e| config_error(&e))
    }

    /// How many keys are usable.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.keys().len()
    }

    /// How many keys were skipped (unsupported `kty`, `use` other than `sig`).
    #[wasm_bindgen(getter)]
    pub fn skipped(&self) -> usize {
        self.inner.skipped()
    }

    /// Whether some key has this `kid` (a remote set refetches when a token names one it
    /// lacks).
    #[wasm_bindgen(js_name = containsKid)]
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.inner.contains_kid(kid)
    }

    /// The algorithms some key can verify, space-separated: the default allowlist when the
    /// caller names none, as jose derives it from the key.
    #[wasm_bindgen(getter)]
    pub fn algorithms(&self) -> String {
        let mut out = String::new();
        for alg in self.inner.algorithms() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(alg.name());
        }
        out
    }

    /// The public JWK of key `index` in the form WebCrypto's `importKey("jwk", ...)` takes,
    /// or an empty string for a symmetric key (secrets never leave the module).
    #[wasm_bindgen(js_name = publicJwk)]
    pub fn public_jwk(&self, index: usize) -> String {
        public_jwk(&self.inner, index)
    }
}

/// The public JWK of key `index` of `keys` as WebCrypto's `importKey("jwk", ...)` takes it, or
/// an empty string for a symmetric key or an index past the set.
pub(crate) fn public_jwk(keys: &JwkSet, index: usize) -> String {
    let Some(key) = keys.keys().get(index) else {
        return String::new();
    };
    // Pieces joined rather than `format!`: a fresh isolate's first WebCrypto key then compiles
    // no formatting machinery.
    let b64 = tokengate::base64url_encode;
    match key.material() {
        KeyMaterial::Rsa { n, e } => [
            r#"{"kty":"RSA","n":""#,
            &b64(n),
            r#"","e":""#,
            &b64(e),
            r#""}"#,
        ]
        .concat(),
        KeyMaterial::Ec { curve, x, y } => [
            r#"{"kty":"EC","crv":""#,
            curve.name(),
            r#"","x":""#,
            &b64(x),
            r#"","y":""#,
            &b64(y),
            r#""}"#,
        ]
        .concat(),
        KeyMaterial::Ed25519(x) => {
            [r#"{"kty":"OKP","crv":"Ed25519","x":""#, &b64(x), r#""}"#].concat()
        }
        _ => String::new(),
    }
}

/// A validated verification policy (the core's JSON form, built by the wrapper from
/// jose-style options), with the denylist to check after it, if any. The verifier's; the
/// gate's module (feature `gate`) takes its policies from the gate configuration.
#[cfg(not(feature = "gate"))]
#[wasm_bindgen]
pub struct WasmPolicy {
    pub(crate) policy: Rc<Policy>,
    pub(crate) denylist: Option<Rc<Denylist>>,
}

#[cfg(not(feature = "gate"))]
#[wasm_bindgen]
impl WasmPolicy {
    /// Validates a policy from the core's JSON form; throws a coded configuration error.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<WasmPolicy, JsValue> {
        Policy::from_json(json)
            .map(|p| WasmPolicy {
                policy: Rc::new(p),
                denylist: None,
            })
            .map_err(|e| config_error(&e))
    }

    /// The same policy, also checking `denylist` (shared, not copied).
    #[wasm_bindgen(js_name = withDenylist)]
    pub fn with_denylist(&self, denylist: &WasmDenylist) -> WasmPolicy {
        WasmPolicy {
            policy: Rc::clone(&self.policy),
            denylist: Some(Rc::clone(&denylist.inner)),
        }
    }
}

/// A parsed revocation denylist (the core's JSON form).
#[wasm_bindgen]
pub struct WasmDenylist {
    pub(crate) inner: Rc<Denylist>,
}

#[wasm_bindgen]
impl WasmDenylist {
    /// Parses a denylist from its JSON text; throws a coded configuration error.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<WasmDenylist, JsValue> {
        Denylist::from_json(json)
            .map(|d| WasmDenylist { inner: Rc::new(d) })
            .map_err(|e| config_error(&e))
    }

    /// How many entries the list holds.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }
}
