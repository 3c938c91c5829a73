// The async path's signature check: the core checks everything but the signature and names the
// candidate keys (`hostCheck`), `crypto.subtle.verify` checks the signature here, and the core
// takes the verdict (`hostChecked`). A key this runtime's WebCrypto cannot import is `null`
// (the crypto module checks it instead).

const RSA_PKCS1 = 'RSASSA-PKCS1-v1_5';
const PARAMS = {
  RS256: [{ name: RSA_PKCS1, hash: 'SHA-256' }, { name: RSA_PKCS1 }],
  RS384: [{ name: RSA_PKCS1, hash: 'SHA-384' }, { name: RSA_PKCS1 }],
  RS512: [{ name: RSA_PKCS1, hash: 'SHA-512' }, { name: RSA_PKCS1 }],
  // JWS fixes the salt length to the hash length (RFC 7518 3.5).
  PS256: [{ name: 'RSA-PSS', hash: 'SHA-256' }, { name: 'RSA-PSS', saltLength: 32 }],
  PS384: [{ name: 'RSA-PSS', hash: 'SHA-384' }, { name: 'RSA-PSS', saltLength: 48 }],
  PS512: [{ name: 'RSA-PSS', hash: 'SHA-512' }, { name: 'RSA-PSS', saltLength: 64 }],
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  ES384: [{ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' }],
  ES512: [{ name: 'ECDSA', namedCurve: 'P-521' }, { name: 'ECDSA', hash: 'SHA-512' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};

/** The algorithms WebCrypto may check (never HMAC: secrets stay inside the module). */
export const WEBCRYPTO_ALGORITHMS = Object.keys(PARAMS);

/**
 * What `"auto"` leaves to the module rather than the runtime's crypto: P-384 and P-521 (in
 * `jwtVerify`/`verify` and in the gate). A rule, not one machine's timing: native crypto is as fast as any runtime gets for
 * RSA, P-256 and Ed25519, and since tokengate calls it directly (`crypto.subtle.verify` awaited
 * in one hop, `node:crypto`'s `verify` inline) it beats the module there; but BoringSSL (the
 * WebCrypto of Chromium and workerd) and OpenSSL (Node) run P-384 and P-521 on generic curve
 * code, which the module's comb tables beat by 1.3-2x in all three (bench/browser.mjs,
 * bench/workerd.mjs, bench/node.mjs, BENCHMARKS.md).
 */
export const MODULE_FASTER = ['ES384', 'ES512'];

/** Imports a public JWK (text) for `alg`: the `CryptoKey`, or `null` when this WebCrypto cannot. */
export function webCryptoImport(subtle, alg, jwk) {
  if (PARAMS[alg] === undefined || jwk === '') return Promise.resolve(null);
  return subtle.importKey('jwk', JSON.parse(jwk), PARAMS[alg][0], false, ['verify']).catch(() => null);
}

/**
 * The imported `CryptoKey`s of one key set, per algorithm and key index (keys live for hours,
 * tokens arrive by the thousand). `ready(alg, index)` is the key once imported (`null`: this
 * runtime's WebCrypto cannot import it), else `undefined`; `load(alg, index)` imports it once.
 */
export function webCryptoKeys(subtle, wasmKeySet) {
  const pending = new Map(); // alg -> index -> Promise<CryptoKey | null>
  const ready = new Map(); // the same, once imported: no extra promise hop per token
  const slot = (map, alg) => {
    let m = map.get(alg);
    if (m === undefined) map.set(alg, (m = []));
    return m;
  };
  return {
    ready: (alg, index) => ready.get(alg)?.[index],
    load(alg, index) {
      const loading = slot(pending, alg);
      if (loading[index] === undefined) {
        const jwk = PARAMS[alg] === undefined ? '' : wasmKeySet.publicJwk(index);
        loading[index] = webCryptoImport(subtle, alg, jwk).then((k) => {
          slot(ready, alg)[index] = k;
          return k;
        });
      }
      return loading[index];
    },
  };
}

/**
 * `crypto.subtle.verify` of `signature` over `message` with an imported key, then `then(valid)`
 * with the verdict (a WebCrypto error is a refusal, never a throw), in one promise hop.
 */
export function webCryptoVerify(subtle, alg, key, message, signature, then) {
  return subtle.verify(PARAMS[alg][1], key, signature, message).then(then, () => then(false));
}
