// jwtVerify's WebCrypto path, which awaits `crypto.subtle.verify` itself: the module checks
// the token up to its signature (`hostCheck`), names the candidate keys, and checks the
// claims after WebCrypto's verdict (`hostChecked`). These tests count the WebCrypto calls to
// show which path ran, and that every refusal the core owes still happens on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as tg from '../lib/node.js';
import { configure } from '../lib/api.js';
import { readFileSync } from 'node:fs';
import * as cryptoModule from '../pkg/tokengate_crypto.js';

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ iss: 'https://idp.example', aud: 'api', sub: 'alice', jti: 'j-1', iat: now(), exp: now() + 300, ...extra });
const expect = { issuer: 'https://idp.example', audience: 'api', signatureBackend: 'webcrypto' };

async function pair(alg, kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), ...(kid === undefined ? {} : { kid }), alg };
  const sign = (payload, header = {}) =>
    new jose.SignJWT(payload).setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }), ...header }).sign(privateKey);
  return { jwk, sign };
}

/** Runs `fn` with `crypto.subtle.verify` counted (and optionally replaced). */
async function counting(fn, replace) {
  const subtle = globalThis.crypto.subtle;
  const original = subtle.verify;
  let calls = 0;
  subtle.verify = function (...args) {
    calls++;
    return replace === undefined ? original.apply(subtle, args) : replace(...args);
  };
  try {
    await fn();
  } finally {
    subtle.verify = original;
  }
  return calls;
}

const refusal = async (promise) => {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected a refusal');
};

test('a token with a kid: one WebCrypto call, then the claims, policy and denylist', async () => {
  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) {
    const { jwk, sign } = await pair(alg, 'k1');
    const other = await pair(alg, 'k2');
    const keys = tg.createLocalJWKSet({ keys: [other.jwk, jwk] });
    const token = await sign(claims());
    let verified;
    assert.equal(await counting(async () => {
      verified = await tg.jwtVerify(token, keys, expect);
    }), 1, alg);
    assert.equal(verified.payload.sub, 'alice');
    assert.deepEqual(verified.protectedHeader, { alg, kid: 'k1' });

    // A forged signature: WebCrypto says no, the core answers.
    const parts = token.split('.');
    const forged = `${parts[0]}.${parts[1]}.${(await other.sign(claims())).split('.')[2]}`;
    assert.equal((await refusal(tg.jwtVerify(forged, keys, expect))).code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', alg);
    // The claims after a good signature: expired, wrong audience, revoked.
    const expired = await sign(claims({ iat: now() - 600, exp: now() - 300 }));
    assert.equal((await refusal(tg.jwtVerify(expired, keys, expect))).code, 'ERR_JWT_EXPIRED', alg);
    assert.equal((await refusal(tg.jwtVerify(token, keys, { ...expect, audience: 'other' }))).code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
    assert.equal((await refusal(tg.jwtVerify(token, keys, { ...expect, denylist: { jti: ['j-1'] } }))).code, 'ERR_JWT_REVOKED');
  }
});

test('a token refused before its signature never reaches WebCrypto', async () => {
  const { jwk, sign } = await pair('ES256', 'k1');
  const keys = tg.createLocalJWKSet({ keys: [jwk] });
  const token = await sign(claims());
  const [h, p, s] = token.split('.');
  const unknownKid = await sign(claims(), { kid: 'nobody' });
  const cases = [
    [() => tg.jwtVerify(token, keys, { ...expect, algorithms: ['RS256'] }), 'ERR_JOSE_ALG_NOT_ALLOWED'],
    [() => tg.jwtVerify(`${h}.${p}.${s}x`, keys, expect), 'ERR_JWS_INVALID'],
    [() => tg.jwtVerify(unknownKid, keys, expect), 'ERR_JWKS_NO_MATCHING_KEY'],
    [() => tg.jwtVerify(`${h}.${p}`, keys, expect), 'ERR_JWS_INVALID'],
  ];
  const codes = [];
  assert.equal(await counting(async () => {
    for (const [run] of cases) codes.push((await refusal(run())).code);
  }), 0);
  assert.deepEqual(codes, cases.map(([, code]) => code));
});

test('WebCrypto that throws is a refusal, never a crash or an acceptance', async () => {
  const { jwk, sign } = await pair('RS256', 'k1');
  const keys = tg.createLocalJWKSet({ keys: [jwk] });
  const token = await sign(claims());
  let e;
  assert.equal(await counting(async () => {
    e = await refusal(tg.jwtVerify(token, keys, expect));
  }, () => Promise.reject(new DOMException('boom', 'OperationError'))), 1);
  assert.equal(e.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  // And a WebCrypto that says yes to anything cannot make a refused token pass.
  const expired = await sign(claims({ iat: now() - 600, exp: now() - 300 }));
  let e2;
  await counting(async () => {
    e2 = await refusal(tg.jwtVerify(expired, keys, expect));
  }, () => Promise.resolve(true));
  assert.equal(e2.code, 'ERR_JWT_EXPIRED');
});

test('a token without a kid and several candidate keys: each tried in turn, on every backend', async () => {
  const first = await pair('ES256');
  const second = await pair('ES256');
  const third = await pair('ES256');
  const keys = tg.createLocalJWKSet({ keys: [first.jwk, second.jwk, third.jwk] });
  const token = await second.sign(claims());
  let verified;
  // The first key is tried and refused, then the second verifies; the third is never tried.
  assert.equal(await counting(async () => {
    verified = await tg.jwtVerify(token, keys, expect);
  }), 2);
  assert.equal(verified.payload.sub, 'alice');
  const stranger = await (await pair('ES256')).sign(claims());
  let e;
  assert.equal(await counting(async () => {
    e = await refusal(tg.jwtVerify(stranger, keys, expect));
  }), 3);
  assert.equal(e.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  // A WebCrypto that says yes to anything is believed for the first candidate only: the
  // claims are still the core's to check.
  const expired = await third.sign(claims({ iat: now() - 600, exp: now() - 300 }));
  assert.equal(await counting(async () => {
    e = await refusal(tg.jwtVerify(expired, keys, expect));
  }, () => Promise.resolve(true)), 1);
  assert.equal(e.code, 'ERR_JWT_EXPIRED');
  // The last candidate verifies, synchronously (node:crypto) and in the crypto module, and
  // through jwtVerify with each backend; a stranger's signature never does.
  const last = await third.sign(claims({ sub: 'carol' }));
  for (const signatureBackend of ['node', 'wasm']) {
    assert.equal(tg.verify(last, keys, { ...expect, signatureBackend }).payload.sub, 'carol', signatureBackend);
    assert.equal((await tg.jwtVerify(last, keys, { ...expect, signatureBackend })).payload.sub, 'carol', signatureBackend);
    assert.throws(() => tg.verify(stranger, keys, { ...expect, signatureBackend }), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    assert.equal((await refusal(tg.jwtVerify(stranger, keys, { ...expect, signatureBackend }))).code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  }
});

test('more verifications in flight than the module keeps pending: every one still answers right', async () => {
  const { jwk, sign } = await pair('ES256', 'k1');
  const keys = tg.createLocalJWKSet({ keys: [jwk] });
  const good = await Promise.all(Array.from({ length: 300 }, (_, i) => sign(claims({ sub: `user-${i}` }))));
  const bad = good.slice(0, 20).map((t) => `${t.slice(0, -4)}${t.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`);
  let results;
  // 320 in flight at once: past the module's 256 pending checks, the oldest are verified by the
  // crypto module (at hand in Node) when their WebCrypto verdict arrives.
  const calls = await counting(async () => {
    results = await Promise.allSettled([...good, ...bad].map((t) => tg.jwtVerify(t, keys, expect)));
  });
  assert.equal(calls, 320);
  results.slice(0, 300).forEach((r, i) => assert.equal(r.value?.payload.sub, `user-${i}`, String(r.reason)));
  for (const r of results.slice(300)) assert.equal(r.reason?.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
});

/** A fresh key and token for `alg`, verified once by `jwtVerify` under 'auto': the WebCrypto calls it made. */
async function autoVerify(alg) {
  const { jwk, sign } = await pair(alg, 'k1');
  const keys = tg.createLocalJWKSet({ keys: [jwk] });
  const token = await sign(claims());
  let verified;
  const calls = await counting(async () => {
    verified = await tg.jwtVerify(token, keys, { ...expect, signatureBackend: 'auto' });
  });
  assert.equal(verified.payload.sub, 'alice', alg);
  return { calls, keys, token };
}

test('auto in Node: node:crypto or the crypto module, never a WebCrypto promise', async () => {
  for (const alg of ['RS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA']) assert.equal((await autoVerify(alg)).calls, 0, alg);
});

/** The crypto module's bindings, instantiated from the package's file as Node's entry does. */
function cryptoModuleBindings() {
  cryptoModule.initSync({ module: readFileSync(new URL('../pkg/tokengate_crypto_bg.wasm', import.meta.url)) });
  return cryptoModule;
}

// Last in this file: they reconfigure the package (in this test process only) as the browser
// and workerd entries do, with WebCrypto and no synchronous host crypto.
test('auto in workerd (the crypto module at hand): WebCrypto for RSA, P-256, Ed25519; the crypto module for P-384, P-521', async () => {
  let loads = 0;
  configure({
    subtle: globalThis.crypto.subtle,
    cryptoModule: {
      loadSync() {
        loads++;
        return cryptoModuleBindings();
      },
    },
  });
  for (const [alg, calls] of [['RS256', 1], ['PS384', 1], ['ES256', 1], ['EdDSA', 1], ['ES384', 0], ['ES512', 0]]) {
    assert.equal((await autoVerify(alg)).calls, calls, alg);
  }
  assert.equal(loads, 1, 'the crypto module is instantiated once, on the first P-384 token');
});

test('auto in a browser (the crypto module not loaded): WebCrypto for every public-key algorithm; a P-384 key starts one download', async () => {
  let loads = 0;
  configure({
    subtle: globalThis.crypto.subtle,
    cryptoModule: {
      load() {
        loads++;
        return Promise.reject(new Error('not in this test'));
      },
    },
  });
  for (const [alg, loaded] of [['RS256', 0], ['PS384', 0], ['ES256', 0], ['EdDSA', 0], ['ES384', 1], ['ES512', 1]]) {
    const { calls, keys, token } = await autoVerify(alg);
    assert.equal(calls, 1, alg);
    // The synchronous path has no WebCrypto: it needs the crypto module, and says so.
    assert.throws(() => tg.verify(token, keys, { ...expect, signatureBackend: 'auto' }), { code: 'ERR_CRYPTO_MODULE_UNAVAILABLE' }, alg);
    // Only a P-384/P-521 key set starts the background download, once (here it fails).
    assert.equal(loads, loaded, alg);
  }
  // signatureBackend 'wasm' needs it too: its failed load is a coded refusal, not a verdict.
  const { jwk, sign } = await pair('ES256', 'k1');
  const token = await sign(claims());
  const error = await refusal(tg.jwtVerify(token, tg.createLocalJWKSet({ keys: [jwk] }), { ...expect, signatureBackend: 'wasm' }));
  assert.equal(error.code, 'ERR_CRYPTO_MODULE_UNAVAILABLE');
  assert.equal(error.cause?.message, 'not in this test');
  assert.equal(loads, 2);
  // HMAC never needs it.
  const secret = new Uint8Array(32).fill(7);
  const hs = await new jose.SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(secret);
  assert.equal(tg.verify(hs, secret, { issuer: 'https://idp.example', audience: 'api' }).payload.sub, 'alice');
  assert.equal(loads, 2);
});

test('auto in a browser: once the background download of the crypto module is done, P-384 goes to it', async () => {
  let loads = 0;
  configure({
    subtle: globalThis.crypto.subtle,
    cryptoModule: {
      async load() {
        loads++;
        await new Promise((r) => setTimeout(r, 20));
        return cryptoModuleBindings();
      },
    },
  });
  const auto = { ...expect, signatureBackend: 'auto' };
  const { jwk, sign } = await pair('ES384', 'k1');
  const keys = tg.createLocalJWKSet({ keys: [jwk] });
  const token = await sign(claims());
  assert.equal(await counting(() => tg.jwtVerify(token, keys, auto)), 1, 'WebCrypto while the module downloads');
  await tg.loadCryptoModule();
  assert.equal(await counting(() => tg.jwtVerify(token, keys, auto)), 0, 'the crypto module once it is there');
  assert.equal(tg.verify(token, keys, auto).payload.sub, 'alice');
  assert.equal(loads, 1);
});

test('a crypto module that fails to instantiate is a coded VerifierUnavailable with its cause, never a verdict', async () => {
  configure({
    subtle: globalThis.crypto.subtle,
    cryptoModule: {
      loadSync() {
        throw new Error('bad module');
      },
    },
  });
  const { jwk, sign } = await pair('ES384', 'k1');
  const keys = tg.createLocalJWKSet({ keys: [jwk] });
  const token = await sign(claims());
  const auto = { ...expect, signatureBackend: 'auto' };
  const error = await refusal(tg.jwtVerify(token, keys, auto));
  assert.equal(error.code, 'ERR_CRYPTO_MODULE_UNAVAILABLE');
  assert.ok(error instanceof tg.errors.VerifierUnavailable);
  assert.equal(error.cause?.message, 'bad module');
  assert.throws(() => tg.verify(token, keys, auto), (e) => e.code === 'ERR_CRYPTO_MODULE_UNAVAILABLE' && e.cause?.message === 'bad module');
  await assert.rejects(tg.loadCryptoModule(), { code: 'ERR_CRYPTO_MODULE_UNAVAILABLE' });
});
