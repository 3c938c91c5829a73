// The package's API in Node: results, options, error classes and codes, both backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as tg from '../lib/node.js';

const secret = new TextEncoder().encode('an HS256 secret of at least 32 bytes!');
const now = () => Math.floor(Date.now() / 1000);

async function sign(claims, key, header) {
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(key);
}

const pairs = {};
for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  pairs[alg] = { privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid: `k-${alg}` } };
}
const publicSet = tg.createLocalJWKSet({ keys: Object.values(pairs).map((p) => p.jwk) });
const claims = () => ({ iss: 'https://idp.example', aud: 'api', sub: 'alice', iat: now(), exp: now() + 300 });
const expect = { issuer: 'https://idp.example', audience: 'api' };

async function code(promiseOrFn) {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

test('HS256 with a secret, a JWK and a JWK Set, sync and async', async () => {
  const token = await sign(claims(), secret, { alg: 'HS256' });
  const jwk = { kty: 'oct', k: Buffer.from(secret).toString('base64url') };
  for (const keys of [secret, jwk, { keys: [jwk] }, tg.createLocalJWKSet({ keys: [jwk] })]) {
    const sync = tg.verify(token, keys, expect);
    const async = await tg.jwtVerify(token, keys, expect);
    assert.equal(sync.payload.sub, 'alice');
    assert.deepEqual(sync, async);
    assert.deepEqual(sync.protectedHeader, { alg: 'HS256' });
  }
});

for (const alg of Object.keys(pairs)) {
  test(`${alg}: verify, jwtVerify on each backend, and a bad signature`, async () => {
    const token = await sign(claims(), pairs[alg].privateKey, { alg, kid: `k-${alg}`, typ: 'at+jwt' });
    const results = [tg.verify(token, publicSet, expect)];
    for (const signatureBackend of ['auto', 'webcrypto', 'wasm']) {
      results.push(await tg.jwtVerify(token, publicSet, { ...expect, signatureBackend }));
    }
    for (const r of results) {
      assert.equal(r.payload.sub, 'alice');
      assert.equal(r.protectedHeader.kid, `k-${alg}`);
      assert.equal(r.protectedHeader.typ, 'at+jwt');
    }
    const [h, p, s] = token.split('.');
    const flipped = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    for (const signatureBackend of ['webcrypto', 'wasm']) {
      const e = await code(tg.jwtVerify(flipped, publicSet, { ...expect, signatureBackend }));
      assert.equal(e.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
      assert.ok(e instanceof tg.errors.JWSSignatureVerificationFailed);
    }
  });
}

test('claim failures carry jose-compatible classes, codes, claim and reason', async () => {
  const t = now();
  const cases = [
    [{ ...claims(), exp: t - 120 }, {}, tg.errors.JWTExpired, 'exp', 'check_failed'],
    [{ ...claims(), nbf: t + 600 }, {}, tg.errors.JWTClaimValidationFailed, 'nbf', 'not_yet_valid'],
    [{ ...claims(), iss: 'https://evil.example' }, {}, tg.errors.JWTClaimValidationFailed, 'iss', 'check_failed'],
    [{ ...claims(), aud: 'other' }, {}, tg.errors.JWTClaimValidationFailed, 'aud', 'check_failed'],
    [{ ...claims(), sub: 'bob' }, { subject: 'alice' }, tg.errors.JWTClaimValidationFailed, 'sub', 'check_failed'],
    [{ ...claims(), iat: t - 7200 }, { maxTokenAge: '1h' }, tg.errors.JWTExpired, 'iat', 'check_failed'],
    [{ ...claims(), jti: undefined }, { requiredClaims: ['jti'] }, tg.errors.JWTClaimValidationFailed, 'jti', 'missing'],
    [(() => { const c = claims(); delete c.exp; return c; })(), {}, tg.errors.JWTClaimValidationFailed, 'exp', 'missing'],
  ];
  for (const [payload, options, cls, claim, reason] of cases) {
    const token = await sign(payload, secret, { alg: 'HS256' });
    for (const run of [() => tg.verify(token, secret, { ...expect, ...options }), () => tg.jwtVerify(token, secret, { ...expect, ...options })]) {
      const e = await code(run);
      assert.ok(e instanceof cls, `${claim}: ${e}`);
      assert.ok(e instanceof tg.errors.JOSEError);
      assert.equal(e.code, cls.code);
      assert.equal(e.claim, claim);
      assert.equal(e.reason, reason, `${claim}: ${e.message}`);
      assert.ok(!e.message.includes(token.split('.')[1]), 'the message never echoes the token');
    }
  }
});

test('clockTolerance and currentDate', async () => {
  const t = now();
  const token = await sign({ ...claims(), iat: undefined, exp: t - 30 }, secret, { alg: 'HS256' });
  assert.equal((await code(() => tg.verify(token, secret, { ...expect, clockTolerance: 0 }))).code, 'ERR_JWT_EXPIRED');
  assert.equal(tg.verify(token, secret, { ...expect, clockTolerance: '1m' }).payload.sub, 'alice');
  assert.equal(tg.verify(token, secret, { ...expect, clockTolerance: 0, currentDate: new Date((t - 60) * 1000) }).payload.sub, 'alice');
});

test('typ, algorithms allowlist, alg none and malformed tokens', async () => {
  const hs = await sign(claims(), secret, { alg: 'HS256', typ: 'JWT' });
  assert.equal((await code(() => tg.verify(hs, secret, { ...expect, typ: 'at+jwt' }))).code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  assert.equal((await code(() => tg.verify(hs, secret, { ...expect, algorithms: ['HS384'] }))).code, 'ERR_JOSE_ALG_NOT_ALLOWED');
  const es = await sign(claims(), pairs.ES256.privateKey, { alg: 'ES256', kid: 'k-ES256' });
  assert.equal((await code(tg.jwtVerify(es, publicSet, { ...expect, algorithms: ['RS256'] }))).code, 'ERR_JOSE_ALG_NOT_ALLOWED');
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
  assert.equal((await code(() => tg.verify(none, secret, expect))).code, 'ERR_JOSE_ALG_NOT_ALLOWED');
  for (const bad of ['', 'a.b', 'a.b.c', `${hs}.x.y`, hs.replace('.', '..')]) {
    const e = await code(() => tg.verify(bad, secret, expect));
    assert.ok(['ERR_JWS_INVALID', 'ERR_JOSE_NOT_SUPPORTED'].includes(e.code), `${bad}: ${e.code}`);
  }
  assert.equal((await code(() => tg.verify(42, secret, expect))).code, 'ERR_JWS_INVALID');
  const unknownKid = await sign(claims(), pairs.RS256.privateKey, { alg: 'RS256', kid: 'nope' });
  assert.equal((await code(tg.jwtVerify(unknownKid, publicSet, expect))).code, 'ERR_JWKS_NO_MATCHING_KEY');
});

test('configuration mistakes are ConfigErrors with the core codes', async () => {
  const token = await sign(claims(), secret, { alg: 'HS256' });
  const cases = [
    [() => tg.verify(token, secret, { audience: '*' }), 'ERR_POLICY_INVALID'],
    [() => tg.verify(token, secret, { algorithms: ['none'] }), 'ERR_POLICY_INVALID'],
    [() => tg.verify(token, secret, { clockTolerance: 'soon' }), 'ERR_POLICY_INVALID'],
    [() => tg.verify(token, secret, { issuers: 'typo' }), 'ERR_POLICY_INVALID'],
    [() => tg.verify(token, new Uint8Array(8), {}), 'ERR_JWK_INVALID'],
    [() => tg.createLocalJWKSet({ keys: [{ ...pairs.RS256.jwk, d: 'AQAB' }] }), 'ERR_JWK_INVALID'],
    [() => tg.createLocalJWKSet('{"keys": [}'), 'ERR_CONFIG_JSON'],
    [() => tg.createDenylist({ jti: 7 }), 'ERR_DENYLIST_INVALID'],
    [() => tg.createRemoteJWKSet('ftp://idp.example/jwks'), 'ERR_JWKS_INVALID'],
  ];
  for (const [run, want] of cases) {
    const e = await code(run);
    assert.ok(e instanceof tg.errors.ConfigError, `${want}: ${e}`);
    assert.equal(e.code, want, e.message);
  }
});

test('denylist: revoked jti and subject, shared across verifications', async () => {
  const denylist = tg.createDenylist({ jti: ['t-1'], sub: [{ value: 'mallory' }] });
  assert.equal(denylist.size, 2);
  const revoked = await sign({ ...claims(), jti: 't-1' }, secret, { alg: 'HS256' });
  const mallory = await sign({ ...claims(), sub: 'mallory', jti: 't-2' }, secret, { alg: 'HS256' });
  const fine = await sign({ ...claims(), jti: 't-3' }, secret, { alg: 'HS256' });
  for (const token of [revoked, mallory]) {
    const e = await code(tg.jwtVerify(token, secret, { ...expect, denylist }));
    assert.equal(e.code, 'ERR_JWT_REVOKED');
    assert.ok(e instanceof tg.errors.JWTRevoked);
  }
  assert.equal(tg.verify(fine, secret, { ...expect, denylist }).payload.jti, 't-3');
  // A plain object works too (parsed per call).
  assert.equal((await code(() => tg.verify(revoked, secret, { ...expect, denylist: { jti: ['t-1'] } }))).code, 'ERR_JWT_REVOKED');
  // Without the denylist the same token verifies: the policy cache keeps them apart.
  assert.equal(tg.verify(revoked, secret, expect).payload.jti, 't-1');
});

test('key sets expose their algorithms and refuse secrets mixed with public keys', () => {
  assert.deepEqual(publicSet.algorithms, ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']);
  assert.equal(publicSet.size, 5);
  const oct = { kty: 'oct', k: Buffer.from(secret).toString('base64url') };
  assert.throws(() => tg.createLocalJWKSet({ keys: [oct, pairs.RS256.jwk] }), { code: 'ERR_JWKS_INVALID' });
});

test('a reused options object is re-read whenever it changes', async () => {
  const token = await sign(claims(), secret, { alg: 'HS256' });
  const options = { issuer: 'https://idp.example', audience: ['api'] };
  const outcome = () => {
    try {
      return tg.verify(token, secret, options).payload.sub;
    } catch (e) {
      return e.code;
    }
  };
  assert.equal(outcome(), 'alice');
  options.audience[0] = 'other';
  assert.equal(outcome(), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'an array mutated in place');
  options.audience = 'api';
  assert.equal(outcome(), 'alice');
  options.issuer = 'https://evil.example';
  assert.equal(outcome(), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  options.issuer = 'https://idp.example';
  options.typ = 'at+jwt';
  assert.equal(outcome(), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'a field added');
  delete options.typ;
  assert.equal(outcome(), 'alice');
  options.audiences = ['typo'];
  assert.equal(outcome(), 'ERR_POLICY_INVALID', 'an unknown option added later');
});

test('options written in place on every call: equal ones share a policy, any difference is seen', async () => {
  const token = await sign(claims(), secret, { alg: 'HS256' });
  const outcome = (options) => {
    try {
      return tg.verify(token, secret, options).payload.sub;
    } catch (e) {
      return e.code;
    }
  };
  for (let i = 0; i < 3; i++) assert.equal(outcome({ issuer: 'https://idp.example', audience: ['api'] }), 'alice');
  assert.equal(outcome({ issuer: 'https://idp.example', audience: ['other'] }), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  assert.equal(outcome({ issuer: 'https://idp.example', audience: 'api' }), 'alice');
  assert.equal(outcome({ issuer: 'https://idp.example', audience: 'api', typ: 'at+jwt' }), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  // Same count of options and the same policy fields, one name swapped for an unknown one:
  // still refused.
  assert.equal(outcome({ issuer: 'https://idp.example', audience: 'api', signatureBackend: 'wasm' }), 'alice');
  assert.equal(outcome({ issuer: 'https://idp.example', audience: 'api', signatureBackends: 'wasm' }), 'ERR_POLICY_INVALID');
  assert.equal(outcome({ audience: 'api', issuer: 'https://evil.example' }), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  assert.equal(outcome({ issuer: 'https://idp.example', audience: 'api' }), 'alice');
});

test('jose-style key inputs: KeyObject, CryptoKey and a key function', async () => {
  const { createPublicKey, createSecretKey } = await import('node:crypto');
  const token = await sign(claims(), pairs.ES256.privateKey, { alg: 'ES256', kid: 'k-ES256' });
  const keyObject = createPublicKey({ key: pairs.ES256.jwk, format: 'jwk' });
  assert.equal(tg.verify(token, keyObject, expect).payload.sub, 'alice');
  // A KeyObject is exported once, at its first use (it cannot change); the verdicts stay its own.
  let exports = 0;
  const counted = { type: 'public', export: (options) => (exports++, keyObject.export(options)) };
  for (let i = 0; i < 3; i++) assert.equal(tg.verify(token, counted, expect).payload.sub, 'alice');
  assert.equal(exports, 1);
  const other = { type: 'public', export: () => pairs.ES384.jwk };
  assert.throws(() => tg.verify(token, other, expect), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
  const cryptoKey = await jose.importJWK(pairs.ES256.jwk, 'ES256');
  assert.ok(cryptoKey instanceof CryptoKey);
  assert.equal((await tg.jwtVerify(token, cryptoKey, expect)).payload.sub, 'alice');
  const seen = [];
  const getKey = async (header, parts) => {
    seen.push(header.kid, typeof parts.signature);
    return pairs[header.alg].jwk;
  };
  assert.equal((await tg.jwtVerify(token, getKey, expect)).payload.sub, 'alice');
  assert.deepEqual(seen, ['k-ES256', 'string']);
  const hs = await sign(claims(), secret, { alg: 'HS256' });
  assert.equal(tg.verify(hs, createSecretKey(secret), expect).payload.sub, 'alice');
  // Private keys are refused, whatever their form.
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  await assert.rejects(tg.jwtVerify(token, privateKey, expect), { code: 'ERR_JWK_INVALID' });
  const { generateKeyPair } = await import('./keypair.mjs');
  assert.throws(() => tg.verify(token, generateKeyPair('ed25519').privateKey, expect), { code: 'ERR_JWK_INVALID' });
  // A CryptoKey keeps its algorithm: one imported for RS256 does not verify PS256.
  const ps = await sign(claims(), pairs.PS256.privateKey, { alg: 'PS256' });
  const asRs256 = await jose.importJWK(pairs.PS256.jwk, 'RS256');
  await assert.rejects(tg.jwtVerify(ps, asRs256, expect), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
  const asPs256 = await jose.importJWK(pairs.PS256.jwk, 'PS256');
  assert.equal((await tg.jwtVerify(ps, asPs256, expect)).payload.sub, 'alice');
  // A key function's answer still goes through every check.
  await assert.rejects(tg.jwtVerify(token, () => pairs.RS256.jwk, expect), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
  await assert.rejects(tg.jwtVerify(token, () => pairs.RS256.jwk, { ...expect, algorithms: ['ES256'] }), {
    code: 'ERR_JWKS_NO_MATCHING_KEY',
  });
  await assert.rejects(tg.jwtVerify('bm90IGpzb24.e30.AA', () => secret, expect), { code: 'ERR_JWS_INVALID' });
});
