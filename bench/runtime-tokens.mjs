// What the runtime benchmarks (bench/browser.mjs, bench/workerd.mjs) verify: a realistic
// access token per algorithm, signed by jose with a fresh key, and their command-line options.

/** The algorithms measured when `--algs` is not given. */
export const DEFAULT_ALGS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** `--name value` from the command line, or `fallback`. */
export function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

/** The access token's claims, valid for an hour from now. */
export function accessClaims() {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://idp.example.com/realms/main', sub: 'f0b1d2c3-4e5f-6789-abcd-ef0123456789', aud: 'orders-api',
    iat: now, exp: now + 3600, scope: 'openid profile orders:read orders:write', email: 'alice@example.com',
    realm_access: { roles: ['user', 'orders-admin'] },
  };
}

/**
 * The Node benches' access token (bench/node.mjs, bench/node-context.mjs): ~500 bytes of
 * Keycloak-like claims, valid for an hour from now.
 */
export function nodeBenchClaims() {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://idp.example.com/realms/main', sub: 'f0b1d2c3-4e5f-6789-abcd-ef0123456789',
    aud: 'orders-api', iat: now, nbf: now, exp: now + 3600, jti: 'a9c1e3f5-0b2d-4f68-9a1c-3e5f7b9d1f20',
    scope: 'openid profile orders:read orders:write', client_id: 'web-frontend', azp: 'web-frontend',
    email: 'alice@example.com', email_verified: true, name: 'Alice Example',
    realm_access: { roles: ['user', 'orders-admin', 'offline_access'] }, tenant: 'acme', sid: 'c2d4e6f8-1a3b-4c5d',
  };
}

/**
 * For each algorithm, `claims` signed with a new key (kid `k1`) and that key's public JWK; and
 * `tokens`: `count` tokens of those claims that differ in their `jti` (never a cache hit).
 */
export async function tokenCases(jose, algs, claims, count = 0) {
  const cases = {};
  for (const alg of algs) {
    let sign;
    let jwk;
    if (alg === 'HS256') {
      sign = crypto.getRandomValues(new Uint8Array(32));
      jwk = { kty: 'oct', k: Buffer.from(sign).toString('base64url'), kid: 'k1' };
    } else {
      const pair = await jose.generateKeyPair(alg, { extractable: true });
      sign = pair.privateKey;
      jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1' };
    }
    const mint = (extra) => new jose.SignJWT({ ...claims, ...extra }).setProtectedHeader({ alg, kid: 'k1' }).sign(sign);
    const tokens = await Promise.all(Array.from({ length: count }, (_, i) => mint({ jti: `t-${i}` })));
    cases[alg] = { token: await mint({}), jwk, tokens };
  }
  return cases;
}
