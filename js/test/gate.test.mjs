// createGate in Node: the Envoy filter's configuration and decisions for Fetch `Request`s and
// Node's `http`, with remote documents fetched through `fetch`, shared, refreshed and stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import * as jose from 'jose';
import { cacheStore, createGate, errors } from 'tokengate/gate';
import { startJwksServer } from './jwks-server.mjs';

const ISS = 'https://idp.gate.test';
let es;
let esJwk;
let jwks;

before(async () => {
  es = await jose.generateKeyPair('ES256');
  esJwk = { ...(await jose.exportJWK(es.publicKey)), kid: 'k1', alg: 'ES256' };
  jwks = await startJwksServer();
  jwks.state.jwks = { keys: [esJwk] };
});

after(async () => {
  await jwks?.close();
});

const sign = (claims = {}, { key = es.privateKey, kid = 'k1', exp = '5m', alg = 'ES256' } = {}) =>
  new jose.SignJWT({ scope: 'read', ...claims }).setProtectedHeader({ alg, kid }).setIssuer(ISS)
    .setAudience('api').setSubject('alice').setIssuedAt().setExpirationTime(exp).sign(key);

function config(provider = {}, extra = {}) {
  return {
    realm: 'api',
    providers: {
      idp: {
        issuer: ISS, audiences: ['api'], algorithms: ['ES256', 'RS256'],
        remote_jwks: { cluster: 'idp', authority: 'idp.gate.test', path: '/.well-known/jwks.json', unknown_kid_cooldown_seconds: 30 },
        from_headers: [{ name: 'authorization', value_prefix: 'Bearer ' }],
        from_cookies: ['session'], from_params: ['access_token'],
        claim_to_headers: [{ header_name: 'x-sub', claim_name: 'sub' }],
        ...provider,
      },
    },
    rules: [
      { match: { prefix: '/public' } },
      { match: { prefix: '/admin' }, requires: { provider_name: 'idp' }, scopes_all: ['admin'] },
      { match: { prefix: '/' }, requires: { provider_name: 'idp' } },
    ],
    ...extra,
  };
}

const options = (more = {}) => ({ clusters: { idp: new URL(jwks.url).origin }, ...more });

test('gate: a good token is forwarded with its claim headers and without the token', async () => {
  const gate = createGate(config(), options());
  const token = await sign();
  const { request, claims, response, audit } = await gate.handle(new Request('https://api.test/orders?x=1', {
    headers: { authorization: `Bearer ${token}`, 'x-sub': 'mallory', 'X_Sub': 'mallory' },
  }));
  assert.equal(response, undefined);
  assert.equal(request.headers.get('x-sub'), 'alice');
  assert.equal(request.headers.get('authorization'), null);
  assert.equal(request.headers.get('x_sub'), null, 'a spoofed spelling is removed');
  assert.equal(request.url, 'https://api.test/orders?x=1');
  assert.equal(claims.sub, 'alice');
  assert.deepEqual({ ...audit }, { route: 2, provider: 'idp', verdict: 'allow', code: '-', metric: 'allowed' });
});

test('gate: refusals are RFC 6750 responses with the stable code', async () => {
  const gate = createGate(config(), options());
  const cases = [
    [{}, '/orders', 401, 'Bearer realm="api"', 'ERR_JWT_MISSING'],
    [{ authorization: `Bearer ${await sign({}, { exp: Math.floor(Date.now() / 1000) - 60 })}` }, '/orders', 401,
      'Bearer realm="api", error="invalid_token", error_description="ERR_JWT_EXPIRED"', 'ERR_JWT_EXPIRED'],
    [{ authorization: `Bearer ${await sign()}` }, '/admin/x', 403,
      'Bearer realm="api", error="insufficient_scope", error_description="ERR_JWT_INSUFFICIENT_SCOPE", scope="admin"', 'ERR_JWT_INSUFFICIENT_SCOPE'],
    [{}, '/admin%2Fx', 400, 'Bearer realm="api", error="invalid_request", error_description="ERR_PATH_NOT_NORMALIZED"', 'ERR_PATH_NOT_NORMALIZED'],
  ];
  for (const [headers, path, status, challenge, code] of cases) {
    const { response } = await gate.handle(new Request(`https://api.test${path}`, { headers }));
    assert.equal(response.status, status, path);
    assert.equal(response.headers.get('www-authenticate'), challenge);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.deepEqual(JSON.parse(await response.text()).code, code);
  }
  const grpc = await gate.handle(new Request('https://api.test/svc/Call', { method: 'POST', headers: { 'content-type': 'application/grpc' } }));
  assert.equal(grpc.response.status, 200);
  assert.equal(grpc.response.headers.get('grpc-status'), '16');
});

test('gate: query and cookie tokens are removed from the forwarded request', async () => {
  const gate = createGate(config(), options());
  const token = await sign();
  const q = await gate.handle(new Request(`https://api.test/orders?a=1&access_token=${token}&b=2`));
  assert.equal(q.request.url, 'https://api.test/orders?a=1&b=2');
  const c = await gate.handle(new Request('https://api.test/orders', { headers: { cookie: `theme=dark; session=${token}` } }));
  assert.equal(c.request.headers.get('cookie'), 'theme=dark');
  const both = await gate.handle(new Request(`https://api.test/orders?access_token=${token}`, { headers: { authorization: `Bearer ${token}` } }));
  assert.equal(both.response.status, 401);
  assert.match(both.response.headers.get('www-authenticate'), /ERR_JWT_AMBIGUOUS/);
});

test('gate: concurrent first requests share one key fetch; an unknown kid refetches once per cooldown, counted from the last attempt', async () => {
  const server = await startJwksServer();
  server.state.jwks = { keys: [esJwk] };
  server.state.delayMs = 50;
  try {
    const gate = createGate(config({ remote_jwks: { cluster: 'idp', authority: 'idp.gate.test', path: '/jwks.json', unknown_kid_cooldown_seconds: 1 } }),
      { clusters: { idp: new URL(server.url).origin } });
    const token = await sign();
    const results = await Promise.all(Array.from({ length: 20 }, () =>
      gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${token}` } }))));
    assert.ok(results.every((r) => r.request !== undefined));
    assert.equal(server.state.requests, 1);

    const rs = await jose.generateKeyPair('RS256');
    server.state.jwks = { keys: [esJwk, { ...(await jose.exportJWK(rs.publicKey)), kid: 'k2', alg: 'RS256' }] };
    const rotated = await sign({}, { key: rs.privateKey, kid: 'k2', alg: 'RS256' });
    const early = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${rotated}` } }));
    assert.match(early.response.headers.get('www-authenticate'), /ERR_JWKS_NO_MATCHING_KEY/, 'within 1 s of the last fetch');
    assert.equal(server.state.requests, 1);
    await new Promise((r) => setTimeout(r, 1100));
    const r = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${rotated}` } }));
    assert.equal(r.claims?.sub, 'alice', 'the new key is fetched and the request verified');
    assert.equal(server.state.requests, 2);
    const unknown = await sign({}, { kid: 'k3' });
    for (let i = 0; i < 5; i++) {
      const u = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${unknown}` } }));
      assert.match(u.response.headers.get('www-authenticate'), /ERR_JWKS_NO_MATCHING_KEY/);
    }
    assert.equal(server.state.requests, 2, 'within the cooldown, no fetch per unknown kid');
  } finally {
    await server.close();
  }
});

test('gate: an unreachable key server is 503 with Retry-After, and not asked per request', async () => {
  const server = await startJwksServer();
  server.state.status = 500;
  try {
    const gate = createGate(config(), { clusters: { idp: new URL(server.url).origin } });
    const token = await sign();
    for (let i = 0; i < 5; i++) {
      const { response } = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${token}` } }));
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      assert.equal(response.headers.get('www-authenticate'), null, 'an outage is no verdict on the token');
    }
    assert.equal(server.state.requests, 1);
  } finally {
    await server.close();
  }
});

test('gate: a store shares fetched keys between gates (KV-style and the Cache API adapter)', async () => {
  const server = await startJwksServer();
  server.state.jwks = { keys: [esJwk] };
  const responses = new Map();
  // The Cache API's surface: match(url) and put(url, Response).
  const cache = {
    async match(url) {
      const body = responses.get(url);
      return body === undefined ? undefined : new Response(body);
    },
    async put(url, response) {
      responses.set(url, await response.text());
    },
  };
  try {
    for (const store of [new Map(), cacheStore(cache)]) {
      const before = server.state.requests;
      const token = await sign();
      for (let i = 0; i < 3; i++) {
        const gate = createGate(config(), { clusters: { idp: new URL(server.url).origin }, store });
        const r = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${token}` } }));
        assert.equal(r.claims?.sub, 'alice');
      }
      assert.equal(server.state.requests - before, 1, 'the second and third gates read the store');
    }
    assert.equal(responses.size, 1);
  } finally {
    await server.close();
  }
});

test('gate: a remote denylist revokes by jti', async () => {
  const server = await startJwksServer();
  server.state.body = JSON.stringify({ jti: ['revoked-1'] });
  try {
    const gate = createGate(config({ denylist: { cluster: 'deny', authority: 'deny.test', path: '/denylist.json' } }),
      options({ clusters: { idp: new URL(jwks.url).origin, deny: new URL(server.url).origin } }));
    const revoked = await new jose.SignJWT({ jti: 'revoked-1' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISS)
      .setAudience('api').setExpirationTime('5m').sign(es.privateKey);
    const r = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${revoked}` } }));
    assert.match(r.response.headers.get('www-authenticate'), /ERR_JWT_REVOKED/);
    const ok = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${await sign()}` } }));
    assert.equal(ok.claims?.sub, 'alice');
  } finally {
    await server.close();
  }
});

test('gate: Node http adapter edits the request in place and sees repeated headers', async () => {
  const gate = createGate(config(), options());
  const seen = [];
  const server = createServer(async (req, res) => {
    const r = await gate.handleNode(req, res);
    if (!r.allowed) return;
    seen.push({ url: req.url, sub: req.headers['x-sub'], auth: req.headers.authorization, raw: req.rawHeaders.join('|') });
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const send = (path, headers) => new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.address().port, path, headers: ['host', 'api.test', ...headers] }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, challenge: res.headers['www-authenticate'], body }));
    });
    req.on('error', reject);
    req.end();
  });
  try {
    const token = await sign();
    assert.equal((await send(`/orders?access_token=${token}&b=1`, [])).status, 200);
    assert.deepEqual(seen.pop(), { url: '/orders?b=1', sub: 'alice', auth: undefined, raw: 'host|api.test|Connection|keep-alive|x-sub|alice' });
    const twice = await send('/orders', ['authorization', `Bearer ${token}`, 'authorization', `Bearer ${token}`]);
    assert.equal(twice.status, 401);
    assert.match(twice.challenge, /ERR_JWT_AMBIGUOUS/);
    const none = await send('/orders', []);
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.body).code, 'ERR_JWT_MISSING');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('gate: configuration errors name the field', () => {
  const cases = [
    [config({ audiences: [] }), /providers\.idp\.policy/],
    [{ ...config(), rules: [{ match: { prefix: '/' }, requires: { provider_name: 'nobody' } }] }, /rules\[0\]\.requires/],
    [{ providers: {} }, /providers: at least one provider/],
    ['{not json', /configuration/],
    [config({ discovery: { cluster: 'idp', authority: 'a' } }), /use remote_jwks or discovery, not both/],
  ];
  for (const [c, message] of cases) {
    assert.throws(() => createGate(c, options()), (e) => e instanceof errors.ConfigError && e.code === 'ERR_GATE_CONFIG' && message.test(e.message));
  }
});

test('gate: the decision log never holds the token', async () => {
  const logged = [];
  const gate = createGate(config(), options({ onDecision: (a) => logged.push(JSON.stringify(a)) }));
  const token = await sign();
  await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${token}` } }));
  await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${token}x` } }));
  assert.equal(logged.length, 2);
  assert.ok(logged.every((l) => !l.includes(token.split('.')[2].slice(0, 20))));
});

test('gate: OIDC discovery follows jwks_uri, refuses another issuer\'s metadata, and follows a moved key set', async () => {
  const k2 = await jose.generateKeyPair('ES256');
  const k2Jwk = { ...(await jose.exportJWK(k2.publicKey)), kid: 'k2', alg: 'ES256' };
  const served = { issuer: ISS, jwks_uri: 'https://keys.gate.test/a' };
  const hits = {};
  const server = createServer((req, res) => {
    hits[req.url] = (hits[req.url] ?? 0) + 1;
    const body = {
      '/.well-known/openid-configuration': served,
      '/a': { keys: [esJwk] },
      '/b': { keys: [k2Jwk] },
    }[req.url];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? {}));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const discovering = config({
    remote_jwks: undefined,
    discovery: { cluster: 'idp', authority: 'idp.gate.test', refresh_seconds: 1 },
  });
  const ask = (gate, token) => gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${token}` } }));
  try {
    const gate = createGate(discovering, { clusters: { idp: origin } });
    const r1 = await ask(gate, await sign());
    assert.equal(r1.response, undefined, await r1.response?.text());
    assert.equal(r1.claims.sub, 'alice');
    assert.deepEqual(hits, { '/.well-known/openid-configuration': 1, '/a': 1 });

    // The issuer moves its keys: the next metadata names /b, and a k2 token verifies there.
    served.jwks_uri = 'https://keys.gate.test/b';
    await new Promise((r) => setTimeout(r, 1100));
    const r2 = await ask(gate, await sign({}, { key: k2.privateKey, kid: 'k2' }));
    assert.equal(r2.response, undefined, await r2.response?.text());
    assert.equal(hits['/b'], 1);

    // Metadata of another issuer names no key set: a new gate has none, and fails closed.
    served.issuer = 'https://evil.example';
    const refused = createGate(discovering, { clusters: { idp: origin } });
    const r3 = await ask(refused, await sign());
    assert.equal(r3.response.status, 503);
    assert.equal(JSON.parse(await r3.response.text()).code, 'ERR_JWKS_UNAVAILABLE');
    assert.equal(hits['/a'], 1, 'no key set fetched for refused metadata');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('gate: each document is bounded by its own size, as in the Envoy filter (2 MiB denylist read, 300 KiB metadata not)', async () => {
  // A denylist of 2 MiB (past the 1 MiB a key set may take, within the 32 MiB of a denylist).
  const ids = Array.from({ length: 90_000 }, (_, i) => `id-${String(i).padStart(20, '0')}`);
  ids.push('revoked-big');
  const server = await startJwksServer();
  server.state.body = JSON.stringify({ jti: ids });
  try {
    assert.ok(server.state.body.length > 2 << 20, `${server.state.body.length} bytes`);
    const gate = createGate(config({ denylist: { cluster: 'deny', authority: 'deny.test', path: '/denylist.json' } }),
      options({ clusters: { idp: new URL(jwks.url).origin, deny: new URL(server.url).origin } }));
    const revoked = await sign({ jti: 'revoked-big' });
    const r = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${revoked}` } }));
    assert.match(r.response?.headers.get('www-authenticate') ?? '', /ERR_JWT_REVOKED/);
  } finally {
    await server.close();
  }

  // Discovery metadata of 300 KiB (past its 256 KiB) is not read: no key set, 503.
  const metadata = JSON.stringify({ issuer: ISS, jwks_uri: 'https://keys.gate.test/a', pad: 'x'.repeat(300 << 10) });
  const hits = {};
  const idp = createServer((req, res) => {
    hits[req.url] = (hits[req.url] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/a' ? JSON.stringify({ keys: [esJwk] }) : metadata);
  });
  await new Promise((r) => idp.listen(0, '127.0.0.1', r));
  try {
    const gate = createGate(config({ remote_jwks: undefined, discovery: { cluster: 'idp', authority: 'idp.gate.test' } }),
      { clusters: { idp: `http://127.0.0.1:${idp.address().port}` } });
    const r = await gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${await sign()}` } }));
    assert.equal(r.response?.status, 503);
    assert.equal(hits['/a'], undefined, 'no key set fetched');
  } finally {
    idp.closeAllConnections();
    await new Promise((r) => idp.close(r));
  }
});

test('gate: signatures go to WebCrypto (RSA, P-256) once per new token, key by key without a kid; P-384 stays in the module; WebCrypto decides the signature only', async () => {
  const real = globalThis.crypto;
  const es384 = await jose.generateKeyPair('ES384');
  const es384Jwk = { ...(await jose.exportJWK(es384.publicKey)), kid: 'k3', alg: 'ES384' };
  jwks.state.jwks = { keys: [esJwk, es384Jwk] };
  const calls = [];
  let mode = 'real';
  const subtle = {
    importKey: (...a) => real.subtle.importKey(...a),
    verify(params, key, signature, data) {
      calls.push(key.algorithm.namedCurve ?? key.algorithm.name);
      if (mode === 'lie') return Promise.resolve(true);
      if (mode === 'throw') return Promise.reject(new Error('boom'));
      if (mode === 'throw-sync') throw new Error('boom');
      return real.subtle.verify(params, key, signature, data);
    },
  };
  const withCrypto = (make) => {
    Object.defineProperty(globalThis, 'crypto', { value: { subtle }, configurable: true, writable: true });
    try {
      return make();
    } finally {
      Object.defineProperty(globalThis, 'crypto', { value: real, configurable: true, writable: true });
    }
  };
  const cfg = config({ algorithms: ['ES256', 'ES384'] });
  const ask = (gate, token) => gate.handle(new Request('https://api.test/orders', { headers: { authorization: `Bearer ${token}` } }));
  const code = async (r) => (r.response === undefined ? 'allowed' : JSON.parse(await r.response.text()).code);
  try {
    const gate = withCrypto(() => createGate(cfg, options()));
    const good = await sign();
    assert.equal(await code(await ask(gate, good)), 'allowed');
    assert.deepEqual(calls, ['P-256']);
    // The verified token is cached: WebCrypto is not asked again.
    assert.equal(await code(await ask(gate, good)), 'allowed');
    assert.deepEqual(calls, ['P-256']);
    // A signature WebCrypto refuses is refused.
    const forged = good.slice(0, good.lastIndexOf('.') + 1) + Buffer.alloc(64, 7).toString('base64url');
    assert.equal(await code(await ask(gate, forged)), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    assert.equal(calls.length, 2);
    // P-384 is the module's (the auto rule): WebCrypto never sees it.
    const t384 = await new jose.SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'ES384', kid: 'k3' }).setIssuer(ISS)
      .setAudience('api').setSubject('alice').setExpirationTime('5m').sign(es384.privateKey);
    assert.equal(await code(await ask(gate, t384)), 'allowed');
    assert.equal(calls.length, 2);
    // WebCrypto decides the signature and nothing else: a WebCrypto that says yes to
    // anything cannot pass an expired token; one that throws is a refusal.
    mode = 'lie';
    assert.equal(await code(await ask(gate, await sign({}, { exp: '-1m' }))), 'ERR_JWT_EXPIRED');
    mode = 'throw';
    assert.equal(await code(await ask(gate, await sign({ n: 1 }))), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    mode = 'throw-sync';
    assert.equal(await code(await ask(gate, await sign({ n: 2 }))), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // Many at once: each request's verdict is its own.
    mode = 'real';
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, n) => sign({ n: n + 10 })));
    const mixed = tokens.map((t, n) => (n % 2 === 0 ? t : t.slice(0, t.lastIndexOf('.') + 1) + Buffer.alloc(64, n).toString('base64url')));
    const codes = await Promise.all(mixed.map(async (t) => code(await ask(gate, t))));
    assert.deepEqual(codes, mixed.map((_, n) => (n % 2 === 0 ? 'allowed' : 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')));
    // A token without a kid and two keys that could verify it: WebCrypto is asked key by key,
    // the second verifies; a stranger's signature is refused after both.
    const [first, second, stranger] = await Promise.all([0, 1, 2].map(() => jose.generateKeyPair('ES256')));
    jwks.state.jwks = { keys: [await jose.exportJWK(first.publicKey), await jose.exportJWK(second.publicKey)] };
    const kidless = withCrypto(() => createGate(cfg, options()));
    const signKidless = (key) => new jose.SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISS)
      .setAudience('api').setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(key);
    const sent = calls.length;
    assert.equal(await code(await ask(kidless, await signKidless(second.privateKey))), 'allowed');
    assert.equal(calls.length - sent, 2);
    assert.equal(await code(await ask(kidless, await signKidless(stranger.privateKey))), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    assert.equal(calls.length - sent, 4);
    jwks.state.jwks = { keys: [esJwk, es384Jwk] };
    // signatureBackend "wasm": the module checks everything.
    const before = calls.length;
    const moduleOnly = withCrypto(() => createGate(cfg, options({ signatureBackend: 'wasm' })));
    assert.equal(await code(await ask(moduleOnly, await sign({ n: 99 }))), 'allowed');
    assert.equal(calls.length, before);
    assert.throws(() => createGate(cfg, options({ signatureBackend: 'node' })), { code: 'ERR_GATE_CONFIG' });
  } finally {
    jwks.state.jwks = { keys: [esJwk] };
  }
});

test('gate: header values cross to the module exactly, whatever they hold (NUL, ":", digits, non-Latin-1)', async () => {
  const gate = createGate(config(), options());
  const token = await sign();
  const odd = ['12:', 'a\0b:c', '\u{1F600}:x', '', '3:abc'];
  const d = await gate.decide({
    method: 'GET', target: '/orders',
    headers: [...odd.flatMap((v, i) => [`x-odd-${i}`, v]), 'authorization', `Bearer ${token}`, 'x-sub', 'mallory'],
  });
  assert.equal(d.allowed, true);
  assert.deepEqual(d.edits.find(([op, name]) => op === 'set' && name === 'x-sub'), ['set', 'x-sub', 'alice']);
  // A NUL inside the credential is part of it: refused, not cut short.
  const nul = await gate.decide({ method: 'GET', target: '/orders', headers: ['authorization', `Bearer ${token}\0`] });
  assert.equal(nul.allowed, false);
  assert.equal(nul.status, 401);
});
