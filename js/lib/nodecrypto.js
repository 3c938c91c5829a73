// Node's synchronous `crypto.verify` (OpenSSL) as the signature check for public-key
// algorithms: the core selects the key and decides everything else, then calls
// `check(alg, keyIndex, message, signature)`, which returns true/false, or null when this
// Node cannot import the key (the core then checks with its own backend instead).
import { constants, createPublicKey, verify } from 'node:crypto';

const pss = (saltLength) => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
const P1363 = { dsaEncoding: 'ieee-p1363' };
const PARAMS = {
  RS256: ['sha256', {}], RS384: ['sha384', {}], RS512: ['sha512', {}],
  // JWS fixes the salt length to the hash length (RFC 7518 3.5).
  PS256: ['sha256', pss(32)], PS384: ['sha384', pss(48)], PS512: ['sha512', pss(64)],
  ES256: ['sha256', P1363], ES384: ['sha384', P1363], ES512: ['sha512', P1363],
  EdDSA: [null, {}],
};

/** The algorithms `node:crypto` checks (never HMAC: secrets stay inside the module). */
export const NODE_ALGORITHMS = Object.keys(PARAMS);

/** A `check` function for one key set, caching each imported `KeyObject`. */
export function nodeCryptoCheck(wasmKeySet) {
  const prepared = new Map();
  const prepare = (alg, index) => {
    const id = `${alg}:${index}`;
    let entry = prepared.get(id);
    if (entry === undefined) {
      entry = null;
      const jwk = wasmKeySet.publicJwk(index);
      if (jwk !== '') {
        try {
          entry = { key: createPublicKey({ key: JSON.parse(jwk), format: 'jwk' }), ...PARAMS[alg][1] };
        } catch {
          entry = null;
        }
      }
      prepared.set(id, entry);
    }
    return entry;
  };
  return (alg, index, message, signature) => {
    if (PARAMS[alg] === undefined) return null;
    const key = prepare(alg, index);
    if (key === null) return null;
    try {
      return verify(PARAMS[alg][0], message, key, signature);
    } catch {
      return false;
    }
  };
}
