// Key pairs for the tests and benches, made so that exporting them cannot hang Node.
//
// Node 20 (seen on 20.20.2) can deadlock in `keyObject.export()` of a key that came from
// `generateKeyPairSync`: the KeyObject shares its key's mutex with the key-generation job that
// made it, `export` holds that mutex while it allocates the result, and a garbage collection
// during that allocation can finalize the (by then unreachable) job, whose destructor takes the
// same mutex. The main thread then waits on itself, idle, forever. gdb showed exactly that stack
// (`ExportJWKEcKey` -> `Heap::CollectGarbage` -> `~KeyGenJob` -> `uv_mutex_lock`) in a stress
// loop of fast-verify.test.mjs's ECDSA differential, where the suite hung and failed CI. A loop of
// `generateKeyPairSync` and `export({ format: 'jwk' })` hung in 3 of 4 runs of 20 s (EC P-384)
// and 3 of 3 (Ed25519).
//
// Here the job encodes the pair itself (DER), while it is alive, and the KeyObjects are made
// afresh from those bytes, so no job shares their mutex: the same loop ran 27,000 keys in 75 s
// without a hang. keypair.test.mjs holds every script under js/ and bench/ to this helper (or to
// a `generateKeyPairSync` call that asks for encoded keys).
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

/**
 * `generateKeyPairSync(type, options)` as KeyObjects that are safe to export: `type` and
 * `options` as Node takes them ('rsa' with `modulusLength`, 'ec' with `namedCurve`, 'ed25519').
 */
export function generateKeyPair(type, options = {}) {
  const pair = generateKeyPairSync(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return {
    publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
    privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
  };
}
