// The worker bench/workerd.mjs runs in workerd: each POST verifies one token `n` times in a row
// with one contender (`sync` is tokengate's synchronous `verify`) and answers the last `sub`.
// Timing happens outside (workerd's clock only moves on I/O).
import { createLocalJWKSet, jwtVerify, verify } from 'tokengate';
import * as jose from 'jose';

const sets = new Map();
const joseKeys = new Map();

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
    if (contender === 'sync') {
      for (let i = 0; i < n; i++) sub = verify(token, set, options).payload.sub;
    } else {
      for (let i = 0; i < n; i++) sub = (await check()).payload.sub;
    }
    return new Response(sub);
  },
};
