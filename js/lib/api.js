// The public API, shared by every runtime entry (node.js, browser.js, workerd.js), which
// instantiate the module first and then call `configure`.

import * as wasm from '../pkg/tokengate_js.js';
import { ConfigError, JWKSUnavailable, JWSInvalid, fromCore } from './errors.js';
import { LocalJWKSet, RemoteJWKSet, localState } from './keys.js';
import { nowSeconds, policyJson } from './options.js';
import { WEBCRYPTO_ALGORITHMS } from './webcrypto.js';

export * as errors from './errors.js';

let subtle;
let masks;

/** Called once by the runtime entry after the WebAssembly module is instantiated. */
export function configure(subtleCrypto) {
  subtle = subtleCrypto;
  const order = wasm.algorithmOrder().split(' ');
  const mask = (names) => names.reduce((m, n) => (order.includes(n) ? m | (1 << order.indexOf(n)) : m), 0);
  const all = mask(WEBCRYPTO_ALGORITHMS);
  // 'auto': the faster backend per algorithm, measured by bench/node.mjs (BENCHMARKS.md).
  masks = { auto: all, webcrypto: all, wasm: 0 };
}

/** Builds a local key set from a JWK Set (object or JSON text). */
export function createLocalJWKSet(jwks) {
  return new LocalJWKSet(jwks);
}

/** A key set fetched from `url`, cached for `cacheMaxAge` and refetched for unknown `kid`s. */
export function createRemoteJWKSet(url, options) {
  return new RemoteJWKSet(url, options);
}

let denylistIds = 0;

/** A revocation denylist (the core's JSON format), parsed once for many verifications. */
export class Denylist {
  constructor(document) {
    const json = typeof document === 'string' ? document : JSON.stringify(document);
    try {
      this.wasm = new wasm.WasmDenylist(json);
    } catch (e) {
      throw fromCore(e);
    }
    this.id = ++denylistIds;
  }
  /** How many entries the list holds. */
  get size() {
    return this.wasm.length;
  }
}

/** Parses a denylist once; pass it as the `denylist` option. */
export function createDenylist(document) {
  return new Denylist(document);
}

const policies = new Map();
const POLICIES_MAX = 256;

function policyFor(options, state) {
  const denylist = options.denylist === undefined || options.denylist instanceof Denylist
    ? options.denylist
    : new Denylist(options.denylist);
  const json = policyJson(options, state.algorithms);
  const id = denylist === undefined ? json : `${json}\n${denylist.id}`;
  let policy = policies.get(id);
  if (policy === undefined) {
    try {
      policy = new wasm.WasmPolicy(json);
    } catch (e) {
      throw fromCore(e);
    }
    if (denylist !== undefined) policy = policy.withDenylist(denylist.wasm);
    if (policies.size >= POLICIES_MAX) policies.clear();
    policies.set(id, policy);
  }
  return policy;
}

function tokenText(token) {
  if (typeof token === 'string') return token;
  if (token instanceof Uint8Array) return new TextDecoder().decode(token);
  throw new JWSInvalid('the token must be a string or a Uint8Array');
}

function decodeSegment(segment) {
  const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(binary)) return binary;
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The verified result, shaped like jose's. The core has checked both parts already. */
function result(token, claimsJson) {
  return {
    payload: JSON.parse(claimsJson),
    protectedHeader: JSON.parse(decodeSegment(token.slice(0, token.indexOf('.')))),
  };
}

function ready() {
  if (masks === undefined) throw new ConfigError('tokengate: the WebAssembly module is not initialised', 'ERR_CONFIG');
}

function verifyWith(state, token, options) {
  const policy = policyFor(options, state);
  try {
    return result(token, wasm.verifySync(policy, state.wasm, token, nowSeconds(options)));
  } catch (e) {
    throw fromCore(e);
  }
}

/**
 * Verifies a JWT synchronously with local keys (or a remote set's current keys) and the
 * module's own signature code. Returns `{ payload, protectedHeader }`; throws a coded error.
 */
export function verify(token, keys, options = {}) {
  ready();
  const text = tokenText(token);
  if (keys instanceof RemoteJWKSet) {
    const state = keys.current();
    if (state === undefined) throw new JWKSUnavailable('the remote JWKS has not been fetched yet: use jwtVerify');
    return verifyWith(state, text, options);
  }
  return verifyWith(localState(keys), text, options);
}

async function verifyAsync(state, token, options) {
  const mask = masks[options.signatureBackend ?? 'auto'];
  if (mask === undefined) {
    throw new ConfigError('signatureBackend must be "auto", "webcrypto" or "wasm"', 'ERR_POLICY_INVALID');
  }
  if (mask === 0 || !state.asymmetric || subtle === undefined) return verifyWith(state, token, options);
  const policy = policyFor(options, state);
  const now = nowSeconds(options);
  try {
    return result(token, await wasm.verifyWithWebCrypto(policy, state.wasm, token, now, mask, state.check(subtle)));
  } catch (e) {
    throw fromCore(e);
  }
}

/**
 * Verifies a JWT with any key source, fetching a remote set as needed. Public-key signatures
 * are checked with WebCrypto where the runtime has it (`signatureBackend`), everything else
 * by the core. Resolves to `{ payload, protectedHeader }`; rejects with a coded error.
 */
export async function jwtVerify(token, keys, options = {}) {
  ready();
  const text = tokenText(token);
  if (!(keys instanceof RemoteJWKSet)) return verifyAsync(localState(keys), text, options);
  try {
    return await verifyAsync(await keys.keys(), text, options);
  } catch (e) {
    if (e?.code !== 'ERR_JWKS_NO_MATCHING_KEY' || keys.coolingDown) throw e;
    // A kid the cached set lacks: the issuer may have rotated keys. Refetch once.
    return verifyAsync(await keys.reload(), text, options);
  }
}

export { LocalJWKSet, RemoteJWKSet };
