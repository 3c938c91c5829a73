// The whole gate as a Cloudflare-style worker (ES module): the Envoy filter's configuration
// (`GATE_CONFIG`, JSON text), remote key sets fetched over `fetch` (cluster names mapped to
// base URLs by `CLUSTERS`) and shared across isolates through the Cache API, then every
// allowed request forwarded to `UPSTREAM` with its claim headers. The parity test runs this
// exact file in workerd next to the same configuration in Envoy.
import { cacheStore, createGate } from 'tokengate/gate';

let gate; // module scope: one gate per isolate, its keys fetched once and refreshed

export default {
  async fetch(request, env) {
    gate ??= createGate(env.GATE_CONFIG, {
      clusters: JSON.parse(env.CLUSTERS ?? '{}'),
      store: globalThis.caches?.default === undefined ? undefined : cacheStore(caches.default),
      // Decision log: route, provider, verdict, code. Never the token.
      onDecision: (audit) => audit !== undefined && console.log(JSON.stringify(audit)),
    });
    const { response, request: allowed } = await gate.handle(request);
    if (response !== undefined) return response;
    const upstream = new URL(env.UPSTREAM);
    const url = new URL(allowed.url);
    url.protocol = upstream.protocol;
    url.host = upstream.host;
    return fetch(new Request(url, allowed));
  },
};
