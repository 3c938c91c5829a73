// What a fresh process's first token costs, and how much of it is compiling WebAssembly: each
// sample is a new Node process that imports the package, builds a key set from one JWK and
// verifies one token through WebCrypto (the path workerd and browsers take), timing the three
// steps with performance.now(); jose in a new process of its own alongside. Run once as V8
// ships (functions compiled on their first call, by Liftoff) and once with the whole module
// compiled when it is instantiated (--no-wasm-lazy-compilation), and once more with
// --trace-wasm-compilation-times to count the function bodies each step compiles (a process
// that stops after the import, one after the key set, one after the token: V8's trace and
// the script's own output do not keep their order through a pipe).
//
//   node bench/first-token.mjs [--algs ES256,RS256] [--samples 9]
//
// Node rather than workerd, whose timers stand still while a request runs; the same V8
// compiles the same module. bench/coldstart.mjs measures workerd and Chromium themselves. Not a
// test: nothing is asserted; BENCHMARKS.md records a run.
import { spawnSync } from 'node:child_process';
import { generateKeyPair } from '../js/test/keypair.mjs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(new URL('../js/package.json', import.meta.url));
const joseUrl = pathToFileURL(require.resolve('jose')).href;
const tgUrl = new URL('../js/lib/node.js', import.meta.url).href;
const { option } = await import(new URL('./runtime-tokens.mjs', import.meta.url).href);

// One sample, run with `node --input-type=module -e` in a fresh process: prints a JSON line;
// or, with `stop`, exits after that step ('import', 'keys').
const sample = (lib, alg, jwk, token, stop = '') => `
const stop = ${JSON.stringify(stop)};
const t0 = performance.now();
const lib = await import(${JSON.stringify(lib === 'tokengate' ? tgUrl : joseUrl)});
const t1 = performance.now();
if (stop === 'import') process.exit(0);
const jwk = ${JSON.stringify(jwk)};
const keys = ${lib === 'tokengate'
    ? 'lib.createLocalJWKSet({ keys: [jwk] })'
    : `await lib.importJWK(jwk, ${JSON.stringify(alg)})`};
const t2 = performance.now();
if (stop === 'keys') process.exit(0);
const options = { issuer: 'https://idp.example.com', audience: 'api'${lib === 'tokengate' ? ", signatureBackend: 'webcrypto'" : ''} };
const { payload } = await lib.jwtVerify(${JSON.stringify(token)}, keys, options);
const t3 = performance.now();
if (payload.sub !== 'alice') throw new Error('not verified');
console.log(JSON.stringify({ import: t1 - t0, keys: t2 - t1, verify: t3 - t2 }));
`;

function run(flags, code) {
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const jose = await import(joseUrl);
const algs = option('algs', 'ES256,RS256').split(',');
const samples = Number(option('samples', 9));
const f = (x) => x.toFixed(2);
console.log(`Node ${process.version}, median of ${samples} fresh processes (ms); tokengate through WebCrypto.\n`);
console.log('| alg | contender | import | first key set | first token | key set + token | wasm compiled: key set | wasm compiled: token |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const alg of algs) {
  const pair = alg.startsWith('ES') ? generateKeyPair('ec', { namedCurve: 'P-256' }) : generateKeyPair('rsa', { modulusLength: 2048 });
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1' };
  const now = Math.floor(Date.now() / 1000);
  const token = await new jose.SignJWT({ iss: 'https://idp.example.com', aud: 'api', sub: 'alice', iat: now, exp: now + 600 })
    .setProtectedHeader({ alg, kid: 'k1' }).sign(pair.privateKey);
  const contenders = [
    ['jose', 'jose', []],
    ['tokengate', 'tokengate', []],
    ['tokengate, module compiled at instantiation', 'tokengate', ['--no-wasm-lazy-compilation']],
  ];
  const times = Object.fromEntries(contenders.map(([name]) => [name, []]));
  for (let s = 0; s < samples; s++) {
    for (const [name, lib, flags] of contenders) {
      const out = run(flags, sample(lib, alg, jwk, token)).trim().split('\n');
      times[name].push(JSON.parse(out[out.length - 1]));
    }
  }
  // The function bodies compiled up to the end of each step, as V8 reports them: [count, bytes].
  const upTo = (stop) => {
    const sizes = run(['--trace-wasm-compilation-times'], sample('tokengate', alg, jwk, token, stop))
      .split('\n').map((line) => /Compiled function .* bodysize (\d+)/.exec(line)).filter((m) => m !== null);
    return [sizes.length, sizes.reduce((sum, m) => sum + Number(m[1]), 0)];
  };
  const [imported, keyed, verified] = [upTo('import'), upTo('keys'), upTo('')];
  const compiled = {
    keys: [keyed[0] - imported[0], keyed[1] - imported[1]],
    verify: [verified[0] - keyed[0], verified[1] - keyed[1]],
  };
  for (const [name] of contenders) {
    const t = times[name];
    const med = (k) => median(t.map((x) => x[k]));
    const both = median(t.map((x) => x.keys + x.verify));
    const wasm = name === 'tokengate'
      ? ` ${compiled.keys[0]} functions, ${(compiled.keys[1] / 1024).toFixed(1)} KB | ${compiled.verify[0]} functions, ${(compiled.verify[1] / 1024).toFixed(1)} KB |`
      : ' | |';
    console.log(`| ${alg} | ${name} | ${f(med('import'))} | ${f(med('keys'))} | ${f(med('verify'))} | ${f(both)} |${wasm}`);
  }
}
