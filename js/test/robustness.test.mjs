// Hostile input through the JS API: mutated tokens, random bytes and odd values never crash the
// module (a trap in wasm would poison every later call) and always fail with a coded JOSEError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as tg from '../lib/node.js';

// A small deterministic generator (xorshift32), so a failure can be replayed.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const CODES = new Set([
  'ERR_JWT_TOO_LARGE', 'ERR_JWS_INVALID', 'ERR_JWT_INVALID', 'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWT_EXPIRED', 'ERR_JWT_CLAIM_VALIDATION_FAILED',
]);

test('2,000 mutated tokens per backend: coded errors only, and the module keeps working', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
  const keys = tg.createLocalJWKSet({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k' }] });
  const good = await new jose.SignJWT({ sub: 'alice', aud: 'api' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k' })
    .setExpirationTime('5m')
    .sign(privateKey);
  const alphabet = 'ABCabc0189-_.=+/ "{}\\\u00e9\u0000';
  const random = rng(0x7e57);
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    const chars = [...good];
    const edits = 1 + Math.floor(random() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * chars.length);
      const op = random();
      if (op < 0.4) chars[at] = alphabet[Math.floor(random() * alphabet.length)];
      else if (op < 0.7) chars.splice(at, 1);
      else chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]);
    }
    const token = chars.join('');
    for (const run of [
      () => tg.verify(token, keys, { audience: 'api' }),
      () => tg.jwtVerify(token, keys, { audience: 'api', signatureBackend: 'webcrypto' }),
      () => tg.jwtVerify(token, keys, { audience: 'api', signatureBackend: 'wasm' }),
    ]) {
      try {
        const r = await run();
        assert.equal(token, good, 'only the unmodified token may verify');
        assert.equal(r.payload.sub, 'alice');
      } catch (e) {
        assert.ok(e instanceof tg.errors.JOSEError, `${JSON.stringify(token)}: ${e}`);
        assert.ok(CODES.has(e.code), `${JSON.stringify(token)}: ${e.code}`);
        rejected++;
      }
    }
  }
  assert.ok(rejected > 5000, `${rejected} rejections`);
  // Still healthy after all that.
  assert.equal(tg.verify(good, keys, { audience: 'api' }).payload.sub, 'alice');
});

test('random bytes as tokens, JWK Sets and denylists are refused with codes', () => {
  const random = rng(42);
  const bytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  const secret = new Uint8Array(32).fill(7);
  for (let i = 0; i < 500; i++) {
    const junk = bytes(Math.floor(random() * 300));
    assert.throws(() => tg.verify(junk, secret), (e) => e instanceof tg.errors.JOSEError && typeof e.code === 'string');
    const text = new TextDecoder().decode(junk);
    assert.throws(() => tg.createLocalJWKSet(text), (e) => e instanceof tg.errors.ConfigError);
    assert.throws(() => tg.createDenylist(`{"jti": ${JSON.stringify(text)}}`), (e) => e instanceof tg.errors.ConfigError);
  }
  assert.throws(() => tg.verify('a'.repeat(2_000_000), secret), { code: 'ERR_JWT_TOO_LARGE' });
  for (const odd of [null, undefined, 42, {}, [], () => 1]) {
    assert.throws(() => tg.verify(odd, secret), (e) => e instanceof tg.errors.JOSEError);
    assert.throws(() => tg.verify('a.b.c', odd), (e) => e instanceof tg.errors.JOSEError);
  }
});
