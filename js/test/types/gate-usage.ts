// Compiled by `tsc --noEmit`: the gate's definitions accept the documented usage (a worker,
// a Node server) and reject misuse (the @ts-expect-error lines must stay errors).
import { cacheStore, createGate, errors } from 'tokengate/gate';
import type { GateConfig } from 'tokengate/gate';

const config: GateConfig = {
  providers: {
    idp: {
      issuer: 'https://idp.example',
      audiences: ['orders'],
      algorithms: ['ES256'],
      remote_jwks: { cluster: 'idp', authority: 'idp.example', path: '/jwks.json' },
      claim_to_headers: [{ header_name: 'x-sub', claim_name: 'sub' }],
    },
  },
  rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp' }, scopes_all: ['orders:read'] }],
};

export async function worker(request: Request, cache: { match(url: string): Promise<Response | undefined>; put(url: string, r: Response): Promise<void> }): Promise<Response> {
  const gate = createGate(config, { store: cacheStore(cache), onDecision: (a) => a?.code });
  const result = await gate.handle<{ sub: string }>(request);
  if (result.response) return result.response;
  return fetch(result.request);
}

export async function node(req: { method: string; url: string; headers: Record<string, string>; rawHeaders: string[] }): Promise<string> {
  const gate = createGate(JSON.stringify(config), { clusters: { idp: 'http://127.0.0.1:9000' } });
  const r = await gate.handleNode(req);
  if (!r.allowed) return `${r.status} ${r.headers['www-authenticate']}`;
  // @ts-expect-error a refusal's fields are not on a pass
  r.status;
  return String(r.claims?.sub);
}

export function misuse(): unknown {
  try {
    // @ts-expect-error providers are required
    return createGate({ rules: [] });
  } catch (e) {
    return e instanceof errors.ConfigError ? e.code : undefined;
  }
}
