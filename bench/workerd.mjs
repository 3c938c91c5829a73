// The npm package in workerd (the npm `workerd` binary, Cloudflare's runtime): tokengate's
// `jwtVerify` per signature backend against jose on the same tokens, in the same worker. Each
// request verifies one token N times; a request with N = 0 measures the HTTP overhead, which is
// subtracted. Rounds interleaved, median kept. This checks the 'auto' choice for workerd.
//
//   node bench/workerd.mjs [--rounds 7] [--n 200] [--algs HS256,RS256,PS256,ES256,ES384,EdDSA]
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_ALGS, accessClaims, option, tokenCases } from './runtime-tokens.mjs';

const JS = fileURLToPath(new URL('../js/', import.meta.url));
const require = createRequire(join(JS, 'package.json'));
const jose = await import(pathToFileURL(require.resolve('jose')).href);
const { startWorkerd } = await import(pathToFileURL(join(JS, 'test/workerd.mjs')).href);
const rounds = Number(option('rounds', 7));
const n = Number(option('n', 200));
const algs = option('algs', DEFAULT_ALGS.join(',')).split(',');

// jose's WebCrypto build, module by module, under the names its relative imports expect.
const joseDir = join(JS, 'node_modules/jose/dist/webapi');
const joseFiles = readdirSync(joseDir, { recursive: true }).filter((f) => f.endsWith('.js'));
const joseModules = joseFiles.map((f) => [`jose/${f}`, join(joseDir, f)]);
const scratch = mkdtempSync(join(tmpdir(), 'tokengate-bench-'));
const joseEntry = join(scratch, 'jose-entry.mjs');
writeFileSync(joseEntry, "export * from 'jose/index.js';\n");
joseModules.push(['jose', joseEntry]);

const workerd = await startWorkerd(fileURLToPath(new URL('workerd-worker.js', import.meta.url)), {}, joseModules);
try {
  const claims = accessClaims();
  const cases = await tokenCases(jose, algs, claims);
  const options = { issuer: claims.iss, audience: claims.aud };
  const time = async (body) => {
    const start = process.hrtime.bigint();
    const res = await fetch(workerd.base, { method: 'POST', body: JSON.stringify(body) });
    const sub = await res.text();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (body.n > 0 && sub !== claims.sub) throw new Error(`${body.alg} ${body.contender}: ${res.status} ${sub}\n${workerd.stderr()}`);
    return ms;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rows = [];
  for (const alg of algs) {
    const { token, jwk } = cases[alg];
    const contenders = ['sync', 'auto', 'wasm', ...(alg === 'HS256' ? [] : ['webcrypto']), 'jose'];
    const samples = Object.fromEntries(['overhead', ...contenders].map((c) => [c, []]));
    for (const c of contenders) await time({ token, jwk, alg, contender: c, n: 20, options }); // warm-up
    for (let r = 0; r < rounds; r++) {
      samples.overhead.push(await time({ token, jwk, alg, contender: 'wasm', n: 0, options }));
      for (const c of contenders) samples[c].push(await time({ token, jwk, alg, contender: c, n, options }));
    }
    const overhead = median(samples.overhead);
    const us = Object.fromEntries(contenders.map((c) => [c, ((median(samples[c]) - overhead) * 1000) / n]));
    for (const c of contenders) rows.push({ alg, c, us: us[c], ratio: us.jose / us[c] });
  }
  const version = require('workerd/package.json').version;
  console.log(`workerd ${version}, ${rounds} interleaved rounds of ${n} verifies per request, median, HTTP overhead subtracted; ratio = throughput / jose jwtVerify (imported key).\n`);
  console.log('| alg | contender | us/op | vs jose |\n|---|---|---:|---:|');
  const label = { sync: 'tokengate verify (sync, wasm)', auto: 'tokengate jwtVerify (auto)', wasm: 'tokengate jwtVerify (wasm)', webcrypto: 'tokengate jwtVerify (webcrypto)', jose: 'jose jwtVerify (imported key)' };
  for (const r of rows) console.log(`| ${r.alg} | ${label[r.c]} | ${r.us.toFixed(1)} | ${r.ratio.toFixed(2)}x |`);
} finally {
  workerd.stop();
  rmSync(scratch, { recursive: true, force: true });
}
