// Hostile input through the JS API: mutated tokens, random bytes and odd values never crash the
// module (a trap in wasm would poison every later call) and always fail with a coded JOSEError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as tg from '../lib/node.js';
import { uniform as rng } from './random.mjs';

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

test('the module\'s token buffer: tokens of every size in turn, as text and as bytes, sync and async', async () => {
  const secret = new Uint8Array(32).fill(9);
  const { publicKey, privateKey } = await jose.generateKeyPair('RS256');
  const rsa = tg.createLocalJWKSet({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'r' }] });
  const mint = (pad, alg = 'HS256') => new jose.SignJWT({ sub: 'alice', pad })
    .setProtectedHeader(alg === 'HS256' ? { alg } : { alg, kid: 'r' })
    .setExpirationTime('5m')
    .sign(alg === 'HS256' ? secret : privateKey);
  const small = await mint('x');
  const bytes = (token) => new TextEncoder().encode(token);
  const ceiling = { maxTokenBytes: 1024 * 1024 };
  // Just under the largest limit a policy may set: room for it is clamped to the ceiling.
  const huge = await mint('y'.repeat(780_000));
  assert.ok(huge.length > 1_040_000 && huge.length <= 1024 * 1024, `${huge.length}`);
  const hugeRsa = await mint('z'.repeat(780_000), 'RS256');
  let cases = 0;
  const check = async (token, keys, options, want) => {
    for (const given of [token, bytes(token)]) {
      const sync = () => tg.verify(given, keys, options);
      if (want === 'alice') {
        assert.equal(sync().payload.sub, 'alice');
        assert.equal((await tg.jwtVerify(given, keys, options)).payload.sub, 'alice');
      } else {
        assert.throws(sync, { code: want });
        await assert.rejects(tg.jwtVerify(given, keys, options), { code: want });
      }
      cases += 2;
    }
  };
  for (let round = 0; round < 2; round++) {
    await check(small, secret, {}, 'alice');
    await check(huge, secret, ceiling, 'alice');
    await check(huge, secret, {}, 'ERR_JWT_TOO_LARGE');
    await check(small, secret, {}, 'alice');
    await check(hugeRsa, rsa, ceiling, 'alice');
    const flipped = `${small.slice(0, -10)}${small.at(-10) === 'A' ? 'B' : 'A'}${small.slice(-9)}`;
    await check(flipped, secret, {}, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // Past the ceiling (as text, and as bytes the module never copies whole).
    await check(`${huge}${'A'.repeat(30_000)}`, secret, ceiling, 'ERR_JWT_TOO_LARGE');
    await check(`${small}\u00e9\u{1F600}`, secret, {}, 'ERR_JWS_INVALID');
  }
  // Bytes that are not UTF-8, short and past the ceiling.
  for (const junk of [Uint8Array.of(0x65, 0x79, 0xff, 0x2e), new Uint8Array(1_200_000).fill(0xc3)]) {
    assert.throws(() => tg.verify(junk, secret, ceiling), (e) => e.code === 'ERR_JWS_INVALID' || e.code === 'ERR_JWT_TOO_LARGE');
    cases++;
  }
  assert.throws(() => tg.verify(new Uint8Array(1_200_000).fill(0x41), secret, ceiling), { code: 'ERR_JWT_TOO_LARGE' });
  // Tokens in flight on the async path while others are written into the buffer.
  const inFlight = [huge, small, hugeRsa, small].map((t) => tg.jwtVerify(t, t === hugeRsa ? rsa : secret, ceiling));
  assert.equal(tg.verify(small, secret).payload.pad, 'x');
  for (const r of await Promise.all(inFlight)) assert.equal(r.payload.sub, 'alice');
  assert.ok(cases >= 66, `${cases} cases`);
});
