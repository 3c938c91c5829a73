// examples/browser.html in headless Chromium (Debian's `chromium`, driven by playwright-core),
// served from loopback: the package's browser entry, WebCrypto and the module's own arithmetic,
// and a remote JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

let server;
let browser;
let base;
let jwksRequests = 0;

before(async () => {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is not installed (scripts/setup-js.sh installs it)');
  const ec = await jose.generateKeyPair('ES256');
  const ed = await jose.generateKeyPair('EdDSA');
  const keys = [
    { ...(await jose.exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256' },
    { ...(await jose.exportJWK(ed.publicKey)), kid: 'ed', alg: 'EdDSA' },
  ];
  const t = Math.floor(Date.now() / 1000);
  const sign = (claims, key, header) => new jose.SignJWT({ iss: 'https://idp.example', aud: 'spa', sub: 'alice', iat: t, exp: t + 300, ...claims }).setProtectedHeader(header).sign(key);
  const good = await sign({}, ec.privateKey, { alg: 'ES256', kid: 'ec' });
  const [h, p] = good.split('.');
  const fixtures = {
    options: { issuer: 'https://idp.example', audience: 'spa' },
    tokens: {
      good,
      eddsa: await sign({ sub: 'bob' }, ed.privateKey, { alg: 'EdDSA', kid: 'ed' }),
      expired: await sign({ exp: t - 3600 }, ec.privateKey, { alg: 'ES256', kid: 'ec' }),
      wrongAudience: await sign({ aud: 'other' }, ec.privateKey, { alg: 'ES256', kid: 'ec' }),
      badSignature: `${h}.${p}.${'A'.repeat(86)}`,
      unknownKid: await sign({}, ec.privateKey, { alg: 'ES256', kid: 'gone' }),
      malformed: 'e30.e30',
    },
  };
  server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/fixtures.json') return res.end(JSON.stringify(fixtures));
    if (path === '/blank.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!doctype html><script type="importmap">{ "imports": { "tokengate": "/lib/browser.js" } }</script>');
    }
    if (path === '/jwks.json') {
      jwksRequests++;
      return res.end(JSON.stringify({ keys }));
    }
    const file = path === '/' ? join(ROOT, 'examples/browser.html') : join(ROOT, normalize(path));
    if (!file.startsWith(ROOT) || !existsSync(file)) {
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
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('chromium: the browser entry verifies good tokens and rejects bad ones with codes', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base);
  await page.waitForFunction(() => window.tokengateResults !== undefined, null, { timeout: 20_000 }).catch(() => {});
  const results = await page.evaluate(() => window.tokengateResults);
  assert.deepEqual(errors, []);
  assert.ok(results, 'the page produced no results');
  assert.deepEqual(results.good, { ok: true, sub: 'alice' });
  assert.deepEqual(results.eddsa, { ok: true, sub: 'bob' });
  assert.deepEqual(results.sync, { ok: true, sub: 'alice' });
  assert.equal(results.expired.code, 'ERR_JWT_EXPIRED');
  assert.equal(results.expired.name, 'JWTExpired');
  assert.equal(results.wrongAudience.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  assert.equal(results.badSignature.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  assert.equal(results.unknownKid.code, 'ERR_JWKS_NO_MATCHING_KEY');
  assert.equal(results.malformed.code, 'ERR_JWS_INVALID');
  // One fetch, plus at most one refetch for the unknown kid.
  assert.ok(jwksRequests >= 1 && jwksRequests <= 2, `${jwksRequests} JWKS requests`);

  // Every signature backend in this browser, ES256 and EdDSA (WebCrypto under 'auto', the
  // crypto module under 'wasm'): the same verdicts, whichever does the arithmetic.
  const verdicts = await page.evaluate(async () => {
    const tg = await import('tokengate');
    const f = await (await fetch('/fixtures.json')).json();
    const set = tg.createLocalJWKSet(await (await fetch('/jwks.json')).json());
    const out = {};
    for (const backend of ['auto', 'wasm', 'webcrypto']) {
      for (const name of ['good', 'eddsa', 'badSignature']) {
        try {
          const { payload } = await tg.jwtVerify(f.tokens[name], set, { ...f.options, signatureBackend: backend });
          out[`${backend} ${name}`] = payload.sub;
        } catch (error) {
          out[`${backend} ${name}`] = error.code;
        }
      }
    }
    return out;
  });
  for (const backend of ['auto', 'wasm', 'webcrypto']) {
    assert.equal(verdicts[`${backend} good`], 'alice', backend);
    assert.equal(verdicts[`${backend} eddsa`], 'bob', backend);
    assert.equal(verdicts[`${backend} badSignature`], 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', backend);
  }
  await page.close();
});

test('chromium: the crypto module is fetched only when a verification needs it', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}blank.html`);
  const seen = await page.evaluate(async () => {
    const fetched = () => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/pkg/tokengate_crypto_bg.wasm'));
    const tg = await import('tokengate');
    const f = await (await fetch('/fixtures.json')).json();
    const set = tg.createLocalJWKSet(await (await fetch('/jwks.json')).json());
    const out = {};
    for (const name of ['good', 'eddsa', 'badSignature']) {
      try {
        out[name] = (await tg.jwtVerify(f.tokens[name], set, f.options)).payload.sub;
      } catch (error) {
        out[name] = error.code;
      }
    }
    out.fetchedByJwtVerify = fetched();
    try {
      tg.verify(f.tokens.good, set, f.options);
      out.syncBeforeLoad = 'verified';
    } catch (error) {
      out.syncBeforeLoad = `${error.name} ${error.code} ${error instanceof tg.errors.VerifierUnavailable}`;
    }
    await Promise.all([tg.loadCryptoModule(), tg.loadCryptoModule()]);
    out.fetchedByLoad = fetched();
    out.syncAfterLoad = tg.verify(f.tokens.eddsa, set, f.options).payload.sub;
    try {
      tg.verify(f.tokens.badSignature, set, f.options);
    } catch (error) {
      out.syncBad = error.code;
    }
    return out;
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(seen, {
    good: 'alice',
    eddsa: 'bob',
    badSignature: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    fetchedByJwtVerify: false,
    syncBeforeLoad: 'CryptoModuleUnavailable ERR_CRYPTO_MODULE_UNAVAILABLE true',
    fetchedByLoad: true,
    syncAfterLoad: 'bob',
    syncBad: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  });
  await page.close();
});
