// tokengate's npm package against jose, fast-jwt (no cache) and jsonwebtoken in Node, on the
// same tokens in the same run, per algorithm. Rounds are interleaved (every contender once per
// round) and the median throughput is kept, so machine noise hits everyone alike.
//
//   node bench/node.mjs [--rounds 7] [--ms 300] [--algs HS256,RS256] [--markdown]
//
// Prints ops/s and the ratio to jose's jwtVerify (higher is faster). Not a test: timings are
// not asserted anywhere; BENCHMARKS.md records a run.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createPublicKey, randomBytes } from 'node:crypto';
import { generateKeyPair } from '../js/test/keypair.mjs';

const require = createRequire(new URL('../js/package.json', import.meta.url));
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
const jose = await load('jose');
const { createVerifier } = require('fast-jwt');
const jsonwebtoken = require('jsonwebtoken');
const tg = await import(new URL('../js/lib/node.js', import.meta.url).href);
const { nodeBenchClaims } = await import(new URL('./runtime-tokens.mjs', import.meta.url).href);

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 7);
const MS = arg('ms', 300);
const MARKDOWN = process.argv.includes('--markdown');

// A realistic access token: ~500 bytes of claims.
const claims = nodeBenchClaims();
const options = { issuer: claims.iss, audience: 'orders-api' };
// tokengate's signature backends: 'auto' is node:crypto in Node for public keys, the module's
// own code for HMAC; 'wasm' always the module; 'webcrypto' crypto.subtle (async only).
const wasmOptions = { ...options, signatureBackend: 'wasm' };
const webcryptoOptions = { ...options, signatureBackend: 'webcrypto' };

async function setup(alg) {
  let privateKey;
  let publicPem;
  let jwk;
  let secret;
  if (alg === 'HS256') {
    secret = randomBytes(32);
    jwk = { kty: 'oct', k: secret.toString('base64url'), kid: 'k1' };
  } else {
    const type = { RS256: 'rsa', PS256: 'rsa', ES256: 'ec', ES384: 'ec', ES512: 'ec', EdDSA: 'ed25519' }[alg];
    const curve = { ES384: 'P-384', ES512: 'P-521' }[alg] ?? 'P-256';
    const params = type === 'rsa' ? { modulusLength: 2048 } : type === 'ec' ? { namedCurve: curve } : {};
    const pair = generateKeyPair(type, params);
    privateKey = pair.privateKey;
    publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' });
    jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1' };
  }
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid: 'k1', typ: 'JWT' }).sign(secret ?? privateKey);
  const joseKey = await jose.importJWK(jwk, alg);
  const joseSet = secret ? undefined : jose.createLocalJWKSet({ keys: [jwk] });
  const tgSet = tg.createLocalJWKSet({ keys: [jwk] });
  const verifierKey = secret ?? publicPem;
  const fast = createVerifier({ key: verifierKey, algorithms: [alg], cache: false, allowedIss: claims.iss, allowedAud: 'orders-api' });
  const jwtKey = secret ?? createPublicKey(publicPem);
  const contenders = {
    'tokengate verify (auto)': () => tg.verify(token, tgSet, options),
    'tokengate verify (wasm)': () => tg.verify(token, tgSet, wasmOptions),
    // A KeyObject, as jose users pass one (exported to a JWK once, at its first use).
    ...(secret ? {} : { 'tokengate verify (KeyObject)': () => tg.verify(token, jwtKey, options) }),
    'tokengate jwtVerify (auto)': () => tg.jwtVerify(token, tgSet, options),
    ...(secret ? {} : { 'tokengate jwtVerify (webcrypto)': () => tg.jwtVerify(token, tgSet, webcryptoOptions) }),
    'jose jwtVerify (imported key)': () => jose.jwtVerify(token, joseKey, options),
    // jose's local JWKS holds public keys only.
    ...(secret ? {} : { 'jose jwtVerify (local JWKS)': () => jose.jwtVerify(token, joseSet, options) }),
    'fast-jwt (no cache)': () => fast(token),
    // jsonwebtoken has no EdDSA.
    ...(alg === 'EdDSA' ? {} : { jsonwebtoken: () => jsonwebtoken.verify(token, jwtKey, { algorithms: [alg], ...options }) }),
  };
  // Every contender must accept the token before it is timed.
  for (const [name, f] of Object.entries(contenders)) {
    const r = await f();
    const sub = r.payload?.sub ?? r.sub;
    if (sub !== claims.sub) throw new Error(`${alg} ${name}: did not verify`);
  }
  return contenders;
}

async function time(f, ms) {
  let n = 0;
  const start = performance.now();
  const deadline = start + ms;
  const sync = !(f() instanceof Promise);
  if (sync) {
    while (performance.now() < deadline) {
      for (let i = 0; i < 50; i++) f();
      n += 50;
    }
  } else {
    while (performance.now() < deadline) {
      for (let i = 0; i < 20; i++) await f();
      n += 20;
    }
  }
  return (n * 1000) / (performance.now() - start);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ALGS = process.argv.includes('--algs')
  ? process.argv[process.argv.indexOf('--algs') + 1].split(',')
  : ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const rows = [];
for (const alg of ALGS) {
  const contenders = await setup(alg);
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (const f of Object.values(contenders)) await time(f, 100); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, f] of Object.entries(contenders)) samples[name].push(await time(f, MS));
  }
  const base = median(samples['jose jwtVerify (imported key)']);
  for (const [name, xs] of Object.entries(samples)) {
    const ops = median(xs);
    rows.push({ alg, name, ops, us: 1e6 / ops, ratio: ops / base });
  }
}

if (MARKDOWN) {
  console.log(`Node ${process.version}, ${ROUNDS} interleaved rounds of ${MS} ms, median; ratio = throughput / jose jwtVerify (imported key) on the same token.\n`);
  console.log('| alg | contender | ops/s | us/op | vs jose |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.alg} | ${r.name} | ${Math.round(r.ops).toLocaleString('en-US')} | ${r.us.toFixed(1)} | ${r.ratio.toFixed(2)}x |`);
} else {
  for (const r of rows) console.log(`${r.alg.padEnd(6)} ${r.name.padEnd(32)} ${Math.round(r.ops).toString().padStart(8)} ops/s ${r.us.toFixed(1).padStart(8)} us  ${r.ratio.toFixed(2)}x jose`);
}
