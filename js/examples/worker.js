// A Cloudflare-style worker (ES module) that lets a request through only with a valid bearer
// token from the issuer's remote JWKS. The tests run this exact file in workerd.
import { createRemoteJWKSet, jwtVerify } from 'tokengate';

let jwks; // module scope: one key set per isolate, fetched once and refreshed as needed

export default {
  async fetch(request, env) {
    jwks ??= createRemoteJWKSet(env.JWKS_URL);
    const match = /^Bearer ([^\s]+)$/i.exec(request.headers.get('authorization') ?? '');
    if (!match) {
      return new Response(JSON.stringify({ error: 'missing bearer token' }), {
        status: 401,
        headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="api"' },
      });
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(match[1], jwks, {
        issuer: env.ISSUER,
        audience: env.AUDIENCE,
      });
      return Response.json({ sub: payload.sub, scope: payload.scope, kid: protectedHeader.kid });
    } catch (error) {
      // error.code is stable (ERR_JWT_EXPIRED, ...); the message never contains the token.
      return new Response(JSON.stringify({ error: 'invalid_token', code: error.code }), {
        status: 401,
        headers: {
          'content-type': 'application/json',
          'www-authenticate': `Bearer realm="api", error="invalid_token", error_description="${error.code}"`,
        },
      });
    }
  },
};
