// The package as web apps consume it: an app that does `import { jwtVerify } from 'tokengate'`,
// bundled by esbuild, webpack and Rollup (each through its own API, with its defaults for a
// browser build and tree shaking on), then run in headless Chromium. A bundler that dropped the
// browser entry's initialisation (`"sideEffects": false` once made them do so) fails here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import * as esbuild from 'esbuild';
import webpack from 'webpack';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

// The app: one good token and one expired token, results on `window`; then the synchronous
// API, which needs the crypto module (a second .wasm the bundle must locate too).
const APP = `
import { jwtVerify, createLocalJWKSet, loadCryptoModule, verify } from 'tokengate';
const f = await (await fetch('/fixtures.json')).json();
const keys = createLocalJWKSet(f.jwks);
const outcome = (p) => p.then((r) => ({ ok: true, sub: r.payload.sub }), (e) => ({ ok: false, code: e.code }));
const results = { good: await outcome(jwtVerify(f.good, keys, f.options)), expired: await outcome(jwtVerify(f.expired, keys, f.options)) };
await loadCryptoModule();
results.sync = verify(f.good, keys, f.options).payload.sub;
window.results = results;
`;

const BUNDLERS = {
  async esbuild(entry, out) {
    await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: join(out, 'app.js'), logLevel: 'silent' });
  },
  async webpack(entry, out) {
    const stats = await new Promise((resolve, reject) =>
      webpack({
        mode: 'production',
        target: 'web',
        entry,
        output: { path: out, filename: 'app.js', module: true, chunkFormat: 'module' },
        experiments: { outputModule: true },
      }).run((err, s) => (err ? reject(err) : resolve(s))));
    assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  },
  async rollup(entry, out) {
    const bundle = await rollup({ input: entry, plugins: [nodeResolve({ browser: true })], onwarn: () => {} });
    await bundle.write({ file: join(out, 'app.js'), format: 'es' });
    await bundle.close();
  },
};

let work;
let server;
let browser;
let base;

before(async () => {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is not installed (scripts/js-test.sh installs it)');
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
  const t = Math.floor(Date.now() / 1000);
  const sign = (claims) => new jose.SignJWT({ iss: 'https://idp.example', aud: 'spa', sub: 'alice', iat: t, exp: t + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'ec' }).sign(privateKey);
  const fixtures = JSON.stringify({
    jwks: { keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'ec', alg: 'ES256' }] },
    options: { issuer: 'https://idp.example', audience: 'spa' },
    good: await sign({}),
    expired: await sign({ exp: t - 3600 }),
  });

  // A web app's folder: its entry, and the package installed under node_modules.
  work = mkdtempSync(join(tmpdir(), 'tokengate-bundlers-'));
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(ROOT, join(work, 'node_modules', 'tokengate'), 'dir');
  writeFileSync(join(work, 'app.js'), APP);
  for (const [name, bundle] of Object.entries(BUNDLERS)) {
    const out = join(work, 'dist', name);
    mkdirSync(out, { recursive: true });
    await bundle(join(work, 'app.js'), out);
    writeFileSync(join(out, 'index.html'), '<!doctype html><script type="module" src="app.js"></script>');
  }

  // dist/<bundler>/ as the site; /pkg/ is where `new URL('../pkg/..', import.meta.url)` points
  // from a bundle that leaves the wasm file to the app (esbuild, Rollup); webpack emits its own.
  server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/fixtures.json') return res.end(fixtures);
    const file = path.startsWith('/pkg/') ? join(ROOT, normalize(path)) : join(work, 'dist', normalize(path.endsWith('/') ? `${path}index.html` : path));
    if (!(file.startsWith(ROOT) || file.startsWith(work)) || !existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const name of Object.keys(BUNDLERS)) {
  test(`${name}: a bundled app verifies in Chromium (the browser entry's initialisation survives tree shaking)`, async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}${name}/`);
    await page.waitForFunction(() => window.results !== undefined, null, { timeout: 20_000 }).catch(() => {});
    const results = await page.evaluate(() => window.results);
    await page.close();
    assert.deepEqual(errors, []);
    assert.deepEqual(results, { good: { ok: true, sub: 'alice' }, expired: { ok: false, code: 'ERR_JWT_EXPIRED' }, sync: 'alice' });
  });
}
