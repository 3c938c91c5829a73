// Parity: one gate configuration (parity/gate.json), one table of requests, two hosts. Every
// request goes through the real Envoy running the proxy-wasm filter and through
// examples/gate-worker.js in a real workerd; the status, the `WWW-Authenticate` challenge and
// what the upstream received (claim headers, the verdict header, credentials left in place,
// the path) must be identical. Also a report-mode copy of the configuration on both.
//
// Usage: node parity/parity.mjs ENVOY_BINARY TOKENGATE_ENVOY_WASM
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { startJwksServer } from '../test/jwks-server.mjs';
import { freePort, startWorkerd } from '../test/workerd.mjs';

const [ENVOY, WASM] = process.argv.slice(2);
if (!ENVOY || !WASM) {
  console.error('usage: node parity/parity.mjs ENVOY_BINARY TOKENGATE_ENVOY_WASM');
  process.exit(2);
}
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const ISS = 'https://idp.parity.test';
const AUD = 'orders-api';

/** The upstream: answers with what it received (path and headers, bytes as latin1). */
async function startUpstream() {
  const server = createServer((req, res) => {
    const headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      headers[name] = headers[name] === undefined ? req.rawHeaders[i + 1] : `${headers[name]}\n${req.rawHeaders[i + 1]}`;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, method: req.method, headers }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

function envoyBootstrap(ports, config, reportConfig) {
  const listener = (name, port, cfg) => ({
    name, address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [{ filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        stat_prefix: name,
        route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }] }] },
        http_filters: [
          { name: 'envoy.filters.http.wasm', typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
            config: {
              name: 'tokengate', root_id: 'tokengate', failure_policy: 'FAIL_CLOSED',
              vm_config: { vm_id: `tokengate-${name}`, runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: WASM } } },
              configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: cfg },
            } } },
          { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
        ],
      } }] }],
  });
  const cluster = (name, port) => ({
    name, type: 'STATIC', connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  });
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: ports.admin } } },
    static_resources: {
      listeners: [listener('enforce', ports.enforce, config), listener('report', ports.report, reportConfig)],
      clusters: [cluster('upstream', ports.upstream), cluster('idp', ports.idp)],
    },
  };
}

/** One raw HTTP/1.1 request (the path and repeated headers sent exactly as given). */
function send(port, { method = 'GET', path, headers = [] }) {
  return new Promise((resolve, reject) => {
    // Headers as a flat array (repeats kept); Node then adds no Host of its own.
    const all = ['host', 'orders.parity.test', ...headers];
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: all }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** What must be the same on both hosts. */
function observed(r) {
  const seen = { status: r.status, 'www-authenticate': r.headers['www-authenticate'] ?? null };
  if (r.status === 200) {
    const up = JSON.parse(r.body);
    seen.path = up.path;
    for (const h of ['x-jwt-sub', 'x-jwt-scope', 'x-jwt-roles', 'x-partner-sub', 'x-oidc-sub', 'x-gate-verdict',
      'authorization', 'x-partner-token', 'cookie', 'x_jwt_sub', 'x-jwt_sub']) {
      seen[h] = up.headers[h] ?? null;
    }
  } else {
    seen.code = /"code":"([A-Z_]+)"/.exec(r.body)?.[1] ?? null;
  }
  return seen;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'tokengate-parity-'));
  const cleanup = [];
  let failures = 0;
  let ran = 0;
  try {
    // Keys: the IdP's ES256 and (rotated in later) RS256 keys, the partner's Ed25519 key.
    const es = await jose.generateKeyPair('ES256');
    const rs = await jose.generateKeyPair('RS256');
    const ed = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const esJwk = { ...(await jose.exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256' };
    const rsJwk = { ...(await jose.exportJWK(rs.publicKey)), kid: 'rs-2', alg: 'RS256' };
    const edJwk = { ...(await jose.exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA' };
    const stranger = await jose.generateKeyPair('ES256');
    const oidcKey = await jose.generateKeyPair('ES256');
    const oidcJwk = { ...(await jose.exportJWK(oidcKey.publicKey)), kid: 'oidc-1', alg: 'ES256' };

    const jwks = await startJwksServer();
    cleanup.push(() => jwks.close());
    jwks.state.jwks = { keys: [esJwk] };
    // The OIDC provider: its metadata names its key set, served beside the IdP's.
    const OIDC_JWKS = '/oidc/keys.json';
    jwks.state.routes = {
      '/.well-known/openid-configuration': { issuer: 'https://oidc.parity.test', jwks_uri: `https://oidc.parity.test${OIDC_JWKS}` },
      [OIDC_JWKS]: { keys: [oidcJwk] },
    };
    const upstream = await startUpstream();
    cleanup.push(() => upstream.close());

    // The one configuration file, with the partner's public key filled in.
    const text = readFileSync(here('./gate.json'), 'utf8').replace('"PARTNER_JWKS"', JSON.stringify(JSON.stringify({ keys: [edJwk] })));
    const config = JSON.parse(text);
    const configText = JSON.stringify(config);
    const reportText = JSON.stringify({ ...config, mode: 'report' });
    const idpPort = new URL(jwks.url).port;

    // Envoy with both configurations.
    const ports = { admin: await freePort(), enforce: await freePort(), report: await freePort(), upstream: upstream.port, idp: Number(idpPort) };
    const bootstrapPath = join(work, 'envoy.json');
    writeFileSync(bootstrapPath, JSON.stringify(envoyBootstrap(ports, configText, reportText)));
    const envoyLog = join(work, 'envoy.log');
    const envoy = spawn(ENVOY, ['-c', bootstrapPath, '--concurrency', '1', '--log-level', 'info', '--log-path', envoyLog,
      '--base-id', String(ports.admin % 60000)], { stdio: 'ignore' });
    cleanup.push(() => envoy.kill());

    // workerd with the same configurations, through the example worker.
    const worker = here('../examples/gate-worker.js');
    const bindings = (gateConfig) => ({
      GATE_CONFIG: gateConfig,
      CLUSTERS: JSON.stringify({ idp: `http://127.0.0.1:${idpPort}` }),
      UPSTREAM: `http://127.0.0.1:${upstream.port}`,
    });
    const wEnforce = await startWorkerd(worker, bindings(configText), [], { gate: true });
    cleanup.push(() => wEnforce.stop());
    const wReport = await startWorkerd(worker, bindings(reportText), [], { gate: true });
    cleanup.push(() => wReport.stop());
    const hosts = {
      enforce: { envoy: ports.enforce, workerd: Number(new URL(wEnforce.base).port) },
      report: { envoy: ports.report, workerd: Number(new URL(wReport.base).port) },
    };

    const sign = (claims = {}, { key = es.privateKey, alg = 'ES256', kid = 'es-1', iss = ISS, aud = AUD, exp = '5m', sub = 'alice' } = {}) => {
      let jwt = new jose.SignJWT({ scope: 'orders:read', ...claims }).setProtectedHeader({ alg, kid, typ: 'JWT' })
        .setIssuedAt().setSubject(sub).setExpirationTime(exp);
      if (iss !== null) jwt = jwt.setIssuer(iss);
      if (aud !== null) jwt = jwt.setAudience(aud);
      return jwt.sign(key);
    };
    const good = await sign({ realm: { roles: ['reader', 'writer'] } });
    const admin = await sign({ scope: 'orders:read orders:admin' });
    const expired = await sign({}, { exp: Math.floor(Date.now() / 1000) - 3600 });
    const wrongAud = await sign({}, { aud: 'billing-api' });
    const wrongIss = await sign({}, { iss: 'https://evil.test' });
    const forged = await sign({}, { key: stranger.privateKey });
    const hs = await new jose.SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISS).setAudience(AUD)
      .setExpirationTime('5m').sign(new Uint8Array(32));
    const partner = await sign({}, { key: ed.privateKey, alg: 'EdDSA', kid: 'ed-1', iss: 'https://partner.parity.test', sub: 'acme' });
    const utf8 = await sign({}, { sub: 'Jos\u00e9 \u2713' });
    const control = await sign({}, { sub: 'eve\r\nx-admin: 1' });
    const noExp = await new jose.SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).setIssuer(ISS).setAudience(AUD).sign(es.privateKey);
    const oidcGood = await sign({}, { key: oidcKey.privateKey, kid: 'oidc-1', iss: 'https://oidc.parity.test', sub: 'olga' });
    const oidcWrongIss = await sign({}, { key: oidcKey.privateKey, kid: 'oidc-1', sub: 'olga' });
    const [h, p] = good.split('.');
    const bearer = (t) => ['authorization', `Bearer ${t}`];

    // Both hosts must have fetched the IdP's keys before the table starts.
    for (const port of [hosts.enforce.envoy, hosts.enforce.workerd, hosts.report.envoy, hosts.report.workerd]) {
      let r;
      for (let i = 0; i < 100; i++) {
        try {
          r = await send(port, { path: '/orders', headers: bearer(good) });
          // 200 and `allow`: report mode answers 200 even while it has no keys.
          if (r.status === 200 && JSON.parse(r.body).headers['x-gate-verdict'] === 'allow') break;
        } catch { /* not listening yet */ }
        await new Promise((res) => setTimeout(res, 100));
      }
      if (r?.status !== 200 || JSON.parse(r.body).headers['x-gate-verdict'] !== 'allow') throw new Error(`host on port ${port} (${JSON.stringify(hosts)}) never allowed a good token: ${r?.status} ${r?.body}\n${wEnforce.stderr()}`);
    }
    // And the OIDC provider's key set, found through its discovery metadata.
    for (const port of [hosts.enforce.envoy, hosts.enforce.workerd]) {
      let r;
      for (let i = 0; i < 100; i++) {
        try {
          r = await send(port, { path: '/oidc/me', headers: bearer(oidcGood) });
          if (r.status === 200) break;
        } catch { /* not listening yet */ }
        await new Promise((res) => setTimeout(res, 100));
      }
      if (r?.status !== 200) throw new Error(`host on port ${port} never verified a token through discovery: ${r?.status} ${r?.body}`);
    }

    const table = [
      ['public path, no token', 'enforce', { path: '/public/info' }],
      ['public path, spoofed claim headers in two spellings', 'enforce', { path: '/public/info', headers: ['x-jwt-sub', 'mallory', 'X_Jwt_Sub', 'mallory'] }],
      ['exact public path', 'enforce', { path: '/health' }],
      ['no token', 'enforce', { path: '/orders' }],
      ['good token: claims forwarded, token stripped', 'enforce', { path: '/orders', headers: bearer(good) }],
      ['good token with spoofed claim headers', 'enforce', { path: '/orders', headers: [...bearer(good), 'x-jwt-sub', 'mallory', 'x-jwt-scope', 'orders:admin'] }],
      ['expired', 'enforce', { path: '/orders', headers: bearer(expired) }],
      ['wrong audience', 'enforce', { path: '/orders', headers: bearer(wrongAud) }],
      ['wrong issuer', 'enforce', { path: '/orders', headers: bearer(wrongIss) }],
      ['signed by an unknown key with a known kid', 'enforce', { path: '/orders', headers: bearer(forged) }],
      ['tampered signature', 'enforce', { path: '/orders', headers: bearer(`${h}.${p}.${'A'.repeat(86)}`) }],
      ['HS256 with a guessed secret', 'enforce', { path: '/orders', headers: bearer(hs) }],
      ['no expiration', 'enforce', { path: '/orders', headers: bearer(noExp) }],
      ['not a token', 'enforce', { path: '/orders', headers: bearer('not-a-token') }],
      ['scheme in lower case', 'enforce', { path: '/orders', headers: ['authorization', `bearer ${good}`] }],
      ['another scheme', 'enforce', { path: '/orders', headers: ['authorization', 'Basic YWxpY2U6c2VjcmV0'] }],
      ['Bearer without a token', 'enforce', { path: '/orders', headers: ['authorization', 'Bearer'] }],
      ['raw bytes in the token header', 'enforce', { path: '/orders', headers: ['authorization', `Bearer ${good}\u00ff`] }],
      ['Authorization twice', 'enforce', { path: '/orders', headers: [...bearer(good), ...bearer(good)] }],
      ['token in a cookie, other cookies kept', 'enforce', { path: '/orders', headers: ['cookie', `theme=dark; session=${good}; lang=en`] }],
      ['token in a query parameter, removed from the path', 'enforce', { path: `/orders?page=2&access_token=${good}&sort=asc` }],
      ['the token in two places', 'enforce', { path: `/orders?access_token=${good}`, headers: bearer(good) }],
      ['missing scope', 'enforce', { path: '/admin/users', headers: bearer(good) }],
      ['with the scope', 'enforce', { path: '/admin/users', headers: bearer(admin) }],
      ['protected prefix in another case, no token', 'enforce', { path: '/ADMIN/users' }],
      ['protected prefix in another case, missing scope', 'enforce', { path: '/Admin/users', headers: bearer(good) }],
      ['regex rule: partner token, forwarded as sent', 'enforce', { path: '/orders/42', headers: ['x-partner-token', partner] }],
      ['regex rule: IdP token', 'enforce', { path: '/orders/42', headers: bearer(good) }],
      ['regex rule: no token', 'enforce', { path: '/orders/42' }],
      ['regex rule: partner token from the IdP header', 'enforce', { path: '/orders/42', headers: bearer(partner) }],
      ['regex miss falls to the catch-all', 'enforce', { path: '/orders/abc', headers: bearer(good) }],
      ['OIDC discovery: a token verified with the key set its metadata names', 'enforce', { path: '/oidc/me', headers: bearer(oidcGood) }],
      ['OIDC discovery: the same key, another issuer', 'enforce', { path: '/oidc/me', headers: bearer(oidcWrongIss) }],
      ['OIDC discovery: an IdP token on the OIDC route', 'enforce', { path: '/oidc/me', headers: bearer(good) }],
      ['allow_missing: no token passes unauthenticated', 'enforce', { path: '/optional/x' }],
      ['allow_missing: a bad token is refused', 'enforce', { path: '/optional/x', headers: bearer(expired) }],
      ['CORS preflight passes', 'enforce', { method: 'OPTIONS', path: '/orders', headers: ['origin', 'https://app.test', 'access-control-request-method', 'POST'] }],
      ['OPTIONS without a preflight header needs a token', 'enforce', { method: 'OPTIONS', path: '/orders', headers: ['origin', 'https://app.test'] }],
      ['encoded slash', 'enforce', { path: '/admin%2Fusers', headers: bearer(good) }],
      ['double slash', 'enforce', { path: '//admin/users' }],
      ['semicolon parameter', 'enforce', { path: '/admin;x/users', headers: bearer(good) }],
      // The one known difference: a Fetch host only sees the URL after the URL standard
      // resolved dot segments (`%2e%2e` is `..`): workerd checks, and would forward, `/admin`.
      // Both refuse; the worker with the answer for the path it would actually forward.
      ['encoded dot segment', 'enforce', { path: '/public/%2e%2e/admin' },
        { envoy: { status: 400, code: 'ERR_PATH_NOT_NORMALIZED' }, workerd: { status: 401, code: 'ERR_JWT_MISSING' } }],
      ['UTF-8 claim forwarded as the same bytes', 'enforce', { path: '/orders', headers: bearer(utf8) }],
      ['a claim with control characters is not forwarded', 'enforce', { path: '/orders', headers: bearer(control) }],
      ['report: good token', 'report', { path: '/orders', headers: bearer(good) }],
      ['report: expired token passes, flagged', 'report', { path: '/orders', headers: bearer(expired) }],
      ['report: no token passes, flagged', 'report', { path: '/admin/users' }],
      ['report: missing scope passes, flagged', 'report', { path: '/admin/users', headers: bearer(good) }],
    ];

    const compare = async (name, gate, req, expected) => {
      ran++;
      const e = observed(await send(hosts[gate].envoy, req));
      const w = observed(await send(hosts[gate].workerd, req));
      const matches = (seen, want) => seen.status === want.status && seen.code === want.code;
      const ok = expected === undefined
        ? JSON.stringify(e) === JSON.stringify(w)
        : matches(e, expected.envoy) && matches(w, expected.workerd);
      if (!ok) failures++;
      const detail = `\n     envoy:   ${JSON.stringify(e)}\n     workerd: ${JSON.stringify(w)}`;
      const differs = expected === undefined ? '' : ` (workerd: ${w.status} ${w.code}, as expected)`;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${e.status}${e.code ? ` ${e.code}` : ''}${ok ? differs : detail}`);
      return { e, w };
    };
    for (const [name, gate, req, expected] of table) await compare(name, gate, req, expected);

    // Agreeing is not enough: the claim must arrive as its UTF-8 bytes (the upstream reads
    // header bytes as latin1), and the token-stripping rewrites must be the expected ones.
    const checks = [
      ['the UTF-8 claim arrives as its UTF-8 bytes', { path: '/orders', headers: bearer(utf8) },
        (u) => u.headers['x-jwt-sub'] === Buffer.from('Jos\u00e9 \u2713', 'utf8').toString('latin1')],
      ['the query token is removed, the other parameters kept', { path: `/orders?page=2&access_token=${good}&sort=asc` },
        (u) => u.path === '/orders?page=2&sort=asc'],
      ['the cookie token is removed, the other cookies kept', { path: '/orders', headers: ['cookie', `theme=dark; session=${good}; lang=en`] },
        (u) => u.headers.cookie === 'theme=dark; lang=en'],
      ['a token verified through OIDC discovery forwards its claim', { path: '/oidc/me', headers: bearer(oidcGood) },
        (u) => u.headers['x-oidc-sub'] === 'olga' && u.headers.authorization === undefined],
      ['array claims are joined with commas', { path: '/orders', headers: bearer(good) },
        (u) => u.headers['x-jwt-roles'] === 'reader,writer' && u.headers.authorization === undefined],
    ];
    for (const [name, req, check] of checks) {
      for (const host of ['envoy', 'workerd']) {
        ran++;
        const r = await send(hosts.enforce[host], req);
        const ok = r.status === 200 && check(JSON.parse(r.body));
        if (!ok) failures++;
        console.log(`${ok ? 'ok  ' : 'FAIL'} ${host}: ${name}${ok ? '' : `: ${r.status} ${r.body}`}`);
      }
    }

    // Key rotation: a token from a key published after both hosts loaded the set. Each host
    // fetches the set again for the unknown kid (once the 1 s cooldown has passed) and
    // verifies the request that asked for it: the worker awaits that fetch, Envoy holds the
    // request until its next tick has fetched and adopted the set. Both answer alike.
    jwks.state.jwks = { keys: [esJwk, rsJwk] };
    await new Promise((r) => setTimeout(r, 1200));
    const rotated = await sign({}, { key: rs.privateKey, alg: 'RS256', kid: 'rs-2' });
    const before = jwks.state.byPath['/.well-known/jwks.json'];
    const req = { path: '/orders', headers: bearer(rotated) };
    await compare('key rotation: the first request with a new kid', 'enforce', req);
    const { e } = await compare('key rotation: then both verify it', 'enforce', req);
    const fetches = jwks.state.byPath['/.well-known/jwks.json'] - before;
    ran++;
    if (e.status !== 200 || fetches !== 2) {
      failures++;
      console.log(`FAIL key rotation: status ${e.status}, ${fetches} fetches (each host must fetch exactly once)`);
    } else {
      console.log('ok   key rotation: each host fetched the set exactly once');
    }

    // Neither host may log or echo a token.
    await new Promise((r) => setTimeout(r, 300));
    const logs = readFileSync(envoyLog, 'utf8') + wEnforce.stderr() + wReport.stderr();
    const leaked = [good, admin, expired, partner].some((t) => logs.includes(t.split('.')[2]));
    console.log(`${leaked ? 'FAIL' : 'ok  '} no token in the Envoy log or workerd's output`);
    if (leaked) failures++;
    ran++;
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch { /* already gone */ }
    }
    if (process.env.PARITY_KEEP === undefined) rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
  console.log(`parity: ${ran - failures} passed, ${failures} failed`);
  if (ran === 0 || failures > 0) process.exit(1);
}

await main();
