// Key sources: a local JWK Set, a remote one (fetched, cached, refreshed), and the shorthand
// inputs jose users pass (a shared secret as bytes, one JWK). Each document is parsed and
// validated once by the core into a `KeyState`.

import { WasmKeySet, algorithmOrder } from '../pkg/tokengate_js.js';
import { ConfigError, JWKSInvalid, JWKSTimeout, JWKSUnavailable, fromCore } from './errors.js';

let order;

/**
 * Algorithm names as a mask in the module's order, the form its verify entry points take
 * (names the module does not know are left out). Call after the module is instantiated.
 */
export function algorithmMask(names) {
  order ??= algorithmOrder().split(' ');
  return names.reduce((m, n) => (order.includes(n) ? m | (1 << order.indexOf(n)) : m), 0);
}

/** The name of algorithm bit `bit` of a mask (see `algorithmMask`). */
export function algorithmName(bit) {
  order ??= algorithmOrder().split(' ');
  return order[bit];
}

/** One parsed key set and what the verify paths need from it. */
export class KeyState {
  /** `json` is a JWK Set, or with `single` one JWK given directly (its `kid` not matched). */
  constructor(json, single = false) {
    try {
      this.wasm = single ? WasmKeySet.single(json) : new WasmKeySet(json);
    } catch (e) {
      throw fromCore(e);
    }
    /** The algorithms some key can verify: the default allowlist. */
    this.algorithms = this.wasm.algorithms.split(' ').filter(Boolean);
    /**
     * The same as a mask: a verify path only takes a detour through host crypto (a promise,
     * for WebCrypto) when some key could use it.
     */
    this.algorithmMask = algorithmMask(this.algorithms);
    this.checks = new Map();
  }

  /** The signature `check` of one kind (`host`, `webcrypto`) for this set, created once. */
  check(kind, create) {
    let check = this.checks.get(kind);
    if (check === undefined) {
      check = create(this.wasm);
      this.checks.set(kind, check);
    }
    return check;
  }
}

const LOCAL = Symbol('tokengate.local');

/** An internal option of `RemoteJWKSet`: parses a fetched document other than a JWKS. */
export const PARSE = Symbol('tokengate.parse');
/** The gate's option: the largest body read for its document (the core's bound for its kind). */
export const MAX_BYTES = Symbol('tokengate.maxBytes');

/** A JWK Set held in memory: `createLocalJWKSet`. */
export class LocalJWKSet {
  constructor(jwks) {
    if (typeof jwks !== 'string' && (jwks === null || typeof jwks !== 'object')) {
      throw new JWKSInvalid('a JSON Web Key Set must be an object or its JSON text');
    }
    this[LOCAL] = new KeyState(typeof jwks === 'string' ? jwks : JSON.stringify(jwks));
  }
  /** The algorithms the keys can verify. */
  get algorithms() {
    return [...this[LOCAL].algorithms];
  }
  /** How many keys are usable. */
  get size() {
    return this[LOCAL].wasm.length;
  }
}

function base64url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const shorthand = new Map();
const SHORTHAND_MAX = 64;

/**
 * Each KeyObject's public JWK text, exported at its first use only: a KeyObject cannot change,
 * and an export costs 3-10 us, a tenth of an RS256 check.
 */
const exportedKeyObjects = new WeakMap();

/**
 * The key state of a shorthand input, parsed once per distinct key. `single` marks one key
 * given directly (a secret, a JWK, a KeyObject, a CryptoKey) rather than a JWK Set.
 */
export function shorthandState(json, single) {
  const cacheKey = (single ? 'k' : 's') + json;
  let state = shorthand.get(cacheKey);
  if (state === undefined) {
    state = new KeyState(json, single);
    if (shorthand.size >= SHORTHAND_MAX) shorthand.clear();
    shorthand.set(cacheKey, state);
  }
  return state;
}

/**
 * The key state for a key input other than a remote set: a `LocalJWKSet`, a shared secret
 * (`Uint8Array`), one JWK object, or a JWK Set object.
 */
export function localState(keys) {
  if (keys instanceof LocalJWKSet) return keys[LOCAL];
  if (keys instanceof Uint8Array) {
    return shorthandState(JSON.stringify({ kty: 'oct', k: base64url(keys) }), true);
  }
  if (keys !== null && typeof keys === 'object' && Array.isArray(keys.keys)) {
    return shorthandState(JSON.stringify(keys), false);
  }
  if (keys !== null && typeof keys === 'object' && typeof keys.kty === 'string') {
    return shorthandState(JSON.stringify(keys), true);
  }
  // A Node KeyObject, as jose users pass one.
  if (keys !== null && typeof keys === 'object' && typeof keys.export === 'function' && typeof keys.type === 'string') {
    if (keys.type === 'private') {
      throw new ConfigError('a private key was given: pass the public key', 'ERR_JWK_INVALID');
    }
    let json = exportedKeyObjects.get(keys);
    if (json === undefined) {
      json = JSON.stringify(keys.export({ format: 'jwk' }));
      exportedKeyObjects.set(keys, json);
    }
    return shorthandState(json, true);
  }
  throw new ConfigError(
    'keys must be a key set from createLocalJWKSet/createRemoteJWKSet, a JWK, a JWK Set, a KeyObject, a CryptoKey (jwtVerify), a key function (jwtVerify), or a secret Uint8Array',
    'ERR_JWKS_INVALID',
  );
}

/** Largest JWKS document accepted from a server, in bytes. */
const MAX_JWKS_BYTES = 1 << 20;

/** Whether `hostname` is this machine (where plain http cannot be intercepted on the wire). */
function isLoopback(hostname) {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The response body as text, read as a stream with a byte counter: past `max` bytes the
 * request is aborted and nothing more is buffered. A `content-length` over the limit is
 * refused before reading.
 */
async function boundedText(response, max, controller) {
  const declared = Number(response.headers?.get?.('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    controller.abort();
    throw new JWKSInvalid(`the JWKS document is larger than ${max} bytes`);
  }
  const body = response.body;
  if (body === null || body === undefined || typeof body.getReader !== 'function') {
    // A fetch replacement without streams: count what it gives.
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > max) throw new JWKSInvalid(`the JWKS document is larger than ${max} bytes`);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  }
  const reader = body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      controller.abort();
      reader.cancel().catch(() => {});
      throw new JWKSInvalid(`the JWKS document is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch {
    throw new JWKSInvalid('the JWKS document is not UTF-8');
  }
}

/** A JWK Set fetched from a URL, cached and refreshed: `createRemoteJWKSet`. */
export class RemoteJWKSet {
  #url;
  #cacheMaxAge;
  #cooldown;
  #timeout;
  #headers;
  #fetch;
  #store;
  #storeKey;
  #state;
  #document;
  #fetchedAt;
  #pending;
  #attemptedAt;
  #storeChecked = false;
  #parse;
  #maxBytes;

  constructor(url, options = {}) {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('url must be an absolute http(s) URL', 'ERR_JWKS_INVALID');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new ConfigError('url must be an http(s) URL', 'ERR_JWKS_INVALID');
    }
    // Keys over plain http can be replaced by anyone on the path, and then any token forged.
    if (parsed.protocol === 'http:' && !isLoopback(parsed.hostname) && options.insecureAllowHttp !== true) {
      throw new ConfigError(
        'url must be https: keys fetched over http can be forged on the way (insecureAllowHttp: true to allow it anyway)',
        'ERR_JWKS_INVALID',
      );
    }
    this.#url = parsed.href;
    this.#cacheMaxAge = options.cacheMaxAge ?? 600_000;
    this.#cooldown = options.cooldownDuration ?? 30_000;
    this.#timeout = options.timeoutDuration ?? 5_000;
    this.#headers = options.headers ?? {};
    this.#fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.#store = options.store;
    this.#storeKey = `tokengate:jwks:${this.#url}`;
    // The gate reuses this fetcher for its other documents (a denylist).
    this.#parse = options[PARSE] ?? ((text) => new KeyState(text));
    if (options[PARSE] !== undefined) this.#storeKey = `tokengate:doc:${this.#url}`;
    this.#maxBytes = options[MAX_BYTES] ?? MAX_JWKS_BYTES;
  }

  /** When the set in use was fetched (ms since the epoch), or undefined. */
  get fetchedAt() {
    return this.#fetchedAt;
  }

  /** Whether a fetch is in flight. */
  get fetching() {
    return this.#pending !== undefined;
  }

  /** When the last fetch was attempted (ms since the epoch), or undefined. */
  get attemptedAt() {
    return this.#attemptedAt;
  }

  /** Whether the cached set is younger than `cacheMaxAge`. */
  get fresh() {
    return this.#state !== undefined && Date.now() - this.#fetchedAt < this.#cacheMaxAge;
  }

  /**
   * Whether the last fetch attempt, successful or not, was less than `cooldownDuration` ago
   * (no refetch for an unknown kid): an IdP that keeps failing is not asked again per token.
   */
  get coolingDown() {
    return this.#attemptedAt !== undefined && Date.now() - this.#attemptedAt < this.#cooldown;
  }

  /** The last fetched JWK Set document, or undefined. */
  jwks() {
    return this.#document === undefined ? undefined : JSON.parse(this.#document);
  }

  /** The current keys without fetching, or undefined (the synchronous `verify`). */
  current() {
    return this.#state;
  }

  /** The keys: cached while fresh, else from the store when fresh there, else fetched. */
  async keys() {
    if (this.fresh) return this.#state;
    if (this.#state === undefined && this.#store !== undefined && !this.#storeChecked) {
      this.#storeChecked = true;
      await this.#loadFromStore();
      if (this.fresh) return this.#state;
    }
    return this.reload();
  }

  /** Fetches the set now (one request at a time; concurrent callers share it). */
  reload() {
    if (this.#pending === undefined) {
      this.#pending = this.#fetchOnce().finally(() => {
        this.#pending = undefined;
      });
    }
    return this.#pending;
  }

  async #fetchOnce() {
    this.#attemptedAt = Date.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeout);
    let text;
    try {
      const response = await this.#fetch(this.#url, {
        method: 'GET',
        headers: { accept: 'application/json, application/jwk-set+json', ...this.#headers },
        redirect: 'manual',
        signal: controller.signal,
      });
      if (response.status !== 200) {
        throw new JWKSUnavailable(`the JWKS endpoint answered HTTP ${response.status}, expected 200`);
      }
      text = await boundedText(response, this.#maxBytes, controller);
    } catch (e) {
      if (e instanceof JWKSInvalid || e instanceof JWKSUnavailable) throw e;
      if (controller.signal.aborted) throw new JWKSTimeout('timed out fetching the JWKS');
      throw new JWKSUnavailable('fetching the JWKS failed', { cause: e });
    } finally {
      clearTimeout(timer);
    }
    this.#adopt(text, Date.now());
    if (this.#store !== undefined) {
      // Bound to its URL: a record read back for another URL (a shared store, a reused key)
      // is never taken.
      const record = JSON.stringify({ url: this.#url, fetchedAt: this.#fetchedAt, jwks: text });
      try {
        const put = this.#store.put ?? this.#store.set;
        await put.call(this.#store, this.#storeKey, record);
      } catch {
        // The store is an optimisation; the keys are already in memory.
      }
    }
    return this.#state;
  }

  #adopt(text, fetchedAt) {
    this.#state = this.#parse(text);
    this.#document = text;
    this.#fetchedAt = fetchedAt;
  }

  async #loadFromStore() {
    try {
      const raw = await this.#store.get(this.#storeKey);
      if (raw === null || raw === undefined) return;
      const record = typeof raw === 'string' ? JSON.parse(raw) : raw;
      const age = Date.now() - record.fetchedAt;
      if (record.url === this.#url && typeof record.jwks === 'string' && age >= 0 && age < this.#cacheMaxAge) {
        this.#adopt(record.jwks, record.fetchedAt);
      }
    } catch {
      // A broken or foreign record: fetch instead.
    }
  }
}
