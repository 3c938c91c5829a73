// Compiled by `tsc --noEmit` in scripts/js-test.sh: the definitions accept the documented usage
// and reject misuse (the @ts-expect-error lines must stay errors).
import { createDenylist, createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, loadCryptoModule, verify } from 'tokengate';

interface AccessToken {
  scope: string;
}

export async function usage(token: string): Promise<string> {
  const jwks = createRemoteJWKSet(new URL('https://idp.example/.well-known/jwks.json'), {
    cacheMaxAge: 600_000,
    store: new Map<string, string>(),
  });
  const { payload, protectedHeader } = await jwtVerify<AccessToken>(token, jwks, {
    issuer: 'https://idp.example',
    audience: ['api'],
    algorithms: ['RS256', 'ES256'],
    clockTolerance: '30s',
    denylist: createDenylist({ jti: ['revoked'] }),
  });
  const local = createLocalJWKSet({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] });
  await loadCryptoModule();
  // @ts-expect-error: it takes no arguments and resolves to nothing
  const loaded: string = await loadCryptoModule('x');
  const sync = verify(token, local, { maxTokenAge: 3600, currentDate: new Date() });
  try {
    verify(token, new Uint8Array(32));
  } catch (e) {
    if (e instanceof errors.JWTClaimValidationFailed) return `${e.code} ${e.claim} ${e.reason}`;
    if (e instanceof errors.CryptoModuleUnavailable && e instanceof errors.VerifierUnavailable) return `${e.code} ${loaded}`;
  }
  // jose-style key functions and CryptoKeys are accepted by jwtVerify, not by verify.
  await jwtVerify(token, async (header) => (header.kid === 'a' ? local : new Uint8Array(32)));
  const cryptoKey = {} as CryptoKey;
  await jwtVerify(token, cryptoKey);
  // @ts-expect-error: verify is synchronous and takes no CryptoKey
  verify(token, cryptoKey);
  // @ts-expect-error: a key function cannot answer with a remote set
  await jwtVerify(token, () => jwks);
  // @ts-expect-error: "none" is not an algorithm
  verify(token, local, { algorithms: ['none'] });
  // @ts-expect-error: options are checked
  verify(token, local, { audiences: ['api'] });
  return `${payload.scope} ${payload.sub} ${protectedHeader.alg} ${sync.payload.exp}`;
}
