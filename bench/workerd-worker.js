// The worker bench/workerd.mjs runs in workerd: each POST verifies one token `n` times in a row
// with one contender (`sync` is tokengate's synchronous `verify`; `floor` is the bare
// `crypto.subtle.verify` of the signature alone, with the key imported once: what any
// WebCrypto-based verifier pays before its own work) and answers the last `sub`.
// Timing happens outside (workerd's clock only moves on I/O).
import { createLocalJWKSet, jwtVerify, verify } from 'tokengate';
import * as jose from 'jose';

const sets = new Map();
const joseKeys = new Map();
const FLOOR_PARAMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  ES384: { name: 'ECDSA', hash: 'SHA-384' },
  ES512: { name: 'ECDSA', hash: 'SHA-512' },
  EdDSA: { name: 'Ed25519' },
};

const fromBase64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('ready');
    const { token, jwk, alg, contender, n, options } = await request.json();
    const id = JSON.stringify(jwk);
    if (!sets.has(id)) sets.set(id, createLocalJWKSet({ keys: [jwk] }));
    if (!joseKeys.has(id)) joseKeys.set(id, await jose.importJWK(jwk, alg));
    const set = sets.get(id);
    const key = joseKeys.get(id);
    const check = contender === 'jose'
      ? () => jose.jwtVerify(token, key, options)
      : () => jwtVerify(token, set, { ...options, signatureBackend: contender });
    let sub = '';
    if (contender === 'floor') {
      const [h, p, s] = token.split('.');
      const input = new TextEncoder().encode(`${h}.${p}`);
      const signature = fromBase64url(s);
      for (let i = 0; i < n; i++) {
        if (!(await crypto.subtle.verify(FLOOR_PARAMS[alg], key, signature, input))) throw new Error('floor: invalid');
      }
      return new Response(n > 0 ? JSON.parse(new TextDecoder().decode(fromBase64url(p))).sub : '');
    }
    if (contender === 'sync') {
      for (let i = 0; i < n; i++) sub = verify(token, set, options).payload.sub;
    } else {
      for (let i = 0; i < n; i++) sub = (await check()).payload.sub;
    }
    return new Response(sub);
  },
};
