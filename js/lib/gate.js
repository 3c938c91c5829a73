// `createGate`: the Envoy filter's gate for Fetch API hosts (workerd, Node 18+, service
// workers) and Node's `http`. The configuration is the filter's JSON; every decision (which
// rule, which token, which answer, which headers) is the core's (`WasmGate`). This file only
// fetches the providers' documents, reads the clock, and turns the decision into a `Response`
// or the request to forward.

import { WasmDenylist, WasmGate, WasmKeySet } from '../pkg/tokengate_gate.js';
import { ConfigError, fromCore } from './errors.js';
import { MAX_BYTES, PARSE, RemoteJWKSet } from './keys.js';
import { MODULE_FASTER, WEBCRYPTO_ALGORITHMS, webCryptoImport, webCryptoVerify } from './webcrypto.js';

/** At most this many imported WebCrypto keys are kept (keys live for hours; a flood of
 * made-up key sets cannot grow the map past it). */
const CRYPTO_KEYS_MAX = 1024;

/** After a failed fetch, a document is not asked for again sooner than this (ms). */
const RETRY_MS = 5_000;

/**
 * How this runtime's `Headers` turns a string into bytes on the wire: `latin1` (Node's http and
 * undici: one char, one byte), or `utf8` (workerd). The core's header values are bytes (a
 * claim's UTF-8, as Envoy forwards it); they are handed to `Headers` so that the same bytes go
 * out. Set once by the runtime entry.
 */
let headerEncoding = 'latin1';

/** Called by the runtime entry: see `headerEncoding`. */
export function setHeaderEncoding(encoding) {
  headerEncoding = encoding;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A header value (bytes as a byte string) as this runtime's `Headers` must be given it. */
function headerText(bytes) {
  if (headerEncoding !== 'utf8' || /^[\x00-\x7f]*$/.test(bytes)) return bytes;
  try {
    return utf8.decode(Uint8Array.from(bytes, (c) => c.charCodeAt(0)));
  } catch {
    return bytes;
  }
}

function remoteUrl(remote, clusters) {
  const base = clusters?.[remote.cluster] ?? `https://${remote.authority}`;
  return new URL(remote.path, base).href;
}

/** Parses a fetched document with `Parser` (this module's key set or denylist), coded errors. */
const parser = (Parser) => (text) => {
  try {
    return new Parser(text);
  } catch (e) {
    throw fromCore(e);
  }
};

/** One provider's remote document, fetched through the runtime's `fetch`. */
class Source {
  constructor(remote, options, parse) {
    this.url = remoteUrl(remote, options.clusters);
    // The fetcher of `createRemoteJWKSet` (one request at a time, bounded bodies, the store),
    // parsing into this module's objects.
    this.fetcher = new RemoteJWKSet(this.url, {
      cacheMaxAge: remote.refresh_seconds * 1000,
      cooldownDuration: remote.unknown_kid_cooldown_seconds * 1000,
      timeoutDuration: remote.timeout_ms,
      fetch: options.fetch,
      store: options.store,
      insecureAllowHttp: options.insecureAllowHttp,
      [PARSE]: parse,
      [MAX_BYTES]: remote.max_bytes,
    });
    this.adopted = undefined;
  }

  /**
   * Fetches the document when it is due (older than `refresh_seconds`), unless a fetch failed
   * less than 5 s ago; concurrent callers share one fetch. Failures are left to the core,
   * which serves the last document until it is `max_stale_seconds` past due, then fails closed.
   */
  async refresh() {
    const f = this.fetcher;
    if (f.fresh) return;
    try {
      if (f.fetching) {
        await f.reload(); // a fetch in flight: wait for it
      } else if (f.attemptedAt === undefined || f.fetchedAt >= f.attemptedAt || Date.now() - f.attemptedAt >= RETRY_MS) {
        // (The 5 s hold applies after a failed attempt only: a document whose refresh_seconds
        // is shorter is fetched again when due.)
        await f.keys();
      }
    } catch {
      // Unavailable: the core decides with what it has (503 once nothing usable is left).
    }
  }

  /** Hands the document to the module (`set(document, fetchedAtSeconds)`) when it is new. */
  adopt(set) {
    const doc = this.fetcher.current();
    if (doc !== undefined && doc !== this.adopted) {
      set(doc, this.fetcher.fetchedAt / 1000);
      this.adopted = doc;
    }
  }

  /** A token named a key the set lacks: one early fetch per cooldown, from the last attempt. */
  async refetch() {
    if (this.fetcher.coolingDown) return false;
    try {
      await this.fetcher.reload();
      return true;
    } catch {
      return false;
    }
  }
}

/** Turns the core's decision JSON into the gate's answer. */
function answer(d) {
  const audit = d.audit ?? undefined;
  const claims = d.claims == null ? undefined : JSON.parse(d.claims);
  if (d.response == null) return { allowed: true, edits: d.edits, claims, audit };
  const r = d.response;
  const headers = { 'cache-control': 'no-store' };
  if (r.content_type != null) headers['content-type'] = r.content_type;
  if (r.www_authenticate != null) headers['www-authenticate'] = r.www_authenticate;
  if (r.retry_after != null) headers['retry-after'] = String(r.retry_after);
  let status = r.status;
  let body = r.body;
  if (r.grpc_status != null) {
    // The core gives a gRPC status to a gRPC request only: a trailers-only gRPC answer, as
    // Envoy sends a local reply to a gRPC request.
    headers['content-type'] = 'application/grpc';
    headers['grpc-status'] = String(r.grpc_status);
    headers['grpc-message'] = encodeURIComponent(r.body);
    status = 200;
    body = '';
  }
  return { allowed: false, status, headers, body, claims, audit };
}

/** The gate: `handle(request)` for Fetch, `handleNode(req, res)` for Node's `http`. */
export class Gate {
  #wasm;
  #options;
  #keys = new Map();
  #denylists = new Map();
  /** Discovery providers' metadata sources; what each parsed into is the key set's remote. */
  #discovery = new Map();
  #onDecision;
  /** The runtime's WebCrypto, when signatures are checked there (see `#decideOnce`). */
  #subtle;
  /** Whether any provider fetches a document (a key set, discovery metadata, a denylist). */
  #fetches;
  /** Imported keys by algorithm and key (`"ES256 <provider> <set version>:<index>"`). */
  #cryptoKeys = new Map();

  constructor(config, options = {}) {
    const json = typeof config === 'string' ? config : JSON.stringify(config);
    try {
      this.#wasm = new WasmGate(json);
    } catch (e) {
      throw fromCore(e);
    }
    const backend = options.signatureBackend ?? 'auto';
    if (backend !== 'auto' && backend !== 'wasm') {
      throw new ConfigError('signatureBackend must be "auto" or "wasm"', 'ERR_GATE_CONFIG');
    }
    // 'auto': the runtime's WebCrypto for the algorithms it checks fastest (as jwtVerify).
    this.#subtle = backend === 'auto' ? globalThis.crypto?.subtle : undefined;
    if (this.#subtle !== undefined) {
      this.#wasm.setHostAlgorithms(WEBCRYPTO_ALGORITHMS.filter((a) => !MODULE_FASTER.includes(a)).join(' '));
    }
    this.#onDecision = options.onDecision;
    this.#options = options;
    const providers = JSON.parse(this.#wasm.providers());
    this.#fetches = providers.some((p) => p.remote_jwks !== null || p.discovery !== null || p.denylist !== null);
    providers.forEach((p, i) => {
      // OIDC discovery: the module checks the metadata (its issuer, its jwks_uri) as it is
      // fetched; metadata it refuses is a failed fetch, retried as any other.
      if (p.discovery !== null) {
        const follow = (text) => {
          try {
            return JSON.parse(this.#wasm.setDiscovery(i, text));
          } catch (e) {
            throw fromCore(e);
          }
        };
        this.#discovery.set(i, new Source(p.discovery, options, follow));
      }
      if (p.remote_jwks !== null) this.#keys.set(i, new Source(p.remote_jwks, options, parser(WasmKeySet)));
      if (p.denylist !== null) this.#denylists.set(i, new Source(p.denylist, options, parser(WasmDenylist)));
    });
  }

  /** Whether the configuration is in report mode (FAIL-OPEN: denials only logged). */
  get reportMode() {
    return this.#wasm.reportMode;
  }

  /** Brings the documents the providers in `needed` use up to date in the module. */
  async #prepare(needed) {
    const discovering = needed.map((i) => this.#discovery.get(i)).filter(Boolean);
    if (discovering.length > 0) {
      await Promise.all(discovering.map((s) => s.refresh()));
      this.#follow(needed);
    }
    const sources = needed.flatMap((i) => [this.#keys.get(i), this.#denylists.get(i)]).filter(Boolean);
    await Promise.all(sources.map((s) => s.refresh()));
    this.#adopt(needed);
  }

  /** Points discovery providers' key sets at the `jwks_uri` their metadata names now. */
  #follow(needed) {
    for (const i of needed) {
      const remote = this.#discovery.get(i)?.fetcher.current();
      if (remote === undefined) continue;
      const keys = this.#keys.get(i);
      if (keys === undefined || keys.url !== remoteUrl(remote, this.#options.clusters)) {
        this.#keys.set(i, new Source(remote, this.#options, parser(WasmKeySet)));
      }
    }
  }

  #adopt(needed) {
    for (const i of needed) {
      this.#keys.get(i)?.adopt((keys, at) => this.#wasm.setKeys(i, keys, at));
      this.#denylists.get(i)?.adopt((list, at) => this.#wasm.setDenylist(i, list, at));
    }
  }

  /**
   * The module's decision on `all` (pseudo-headers and headers). With WebCrypto, in two
   * passes: the first lists the signatures WebCrypto is to check (its decision is discarded);
   * they are checked, all at once, and the second pass decides with those verdicts.
   */
  async #decideOnce(all) {
    const d = JSON.parse(this.#wasm.decide(all, Date.now() / 1000));
    if (d.pending === null) return d;
    const { ticket, checks } = d.pending;
    // (Every check's bytes and key are read now, before any await.)
    const verdicts = await Promise.all(checks.map((c, i) => this.#check(ticket, i, c)));
    return JSON.parse(this.#wasm.decideChecked(all, Date.now() / 1000, ticket, Uint8Array.from(verdicts)));
  }

  /** WebCrypto's verdict on check `i` of `ticket`: 1 valid, 0 not, 2 not checkable here. */
  #check(ticket, i, { alg, key }) {
    const input = this.#wasm.pendingInput(ticket, i);
    const signature = this.#wasm.pendingSignature(ticket, i);
    const id = `${alg} ${key}`;
    let imported = this.#cryptoKeys.get(id);
    if (imported === undefined) {
      if (this.#cryptoKeys.size >= CRYPTO_KEYS_MAX) this.#cryptoKeys.clear();
      // (A symmetric key has no public JWK: '' imports as null, checked in the module.)
      imported = webCryptoImport(this.#subtle, alg, this.#wasm.pendingJwk(ticket, i));
      this.#cryptoKeys.set(id, imported);
    }
    // (A WebCrypto that throws instead of rejecting is a refusal too.)
    return imported
      .then((k) => (k === null ? 2 : webCryptoVerify(this.#subtle, alg, k, input, signature, (valid) => (valid === true ? 1 : 0))))
      .catch(() => 0);
  }

  /**
   * Decides one request given as `{ method, target, headers }`: `target` is the path with its
   * query, `headers` a flat array of names and values (byte strings; repeated names stay
   * repeated). Resolves to `{ allowed, edits, claims, audit }` or `{ allowed: false, status,
   * headers, body, audit }`.
   */
  async decide({ method, target, authority, headers }) {
    // (Only a gate with remote documents has anything to fetch first.)
    const needed = this.#fetches ? JSON.parse(this.#wasm.needs(method, target)) : [];
    if (needed.length > 0) await this.#prepare(needed);
    const all = [':method', method, ':path', target];
    if (authority !== undefined) all.push(':authority', authority);
    all.push(...headers);
    let d = await this.#decideOnce(all);
    if (d.unknown_keys.length > 0) {
      const fetched = await Promise.all(d.unknown_keys.map((i) => this.#keys.get(i)?.refetch() ?? false));
      if (fetched.some(Boolean)) {
        this.#adopt(d.unknown_keys);
        d = await this.#decideOnce(all);
      }
    }
    const result = answer(d);
    this.#onDecision?.(result.audit);
    return result;
  }

  /**
   * Checks a Fetch API `Request`. Resolves to `{ response }` (a `Response` to send: 401/403
   * with the RFC 6750 challenge, 400, or 503 with `Retry-After`) or `{ request, claims }`:
   * the `Request` to forward (claim headers set, the token stripped unless its provider
   * forwards it) and the verified claims (undefined for an unauthenticated pass).
   */
  async handle(request) {
    const url = new URL(request.url);
    const headers = [];
    for (const [name, value] of request.headers) headers.push(name, value);
    const r = await this.decide({
      method: request.method,
      target: url.pathname + url.search,
      authority: url.host,
      headers,
    });
    if (!r.allowed) {
      return { response: new Response(r.body, { status: r.status, headers: r.headers }), audit: r.audit };
    }
    if (r.edits.length === 0) return { request, claims: r.claims, audit: r.audit };
    const path = r.edits.find(([op, name]) => op === 'set' && name === ':path');
    const target = path === undefined ? url : new URL(path[2], url);
    const forwarded = new Request(target, request);
    for (const [op, name, value] of r.edits) {
      if (name.startsWith(':')) continue;
      if (op === 'set') forwarded.headers.set(name, headerText(value));
      else forwarded.headers.delete(name);
    }
    return { request: forwarded, claims: r.claims, audit: r.audit };
  }

  /**
   * Checks a Node `http.IncomingMessage`. When refused, writes the answer to `res` (if given)
   * and resolves to `{ allowed: false, status, headers, body }`; when allowed, edits `req` in
   * place (its `headers`, `rawHeaders` and `url`) for the upstream and resolves to
   * `{ allowed: true, claims }`.
   */
  async handleNode(req, res) {
    const r = await this.decide({
      method: req.method,
      target: req.url,
      authority: req.headers.host,
      headers: req.rawHeaders,
    });
    if (!r.allowed) {
      res?.writeHead(r.status, r.headers).end(r.body);
      return r;
    }
    for (const [op, name, value] of r.edits) {
      if (name === ':path') {
        if (op === 'set') req.url = value;
        continue;
      }
      const raw = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        if (req.rawHeaders[i].toLowerCase() !== name) raw.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
      }
      delete req.headers[name];
      if (op === 'set') {
        req.headers[name] = value;
        raw.push(name, value);
      }
      req.rawHeaders = raw;
    }
    return r;
  }
}

/**
 * A gate over the Envoy filter's configuration (object or JSON text). Options: `clusters`
 * (cluster name to base URL; default `https://` + the remote's `authority`), `fetch`, `store`
 * (a KV-style `get`/`put`, or `cacheStore(caches.default)`), `insecureAllowHttp`,
 * `signatureBackend` (`"auto"`: the runtime's WebCrypto where it is fastest, as `jwtVerify`;
 * `"wasm"`: the module only), and `onDecision(audit)` for the decision log. Throws `ERR_GATE_CONFIG` naming the field.
 */
export function createGate(config, options) {
  return new Gate(config, options);
}

/**
 * A `store` over the Workers Cache API (`caches.default`), shared by a colo's isolates:
 * fetched documents are kept as cached responses under a private URL.
 */
export function cacheStore(cache, base = 'https://tokengate.invalid/') {
  const url = (key) => new URL(encodeURIComponent(key), base).href;
  return {
    async get(key) {
      const hit = await cache.match(url(key));
      return hit === undefined ? undefined : hit.text();
    },
    async put(key, value) {
      await cache.put(url(key), new Response(value, { headers: { 'cache-control': 'max-age=86400' } }));
    },
  };
}
