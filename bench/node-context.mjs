// Where tokengate's time goes in Node next to fast-jwt's, measured in context: each piece of a
// verification is timed right after the signature check it follows in real use, not alone in
// a loop of its own. Alone, a parser keeps its code and branch history warm from one call to
// the next and looks several times cheaper than it is after an OpenSSL verification.
//
//   node bench/node-context.mjs [--algs RS256,PS256,ES256] [--rounds 90] [--ms 20]
//
// Per algorithm, in interleaved rounds (the order rotates every round, medians kept):
// - `signature`: node:crypto's verify exactly as the package calls it (lib/nodecrypto.js);
// - the same signature check with one piece: the core's two halves around it (`hostCheck`:
//   header, policy, key choice, before it; `hostChecked`: the claims parsed strictly and
//   checked, after it), or JavaScript's `JSON.parse` of the claims after it (the payload
//   handed back);
// - each piece alone, for contrast;
// - tokengate's `verify` and fast-jwt (no cache) whole, and what each spends beyond the
//   signature check.
// A piece's cost in context is its sequence's time minus `signature`'s. Not a test: nothing is
// asserted; BENCHMARKS.md records a run.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { generateKeyPair } from '../js/test/keypair.mjs';

const require = createRequire(new URL('../js/package.json', import.meta.url));
const jose = await import(pathToFileURL(require.resolve('jose')).href);
const { createVerifier } = require('fast-jwt');
const tg = await import(new URL('../js/lib/node.js', import.meta.url).href);
// The module instance lib/node.js initialised, for its two halves of a verification.
const core = await import(new URL('../js/pkg/tokengate_js.js', import.meta.url).href);
const { algorithmMask } = await import(new URL('../js/lib/keys.js', import.meta.url).href);
const { nodeCryptoKeys, nodeCryptoVerify } = await import(new URL('../js/lib/nodecrypto.js', import.meta.url).href);
const { nodeBenchClaims, option } = await import(new URL('./runtime-tokens.mjs', import.meta.url).href);

const ALGS = option('algs', 'RS256,PS256,ES256').split(',');
const ROUNDS = Number(option('rounds', 90));
const MS = Number(option('ms', 20));

// bench/node.mjs's access token: ~500 bytes of claims.
const claims = nodeBenchClaims();
const options = { issuer: claims.iss, audience: 'orders-api' };

function setup(alg) {
  const pair = alg === 'ES256'
    ? generateKeyPair('ec', { namedCurve: 'P-256' })
    : generateKeyPair('rsa', { modulusLength: 2048 });
  const pem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1' };
  return { pair, pem, jwk };
}

const read32 = (b, at) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

async function measure(alg) {
  const { pair, pem, jwk } = setup(alg);
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid: 'k1', typ: 'JWT' }).sign(pair.privateKey);
  const set = tg.createLocalJWKSet({ keys: [jwk] });
  const fast = createVerifier({ key: pem, algorithms: [alg], cache: false, allowedIss: claims.iss, allowedAud: 'orders-api' });
  const policy = new core.WasmPolicy(JSON.stringify({ algorithms: [alg], issuers: [claims.iss], audiences: ['orders-api'] }));
  const keys = new core.WasmKeySet(JSON.stringify({ keys: [jwk] }));
  const mask = algorithmMask([alg]);
  const bytes = new TextEncoder().encode(token);
  const [header, payload, signature] = token.split('.');
  const message = bytes.subarray(0, header.length + 1 + payload.length);
  const sig = Buffer.from(signature, 'base64url');
  // The key and verify options exactly as the package prepares them (lib/nodecrypto.js).
  const entry = nodeCryptoKeys(keys).get(alg, 0);
  const claimsText = Buffer.from(payload, 'base64url').toString();
  const seconds = () => Math.floor(Date.now() / 1000);

  const check = () => {
    if (!nodeCryptoVerify(alg, entry, message, sig)) throw new Error(`${alg}: the signature did not verify`);
  };
  // The core's first half: the pending id, read from its answer in the module's memory (after
  // the answer's length and the algorithm's bit; see js/src/verify.rs, `hostCheck`).
  const before = () => {
    // The token written into the module's token buffer, as lib/api.js writes it.
    const at = core.tokenBuffer(bytes.length);
    new Uint8Array(core.moduleMemory().buffer).set(bytes, at);
    const address = core.hostCheck(policy, keys, bytes.length, mask);
    return read32(new Uint8Array(core.moduleMemory().buffer, address + 8, 4), 0);
  };
  const after = (id) => {
    if (core.hostChecked(id, policy, keys, seconds(), 1, 0) === 0) throw new Error('dropped');
  };
  const parse = () => JSON.parse(claimsText);
  const pieces = {
    signature: check,
    // Both halves, as a verification runs them (a first half alone would leave its check
    // pending, and the module's table of pending checks would fill).
    'signature + core': () => { const id = before(); check(); after(id); },
    'signature + JSON.parse': () => { check(); parse(); },
    'core alone': () => after(before()),
    'JSON.parse alone': parse,
    tokengate: () => tg.verify(token, set, options),
    'fast-jwt': () => fast(token),
  };
  // Every piece works before it is timed.
  if (tg.verify(token, set, options).payload.sub !== claims.sub || fast(token).sub !== claims.sub) {
    throw new Error(`${alg}: a contender did not verify`);
  }
  for (const f of Object.values(pieces)) f();

  const time = (f) => {
    const deadline = process.hrtime.bigint() + BigInt(MS * 1e6);
    const start = process.hrtime.bigint();
    let n = 0;
    while (process.hrtime.bigint() < deadline) {
      f();
      n++;
    }
    return Number(process.hrtime.bigint() - start) / n / 1000;
  };
  const names = Object.keys(pieces);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (const f of Object.values(pieces)) time(f); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + r) % names.length];
      samples[name].push(time(pieces[name]));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

console.log(`Node ${process.version}, ${ROUNDS} interleaved rounds of ${MS} ms per piece, medians (us per token).\n`);
console.log('| alg | signature alone | tokengate | its work beyond the signature | fast-jwt | its work beyond the signature | the core\'s two halves, in context (alone) | JSON.parse of the claims, in context (alone) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const alg of ALGS) {
  const m = await measure(alg);
  const s = m.signature;
  const f = (x) => x.toFixed(1);
  console.log(`| ${alg} | ${f(s)} | ${f(m.tokengate)} | ${f(m.tokengate - s)} | ${f(m['fast-jwt'])} | ${f(m['fast-jwt'] - s)} | ${f(m['signature + core'] - s)} (${f(m['core alone'])}) | ${f(m['signature + JSON.parse'] - s)} (${f(m['JSON.parse alone'])}) |`);
}
