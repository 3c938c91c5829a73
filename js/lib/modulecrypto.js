// The module's own public-key signature code (RSA PKCS#1 v1.5 and PSS, ECDSA P-256/P-384/P-521,
// Ed25519) is a second WebAssembly module, pkg/tokengate_crypto_bg.wasm: the main module leaves
// it out to stay small, since most signatures are checked by the runtime's own crypto (WebCrypto,
// node:crypto). It is loaded once, on first need: the synchronous `verify` of a public-key token
// where the runtime has no synchronous crypto, `signatureBackend: 'wasm'`, a key the runtime's
// crypto cannot import, and P-384/P-521 under `auto` (fetched in the background in a browser).
//
// The main module has parsed the key set, chosen the key and checked everything but the
// signature; the crypto module gets that one key (its public JWK, parsed again by the same core
// code) and the signature, and answers valid or not.

import { CryptoModuleUnavailable } from './errors.js';

let loader;
let bindings;
let pending;

/**
 * Called once by the runtime entry: how this runtime loads the crypto module. `loadSync()`
 * returns its instantiated bindings (Node reads the file, workerd has it compiled already),
 * `load()` resolves to them (browsers fetch it); a runtime gives one or the other.
 */
export function setCryptoModuleLoader(runtimeLoader) {
  loader = runtimeLoader;
  bindings = undefined;
  pending = undefined;
}

/**
 * The crypto module's bindings: loaded, or loadable synchronously now; else `undefined`. Throws
 * `CryptoModuleUnavailable` (with the cause) when a synchronous load fails.
 */
function cryptoModuleNow() {
  if (bindings === undefined && loader?.loadSync !== undefined) {
    try {
      bindings = loader.loadSync();
    } catch (e) {
      throw unavailable(e);
    }
  }
  return bindings;
}

/** Whether the crypto module is at hand without a download (loaded, or loadable synchronously). */
export function cryptoModuleAtHand() {
  return bindings !== undefined || loader?.loadSync !== undefined;
}

/**
 * Loads the crypto module once (concurrent calls share one load; a failed load is retried by
 * the next call). Resolves when it is ready; rejects with `CryptoModuleUnavailable`.
 */
export function loadCryptoModule() {
  try {
    if (cryptoModuleNow() !== undefined) return Promise.resolve();
  } catch (e) {
    return Promise.reject(e);
  }
  if (loader?.load === undefined) return Promise.reject(unavailable());
  pending ??= loader.load().then(
    (loaded) => {
      bindings = loaded;
    },
    (e) => {
      pending = undefined;
      throw unavailable(e);
    },
  );
  return pending;
}

/**
 * `run()` once the crypto module is at hand: at once when it is loaded or loads synchronously,
 * else after `loadCryptoModule()` (whose failure rejects the returned promise).
 */
export function withCryptoModule(run) {
  return cryptoModuleAtHand() ? run() : loadCryptoModule().then(run);
}

function unavailable(cause) {
  return new CryptoModuleUnavailable(
    'the signature module (pkg/tokengate_crypto_bg.wasm) could not be loaded',
    cause === undefined ? undefined : { cause },
  );
}

/** The crypto module's bindings, loading them synchronously if this runtime can; else throws. */
function requireCryptoModule() {
  const module = cryptoModuleNow();
  if (module === undefined) {
    throw new CryptoModuleUnavailable(
      'a public-key signature needs the signature module here: call `await loadCryptoModule()` once before `verify`, or use `jwtVerify`',
    );
  }
  return module;
}

/**
 * The crypto module's copy of each key of one main-module key set, by index, made on first
 * use: `verify(alg, index, message, signature)` is the verdict. Throws `CryptoModuleUnavailable`
 * when the module is neither loaded nor loadable synchronously; a key it refuses never verifies.
 */
export function moduleCryptoKeys(wasmKeySet) {
  const keys = [];
  return {
    verify(alg, index, message, signature) {
      const module = requireCryptoModule();
      let key = keys[index];
      if (key === undefined) {
        const jwk = wasmKeySet.publicJwk(index);
        key = (jwk === '' ? undefined : module.ModuleKey.parse(jwk)) ?? null;
        keys[index] = key;
      }
      return key !== null && key.verify(alg, message, signature);
    },
  };
}
