// Cold start: the time from a fresh isolate to the first verified token, tokengate against
// jose in the same run (issue 14's target: at most 2x jose's).
// - workerd: a new workerd process per sample, serving a worker that verifies one token on its
//   first request; the time from spawn to that answer, minus the same for a worker that
//   imports nothing (the runtime's own start), median of interleaved samples. A worker that
//   imports tokengate and verifies nothing shows how much of that is the module's own start.
// - Chromium: a new browser context (empty cache) per sample loading a page whose module
//   imports the library (esbuild bundle, minified; tokengate's .wasm fetched next to it) and
//   verifies one token; `performance.now()` at the verified token, median.
//
//   node bench/coldstart.mjs [--samples 9] [--algs ES256,RS256]
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { accessClaims, option, tokenCases } from './runtime-tokens.mjs';

const JS = fileURLToPath(new URL('../js/', import.meta.url));
const require = createRequire(join(JS, 'package.json'));
const jose = await import(pathToFileURL(require.resolve('jose')).href);
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');
const { startWorkerd } = await import(pathToFileURL(join(JS, 'test/workerd.mjs')).href);
const samples = Number(option('samples', 9));
const algs = option('algs', 'ES256,RS256').split(',');
const claims = accessClaims();
const cases = await tokenCases(jose, algs, claims);
const options = { issuer: claims.iss, audience: claims.aud };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const scratch = mkdtempSync(join(tmpdir(), 'tokengate-coldstart-'));

// Each contender's worker/page body: verify `token` with `jwk` once, answer the subject.
const bodies = {
  tokengate: `import { createLocalJWKSet, jwtVerify } from 'tokengate';
    export async function first(c, options) { return (await jwtVerify(c.token, createLocalJWKSet({ keys: [c.jwk] }), options)).payload.sub; }`,
  jose: `import { importJWK, jwtVerify } from 'jose';
    export async function first(c, options) { return (await jwtVerify(c.token, await importJWK(c.jwk, c.alg), options)).payload.sub; }`,
};

async function workerd() {
  // jose as one esbuild bundle (its WebCrypto build); tokengate as the package's modules.
  const joseBundle = join(scratch, 'jose-bundle.mjs');
  await esbuild.build({ stdin: { contents: "export { importJWK, jwtVerify } from 'jose';", resolveDir: JS },
    bundle: true, minify: true, format: 'esm', platform: 'neutral', conditions: ['worker', 'browser'], outfile: joseBundle });
  const workers = {};
  const empty = 'export async function first(c, options, sub) { return sub; }';
  // tokengate imported (its modules loaded, the .wasm compiled and instantiated), no token: the
  // part of its cold start that is the module itself rather than the first verification.
  const imported = `import 'tokengate';\n${empty}`;
  for (const [name, body] of Object.entries({ ...bodies, empty, imported })) {
    const path = join(scratch, `worker-${name}.mjs`);
    writeFileSync(path, `${body.replace("from 'jose'", "from 'jose-bundle'")}
      let input;
      export default {
        async fetch(request) {
          if (request.method !== 'POST') return new Response('ready');
          input ??= await request.json();
          return new Response(await first(input.c, input.options, input.sub));
        },
      };`);
    workers[name] = path;
  }
  const rows = [];
  for (const alg of algs) {
    const c = { ...cases[alg], alg };
    const times = { tokengate: [], jose: [], empty: [], imported: [] };
    for (let s = 0; s < samples; s++) {
      for (const name of Object.keys(times)) {
        const start = process.hrtime.bigint();
        const w = await startWorkerd(workers[name], {}, name === 'jose' ? [['jose-bundle', joseBundle]] : [], { pollMs: 1 });
        try {
          const res = await fetch(w.base, { method: 'POST', body: JSON.stringify({ c, options, sub: claims.sub }) });
          const sub = await res.text();
          if (sub !== claims.sub) throw new Error(`${name} ${alg}: ${res.status} ${sub}\n${w.stderr()}`);
          times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
        } finally {
          w.stop();
        }
      }
    }
    const base = median(times.empty);
    const tg = median(times.tokengate) - base;
    const jo = median(times.jose) - base;
    const im = median(times.imported) - base;
    rows.push(`| workerd | ${alg} | ${tg.toFixed(1)} | ${jo.toFixed(1)} | ${(tg / jo).toFixed(2)}x | ${im.toFixed(1)} | ${base.toFixed(1)} |`);
  }
  return rows;
}

async function browser() {
  const dir = join(scratch, 'www');
  for (const [name, body] of Object.entries(bodies)) {
    await esbuild.build({ stdin: { contents: body, resolveDir: JS }, bundle: true, minify: true, format: 'esm',
      platform: 'browser', outfile: join(dir, `${name}.js`), external: ['*.wasm'] });
  }
  // The browser entry fetches `../pkg/tokengate_js_bg.wasm` from its own URL, the bundle's.
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  copyFileSync(join(JS, 'pkg/tokengate_js_bg.wasm'), join(dir, 'pkg/tokengate_js_bg.wasm'));
  const page = (name, c) => `<!doctype html><script type="module">
    const start = performance.now();
    const { first } = await import('/${name}.js');
    const sub = await first(${JSON.stringify(c)}, ${JSON.stringify(options)});
    window.result = { sub, ms: performance.now() - start };
    </script>`;
  const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
  let current = '';
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') return res.end(current);
    const file = join(dir, path.replace(/^\/+/, '').replace(/\.\./g, ''));
    try {
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
      res.end(bytes);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const rows = [];
  try {
    for (const alg of algs) {
      const c = { ...cases[alg], alg };
      const times = { tokengate: [], jose: [] };
      for (let s = 0; s < samples; s++) {
        for (const name of Object.keys(times)) {
          current = page(name, c);
          const context = await b.newContext();
          const tab = await context.newPage();
          await tab.goto(`http://127.0.0.1:${server.address().port}/`);
          await tab.waitForFunction(() => window.result !== undefined, null, { timeout: 30_000 });
          const r = await tab.evaluate(() => window.result);
          if (r.sub !== claims.sub) throw new Error(`${name} ${alg}: ${JSON.stringify(r)}`);
          times[name].push(r.ms);
          await context.close();
        }
      }
      const tg = median(times.tokengate);
      const jo = median(times.jose);
      rows.push(`| Chromium | ${alg} | ${tg.toFixed(1)} | ${jo.toFixed(1)} | ${(tg / jo).toFixed(2)}x | | |`);
    }
  } finally {
    await b.close();
    server.close();
  }
  return rows;
}

try {
  const rows = [...(await workerd()), ...(await browser())];
  const version = require('workerd/package.json').version;
  console.log(`Cold start to the first verified token, median of ${samples} interleaved samples (ms); workerd ${version} (its own start subtracted), Chromium (fresh context).\n`);
  console.log('| runtime | alg | tokengate | jose | ratio | tokengate import only | workerd start |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
