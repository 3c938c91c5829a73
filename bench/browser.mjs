// The npm package in headless Chromium (Debian's chromium, driven by playwright-core): each
// signature backend per algorithm, against jose on the same tokens in the same page, rounds
// interleaved, median kept. This is what chose the browser/workerd 'auto' defaults.
//
//   node bench/browser.mjs [--rounds 5] [--ms 300] [--algs HS256,RS256,PS256,ES256,ES384,EdDSA]
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_ALGS, accessClaims, option, tokenCases } from './runtime-tokens.mjs';

const JS = fileURLToPath(new URL('../js/', import.meta.url));
const require = createRequire(join(JS, 'package.json'));
const jose = await import(pathToFileURL(require.resolve('jose')).href);
const { chromium } = require('playwright-core');

const claims = accessClaims();
const algs = option('algs', DEFAULT_ALGS.join(',')).split(',');
const fixtures = { rounds: Number(option('rounds', 5)), ms: Number(option('ms', 300)), cases: await tokenCases(jose, algs, claims) };

const page = `<!doctype html><script type="importmap">{"imports":{"tokengate":"/lib/browser.js","jose":"/node_modules/jose/dist/webapi/index.js"}}</script>
<script type="module">
import * as tg from 'tokengate';
import * as jose from 'jose';
const f = await (await fetch('/fixtures.json')).json();
const options = { issuer: 'https://idp.example.com/realms/main', audience: 'orders-api' };
const wasmOptions = { ...options, signatureBackend: 'wasm' };
const webcryptoOptions = { ...options, signatureBackend: 'webcrypto' };
async function time(fn, ms) {
  let n = 0; const start = performance.now();
  while (performance.now() - start < ms) { for (let i = 0; i < 10; i++) await fn(); n += 10; }
  return n * 1000 / (performance.now() - start);
}
const out = [];
// Two passes, each with jose as its baseline: first as a page that only calls jwtVerify (the
// crypto module not loaded: every public-key signature in WebCrypto), then after
// loadCryptoModule() (the synchronous path, 'wasm', and 'auto' with P-384/P-521 in the module).
async function pass(contendersFor, label) {
  for (const [alg, c] of Object.entries(f.cases)) {
    const set = tg.createLocalJWKSet({ keys: [c.jwk] });
    const key = await jose.importJWK(c.jwk, alg);
    const contenders = { ...contendersFor(alg, c, set), 'jose jwtVerify (imported key)': () => jose.jwtVerify(c.token, key, options) };
    for (const fn of Object.values(contenders)) { const r = await fn(); if (r.payload.sub !== 'f0b1d2c3-4e5f-6789-abcd-ef0123456789') throw new Error(alg); }
    const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
    for (let r = 0; r < f.rounds; r++) for (const [k, fn] of Object.entries(contenders)) samples[k].push(await time(fn, f.ms));
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const base = median(samples['jose jwtVerify (imported key)']);
    for (const [k, xs] of Object.entries(samples)) out.push({ alg, name: k + label, ops: median(xs), ratio: median(xs) / base });
  }
}
await pass((alg, c, set) => ({
  'tokengate jwtVerify (auto)': () => tg.jwtVerify(c.token, set, options),
  ...(alg === 'HS256' ? {} : { 'tokengate jwtVerify (webcrypto)': () => tg.jwtVerify(c.token, set, webcryptoOptions) }),
}), '');
await tg.loadCryptoModule();
await pass((alg, c, set) => ({
  'tokengate verify (sync)': () => tg.verify(c.token, set, options),
  'tokengate jwtVerify (auto)': () => tg.jwtVerify(c.token, set, options),
  'tokengate jwtVerify (wasm)': () => tg.jwtVerify(c.token, set, wasmOptions),
}), ', crypto module loaded');
window.results = out;
</script>`;

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/') return res.end(page);
  if (path === '/fixtures.json') return res.end(JSON.stringify(fixtures));
  const file = join(JS, normalize(path));
  if (!file.startsWith(JS) || !existsSync(file)) {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const tab = await browser.newPage();
  const failed = new Promise((_, reject) => tab.on('pageerror', (e) => reject(e)));
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await Promise.race([failed, tab.waitForFunction(() => window.results !== undefined, null, { timeout: 600_000 })]);
  const results = await tab.evaluate(() => window.results);
  console.log(`Chromium ${browser.version()}, ${fixtures.rounds} interleaved rounds of ${fixtures.ms} ms, median; ratio = throughput / jose jwtVerify (imported key).\n`);
  console.log('| alg | contender | ops/s | us/op | vs jose |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.alg} | ${r.name} | ${Math.round(r.ops).toLocaleString('en-US')} | ${(1e6 / r.ops).toFixed(1)} | ${r.ratio.toFixed(2)}x |`);
  }
} finally {
  await browser.close();
  server.close();
}
