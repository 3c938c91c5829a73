// Node's synchronous `crypto.verify` (OpenSSL) as the signature check for public-key
// algorithms: the core checks everything but the signature and names the candidate keys
// (`hostCheck`), `crypto.verify` checks the signature here, and the core takes the verdict
// (`hostChecked`). A key this Node cannot import is `null` (the crypto module checks it).
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

/**
 * The imported `KeyObject`s of one key set, per algorithm and key index, with their `verify`
 * options: `get(alg, index)` is `{ key, ...options }`, or `null` when this Node cannot import
 * the key (the crypto module then checks it).
 */
export function nodeCryptoKeys(wasmKeySet) {
  const prepared = new Map(); // alg -> [index] -> entry
  return {
    get(alg, index) {
      let byIndex = prepared.get(alg);
      if (byIndex === undefined) prepared.set(alg, (byIndex = []));
      let entry = byIndex[index];
      if (entry === undefined) {
        entry = null;
        const jwk = PARAMS[alg] === undefined ? '' : wasmKeySet.publicJwk(index);
        if (jwk !== '') {
          try {
            entry = { key: createPublicKey({ key: JSON.parse(jwk), format: 'jwk' }), ...PARAMS[alg][1] };
          } catch {
            entry = null;
          }
        }
        byIndex[index] = entry;
      }
      return entry;
    },
  };
}

/** `crypto.verify` with a prepared key: the verdict (an OpenSSL error is a refusal). */
export function nodeCryptoVerify(alg, entry, message, signature) {
  try {
    return verify(PARAMS[alg][0], message, entry, signature);
  } catch {
    return false;
  }
}
