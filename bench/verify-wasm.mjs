// Public-key signature verification inside V8 (the engine Envoy embeds): tokengate's own
// variable-time arithmetic (FastVerify, the module's only backend since the RustCrypto reference
// left the npm build) against the `openssl speed` floor measured in the same run on the same
// machine. Only the signature check is timed (hash + RSAVP1/ECDSA + padding), on a ~700-byte
// JWS signing input, as the filter does per uncached token, and again on an empty input: `openssl
// speed` verifies a ready digest, so that column is the like-for-like primitive comparison.
//
//   node bench/verify-wasm.mjs [--rounds 7] [--ms 300] [--openssl-seconds 3] [--markdown]
//
// Needs the npm package built (scripts/build-js.sh). Not a test: nothing is asserted about
// timings; BENCHMARKS.md records a run. Every timed call is checked to verify (a broken path
// cannot look fast).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants, createPublicKey, sign } from 'node:crypto';
import { generateKeyPair } from '../js/test/keypair.mjs';

// The package's own public-key arithmetic is its crypto module (the main module has none).
const { ModuleKey, initSync } = await import(new URL('../js/pkg/tokengate_crypto.js', import.meta.url).href);
initSync({ module: readFileSync(new URL('../js/pkg/tokengate_crypto_bg.wasm', import.meta.url)) });

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 7);
const MS = arg('ms', 300);
const OPENSSL_SECONDS = arg('openssl-seconds', 3);
const MARKDOWN = process.argv.includes('--markdown');

const message = Buffer.from(`eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.${Buffer.alloc(500, 'x').toString('base64url')}`);
const empty = Buffer.alloc(0);

function rsaCase(alg, bits, padding) {
  const { publicKey, privateKey } = generateKeyPair('rsa', { modulusLength: bits });
  const hash = `sha${alg.slice(2)}`;
  const options = { key: privateKey, padding, saltLength: Number(alg.slice(2)) / 8 };
  const signature = sign(hash, message, options);
  const emptySignature = sign(hash, empty, options);
  return { name: `${alg} (RSA-${bits})`, alg, jwk: publicKey.export({ format: 'jwk' }), signature, emptySignature };
}

function ecCase(alg, curve) {
  const { publicKey, privateKey } = generateKeyPair('ec', { namedCurve: curve });
  const options = { key: privateKey, dsaEncoding: 'ieee-p1363' };
  const signature = sign(`sha${alg.slice(2)}`, message, options);
  const emptySignature = sign(`sha${alg.slice(2)}`, empty, options);
  return { name: `${alg} (${curve})`, alg, jwk: publicKey.export({ format: 'jwk' }), signature, emptySignature };
}

function edCase() {
  const { publicKey, privateKey } = generateKeyPair('ed25519');
  return {
    name: 'EdDSA (Ed25519)',
    alg: 'EdDSA',
    jwk: publicKey.export({ format: 'jwk' }),
    signature: sign(null, message, privateKey),
    emptySignature: sign(null, empty, privateKey),
  };
}

const PKCS1 = constants.RSA_PKCS1_PADDING;
const PSS = constants.RSA_PKCS1_PSS_PADDING;
const cases = [
  rsaCase('RS256', 2048, PKCS1),
  rsaCase('PS256', 2048, PSS),
  rsaCase('RS256', 4096, PKCS1),
  ecCase('ES256', 'prime256v1'),
  ecCase('ES384', 'secp384r1'),
  ecCase('ES512', 'secp521r1'),
  edCase(),
];

/** Calls per second of `fn` over about `ms` milliseconds. */
function rate(fn, ms) {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 4; i++) fn();
    calls += 4;
    elapsed = performance.now() - start;
  }
  return calls / (elapsed / 1000);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `openssl speed` verify time in microseconds for one primitive, measured now. */
function opensslVerifyUs(primitive) {
  try {
    const out = execFileSync('openssl', ['speed', '-elapsed', '-seconds', String(OPENSSL_SECONDS), primitive], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = out.trim().split('\n');
    const fields = lines[lines.length - 1].trim().split(/\s+/);
    // "... sign verify sign/s verify/s": verify/s is the last field.
    return 1e6 / Number(fields[fields.length - 1]);
  } catch {
    return NaN;
  }
}

const OPENSSL = {
  'RS256 (RSA-2048)': 'rsa2048',
  'PS256 (RSA-2048)': 'rsa2048',
  'RS256 (RSA-4096)': 'rsa4096',
  'ES256 (prime256v1)': 'ecdsap256',
  'ES384 (secp384r1)': 'ecdsap384',
  'ES512 (secp521r1)': 'ecdsap521',
  'EdDSA (Ed25519)': 'ed25519',
};

const floors = {};
for (const primitive of new Set(Object.values(OPENSSL))) floors[primitive] = opensslVerifyUs(primitive);

const rows = [];
for (const c of cases) {
  const key = ModuleKey.parse(JSON.stringify(c.jwk));
  const fast = () => {
    if (!key?.verify(c.alg, message, c.signature)) throw new Error(`${c.name}: FastVerify rejected`);
  };
  const primitive = () => {
    if (!key?.verify(c.alg, empty, c.emptySignature)) throw new Error(`${c.name}: FastVerify rejected`);
  };
  fast();
  primitive();
  const f = [];
  const p = [];
  const contenders = [[fast, f], [primitive, p]];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const [fn, out] of order) out.push(rate(fn, MS));
  }
  const fastUs = 1e6 / median(f);
  const primUs = 1e6 / median(p);
  const floor = floors[OPENSSL[c.name]];
  rows.push({ name: c.name, fastUs, primUs, floor });
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
if (MARKDOWN) {
  console.log(`V8 ${process.versions.v8}, Node ${process.version}; ${ROUNDS} interleaved rounds of ${MS} ms, medians; openssl speed -elapsed -seconds ${OPENSSL_SECONDS} in the same run.`);
  console.log('');
  console.log('| signature | FastVerify (wasm) us | FastVerify, empty input us | openssl verify us | FastVerify / openssl | empty input / openssl |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${fmt(r.fastUs)} | ${fmt(r.primUs)} | ${fmt(r.floor)} | ${fmt(r.fastUs / r.floor, 2)}x | ${fmt(r.primUs / r.floor, 2)}x |`);
  }
} else {
  for (const r of rows) {
    console.log(`${r.name.padEnd(20)} fast ${fmt(r.fastUs).padStart(8)} us  empty input ${fmt(r.primUs)} us  openssl ${fmt(r.floor)} us  fast/openssl ${fmt(r.fastUs / r.floor, 2)}  empty/openssl ${fmt(r.primUs / r.floor, 2)}`);
  }
}
