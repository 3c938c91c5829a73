// The async path's signature check: the core selects the key and decides everything else,
// then calls `check(alg, keyIndex, message, signature)` for the algorithms delegated here.
// Resolves true/false, or null when this runtime's WebCrypto cannot import the key or does not
// know the algorithm (the core then checks with its own backend instead).

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
 * A `check` function for one key set, caching each imported `CryptoKey` (keys live for hours,
 * tokens arrive by the thousand).
 */
export function webCryptoCheck(subtle, wasmKeySet) {
  const pending = new Map(); // `${alg}:${index}` -> Promise<CryptoKey | null>
  const ready = new Map(); // the same, once imported: no extra promise hop per token
  const importKey = (alg, id, index) => {
    let key = pending.get(id);
    if (key === undefined) {
      const jwk = wasmKeySet.publicJwk(index);
      key = (jwk === ''
        ? Promise.resolve(null)
        : subtle.importKey('jwk', JSON.parse(jwk), PARAMS[alg][0], false, ['verify']).catch(() => null)
      ).then((k) => {
        ready.set(id, k);
        return k;
      });
      pending.set(id, key);
    }
    return key;
  };
  const verify = (alg, key, message, signature) =>
    key === null ? null : subtle.verify(PARAMS[alg][1], key, signature, message).catch(() => false);
  return (alg, index, message, signature) => {
    if (PARAMS[alg] === undefined) return null;
    const id = `${alg}:${index}`;
    const key = ready.get(id);
    if (key !== undefined) return verify(alg, key, message, signature);
    return importKey(alg, id, index).then((k) => verify(alg, k, message, signature));
  };
}
