// The npm gate in workerd: one decision per new token (each token differs, so the gate's token
// cache never hits: the cost of a first request), with the gate checking signatures through
// WebCrypto ("auto") or in the module ("wasm"), next to jose's bare `jwtVerify` of the same
// tokens in the same worker. Each request decides `--tokens` tokens; a request with none
// measures the HTTP overhead, which is subtracted. Rounds interleaved, median kept.
//
//   node bench/workerd-gate.mjs [--rounds 5] [--tokens 400] [--algs RS256,ES256,...]
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_ALGS, accessClaims, option, tokenCases } from './runtime-tokens.mjs';
import { joseWorkerdModules } from './workerd-jose.mjs';

const JS = fileURLToPath(new URL('../js/', import.meta.url));
const require = createRequire(join(JS, 'package.json'));
const jose = await import(pathToFileURL(require.resolve('jose')).href);
const { startWorkerd } = await import(pathToFileURL(join(JS, 'test/workerd.mjs')).href);
const rounds = Number(option('rounds', 5));
const count = Number(option('tokens', 400));
const algs = option('algs', DEFAULT_ALGS.join(',')).split(',');

const joseModules = joseWorkerdModules(JS);
const workerd = await startWorkerd(fileURLToPath(new URL('workerd-gate-worker.js', import.meta.url)), {}, joseModules.modules, { gate: true });
try {
  const claims = accessClaims();
  const cases = await tokenCases(jose, algs, claims, count);
  const contenders = ['auto', 'wasm', 'jose'];
  const time = async (body, want) => {
    const start = process.hrtime.bigint();
    const res = await fetch(workerd.base, { method: 'POST', body: JSON.stringify(body) });
    const allowed = await res.text();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (allowed !== String(want)) throw new Error(`${body.alg} ${body.contender}: ${res.status} ${allowed}\n${workerd.stderr()}`);
    return ms;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rows = [];
  for (const alg of algs) {
    const { tokens, jwk } = cases[alg];
    const body = (contender, list) => ({ tokens: list, jwk, alg, contender, iss: claims.iss, aud: claims.aud });
    for (const c of contenders) await time(body(c, tokens.slice(0, 20)), 20); // warm-up, key imports
    const samples = Object.fromEntries(['overhead', ...contenders].map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      samples.overhead.push(await time(body('jose', []), 0));
      // (The gates run with no token cache: the same tokens each round are still new.)
      for (const c of contenders) samples[c].push(await time(body(c, tokens), count));
    }
    const overhead = median(samples.overhead);
    const us = Object.fromEntries(contenders.map((c) => [c, ((median(samples[c]) - overhead) * 1000) / count]));
    for (const c of contenders) rows.push({ alg, c, us: us[c], ratio: us.jose / us[c] });
  }
  console.log(`workerd ${require('workerd/package.json').version}, ${rounds} interleaved rounds of ${count} decisions (HTTP overhead subtracted), median; ratio = throughput / jose jwtVerify.\n`);
  console.log('| alg | contender | us/decision | vs jose |\n|---|---|---:|---:|');
  const label = { auto: 'createGate (auto: WebCrypto)', wasm: 'createGate (wasm)', jose: 'jose jwtVerify (imported key)' };
  for (const r of rows) console.log(`| ${r.alg} | ${label[r.c]} | ${r.us.toFixed(1)} | ${r.ratio.toFixed(2)}x |`);
} finally {
  workerd.stop();
  joseModules.cleanup();
}
