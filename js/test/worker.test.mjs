// examples/worker.js in a real workerd (npm `workerd`), verifying tokens over HTTP against a
// loopback JWKS server: 200 with claims, 401 with the error code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import * as jose from 'jose';
import { startJwksServer } from './jwks-server.mjs';
import { startWorkerd } from './workerd.mjs';

let jwks;
let workerd;
let base;
let privateKey;
const stderr = () => workerd?.stderr() ?? '';

before(async () => {
  jwks = await startJwksServer();
  const pair = await jose.generateKeyPair('RS256');
  privateKey = pair.privateKey;
  jwks.state.jwks = { keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: 'w1', alg: 'RS256' }] };
  workerd = await startWorkerd(fileURLToPath(new URL('../examples/worker.js', import.meta.url)), {
    JWKS_URL: jwks.url,
    ISSUER: 'https://idp.example',
    AUDIENCE: 'api',
  });
  base = workerd.base;
});

after(async () => {
  workerd?.stop();
  await jwks?.close();
});

const sign = (claims, { kid = 'w1', exp = '5m' } = {}) =>
  new jose.SignJWT({ scope: 'read', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer('https://idp.example')
    .setAudience('api')
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(privateKey);

async function call(token) {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await fetch(base, { headers });
  return { status: res.status, body: await res.json(), challenge: res.headers.get('www-authenticate') };
}

test('workerd: a valid token gets 200 with its claims, fetching the JWKS once', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await call(await sign({}));
    assert.equal(r.status, 200, `${JSON.stringify(r.body)}\n${stderr()}`);
    assert.deepEqual(r.body, { sub: 'alice', scope: 'read', kid: 'w1' });
  }
  assert.equal(jwks.state.requests, 1);
});

test('workerd: bad tokens get 401 with the error code and an RFC 6750 challenge', async () => {
  const good = await sign({});
  const [h, p] = good.split('.');
  const cases = [
    [undefined, undefined],
    [await sign({}, { exp: Math.floor(Date.now() / 1000) - 3600 }), 'ERR_JWT_EXPIRED'],
    [`${h}.${p}.${'A'.repeat(342)}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    [await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32)), 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['not-a-token', 'ERR_JWS_INVALID'],
  ];
  for (const [token, code] of cases) {
    const r = await call(token);
    assert.equal(r.status, 401);
    assert.equal(r.body.code, code);
    assert.match(r.challenge, /^Bearer realm="api"/);
    if (code) assert.match(r.challenge, new RegExp(`error="invalid_token", error_description="${code}"`));
  }
});

test('workerd: a huge JWKS body is cut off while streaming, not buffered (issue 12, item 12)', async () => {
  const huge = await startJwksServer();
  huge.state.streamBytes = 256 * 1024 * 1024;
  const w = await startWorkerd(fileURLToPath(new URL('../examples/worker.js', import.meta.url)), {
    JWKS_URL: huge.url,
    ISSUER: 'https://idp.example',
    AUDIENCE: 'api',
  });
  try {
    const res = await fetch(w.base, { headers: { authorization: `Bearer ${await sign({})}` } });
    const body = await res.json();
    assert.equal(res.status, 401, `${JSON.stringify(body)}\n${w.stderr()}`);
    assert.equal(body.code, 'ERR_JWKS_INVALID');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(huge.state.sent < 64 * 1024 * 1024, `the server wrote ${huge.state.sent} bytes`);
  } finally {
    w.stop();
    await huge.close();
  }
  assert.equal(existsSync(w.dir), false, "workerd's temporary folder is left behind");
});

test('workerd: the crypto module, packaged with the worker, checks what WebCrypto does not; several candidate keys in turn', async () => {
  const worker = await startWorkerd(fileURLToPath(new URL('./crypto-worker.js', import.meta.url)));
  try {
    const options = { issuer: 'https://idp.example', audience: 'api' };
    const cases = [];
    for (const alg of ['ES384', 'ES512', 'ES256', 'EdDSA', 'RS256']) {
      const pair = await jose.generateKeyPair(alg);
      const jwks = { keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: 'k', alg }] };
      const other = await jose.generateKeyPair(alg);
      const token = (key) => new jose.SignJWT({ sub: alg }).setProtectedHeader({ alg, kid: 'k' })
        .setIssuer(options.issuer).setAudience(options.audience).setExpirationTime('5m').sign(key);
      // jwtVerify under 'auto' (P-384 and P-521 in the crypto module, the rest in WebCrypto),
      // the synchronous verify (the crypto module for every one), and 'wasm'; a forged token each.
      for (const [mode, extra, sync] of [['auto', {}, false], ['sync', {}, true], ['wasm', { signatureBackend: 'wasm' }, false]]) {
        for (const [what, key, expected] of [['good', pair.privateKey, { sub: alg }], ['forged', other.privateKey, { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }]]) {
          const res = await fetch(worker.base, { method: 'POST', body: JSON.stringify({ jwks, token: await token(key), options: { ...options, ...extra }, sync }) });
          cases.push([`${alg} ${mode} ${what}`, await res.json(), expected]);
        }
      }
    }
    // A token without a kid and two keys that could verify it: the second one does, after the
    // first refuses (WebCrypto under 'auto' for P-256, the crypto module for P-384 and 'wasm').
    for (const alg of ['ES256', 'ES384']) {
      const [first, second, stranger] = await Promise.all([0, 1, 2].map(() => jose.generateKeyPair(alg)));
      const jwks = { keys: [await jose.exportJWK(first.publicKey), await jose.exportJWK(second.publicKey)] };
      const token = (key) => new jose.SignJWT({ sub: `${alg} kidless` }).setProtectedHeader({ alg })
        .setIssuer(options.issuer).setAudience(options.audience).setExpirationTime('5m').sign(key);
      for (const [mode, extra, sync] of [['auto', {}, false], ['sync', {}, true], ['wasm', { signatureBackend: 'wasm' }, false]]) {
        for (const [what, key, expected] of [['second key', second.privateKey, { sub: `${alg} kidless` }], ['stranger', stranger.privateKey, { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }]]) {
          const res = await fetch(worker.base, { method: 'POST', body: JSON.stringify({ jwks, token: await token(key), options: { ...options, ...extra }, sync }) });
          cases.push([`${alg} kidless ${mode} ${what}`, await res.json(), expected]);
        }
      }
    }
    assert.equal(cases.length, 42);
    for (const [name, actual, expected] of cases) assert.deepEqual(actual, expected, `${name}\n${worker.stderr()}`);
  } finally {
    worker.stop();
  }
});
