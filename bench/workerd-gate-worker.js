// The worker bench/workerd-gate.mjs runs in workerd: each POST decides `tokens` (each a new
// token, so never a cache hit) through one contender, once each, and answers how many were
// allowed: `createGate` with `signatureBackend` "auto" (WebCrypto) or "wasm" (the module), or
// jose's `jwtVerify` with an imported key (the same tokens, no gate around it).
import { createGate } from 'tokengate/gate';
import * as jose from 'jose';

const gates = new Map();
const joseKeys = new Map();

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('ready');
    const { tokens, jwk, alg, contender, iss, aud } = await request.json();
    const id = `${contender} ${JSON.stringify(jwk)}`;
    let allowed = 0;
    if (contender === 'jose') {
      if (!joseKeys.has(id)) joseKeys.set(id, await jose.importJWK(jwk, alg));
      const key = joseKeys.get(id);
      for (const t of tokens) if ((await jose.jwtVerify(t, key, { issuer: iss, audience: aud })).payload.sub) allowed++;
      return new Response(String(allowed));
    }
    if (!gates.has(id)) {
      const config = {
        // No token cache: every decision is a first one.
        cache_capacity: 0,
        providers: { idp: { issuer: iss, audiences: [aud], algorithms: [alg], local_jwks: { keys: [jwk] } } },
        rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp' } }],
      };
      gates.set(id, createGate(config, { signatureBackend: contender }));
    }
    const gate = gates.get(id);
    for (const t of tokens) {
      const d = await gate.decide({ method: 'GET', target: '/orders', headers: ['authorization', `Bearer ${t}`] });
      if (d.allowed) allowed++;
    }
    return new Response(String(allowed));
  },
};
