// createRemoteJWKSet against a real loopback HTTP server: caching, rotation, cooldown,
// timeouts, errors, and the `store` that lets a fresh isolate skip the fetch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as tg from '../lib/node.js';
import { startJwksServer } from './jwks-server.mjs';

let server;
const keys = {};
before(async () => {
  server = await startJwksServer();
  for (const kid of ['old', 'new']) {
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
    keys[kid] = { privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256' } };
  }
});
after(() => server.close());

const token = (kid, extra = {}) =>
  new jose.SignJWT({ sub: 'alice', ...extra })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer('https://idp.example')
    .setAudience('api')
    .setExpirationTime('5m')
    .sign(keys[kid].privateKey);
const options = { issuer: 'https://idp.example', audience: 'api' };
const reset = (jwkList) => {
  server.state.jwks = { keys: jwkList };
  server.state.requests = 0;
  server.state.delayMs = 0;
  server.state.status = 200;
  server.state.body = undefined;
};

test('one fetch serves many verifications, concurrent first calls included', async () => {
  reset([keys.old.jwk]);
  const set = tg.createRemoteJWKSet(server.url, { headers: { 'x-tenant': 't1' } });
  const t = await token('old');
  const results = await Promise.all(Array.from({ length: 20 }, () => tg.jwtVerify(t, set, options)));
  assert.ok(results.every((r) => r.payload.sub === 'alice'));
  assert.equal(server.state.requests, 1);
  assert.equal(server.state.lastHeaders['x-tenant'], 't1');
  assert.equal(set.fresh, true);
  assert.deepEqual(set.jwks(), { keys: [keys.old.jwk] });
  // The synchronous API uses the keys already fetched.
  assert.equal(tg.verify(t, set, options).payload.sub, 'alice');
});

test('the synchronous API refuses a remote set that was never fetched', async () => {
  const set = tg.createRemoteJWKSet(server.url);
  assert.throws(() => tg.verify('a.b.c', set, options), { code: 'ERR_JWKS_UNAVAILABLE' });
});

test('an unknown kid refetches once outside the cooldown, not inside it', async () => {
  reset([keys.old.jwk]);
  const set = tg.createRemoteJWKSet(server.url, { cooldownDuration: 200 });
  await tg.jwtVerify(await token('old'), set, options);
  server.state.jwks = { keys: [keys.old.jwk, keys.new.jwk] }; // the issuer rotates
  const rotated = await token('new');
  await assert.rejects(tg.jwtVerify(rotated, set, options), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  assert.equal(server.state.requests, 1, 'no refetch inside the cooldown');
  await new Promise((r) => setTimeout(r, 250));
  assert.equal((await tg.jwtVerify(rotated, set, options)).protectedHeader.kid, 'new');
  assert.equal(server.state.requests, 2);
  // A kid nobody has: one refetch at most per cooldown.
  await new Promise((r) => setTimeout(r, 250));
  const forged = await token('new', {});
  const [, p, s] = forged.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'ghost' })).toString('base64url');
  for (let i = 0; i < 5; i++) {
    await assert.rejects(tg.jwtVerify(`${header}.${p}.${s}`, set, options), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  }
  assert.equal(server.state.requests, 3);
});

test('cacheMaxAge forces a refetch', async () => {
  reset([keys.old.jwk]);
  const set = tg.createRemoteJWKSet(server.url, { cacheMaxAge: 100 });
  const t = await token('old');
  await tg.jwtVerify(t, set, options);
  await tg.jwtVerify(t, set, options);
  assert.equal(server.state.requests, 1);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(set.fresh, false);
  await tg.jwtVerify(t, set, options);
  assert.equal(server.state.requests, 2);
});

test('timeouts, error statuses and bad documents fail closed with codes', async () => {
  const t = await token('old');
  reset([keys.old.jwk]);
  server.state.delayMs = 300;
  await assert.rejects(
    tg.jwtVerify(t, tg.createRemoteJWKSet(server.url, { timeoutDuration: 50 }), options),
    (e) => e instanceof tg.errors.JWKSTimeout && e.code === 'ERR_JWKS_TIMEOUT',
  );
  reset([keys.old.jwk]);
  server.state.status = 503;
  await assert.rejects(tg.jwtVerify(t, tg.createRemoteJWKSet(server.url), options), { code: 'ERR_JWKS_UNAVAILABLE' });
  reset([]);
  server.state.body = '{"keys": [';
  await assert.rejects(tg.jwtVerify(t, tg.createRemoteJWKSet(server.url), options), { code: 'ERR_CONFIG_JSON' });
  reset([{ ...keys.old.jwk, d: 'AAAA' }]);
  await assert.rejects(tg.jwtVerify(t, tg.createRemoteJWKSet(server.url), options), { code: 'ERR_JWK_INVALID' });
  await assert.rejects(
    tg.jwtVerify(t, tg.createRemoteJWKSet('http://127.0.0.1:1/jwks'), options),
    { code: 'ERR_JWKS_UNAVAILABLE' },
  );
});

test('a store lets a new isolate reuse a fresh key set without fetching', async () => {
  reset([keys.old.jwk]);
  const kv = new Map(); // Cloudflare KV's get/put, or a Map's get/set
  const t = await token('old');
  await tg.jwtVerify(t, tg.createRemoteJWKSet(server.url, { store: kv }), options);
  assert.equal(server.state.requests, 1);
  assert.equal(kv.size, 1);
  // A "new isolate": a new set object, same store.
  const second = tg.createRemoteJWKSet(server.url, { store: kv });
  assert.equal((await tg.jwtVerify(t, second, options)).payload.sub, 'alice');
  assert.equal(server.state.requests, 1);
  // A stale record is not used.
  const stale = tg.createRemoteJWKSet(server.url, { store: kv, cacheMaxAge: 1 });
  await new Promise((r) => setTimeout(r, 5));
  await tg.jwtVerify(t, stale, options);
  assert.equal(server.state.requests, 2);
  // A KV-style store with async get/put of strings, and a custom fetch.
  const record = new Map();
  const kvLike = { get: async (k) => record.get(k) ?? null, put: async (k, v) => { record.set(k, v); } };
  let fetched = 0;
  const fetchImpl = (...args) => { fetched++; return fetch(...args); };
  await tg.jwtVerify(t, tg.createRemoteJWKSet(server.url, { store: kvLike, fetch: fetchImpl }), options);
  await tg.jwtVerify(t, tg.createRemoteJWKSet(server.url, { store: kvLike, fetch: fetchImpl }), options);
  assert.equal(fetched, 1);
  assert.equal(typeof [...record.values()][0], 'string');
});

test('concurrent verifications of different tokens each get their own result', async () => {
  reset([keys.old.jwk, keys.new.jwk]);
  const set = tg.createRemoteJWKSet(server.url);
  const tokens = await Promise.all(Array.from({ length: 24 }, (_, i) => token(i % 2 ? 'old' : 'new', { sub: `user-${i}` })));
  const results = await Promise.all(tokens.map((t) => tg.jwtVerify(t, set, options)));
  assert.deepEqual(results.map((r) => r.payload.sub), tokens.map((_, i) => `user-${i}`));
  const webcrypto = await Promise.all(tokens.map((t) => tg.jwtVerify(t, set, { ...options, signatureBackend: 'webcrypto' })));
  assert.deepEqual(webcrypto.map((r) => r.protectedHeader.kid), tokens.map((_, i) => (i % 2 ? 'old' : 'new')));
});
