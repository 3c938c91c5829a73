// The shared vectors through the npm package, on every signature backend: the module's own
// code (the crypto module, pkg/tokengate_crypto_bg.wasm), the runtime's WebCrypto and
// node:crypto. Expectations and documented policy departures
// mirror the Rust conformance drivers in tests/conformance/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tg from '../lib/node.js';
import { WasmKeySet, algorithmOrder, verifySignatureInModule } from '../pkg/tokengate_js.js';
import * as cryptoModule from '../pkg/tokengate_crypto.js';
import { webCryptoKeys, webCryptoVerify, WEBCRYPTO_ALGORITHMS } from '../lib/webcrypto.js';
import { nodeCryptoKeys, nodeCryptoVerify, NODE_ALGORITHMS } from '../lib/nodecrypto.js';
import { Tally, b64u, hex, load } from './vectors.mjs';

const ORDER = algorithmOrder().split(' ');
const maskOf = (names) => names.reduce((m, a) => m | (1 << ORDER.indexOf(a)), 0);
const WEBCRYPTO_MASK = maskOf(WEBCRYPTO_ALGORITHMS);
const NODE_MASK = maskOf(NODE_ALGORITHMS);
// [name, the signatureBackend option, mask of delegated algorithms]
const BACKENDS = [
  ['wasm', 'wasm', 0],
  ['webcrypto', 'webcrypto', WEBCRYPTO_MASK],
  ['node', 'node', NODE_MASK],
];

cryptoModule.initSync({ module: readFileSync(new URL('../pkg/tokengate_crypto_bg.wasm', import.meta.url)) });

/**
 * One raw signature through a backend, as the package checks one candidate key: the main
 * module parses the key (a key it refuses, or that cannot verify `alg`, is a rejection) and
 * hands over its public JWK; WebCrypto or node:crypto imports it and checks the signature, and a
 * key the runtime cannot import goes to the crypto module. 'module' is the main module's own
 * check (HMAC).
 */
async function accepts(jwk, alg, msg, sig, backend) {
  let set;
  try {
    set = new WasmKeySet(JSON.stringify({ keys: [jwk] }));
  } catch {
    return false;
  }
  if (set.length !== 1 || !set.algorithms.split(' ').includes(alg)) return false;
  if (backend === 'module') return verifySignatureInModule(set, 0, alg, msg, sig);
  const inModule = () => cryptoModule.ModuleKey.parse(set.publicJwk(0))?.verify(alg, msg, sig) ?? false;
  if (backend === 'wasm') return inModule();
  if (backend === 'node') {
    const entry = nodeCryptoKeys(set).get(alg, 0);
    if (entry === null) return inModule();
    delegated++;
    return nodeCryptoVerify(alg, entry, msg, sig);
  }
  const key = await webCryptoKeys(webcrypto.subtle, set).load(alg, 0);
  if (key === null) return inModule();
  delegated++;
  return webCryptoVerify(webcrypto.subtle, alg, key, msg, sig, (valid) => valid);
}

/** How many verdicts the runtime's crypto gave: proof it was really used. */
let delegated = 0;

const HASH_BITS = { 'SHA-256': 256, 'SHA-384': 384, 'SHA-512': 512 };

async function runPrimitiveFile(file, groupKey, backend, mask) {
  const doc = load(`wycheproof/${file}.json`);
  const tally = new Tally(`${file} [${backend}]`);
  const before = delegated;
  for (const group of doc.testGroups) {
    const { jwk, alg, policy } = groupKey(group);
    for (const t of group.tests) {
      const accepted = await accepts(jwk, alg, hex(t.msg), hex(t.sig), backend);
      if (t.result === 'valid' && policy) tally.departs(t.tcId, !accepted, policy);
      else if (t.result === 'acceptable') tally.departs(t.tcId, !accepted, 'legacy encoding: a strict verifier rejects it');
      else tally.check(t.tcId, accepted === (t.result === 'valid'), `${t.comment} -> accepted=${accepted}`);
    }
  }
  tally.finish();
  if (mask !== 0) assert.ok(delegated > before, `${file} [${backend}]: the backend was never used`);
  else assert.equal(delegated, before, `${file} [${backend}]: delegated although the mask is empty`);
}

function ecJwk(group, crv, len) {
  if (group.publicKeyJwk) return group.publicKeyJwk;
  const point = hex(group.publicKey.uncompressed);
  if (point.length !== 1 + 2 * len || point[0] !== 4) return {};
  return { kty: 'EC', crv, x: b64u(point.slice(1, 1 + len)), y: b64u(point.slice(1 + len)) };
}

for (const [name, , mask] of BACKENDS) {
  test(`wycheproof RSA PKCS#1 v1.5 [${name}]`, async () => {
    for (const bits of [2048, 3072, 4096]) {
      for (const sha of [256, 384, 512]) {
        await runPrimitiveFile(`rsa_signature_${bits}_sha${sha}_test`, (g) => ({
          jwk: g.keyJwk,
          alg: `RS${HASH_BITS[g.sha]}`,
        }), name, mask);
      }
    }
  });

  test(`wycheproof RSA-PSS [${name}]`, async () => {
    for (const file of [
      'rsa_pss_2048_sha256_mgf1_32_test', 'rsa_pss_2048_sha384_mgf1_48_test',
      'rsa_pss_3072_sha256_mgf1_32_test', 'rsa_pss_4096_sha256_mgf1_32_test',
      'rsa_pss_4096_sha384_mgf1_48_test', 'rsa_pss_4096_sha512_mgf1_64_test', 'rsa_pss_misc_test',
    ]) {
      await runPrimitiveFile(file, (g) => {
        const sha = HASH_BITS[g.sha];
        const fits = sha !== undefined && HASH_BITS[g.mgfSha] === sha && g.sLen === sha / 8;
        let jwk;
        if (g.publicKeyJwk) {
          jwk = { ...g.publicKeyJwk };
          delete jwk.alg;
        } else {
          jwk = { kty: 'RSA', n: b64u(hex(g.publicKey.modulus)), e: b64u(hex(g.publicKey.publicExponent)) };
        }
        return {
          jwk,
          alg: `PS${sha ?? 256}`,
          policy: fits ? undefined : 'JWS PSxxx fixes MGF1 hash = hash and salt length = hash length (RFC 7518 3.5)',
        };
      }, name, mask);
    }
  });

  test(`wycheproof ECDSA P1363 and DER [${name}]`, async () => {
    for (const [file, alg, crv, len] of [
      ['ecdsa_secp256r1_sha256_p1363_test', 'ES256', 'P-256', 32],
      ['ecdsa_secp384r1_sha384_p1363_test', 'ES384', 'P-384', 48],
      ['ecdsa_secp521r1_sha512_p1363_test', 'ES512', 'P-521', 66],
    ]) {
      await runPrimitiveFile(file, (g) => ({ jwk: ecJwk(g, crv, len), alg }), name, mask);
    }
    await runPrimitiveFile('ecdsa_secp256r1_sha256_test', (g) => ({
      jwk: ecJwk(g, 'P-256', 32),
      alg: 'ES256',
      policy: 'ES256 signatures are raw r||s (RFC 7518 3.4): DER is refused',
    }), name, mask);
  });

  test(`wycheproof Ed25519 [${name}]`, async () => {
    await runPrimitiveFile('ed25519_test', (g) => ({ jwk: g.publicKeyJwk, alg: 'EdDSA' }), name, mask);
  });
}

test('wycheproof HMAC (module only: secrets never reach WebCrypto)', async () => {
  for (const [file, alg, bits] of [
    ['hmac_sha256_test', 'HS256', 256], ['hmac_sha384_test', 'HS384', 384], ['hmac_sha512_test', 'HS512', 512],
  ]) {
    const doc = load(`wycheproof/${file}.json`);
    const tally = new Tally(file);
    for (const g of doc.testGroups) {
      const truncated = g.tagSize !== bits;
      const shortKey = g.keySize < bits;
      for (const t of g.tests) {
        const jwk = { kty: 'oct', k: b64u(hex(t.key)) };
        const accepted = await accepts(jwk, alg, hex(t.msg), hex(t.tag), 'module');
        const valid = t.result === 'valid';
        if (valid && truncated) tally.departs(t.tcId, !accepted, 'truncated tag');
        else if (valid && shortKey) tally.departs(t.tcId, !accepted, 'key shorter than the hash (RFC 7518 3.2)');
        else tally.check(t.tcId, accepted === valid, `${t.comment} -> accepted=${accepted}`);
      }
    }
    tally.finish();
  }
});

const ALL_ALGORITHMS = ORDER;

/** Cases whose expectation departs from jwt_verify_lib's by documented policy (as in Rust). */
const VERIFY_POLICY = new Map([
  ['verify_jwk_ec_test/PubkeyNoKidOK', ['a token that names a kid only matches keys with that kid', 'ERR_JWKS_NO_MATCHING_KEY']],
  ['verify_jwk_okp_test/PubkeyNoKidOK', ['a token that names a kid only matches keys with that kid', 'ERR_JWKS_NO_MATCHING_KEY']],
  ['verify_audiences_test/MissingAudience', ['an empty key set is refused before any claim', 'ERR_JWKS_NO_USABLE_KEYS']],
]);
const STATUS = {
  Ok: undefined,
  JwksKidAlgMismatch: 'ERR_JWKS_NO_MATCHING_KEY',
  JwtVerificationFail: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  JwtAudienceNotAllowed: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
};

function stripTrailingCommas(text) {
  return text.replace(/,(\s*[}\]])/g, '$1');
}

for (const [name, backend] of BACKENDS) {
  test(`jwt_verify_lib verify cases through jwtVerify [${name}]`, async () => {
    const doc = load('jwt_verify_lib/jwt_verify_lib_conformance.json');
    const tally = new Tally(`jwt_verify_lib verify_cases [${name}]`);
    for (const c of doc.verify_cases) {
      let jwks = typeof c.jwks === 'string' ? c.jwks : JSON.stringify(c.jwks);
      if (c.jwks_lenient_json && typeof c.jwks === 'string') {
        let refused = false;
        try { tg.createLocalJWKSet(jwks); } catch (e) { refused = e instanceof tg.errors.ConfigError; }
        tally.departs(`${c.id}#lenient-json`, refused, 'trailing commas are not JSON');
        jwks = stripTrailingCommas(jwks);
      }
      if (c.jwks_mutation) {
        const member = { remove_alg: 'alg', remove_kid: 'kid' }[c.jwks_mutation];
        const parsed = JSON.parse(jwks);
        for (const k of parsed.keys) delete k[member];
        jwks = JSON.stringify(parsed);
      }
      const [, payload] = c.token.split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString() || '{}');
      // jwt_verify_lib's `now: 1` means "before exp"; tokens with an iat are checked at it.
      const now = c.now === 1 ? (claims.iat ?? 1) : (c.now ?? 1_700_000_000);
      const options = {
        algorithms: ALL_ALGORITHMS,
        requireExpiration: false,
        currentDate: new Date(now * 1000),
        signatureBackend: backend,
      };
      if (c.allowed_audiences?.length) options.audience = c.allowed_audiences;
      let code;
      try {
        await tg.jwtVerify(c.token, tg.createLocalJWKSet(jwks), options);
      } catch (e) {
        code = e.code;
      }
      const departure = VERIFY_POLICY.get(c.id);
      if (departure) tally.departs(c.id, code === departure[1], departure[0]);
      else tally.check(c.id, code === STATUS[c.expected_status], `expected ${STATUS[c.expected_status]}, got ${code}`);
    }
    tally.finish();
  });

  test(`RFC 7515 appendix A through verify and jwtVerify [${name}]`, async () => {
    const doc = load('rfc/rfc7515_appendix_a.json');
    const tally = new Tally(`rfc7515 appendix A [${name}]`);
    const publicHalf = (jwk) => {
      if (jwk.kty === 'oct') return jwk;
      const { d, p, q, dp, dq, qi, oth, ...pub } = jwk;
      return pub;
    };
    const a1 = doc.vectors[0].public_jwk;
    const at = (seconds) => ({
      algorithms: ALL_ALGORITHMS, issuer: 'joe', currentDate: new Date(seconds * 1000), signatureBackend: backend,
    });
    const outcome = async (run) => {
      try {
        const r = await run();
        return r.payload.iss === 'joe' && 'http://example.com/is_root' in r.payload ? 'valid' : 'wrong result';
      } catch (e) {
        return e.code;
      }
    };
    for (const v of doc.vectors) {
      const keys = tg.createLocalJWKSet({ keys: [publicHalf(v.public_jwk ?? a1)] });
      const now = [];
      const expired = [];
      // WebCrypto is asynchronous: only jwtVerify can use it.
      for (const f of backend === 'webcrypto' ? [tg.jwtVerify] : [tg.verify, tg.jwtVerify]) {
        now.push(await outcome(() => f(v.compact, keys, at(1_300_819_000))));
        expired.push(await outcome(() => f(v.compact, keys, at(1_300_819_000 + 3600))));
      }
      const same = (list, want) => list.every((o) => o === want);
      if (['RFC7515-A.1', 'RFC7515-A.2', 'RFC7515-A.3'].includes(v.id)) {
        tally.check(v.id, same(now, 'valid') && same(expired, 'ERR_JWT_EXPIRED'), `${now} / ${expired}`);
      } else if (v.id === 'RFC7515-A.4') {
        // Its payload is the bytes "Payload": a valid JWS but not a JWT.
        tally.check(v.id, same(now, 'ERR_JWT_INVALID'), `${now}`);
      } else {
        tally.check(v.id, same(now, 'ERR_JOSE_ALG_NOT_ALLOWED'), `${now}`);
      }
    }
    tally.finish();
  });
}
