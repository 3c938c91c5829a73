// Differential tests of the crypto module's RSA and ECDSA paths (FastVerify: tokengate's own
// variable-time arithmetic, SIMD rows in V8) against node:crypto (OpenSSL): random keys, random
// messages, and signatures that are valid, bit-flipped, truncated, extended, zero, one, n - 1, n,
// above n, all ones, or random. The module's verdict must be OpenSSL's. (The module carries no
// RustCrypto reference; the core's native tests hold FastVerify against it, tests/fast_verify.rs.)
//
// TOKENGATE_DIFF_KEYS sets the number of keys (default 5, up to 4096 bits; `make diff-long` runs 24, with 8192-bit keys).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, sign, verify } from 'node:crypto';
import { generateKeyPair } from './keypair.mjs';
import { readFileSync } from 'node:fs';
// The crypto module: the package's own public-key arithmetic (the main module has none).
import { ModuleKey, initSync } from '../pkg/tokengate_crypto.js';
import { xorshift32 as rng } from './random.mjs';

initSync({ module: readFileSync(new URL('../pkg/tokengate_crypto_bg.wasm', import.meta.url)) });


const KEYS = Number(process.env.TOKENGATE_DIFF_KEYS ?? 5);
const SIZES = [2048, 3072, 2056, 4096, 2048, 8192];
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

function bigToBytes(v, len) {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

test(`FastVerify agrees with OpenSSL on ${KEYS} random RSA keys`, () => {
  const next = rng(0xfa57);
  let cases = 0;
  let valid = 0;
  for (let k = 0; k < KEYS; k++) {
    const bits = SIZES[k % SIZES.length];
    // Exponents: 65537 mostly, 3 and a larger odd one for the general exponent path.
    const publicExponent = [65537, 65537, 3, 65537, 0x1_0003][k % 5];
    const { publicKey, privateKey } = generateKeyPair('rsa', { modulusLength: bits, publicExponent });
    const jwk = publicKey.export({ format: 'jwk' });
    const key = ModuleKey.parse(JSON.stringify(jwk));
    assert.ok(key, 'the crypto module takes the key');
    const n = BigInt(`0x${Buffer.from(jwk.n, 'base64url').toString('hex')}`);
    const byteLen = Buffer.from(jwk.n, 'base64url').length;
    for (const alg of ALGS) {
      const hash = `sha${alg.slice(2)}`;
      const pss = alg.startsWith('PS');
      const options = pss
        ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }
        : { key: privateKey, padding: constants.RSA_PKCS1_PADDING };
      const message = Buffer.from(Array.from({ length: 1 + (next() % 700) }, () => next() & 0xff));
      const good = new Uint8Array(sign(hash, message, options));
      const flip = (sig) => {
        const out = Uint8Array.from(sig);
        out[next() % out.length] ^= 1 << (next() % 8);
        return out;
      };
      const signatures = [
        good,
        flip(good),
        flip(good),
        good.subarray(1),
        Uint8Array.from([...good, 0]),
        Uint8Array.from([0, ...good]),
        new Uint8Array(0),
        new Uint8Array(byteLen),
        bigToBytes(1n, byteLen),
        bigToBytes(n - 1n, byteLen),
        bigToBytes(n, byteLen),
        bigToBytes(n + 1n, byteLen),
        new Uint8Array(byteLen).fill(0xff),
        Uint8Array.from({ length: byteLen }, () => next() & 0xff),
      ];
      const otherMessage = Buffer.concat([message, Buffer.from([1])]);
      for (const [msg, sigs] of [[message, signatures], [otherMessage, [good]]]) {
        for (const sig of sigs) {
          const fast = key.verify(alg, msg, sig);
          let openssl = false;
          try {
            openssl = sig.length === byteLen && verify(hash, msg, { ...options, key: publicKey }, sig);
          } catch {
            openssl = false;
          }
          assert.equal(fast, openssl, `${alg} RSA-${bits} e=${publicExponent}: FastVerify ${fast}, OpenSSL ${openssl}`);
          cases++;
          if (fast) valid++;
        }
      }
    }
  }
  assert.ok(cases > 0 && valid >= KEYS * ALGS.length, `${cases} cases, ${valid} valid`);
  console.log(`fast-verify differential: ${KEYS} keys, ${cases} cases, ${valid} valid`);
});

const CURVES = [
  { alg: 'ES256', curve: 'prime256v1', len: 32, hash: 'sha256',
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn },
  { alg: 'ES384', curve: 'secp384r1', len: 48, hash: 'sha384',
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn },
  { alg: 'ES512', curve: 'secp521r1', len: 66, hash: 'sha512',
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    p: (1n << 521n) - 1n },
];

test(`FastVerify agrees with OpenSSL on ECDSA with ${KEYS * 4} random keys per curve`, () => {
  const next = rng(0xec);
  let cases = 0;
  let valid = 0;
  for (const c of CURVES) {
    for (let k = 0; k < KEYS * 4; k++) {
      const { publicKey, privateKey } = generateKeyPair('ec', { namedCurve: c.curve });
      const key = ModuleKey.parse(JSON.stringify(publicKey.export({ format: 'jwk' })));
      assert.ok(key, 'the crypto module takes the key');
      const message = Buffer.from(Array.from({ length: 1 + (next() % 700) }, () => next() & 0xff));
      const good = new Uint8Array(sign(c.hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      const r = good.subarray(0, c.len);
      const s = good.subarray(c.len);
      const sBig = BigInt(`0x${Buffer.from(s).toString('hex')}`);
      const rs = (rr, ss) => Uint8Array.from([...rr, ...ss]);
      const int = (v) => bigToBytes(v, c.len);
      const flip = Uint8Array.from(good);
      flip[next() % flip.length] ^= 1 << (next() % 8);
      const signatures = [
        good,
        rs(r, int(c.n - sBig)), // high s: ECDSA accepts both s and n - s
        flip,
        good.subarray(1),
        Uint8Array.from([...good, 0]),
        new Uint8Array(0),
        rs(int(0n), s), rs(r, int(0n)),
        rs(int(1n), s), rs(r, int(1n)),
        rs(int(c.n - 1n), s), rs(r, int(c.n - 1n)),
        rs(int(c.n), s), rs(r, int(c.n)),
        rs(int(c.n + 1n), s), rs(r, int(c.n + 1n)),
        rs(int(c.p), s),
        new Uint8Array(2 * c.len).fill(0xff),
        Uint8Array.from({ length: 2 * c.len }, () => next() & 0xff),
      ];
      const otherMessage = Buffer.concat([message, Buffer.from([1])]);
      for (const [msg, sigs] of [[message, signatures], [otherMessage, [good]]]) {
        for (const sig of sigs) {
          const fast = key.verify(c.alg, msg, sig);
          let openssl = false;
          try {
            openssl = sig.length === 2 * c.len && verify(c.hash, msg, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig);
          } catch {
            openssl = false;
          }
          assert.equal(fast, openssl, `${c.alg}: FastVerify ${fast}, OpenSSL ${openssl}`);
          cases++;
          if (fast) valid++;
        }
      }
    }
  }
  assert.ok(cases > 0 && valid >= 2 * KEYS * 4 * CURVES.length, `${cases} cases, ${valid} valid`);
  console.log(`fast-verify ECDSA differential: ${KEYS * 4} keys per curve, ${cases} cases, ${valid} valid`);
});

test('the main module has no public-key arithmetic: it refuses valid signatures (fail closed), the crypto module accepts them', async () => {
  const main = await import('../pkg/tokengate_js.js');
  main.initSync({ module: readFileSync(new URL('../pkg/tokengate_js_bg.wasm', import.meta.url)) });
  const message = Buffer.from('header.payload');
  const cases = [
    ['RS256', generateKeyPair('rsa', { modulusLength: 2048 }), (k) => sign('sha256', message, k)],
    ['PS256', generateKeyPair('rsa', { modulusLength: 2048 }),
      (k) => sign('sha256', message, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })],
    ['ES256', generateKeyPair('ec', { namedCurve: 'P-256' }), (k) => sign('sha256', message, { key: k, dsaEncoding: 'ieee-p1363' })],
    ['ES384', generateKeyPair('ec', { namedCurve: 'P-384' }), (k) => sign('sha384', message, { key: k, dsaEncoding: 'ieee-p1363' })],
    ['EdDSA', generateKeyPair('ed25519'), (k) => sign(null, message, k)],
  ];
  for (const [alg, { publicKey, privateKey }, signWith] of cases) {
    const jwks = JSON.stringify({ keys: [publicKey.export({ format: 'jwk' })] });
    const signature = signWith(privateKey);
    // Both modules parse and validate the key alike; only the crypto module checks signatures.
    assert.equal(new main.WasmKeySet(jwks).length, 1, alg);
    assert.equal(main.verifySignatureInModule(new main.WasmKeySet(jwks), 0, alg, message, signature), false, alg);
    const set = new main.WasmKeySet(jwks);
    assert.equal(ModuleKey.parse(set.publicJwk(0)).verify(alg, message, signature), true, alg);
    assert.equal(ModuleKey.parse(set.publicJwk(0)).verify(alg, message, signature.reverse()), false, alg);
  }
});
