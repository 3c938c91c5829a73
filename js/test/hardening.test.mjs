// Issue 12, items 10-16: an empty list never means "any", remote keys never serve past their
// age, bounded JWKS bodies, denylists compared by value, https only, cooldown from the last
// attempt, store records bound to their URL, jose's maxTokenAge semantics, x5c-sized headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as tg from '../lib/node.js';
import { startJwksServer } from './jwks-server.mjs';

const secret = new TextEncoder().encode('an HS256 secret of at least 32 bytes!');
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const claims = (extra = {}) => ({ iss: 'https://idp.example', aud: 'api', sub: 'alice', iat: now(), exp: now() + 300, ...extra });
const hs = (payload, header = { alg: 'HS256' }) => new jose.SignJWT(payload).setProtectedHeader(header).sign(secret);

async function rejection(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}

let server;
const keys = {};
before(async () => {
  server = await startJwksServer();
  for (const kid of ['old', 'new', 'evil']) {
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
    keys[kid] = { privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256' } };
  }
});
after(() => server.close());

const es = (kid) =>
  new jose.SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid }).sign(keys[kid].privateKey);
const reset = (jwkList) => {
  Object.assign(server.state, {
    jwks: { keys: jwkList }, requests: 0, delayMs: 0, status: 200, body: undefined,
    streamBytes: 0, sent: 0, declaredLength: undefined,
  });
};

test('item 10: an empty issuer, audience or subject list is a ConfigError, never "any"', async () => {
  const token = await hs(claims({ iss: 'https://anyone.example' }));
  for (const options of [{ issuer: [] }, { audience: [] }, { subject: [] }, { issuer: [], audience: [] }]) {
    for (const run of [() => tg.verify(token, secret, options), () => tg.jwtVerify(token, secret, options)]) {
      const e = await rejection(run);
      assert.ok(e instanceof tg.errors.ConfigError, `${JSON.stringify(options)}: ${e}`);
      assert.equal(e.code, 'ERR_POLICY_INVALID');
      assert.match(e.message, /never means/);
    }
  }
  // jose agrees that `issuer: []` accepts nothing.
  await assert.rejects(jose.jwtVerify(token, secret, { issuer: [] }));
});

test('item 11: sync verify refuses a remote set older than cacheMaxAge and refreshes it', async () => {
  reset([keys.old.jwk, keys.new.jwk]);
  const set = tg.createRemoteJWKSet(server.url, { cacheMaxAge: 150 });
  const old = await es('old');
  await tg.jwtVerify(old, set, { issuer: 'https://idp.example', audience: 'api' });
  assert.equal(tg.verify(old, set, {}).payload.sub, 'alice');
  server.state.jwks = { keys: [keys.new.jwk] }; // the IdP removes "old"
  await sleep(200);
  const e = await rejection(() => tg.verify(old, set, {}));
  assert.equal(e.code, 'ERR_JWKS_STALE');
  assert.ok(e instanceof tg.errors.JWKSStale);
  await sleep(100); // the background refetch lands
  assert.equal(server.state.requests, 2);
  assert.equal((await rejection(() => tg.verify(old, set, {}))).code, 'ERR_JWKS_NO_MATCHING_KEY');
  assert.equal(tg.verify(await es('new'), set, {}).payload.sub, 'alice');
});

test('item 12: a huge JWKS body is cut off while streaming, never buffered', async () => {
  reset([]);
  server.state.streamBytes = 256 * 1024 * 1024;
  const set = tg.createRemoteJWKSet(server.url, { timeoutDuration: 20_000 });
  const rss = process.memoryUsage().rss;
  const e = await rejection(() => tg.jwtVerify('a.b.c', set, {}));
  assert.equal(e.code, 'ERR_JWKS_INVALID', String(e));
  await sleep(100);
  const grown = (process.memoryUsage().rss - rss) / (1 << 20);
  assert.ok(server.state.sent < 64 * 1024 * 1024, `the server wrote ${server.state.sent} bytes before the abort`);
  assert.ok(grown < 64, `RSS grew by ${grown.toFixed(1)} MiB`);
  // A declared length over the limit is refused before reading the body.
  reset([]);
  server.state.declaredLength = 256 * 1024 * 1024;
  const set2 = tg.createRemoteJWKSet(server.url, { timeoutDuration: 5_000 });
  assert.equal((await rejection(() => tg.jwtVerify('a.b.c', set2, {}))).code, 'ERR_JWKS_INVALID');
  // Bytes, not UTF-16 units: 600k two-byte characters are 1.2 MB.
  reset([]);
  server.state.body = JSON.stringify({ keys: [keys.old.jwk], pad: 'é'.repeat(600_000) });
  const set3 = tg.createRemoteJWKSet(server.url);
  const oldToken = await es('old');
  assert.equal((await rejection(() => tg.jwtVerify(oldToken, set3, {}))).code, 'ERR_JWKS_INVALID');
});

test('item 13: a plain-object denylist edited in place is seen at the next call', async () => {
  const token = await hs(claims({ jti: 'j-1' }));
  const options = { issuer: 'https://idp.example', denylist: { jti: [] } };
  assert.equal(tg.verify(token, secret, options).payload.jti, 'j-1');
  options.denylist.jti.push('j-1');
  assert.equal((await rejection(() => tg.verify(token, secret, options))).code, 'ERR_JWT_REVOKED');
  assert.equal((await rejection(() => tg.jwtVerify(token, secret, options))).code, 'ERR_JWT_REVOKED');
  options.denylist.jti.pop();
  assert.equal(tg.verify(token, secret, options).payload.jti, 'j-1');
});

test('item 14: http URLs only on loopback or by an option named insecure', () => {
  for (const url of ['http://idp.example/jwks.json', 'http://10.0.0.1/jwks', 'http://127.example/jwks']) {
    assert.throws(() => tg.createRemoteJWKSet(url), { code: 'ERR_JWKS_INVALID', message: /https/ });
    assert.ok(tg.createRemoteJWKSet(url, { insecureAllowHttp: true }));
  }
  for (const url of ['http://127.0.0.1:1/j', 'http://localhost:1/j', 'http://[::1]:1/j', 'https://idp.example/j']) {
    assert.ok(tg.createRemoteJWKSet(url));
  }
});

test('item 14: the unknown-kid cooldown counts from the last attempt, failed ones included', async () => {
  reset([keys.old.jwk]);
  const set = tg.createRemoteJWKSet(server.url, { cooldownDuration: 300 });
  await tg.jwtVerify(await es('old'), set, {});
  await sleep(350);
  server.state.status = 500; // the IdP starts failing
  const unknown = await es('new');
  assert.equal((await rejection(() => tg.jwtVerify(unknown, set, {}))).code, 'ERR_JWKS_UNAVAILABLE');
  assert.equal(server.state.requests, 2);
  for (let i = 0; i < 5; i++) {
    assert.equal((await rejection(() => tg.jwtVerify(unknown, set, {}))).code, 'ERR_JWKS_NO_MATCHING_KEY');
  }
  assert.equal(server.state.requests, 2, 'no refetch inside the cooldown of a failed attempt');
});

test('item 14: a store record is bound to its URL', async () => {
  reset([keys.old.jwk]);
  const store = new Map();
  const other = 'https://other.example/jwks.json';
  // A record for another URL, left under this URL's key (a shared or mis-keyed store).
  store.set(`tokengate:jwks:${server.url}`, JSON.stringify({ url: other, fetchedAt: Date.now(), jwks: JSON.stringify({ keys: [keys.evil.jwk] }) }));
  const set = tg.createRemoteJWKSet(server.url, { store });
  const evil = await es('evil');
  assert.equal((await rejection(() => tg.jwtVerify(evil, set, {}))).code, 'ERR_JWKS_NO_MATCHING_KEY');
  assert.equal(server.state.requests, 1, 'fetched instead of trusting the foreign record');
  const saved = JSON.parse(store.get(`tokengate:jwks:${server.url}`));
  assert.equal(saved.url, server.url);
  // Its own record is used by a fresh set.
  const fresh = tg.createRemoteJWKSet(server.url, { store });
  assert.equal((await tg.jwtVerify(await es('old'), fresh, {})).payload.sub, 'alice');
  assert.equal(server.state.requests, 1);
});

test('item 15: maxTokenAge as in jose (JWTExpired on iat, and 0 allowed)', async () => {
  const old = await hs(claims({ iat: now() - 7200 }));
  for (const run of [() => tg.verify(old, secret, { maxTokenAge: '1h' }), () => tg.jwtVerify(old, secret, { maxTokenAge: '1h' })]) {
    const e = await rejection(run);
    const j = await rejection(() => jose.jwtVerify(old, secret, { maxTokenAge: '1h' }));
    assert.ok(e instanceof tg.errors.JWTExpired, String(e));
    assert.equal(e.code, j.code);
    assert.equal(e.claim, j.claim);
    assert.equal(e.reason, j.reason);
  }
  // The clock pinned to the token's iat: a second boundary between minting and verifying
  // would otherwise make it one second old.
  const issued = now();
  const fresh = await hs(claims({ iat: issued }));
  const options = { maxTokenAge: 0, clockTolerance: 0, currentDate: new Date(issued * 1000) };
  assert.equal(tg.verify(fresh, secret, options).payload.sub, 'alice');
  assert.equal((await jose.jwtVerify(fresh, secret, options)).payload.sub, 'alice');
  const minuteOld = await hs(claims({ iat: issued - 60 }));
  assert.equal((await rejection(() => tg.verify(minuteOld, secret, options))).code, 'ERR_JWT_EXPIRED');
  await assert.rejects(jose.jwtVerify(minuteOld, secret, options), { code: 'ERR_JWT_EXPIRED' });
});

test('item 16: a header with an x5c chain fits the default; maxHeaderBytes bounds it', async () => {
  // Three 1.4 KB certificates in base64, as in App Store Server API notifications.
  const cert = Buffer.alloc(1050, 7).toString('base64');
  const token = await hs(claims(), { alg: 'HS256', x5c: [cert, cert, cert] });
  assert.ok(token.length > 5000 && token.split('.')[0].length > 4096, `${token.length}`);
  assert.equal(tg.verify(token, secret, {}).payload.sub, 'alice');
  assert.equal((await tg.jwtVerify(token, secret, {})).payload.sub, 'alice');
  const e = await rejection(() => tg.verify(token, secret, { maxHeaderBytes: 2048 }));
  assert.equal(e.code, 'ERR_JWT_TOO_LARGE');
  assert.equal((await rejection(() => tg.verify(token, secret, { maxHeaderBytes: 10 }))).code, 'ERR_POLICY_INVALID');
});

test('issue 15: an outage is a VerifierUnavailable, never a token error', async () => {
  reset([keys.old.jwk]);
  server.state.status = 503;
  const set = tg.createRemoteJWKSet(server.url);
  const e = await rejection(() => tg.jwtVerify('a.b.c', set, {}));
  assert.equal(e.code, 'ERR_JWKS_UNAVAILABLE');
  assert.ok(e instanceof tg.errors.VerifierUnavailable && e instanceof tg.errors.JOSEError);
  server.state.status = 200;
  server.state.delayMs = 300;
  const slow = tg.createRemoteJWKSet(server.url, { timeoutDuration: 50 });
  const t = await rejection(() => tg.jwtVerify('a.b.c', slow, {}));
  assert.equal(t.code, 'ERR_JWKS_TIMEOUT');
  assert.ok(t instanceof tg.errors.VerifierUnavailable);
  const expired = await hs(claims({ exp: now() - 3600 }));
  const bad = await rejection(() => tg.verify(expired, secret, {}));
  assert.ok(!(bad instanceof tg.errors.VerifierUnavailable), 'an expired token is a verdict');
  server.state.delayMs = 0;
});
