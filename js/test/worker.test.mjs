// examples/worker.js in a real workerd (npm `workerd`), verifying tokens over HTTP against a
// loopback JWKS server: 200 with claims, 401 with the error code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { startJwksServer } from './jwks-server.mjs';

const js = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const WORKERD = js('node_modules/.bin/workerd');

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// Modules are named like the package's files, so the package's relative imports resolve; the
// worker's bare `tokengate` import resolves to the workerd entry, as the `workerd` export
// condition does in a bundler.
function config(dir, port, jwksUrl) {
  // Embedded paths are relative to the config file.
  const esm = (name, path) => `(name = "${name}", esModule = embed "${relative(dir, path)}")`;
  const modules = [
    esm('worker.js', js('examples/worker.js')),
    `(name = "tokengate", esModule = "export * from 'lib/workerd.js';")`,
    ...['workerd', 'api', 'errors', 'keys', 'options', 'webcrypto'].map((m) => esm(`lib/${m}.js`, js(`lib/${m}.js`))),
    esm('pkg/tokengate_js.js', js('pkg/tokengate_js.js')),
    `(name = "pkg/tokengate_js_bg.wasm", wasm = embed "${relative(dir, js('pkg/tokengate_js_bg.wasm'))}")`,
  ];
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${modules.join(',\n    ')}],
  compatibilityDate = "2025-01-01",
  bindings = [
    (name = "JWKS_URL", text = "${jwksUrl}"),
    (name = "ISSUER", text = "https://idp.example"),
    (name = "AUDIENCE", text = "api"),
  ],
);
`;
}

let jwks;
let workerd;
let base;
let privateKey;
let stderr = '';

before(async () => {
  jwks = await startJwksServer();
  const pair = await jose.generateKeyPair('RS256');
  privateKey = pair.privateKey;
  jwks.state.jwks = { keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: 'w1', alg: 'RS256' }] };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-workerd-'));
  writeFileSync(join(dir, 'config.capnp'), config(dir, port, jwks.url));
  workerd = spawn(WORKERD, ['serve', join(dir, 'config.capnp'), '--verbose'], { stdio: ['ignore', 'ignore', 'pipe'] });
  workerd.stderr.on('data', (d) => { stderr += d; });
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(base);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`workerd did not start:\n${stderr}`);
});

after(async () => {
  workerd?.kill();
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
    assert.equal(r.status, 200, `${JSON.stringify(r.body)}\n${stderr}`);
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
