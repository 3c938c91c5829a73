// Cold start: the time from a fresh isolate to the first verified token, tokengate against
// jose in the same run (issue 14's target: at most 2x jose's).
// - workerd: a new workerd process per sample, serving a worker that verifies one token on its
//   first request; the time from spawn to that answer, minus the same for a worker that
//   imports nothing (the runtime's own start), median of interleaved samples. A worker that
//   imports tokengate and verifies nothing shows how much of that is the module's own start.
//   That subtraction of two ~30 ms process starts leaves a few milliseconds of jitter, so the
//   first request is also timed on its own: one workerd process serving one fresh isolate per
//   sample and contender (each with its own copy of every module, the .wasm carrying a unique
//   custom section, so no compiled code is shared), the first request's round trip minus an
//   empty worker's; and once more with the library imported inside that first request
//   (`import()`), so the import and the first token are timed together (its "import only"
//   column: the difference). In these fresh isolates tokengate's JavaScript is bundled as
//   jose's is (esbuild --bundle --minify of what the worker imports, the .wasm files left as
//   modules), as `wrangler deploy --minify` ships a worker; one more row serves the package's
//   modules as published, one module per file. And one row without the wasm compilation: isolates
//   that all carry the same .wasm bytes, after one more isolate verified a token, so V8 (one
//   engine per process) hands them the code it compiled then: the rest of the cold start.
// - Chromium: a new browser context (empty cache) per sample loading a page whose module
//   imports the library (esbuild bundle, minified; tokengate's .wasm fetched next to it) and
//   verifies one token; `performance.now()` at the verified token, median.
//
//   node bench/coldstart.mjs [--samples 9] [--algs ES256,RS256] [--compare DIR] [--only isolates]
//                            [--compile-trace] [--perf]
//
// --compare DIR adds, to the fresh-isolate measure, tokengate built in DIR (another build's
// js/pkg, with that build's js/lib beside it if there is one) as a further contender in the same
// workerd process: two builds compared in one run.
// --only isolates runs that measure alone.
// --compile-trace runs the fresh isolates under V8's --trace-wasm-compilation-times and adds
// what a tokengate isolate compiles for its import and first token: functions, bytes of
// function bodies (fixed for a build: what the first token runs) and Liftoff's time (median
// over the isolates). The tracing itself slows those requests: read the other rows of such
// a run as perturbed. Each algorithm's trace is kept in target/coldstart/; when the build left
// its named module (target/js-size/tokengate_js/named.wasm, scripts/build-js.sh), a table per
// algorithm follows: those functions by part and the largest by name (scripts/wasm-parts.py
// --compiled).
// --perf (Linux, needs `perf` and the right to attach to a process) adds, per algorithm, where
// the CPU of the import and first token goes: each library's fresh isolates (imported in the
// request) in a workerd process of their own, `perf record -g` attached while they answer,
// every sample put in a category by its call stack (wasm compilation, JavaScript parsing and
// compilation, running JavaScript or wasm, crypto, the rest), in ms per request side by side;
// then tokengate's total without wasm compilation, and how much compilation the 2x target
// leaves (an upper bound: both totals carry the same HTTP work), as a share of today's.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { accessClaims, option, tokenCases } from './runtime-tokens.mjs';

const JS = fileURLToPath(new URL('../js/', import.meta.url));
const require = createRequire(join(JS, 'package.json'));
const jose = await import(pathToFileURL(require.resolve('jose')).href);
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');
const { VERIFIER_LIB, freePort, startWorkerd } = await import(pathToFileURL(join(JS, 'test/workerd.mjs')).href);
const samples = Number(option('samples', 9));
const algs = option('algs', 'ES256,RS256').split(',');
const compare = option('compare', undefined);
const only = option('only', undefined);
const compileTrace = process.argv.includes('--compile-trace');
const perfProfile = process.argv.includes('--perf');
/** The CPU tables of `--perf`, one per algorithm, printed after the timings. */
const cpuTables = [];
const claims = accessClaims();
const cases = await tokenCases(jose, algs, claims);
const options = { issuer: claims.iss, audience: claims.aud };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const scratch = mkdtempSync(join(tmpdir(), 'tokengate-coldstart-'));
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TRACES = join(ROOT, 'target/coldstart');
const NAMED = join(ROOT, 'target/js-size/tokengate_js/named.wasm');

// Each contender's worker/page body: verify `token` with `jwk` once, answer the subject.
const bodies = {
  tokengate: `import { createLocalJWKSet, jwtVerify } from 'tokengate';
    export async function first(c, options) { return (await jwtVerify(c.token, createLocalJWKSet({ keys: [c.jwk] }), options)).payload.sub; }`,
  jose: `import { importJWK, jwtVerify } from 'jose';
    export async function first(c, options) { return (await jwtVerify(c.token, await importJWK(c.jwk, c.alg), options)).payload.sub; }`,
};
// The same with the library imported inside the first request (`import()`), for the fresh
// isolates below: the isolate has loaded its modules but evaluated none, so the request times
// the import (the library's modules evaluated, its .wasm instantiated) and the first token
// together, the issue's measure, without the jitter of a process start.
const importing = {
  tokengate: `export async function first(c, options) {
      const { createLocalJWKSet, jwtVerify } = await import('tokengate');
      return (await jwtVerify(c.token, createLocalJWKSet({ keys: [c.jwk] }), options)).payload.sub; }`,
  jose: `export async function first(c, options) {
      const { importJWK, jwtVerify } = await import('jose');
      return (await jwtVerify(c.token, await importJWK(c.jwk, c.alg), options)).payload.sub; }`,
};
// The baseline: a worker that answers without importing anything.
const empty = 'export async function first(c, options, sub) { return sub; }';

/** A worker around `body`: GET answers "ready", the first POST runs `first` on its input. */
const workerSource = (body) => `${body.replace("from 'jose'", "from 'jose-bundle'").replace("import('jose')", "import('jose-bundle')")}
  let input;
  export default {
    async fetch(request) {
      if (request.method !== 'POST') return new Response('ready');
      input ??= await request.json();
      return new Response(await first(input.c, input.options, input.sub));
    },
  };`;

/** jose as one esbuild bundle (its WebCrypto build), for the workerd measures. */
async function bundleJose() {
  const joseBundle = join(scratch, 'jose-bundle.mjs');
  await esbuild.build({ stdin: { contents: "export { importJWK, jwtVerify } from 'jose';", resolveDir: JS },
    bundle: true, minify: true, format: 'esm', platform: 'neutral', conditions: ['worker', 'browser'], outfile: joseBundle });
  return joseBundle;
}

async function workerd() {
  // jose as one bundle; tokengate as the package's modules.
  const joseBundle = await bundleJose();
  const workers = {};
  // tokengate imported (its modules loaded, the .wasm compiled and instantiated), no token: the
  // part of its cold start that is the module itself rather than the first verification.
  const imported = `import 'tokengate';\n${empty}`;
  for (const [name, body] of Object.entries({ ...bodies, empty, imported })) {
    const path = join(scratch, `worker-${name}.mjs`);
    writeFileSync(path, workerSource(body));
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

/**
 * tokengate's worker entry bundled as jose's is (esbuild --bundle --minify, only what the
 * measured code imports), the .wasm imports left to workerd's module registry: what a worker
 * built with `wrangler deploy --minify` ships. `root` holds lib/ and pkg/.
 */
async function bundleTokengate(root) {
  const out = await esbuild.build({ stdin: { contents: "export { createLocalJWKSet, jwtVerify } from './lib/workerd.js';", resolveDir: root },
    bundle: true, minify: true, format: 'esm', platform: 'neutral', external: ['*.wasm'], write: false });
  return out.outputFiles[0].text;
}

/** `bytes` (a .wasm) with a custom section `nonce` holding `n`: the same module, other bytes. */
function wasmWithNonce(bytes, n) {
  const name = Buffer.from('nonce');
  const payload = Buffer.from(String(n));
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  if (body.length > 127) throw new Error('nonce section too long');
  return Buffer.concat([bytes, Buffer.from([0, body.length]), body]);
}

// The first request to fresh isolates in one workerd process: per sample and contender a worker
// of its own, with its own copy of each module (a comment or a custom section makes the bytes
// unique, so that V8 shares no compiled code between them), on its own port. workerd loads every
// worker at start; the first request then times what the first verification costs in a fresh
// isolate: the key set, the policy, the module's functions compiled on first call, WebCrypto's
// import and the verification (the import itself is in the process-start table above).
async function workerdIsolates() {
  const dir = join(scratch, 'isolates');
  mkdirSync(dir, { recursive: true });
  const joseBundle = readFileSync(join(scratch, 'jose-bundle.mjs'), 'utf8');
  // Each tokengate contender's package (this build's, and the one to compare) and the library's
  // modules, read once: every worker gets its own marked copy.
  const pkgDirs = { tokengate: join(JS, 'pkg'), ...(compare === undefined ? {} : { compared: compare }) };
  const pkgs = Object.fromEntries(Object.entries(pkgDirs).map(([name, d]) => [name, {
    glue: readFileSync(join(d, 'tokengate_js.js'), 'utf8'),
    wasm: readFileSync(join(d, 'tokengate_js_bg.wasm')),
    // Packaged with the worker, instantiated only when a verification needs it (an older
    // build to compare may have none).
    crypto: existsSync(join(d, 'tokengate_crypto.js')) ? {
      glue: readFileSync(join(d, 'tokengate_crypto.js'), 'utf8'),
      wasm: readFileSync(join(d, 'tokengate_crypto_bg.wasm')),
    } : undefined,
  }]));
  const libOf = (root) => Object.fromEntries(VERIFIER_LIB.filter((m) => existsSync(join(root, `lib/${m}.js`)))
    .map((m) => [m, readFileSync(join(root, `lib/${m}.js`), 'utf8')]));
  const libs = { tokengate: libOf(JS) };
  if (compare !== undefined) libs.compared = existsSync(join(compare, '../lib')) ? libOf(join(compare, '..')) : libs.tokengate;
  // Each tokengate build bundled as jose is (the measure); the package's modules as published,
  // one module each, are one more contender.
  const bundles = { tokengate: await bundleTokengate(JS) };
  if (compare !== undefined) bundles.compared = existsSync(join(compare, '../lib')) ? await bundleTokengate(join(compare, '..')) : bundles.tokengate;
  const MODULES = "tokengate, the package's modules";
  // The same bundle and worker, but every isolate of this contender carries the same .wasm bytes,
  // and one more isolate verified a token first: V8's engine, one per process, keeps one compiled
  // module per distinct bytes and shares it between isolates, with the functions an earlier
  // isolate compiled on first call. So these first requests pay for everything but compiling
  // the wasm: what the cold start would be if compilation cost nothing.
  const PRECOMPILED = 'tokengate, its wasm compiled by an earlier isolate';
  const bodiesHere = {
    ...bodies,
    ...(compare === undefined ? {} : { compared: bodies.tokengate }),
    'tokengate, imported in the request': importing.tokengate,
    'jose, imported in the request': importing.jose,
    [MODULES]: bodies.tokengate,
    [PRECOMPILED]: bodies.tokengate,
    empty,
  };
  // Which library a contender's worker carries.
  const library = (name) => (name === 'compared' ? 'compared' : name.split(',')[0]);
  // One workerd process serving `samples` fresh isolates per contender (a map of names to worker
  // bodies), each asked once: the round trips (ms) per contender, and V8's compilation trace
  // when asked for; with `perfFile`, `perf record` samples the process during the requests.
  let n = 0;
  const run = async (alg, contenders, { perfFile } = {}) => {
    const c = { ...cases[alg], alg };
    const services = [];
    const sockets = [];
    const ports = {};
    const taken = new Set();
    // The precompiled contender's isolates get one more, asked first (the warm-up).
    for (let s = 0; s <= samples; s++) {
      for (const name of Object.keys(contenders)) {
        if (s === samples && name !== PRECOMPILED) continue;
        const id = `w${n++}`;
        const wdir = join(dir, `${alg}-${id}`);
        mkdirSync(join(wdir, 'lib'), { recursive: true });
        mkdirSync(join(wdir, 'pkg'), { recursive: true });
        const nonce = `\n// ${id}\n`;
        const esm = (modName, path, text) => {
          writeFileSync(join(wdir, path), text + nonce);
          return `(name = "${modName}", esModule = embed "${alg}-${id}/${path}")`;
        };
        const modules = [esm('worker.js', 'worker.js', workerSource(contenders[name]))];
        const pkg = pkgs[library(name)];
        if (pkg !== undefined && name !== MODULES) {
          // The bundle sits in lib/, so its `../pkg/*.wasm` imports name the modules below.
          modules.push(`(name = "tokengate", esModule = "export * from 'lib/tokengate.js';")`);
          modules.push(esm('lib/tokengate.js', 'lib/tokengate.js', bundles[library(name)]));
        } else if (pkg !== undefined) {
          modules.push(`(name = "tokengate", esModule = "export * from 'lib/workerd.js';")`);
          for (const [m, text] of Object.entries(libs[library(name)])) modules.push(esm(`lib/${m}.js`, `lib/${m}.js`, text));
          modules.push(esm('pkg/tokengate_js.js', 'pkg/tokengate_js.js', pkg.glue));
          if (pkg.crypto !== undefined) modules.push(esm('pkg/tokengate_crypto.js', 'pkg/tokengate_crypto.js', pkg.crypto.glue));
        }
        if (pkg !== undefined) {
          // Unique bytes per isolate, except for the precompiled contender's.
          const mark = name === PRECOMPILED ? 'shared' : n;
          writeFileSync(join(wdir, 'pkg/tokengate_js_bg.wasm'), wasmWithNonce(pkg.wasm, mark));
          modules.push(`(name = "pkg/tokengate_js_bg.wasm", wasm = embed "${alg}-${id}/pkg/tokengate_js_bg.wasm")`);
          const cryptoModule = pkg.crypto;
          if (cryptoModule !== undefined) {
            writeFileSync(join(wdir, 'pkg/tokengate_crypto_bg.wasm'), wasmWithNonce(cryptoModule.wasm, mark));
            modules.push(`(name = "pkg/tokengate_crypto_bg.wasm", wasm = embed "${alg}-${id}/pkg/tokengate_crypto_bg.wasm")`);
          }
        }
        if (library(name) === 'jose') modules.push(esm('jose-bundle', 'jose-bundle.mjs', joseBundle));
        // freePort can hand out a port it gave before (the OS reuses them): one each here.
        let port = await freePort();
        while (taken.has(port)) port = await freePort();
        taken.add(port);
        (ports[name] ??= []).push(port);
        services.push(`(name = "${id}", worker = (modules = [${modules.join(', ')}], compatibilityDate = "2025-01-01"))`);
        sockets.push(`(name = "${id}", address = "127.0.0.1:${port}", http = (), service = "${id}")`);
      }
    }
    const traced = compileTrace && perfFile === undefined;
    const config = join(dir, `${alg}-${n}.capnp`);
    writeFileSync(config, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (${traced ? '\n  v8Flags = ["--trace-wasm-compilation-times"],' : ''}
  services = [${services.join(',\n    ')}],
  sockets = [${sockets.join(',\n    ')}],
);
`);
    const child = spawn(join(JS, 'node_modules/.bin/workerd'), ['serve', config], { stdio: ['ignore', traced ? 'pipe' : 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    let trace = '';
    child.stdout?.on('data', (d) => { trace += d; });
    let perf;
    try {
      // Every worker loaded (the last socket answers), then one GET each: sockets open, no token yet.
      const all = Object.values(ports).flat();
      for (let i = 0; ; i++) {
        try {
          await fetch(`http://127.0.0.1:${all[all.length - 1]}/`);
          break;
        } catch {
          if (i > 600) throw new Error(`workerd did not start:\n${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      for (const port of all) await (await fetch(`http://127.0.0.1:${port}/`)).text();
      if (perfFile !== undefined) perf = await startPerf(child.pid, perfFile);
      const times = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
      const body = JSON.stringify({ c, options, sub: claims.sub });
      const ask = async (name, port) => {
        const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body });
        const sub = await res.text();
        if (sub !== claims.sub) throw new Error(`${name} ${alg}: ${res.status} ${sub}\n${stderr}`);
      };
      if (ports[PRECOMPILED] !== undefined) await ask(PRECOMPILED, ports[PRECOMPILED][samples]);
      for (let s = 0; s < samples; s++) {
        for (const name of Object.keys(contenders)) {
          const start = process.hrtime.bigint();
          await ask(name, ports[name][s]);
          times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
        }
      }
      return { times, trace };
    } finally {
      if (perf !== undefined) await stopPerf(perf);
      // Gone before the next process binds its ports (unless it is gone already).
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill();
        await exited;
      }
    }
  };
  const rows = [];
  for (const alg of algs) {
    const { times, trace } = await run(alg, bodiesHere);
    if (compileTrace) {
      rows.push(compiled(trace, alg));
      mkdirSync(TRACES, { recursive: true });
      writeFileSync(join(TRACES, `compile-trace-${alg}.txt`), trace);
    }
    const base = median(times.empty);
    const tg = median(times.tokengate) - base;
    const jo = median(times.jose) - base;
    rows.push(`| workerd, first request in a fresh isolate | ${alg} | ${tg.toFixed(2)} | ${jo.toFixed(2)} | ${(tg / jo).toFixed(2)}x | | ${base.toFixed(2)} |`);
    const tgImport = median(times['tokengate, imported in the request']) - base;
    const joImport = median(times['jose, imported in the request']) - base;
    rows.push(`| workerd, fresh isolate, import in the first request | ${alg} | ${tgImport.toFixed(2)} | ${joImport.toFixed(2)} | ${(tgImport / joImport).toFixed(2)}x | ${(tgImport - tg).toFixed(2)} | ${base.toFixed(2)} |`);
    const tgModules = median(times[MODULES]) - base;
    rows.push(`| workerd, first request in a fresh isolate, ${MODULES} | ${alg} | ${tgModules.toFixed(2)} | ${jo.toFixed(2)} | ${(tgModules / jo).toFixed(2)}x | | ${base.toFixed(2)} |`);
    const tgPrecompiled = median(times[PRECOMPILED]) - base;
    rows.push(`| workerd, first request in a fresh isolate, ${PRECOMPILED} | ${alg} | ${tgPrecompiled.toFixed(2)} | ${jo.toFixed(2)} | ${(tgPrecompiled / jo).toFixed(2)}x | | ${base.toFixed(2)} |`);
    if (compare !== undefined) {
      const cm = median(times.compared) - base;
      rows.push(`| workerd, fresh isolate, ${compare} | ${alg} | ${cm.toFixed(2)} | ${jo.toFixed(2)} | ${(cm / jo).toFixed(2)}x | | ${base.toFixed(2)} |`);
    }
    if (perfProfile) {
      // Each library alone in a process of its own, imported in the request, under `perf`.
      const profiles = {};
      for (const name of ['tokengate, imported in the request', 'jose, imported in the request']) {
        const file = join(scratch, `perf-${alg}-${name.split(',')[0]}.data`);
        await run(alg, { [name]: bodiesHere[name] }, { perfFile: file });
        profiles[name.split(',')[0]] = cpuByCategory(file, samples);
      }
      cpuTables.push(cpuTable(alg, profiles));
    }
  }
  return rows;
}

/** `perf record`'s sampling rate for `--perf` (per second of CPU). */
const PERF_HZ = 10_000;

/** `perf record` attached to `pid`, call graphs on, once it has started sampling. */
async function startPerf(pid, file) {
  const perf = spawn('perf', ['record', '--quiet', '-F', String(PERF_HZ), '-g', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr.on('data', (d) => { stderr += d; });
  // Its exit status, or why it did not start (no `perf` here).
  const failed = new Promise((resolve) => {
    perf.once('exit', (code) => resolve(code));
    perf.once('error', (e) => resolve(e.message));
  });
  // perf says nothing once attached: give it a second, and fail if it exited meanwhile.
  const code = await Promise.race([failed, new Promise((r) => setTimeout(() => r(undefined), 1000))]);
  if (code !== undefined) throw new Error(`--perf: perf record exited (${code}): ${stderr.trim()}`);
  return { perf, failed };
}

async function stopPerf({ perf, failed }) {
  perf.kill('SIGINT');
  await failed;
}

/**
 * Where a workerd process's CPU went, from `perf script`'s call stacks: each sample goes to the
 * first category (in this order) with a frame in its stack, by workerd's own symbols (V8 and
 * BoringSSL are linked in). The JIT's code has no symbols here, so a sample in a JavaScript or
 * wasm function is told apart only by the builtins on its stack; read the split of those two
 * as rough.
 */
const CPU_CATEGORIES = [
  ['wasm compilation (Liftoff, on first call)', ['Runtime_WasmCompileLazy', 'wasm::CompileLazy', 'ExecuteLiftoffCompilation']],
  ['wasm compilation (optimizing tier)', ['TurbofanCompilation', 'ExecuteTurbofan', 'TriggerTierUp']],
  ['wasm instantiation', ['InstanceBuilder', 'WasmInstanceObject']],
  ['garbage collection', ['Heap::CollectGarbage', 'ScavengerCollector', 'MarkCompactCollector', 'Heap::Scavenge', 'MinorMarkSweep']],
  ['JavaScript parsing and compilation', ['Compiler::Compile', 'v8::internal::Parser', 'ParseProgram', 'ParseFunction', 'BytecodeGenerator', 'Scanner::', 'PreParser', 'Compiler::GetSharedFunctionInfo', 'Maglev', 'compiler::Pipeline']],
  ['crypto (BoringSSL, WebCrypto)', ['EC_', 'ECDSA', 'bn_', 'BN_', 'ec_GFp', 'EVP_', 'SubtleCrypto', 'ecp_nistz256', 'sha256_block', 'p256_', 'RSA_', 'rsa_']],
  ['running wasm', ['Builtins_JSToWasm', 'Builtins_WasmToJs', 'Builtins_Wasm']],
  ['running JavaScript', ['Builtins_', 'BytecodeHandler']],
];

/** CPU ms per request by category (and `total`) from a `perf record` of `requests` requests. */
function cpuByCategory(file, requests) {
  const text = execFileSync('perf', ['script', '-i', file, '-F', 'comm,tid,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  const counts = Object.fromEntries([...CPU_CATEGORIES.map(([name]) => name), 'the rest (HTTP, the runtime, the kernel)'].map((k) => [k, 0]));
  let total = 0;
  for (const stack of text.split(/\n\s*\n/)) {
    const frames = stack.split('\n').slice(1).join('\n');
    if (frames.trim() === '') continue;
    total += 1;
    const hit = CPU_CATEGORIES.find(([, keys]) => keys.some((k) => frames.includes(k)));
    counts[hit === undefined ? 'the rest (HTTP, the runtime, the kernel)' : hit[0]] += 1;
  }
  if (total === 0) throw new Error(`--perf: no samples in ${file}`);
  const ms = (k) => (k * 1000) / PERF_HZ / requests;
  return { ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, ms(v)])), total: ms(total) };
}

function cpuTable(alg, { tokengate, jose }) {
  const lines = [`| ${alg} | category | tokengate | jose | tokengate - jose |`, '|---|---|---:|---:|---:|'];
  for (const k of Object.keys(tokengate)) {
    const [t, j] = [tokengate[k], jose[k]];
    lines.push(`| ${alg} | ${k === 'total' ? '**total** (ratio)' : k} | ${t.toFixed(2)} | ${j.toFixed(2)} | ${(t - j).toFixed(2)}${k === 'total' ? ` (${(t / j).toFixed(2)}x)` : ''} |`);
  }
  // What the 2x target leaves for compiling the module's code, the rest of tokengate's CPU as
  // it is. Both totals carry the same HTTP and runtime work, which flatters the ratio: read
  // this budget as an upper bound.
  const compile = CPU_CATEGORIES.filter(([name]) => name.startsWith('wasm compilation')).reduce((s, [name]) => s + tokengate[name], 0);
  const rest = tokengate.total - compile;
  const budget = Math.max(0, 2 * jose.total - rest);
  lines.push(`| ${alg} | total without wasm compilation (ratio) | ${rest.toFixed(2)} | ${jose.total.toFixed(2)} | ${(rest - jose.total).toFixed(2)} (${(rest / jose.total).toFixed(2)}x) |`);
  lines.push(`| ${alg} | wasm compilation within 2x jose (share of today's) | ${budget.toFixed(2)} (${compile > 0 ? Math.round((100 * budget) / compile) : 100} %) | | |`);
  return lines.join('\n');
}

/**
 * The row for V8's wasm compilation trace of one workerd process: per module (each isolate has
 * its own copy), Liftoff's compilations, their body bytes and its time; the median module.
 * A function compiled twice counts twice here (ES256: 96 compilations of 88 functions), where
 * the table that follows (scripts/wasm-parts.py --compiled) counts each function once. Only
 * tokengate's isolates compile wasm.
 */
function compiled(trace, alg) {
  const modules = new Map();
  for (const m of trace.matchAll(/Compiled function (0x[0-9a-f]+)#\d+ using Liftoff, took (\d+) (μs|ms).*?bodysize (\d+)/g)) {
    const entry = modules.get(m[1]) ?? { functions: 0, bytes: 0, ms: 0 };
    entry.functions += 1;
    entry.bytes += Number(m[4]);
    entry.ms += Number(m[2]) / (m[3] === 'ms' ? 1 : 1000);
    modules.set(m[1], entry);
  }
  if (modules.size === 0) throw new Error('--compile-trace: workerd printed no wasm compilation');
  const all = [...modules.values()];
  const pick = (key) => median(all.map((e) => e[key]));
  return `| workerd, wasm a fresh isolate compiles for its import and first token (${modules.size} isolates, traced) | ${alg} | ${pick('functions')} functions, ${(pick('bytes') / 1024).toFixed(1)} KB, ${pick('ms').toFixed(2)} ms | | | | |`;
}

async function browser() {
  const dir = join(scratch, 'www');
  for (const [name, body] of Object.entries(bodies)) {
    await esbuild.build({ stdin: { contents: body, resolveDir: JS }, bundle: true, minify: true, format: 'esm',
      platform: 'browser', outfile: join(dir, `${name}.js`), external: ['*.wasm'] });
  }
  // The browser entry fetches `../pkg/tokengate_js_bg.wasm` from its own URL, the bundle's (and
  // the crypto module, when a verification needs it: not for these algorithms).
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  for (const f of ['tokengate_js_bg.wasm', 'tokengate_crypto_bg.wasm']) copyFileSync(join(JS, `pkg/${f}`), join(dir, `pkg/${f}`));
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
  if (only === 'isolates') await bundleJose();
  const rows = only === 'isolates'
    ? await workerdIsolates()
    : [...(await workerd()), ...(await workerdIsolates()), ...(await browser())];
  const version = require('workerd/package.json').version;
  console.log(`Cold start to the first verified token, median of ${samples} interleaved samples (ms); workerd ${version} (its own start subtracted; for fresh isolates, an empty worker's first request), Chromium (fresh context).\n`);
  console.log('| runtime | alg | tokengate | jose | ratio | tokengate import only | workerd start (empty worker) |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  if (cpuTables.length > 0) {
    console.log(`\nCPU per import and first token in a fresh isolate (ms per request), sampled by perf at ${PERF_HZ} Hz over ${samples} isolates per library, each library in a workerd process of its own (perf's sampling slows both alike; compare the two, not these to the timings above):\n`);
    for (const t of cpuTables) console.log(`${t}\n`);
  }
  for (const alg of compileTrace ? algs : []) {
    const trace = join(TRACES, `compile-trace-${alg}.txt`);
    console.log(`\nWhat a fresh isolate compiles for ${alg} (${trace.slice(ROOT.length)}):\n`);
    if (!existsSync(NAMED)) {
      console.log(`(no ${NAMED.slice(ROOT.length)}: scripts/build-js.sh writes it)`);
      continue;
    }
    try {
      console.log(execFileSync('python3', [join(ROOT, 'scripts/wasm-parts.py'), NAMED, '--compiled', trace], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trimEnd());
    } catch (e) {
      console.log(`(wasm-parts.py: ${String(e.stderr).trim()})`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
