// A worker for worker.test.mjs: the crypto module in workerd. POST a JSON body
// `{ jwks, token, options, sync }`: the answer is the verified `sub`, or the error's code.
import { createLocalJWKSet, jwtVerify, verify } from 'tokengate';

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('ready');
    const { jwks, token, options, sync } = await request.json();
    try {
      const keys = createLocalJWKSet(jwks);
      const { payload } = sync ? verify(token, keys, options) : await jwtVerify(token, keys, options);
      return Response.json({ sub: payload.sub });
    } catch (e) {
      return Response.json({ code: e.code });
    }
  },
};
