// The public API, shared by every runtime entry (node.js, browser.js, workerd.js), which
// instantiate the module first and then call `configure`.

import * as wasm from '../pkg/tokengate_js.js';
import { ConfigError, JWKSStale, JWKSUnavailable, JWSInvalid, fromCore } from './errors.js';
import { LocalJWKSet, RemoteJWKSet, algorithmMask, algorithmName, localState } from './keys.js';
import {
  cryptoModuleAtHand, loadCryptoModule, moduleCryptoKeys, setCryptoModuleLoader, withCryptoModule,
} from './modulecrypto.js';
import { nowSeconds, policyJson } from './options.js';
import { MODULE_FASTER, WEBCRYPTO_ALGORITHMS, webCryptoKeys, webCryptoVerify } from './webcrypto.js';

export * as errors from './errors.js';
export { loadCryptoModule };

let subtle;
let host;
let masks;
let publicKey;
let autoWithModule;
let moduleFaster;
let prefetched;

/**
 * Called once by the runtime entry after the WebAssembly module is instantiated: the runtime's
 * WebCrypto, its synchronous crypto where it has one (Node: `host`), and how it loads the crypto
 * module (see `modulecrypto.js`).
 */
export function configure(runtime) {
  subtle = runtime.subtle;
  host = runtime.host;
  setCryptoModuleLoader(runtime.cryptoModule);
  // The main module checks HMAC itself; every public-key signature goes to the runtime's crypto
  // or to the crypto module.
  publicKey = algorithmMask(WEBCRYPTO_ALGORITHMS);
  moduleFaster = algorithmMask(MODULE_FASTER);
  prefetched = false;
  const webcrypto = subtle === undefined ? 0 : publicKey;
  const hostMask = host === undefined ? 0 : algorithmMask(host.algorithms);
  // Per backend, the algorithms sent to the runtime's synchronous crypto (`host`: Node) and to
  // WebCrypto on the async path; the crypto module checks every other public-key signature
  // (and any key the runtime cannot import). 'auto' also sends MODULE_FASTER to the crypto
  // module where it is at hand without a download (`autoWithModule`, see `backend`).
  const auto = hostMask !== 0 ? { host: hostMask, webcrypto: 0 } : { host: 0, webcrypto };
  autoWithModule = { host: auto.host & ~moduleFaster, webcrypto: auto.webcrypto & ~moduleFaster };
  masks = {
    auto,
    node: { host: hostMask, webcrypto: 0 },
    webcrypto: { host: 0, webcrypto },
    wasm: { host: 0, webcrypto: 0 },
  };
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

/**
 * What a `denylist` option means, compared by value: a `Denylist` by identity (it is immutable),
 * a plain document (object or JSON text) by its JSON text, so a document edited in place is
 * seen at the next call.
 */
function denylistKey(value) {
  if (value === undefined) return undefined;
  if (value instanceof Denylist) return `d${value.id}`;
  return `j${typeof value === 'string' ? value : JSON.stringify(value)}`;
}

/** The validated policy for `options` and a key set, from the JSON text of the policy. */
function policyFromText(options, state, dkey) {
  const json = policyJson(options, state.algorithms);
  const id = dkey === undefined ? json : `${json}\n${dkey}`;
  let policy = policies.get(id);
  if (policy === undefined) {
    const denylist = options.denylist === undefined || options.denylist instanceof Denylist
      ? options.denylist
      : new Denylist(options.denylist);
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

// Services usually pass the same options object on every call, or an object literal written
// in place (`{ issuer, audience }`), equal to the last one: remember the policy of an options
// object, with a copy of its option names and the fields it was built from, and reuse it for
// that object, or for the next one with the same names and values, only while they are all
// unchanged.
const POLICY_FIELDS = [
  'algorithms', 'issuer', 'audience', 'subject', 'typ', 'clockTolerance', 'maxTokenAge',
  'requiredClaims', 'requireExpiration', 'maxLifetime', 'maxTokenBytes', 'maxHeaderBytes',
];
const byOptions = new WeakMap();

function snapshot(options) {
  return POLICY_FIELDS.map((f) => (Array.isArray(options[f]) ? [...options[f]] : options[f]));
}

function unchanged(entry, options, dkey) {
  if (dkey !== entry.denylist) return false;
  const names = Object.keys(options);
  if (names.length !== entry.names.length) return false;
  for (let i = 0; i < names.length; i++) if (names[i] !== entry.names[i]) return false;
  for (let i = 0; i < POLICY_FIELDS.length; i++) {
    const now = options[POLICY_FIELDS[i]];
    const then = entry.fields[i];
    if (Array.isArray(now)) {
      if (!Array.isArray(then) || then.length !== now.length) return false;
      for (let j = 0; j < now.length; j++) if (then[j] !== now[j]) return false;
    } else if (now !== then) {
      return false;
    }
  }
  return true;
}

let recent;

function policyFor(options, state) {
  const dkey = denylistKey(options.denylist);
  let entry = byOptions.get(options);
  if (entry === undefined || !unchanged(entry, options, dkey)) {
    entry = recent !== undefined && unchanged(recent, options, dkey)
      ? recent
      : { fields: snapshot(options), names: Object.keys(options), denylist: dkey, policies: new WeakMap() };
    byOptions.set(options, entry);
  }
  recent = entry;
  const cached = entry.policies.get(state);
  if (cached !== undefined) return cached;
  const policy = policyFromText(options, state, dkey);
  entry.policies.set(state, policy);
  return policy;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The token as text (for the header), and as given (a Uint8Array is passed on as is). */
function tokenInput(token) {
  if (typeof token === 'string') return { text: token, given: undefined };
  if (token instanceof Uint8Array) return { text: decoder.decode(token), given: token };
  throw new JWSInvalid('the token must be a string or a Uint8Array');
}

// Where the module's token buffer (`tokenBuffer`) starts, as of the last token written into
// it, and the most it holds.
let tokenAt = 0;
let tokenBytesMax;

/**
 * Writes the token's UTF-8 bytes into the module's token buffer, straight into its memory (no
 * buffer allocated, copied in and freed per token), and returns their length for `hostCheck` or
 * `verifySync`. A token too long for the buffer is passed with a length beyond it, which the
 * module refuses as too large under every policy. The buffer's address is asked for every time:
 * the module may move it.
 */
function tokenIntoModule(input) {
  tokenBytesMax ??= wasm.tokenBytesMax();
  const { text, given } = input;
  const room = Math.min(given === undefined ? text.length * 3 : given.length, tokenBytesMax);
  tokenAt = wasm.tokenBuffer(room);
  const view = moduleBytes().subarray(tokenAt, tokenAt + room);
  if (given !== undefined) {
    view.set(given.length > room ? given.subarray(0, room) : given);
    return given.length;
  }
  const { read, written } = encoder.encodeInto(text, view);
  return read === text.length ? written : tokenBytesMax + 1;
}

/**
 * The first `length` bytes of the token in the module's token buffer (the signing input): a
 * view, valid until the module is called again.
 */
function tokenBytes(length) {
  return moduleBytes().subarray(tokenAt, tokenAt + length);
}

function decodeSegment(segment) {
  const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(binary)) return binary;
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

// Tokens from one issuer share a handful of header segments: keep their decoded form, and
// hand out copies (only of headers whose values are all primitives, so a copy is complete).
const headers = new Map();
const HEADERS_MAX = 64;

function protectedHeader(token) {
  const segment = token.slice(0, token.indexOf('.'));
  const cached = headers.get(segment);
  if (cached !== undefined) return { ...cached };
  const header = JSON.parse(decodeSegment(segment));
  if (Object.values(header).every((v) => v === null || typeof v !== 'object')) {
    if (headers.size >= HEADERS_MAX) headers.clear();
    headers.set(segment, header);
    return { ...header };
  }
  return header;
}

/**
 * The text the module left at `address` of its memory after its length in bytes (`verifySync`'s
 * and `hostChecked`'s claims set).
 */
function textAt(address) {
  const bytes = moduleBytes();
  const length = int32At(bytes, address) >>> 0;
  return decoder.decode(bytes.subarray(address + 4, address + 4 + length));
}

/** The verified result, shaped like jose's. The core has checked both parts already. */
function result(token, claimsJson) {
  return { payload: JSON.parse(claimsJson), protectedHeader: protectedHeader(token) };
}

function ready() {
  if (masks === undefined) throw new ConfigError('tokengate: the WebAssembly module is not initialised', 'ERR_CONFIG');
}

function backend(options) {
  let choice = masks[options.signatureBackend ?? 'auto'];
  if (choice === undefined) {
    throw new ConfigError('signatureBackend must be "auto", "node", "webcrypto" or "wasm"', 'ERR_POLICY_INVALID');
  }
  if (options.signatureBackend === 'node' && choice.host === 0) {
    throw new ConfigError('signatureBackend "node" needs Node', 'ERR_POLICY_INVALID');
  }
  // 'auto': P-384 and P-521 run faster in the crypto module than in any runtime's crypto
  // (MODULE_FASTER), but not by enough to download it for: they go to it where it is at hand.
  if (choice === masks.auto && cryptoModuleAtHand()) choice = autoWithModule;
  return choice;
}

/** The crypto module's keys for one key set (see `modulecrypto.js`). */
const moduleKeys = (state) => state.check('module-keys', moduleCryptoKeys);

/** The little-endian 32-bit integer at `at` of `bytes`. */
const int32At = (bytes, at) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);

let memory;
let memoryBytes;

/** The module's memory as bytes, viewed again after it grew (which detaches the old view). */
function moduleBytes() {
  memory ??= wasm.moduleMemory();
  if (memoryBytes === undefined || memoryBytes.byteLength === 0) memoryBytes = new Uint8Array(memory.buffer);
  return memoryBytes;
}

// What the module's entry points answer for a refused token (u32::MAX): the coded error is
// then taken with `takeError` (see js/src/verify.rs).
const REFUSED = 0xffffffff;

/** `address`, the module's answer, unless it refused the token: then its coded error, thrown. */
function answered(address) {
  if (address === REFUSED) throw wasm.takeError();
  return address;
}

/**
 * What the module's `hostCheck` answered at `address` of its memory (after the answer's length
 * in bytes, little-endian 32-bit words, then the signature): the algorithm's bit, or -1 when the
 * module verifies the token itself (`undefined` here); the pending id, the signed bytes' length
 * (the token's first ones), and the candidate keys' indices in the order to try. The signature
 * stays in the module's memory (`signatureOf`), valid until the module is called again.
 */
function pendingCheck(address) {
  const bytes = moduleBytes();
  const bit = int32At(bytes, address + 4);
  if (bit < 0) return undefined;
  const count = int32At(bytes, address + 16);
  const keys = [];
  for (let i = 0; i < count; i++) keys.push(int32At(bytes, address + 20 + 4 * i));
  const signatureAt = address + 20 + 4 * count;
  return {
    bit,
    alg: algorithmName(bit),
    id: int32At(bytes, address + 8) >>> 0,
    signedLength: int32At(bytes, address + 12) >>> 0,
    keys,
    signatureAt,
    signatureEnd: address + 4 + (int32At(bytes, address) >>> 0),
  };
}

/** A pending check's signature, viewed in the module's memory (until it is called again). */
const signatureOf = (check) => moduleBytes().subarray(check.signatureAt, check.signatureEnd);

/**
 * The synchronous path: the module checks everything before the signature (`hostCheck`), the
 * runtime's synchronous crypto where chosen (Node's `crypto.verify`) or the crypto module checks
 * the signature against each candidate key in turn until one verifies, and the module checks
 * the rest (`hostChecked`). HMAC tokens the module verifies whole (`verifySync`).
 */
function verifyWith(state, input, options, choice) {
  const policy = policyFor(options, state);
  const now = nowSeconds(options);
  try {
    if ((publicKey & state.algorithmMask) !== 0) {
      const length = tokenIntoModule(input);
      const check = pendingCheck(answered(wasm.hostCheck(policy, state.wasm, length, publicKey)));
      if (check !== undefined) {
        const { alg, keys, signedLength } = check;
        const runtime = (choice.host & (1 << check.bit)) === 0 ? undefined : state.check('host-keys', host.keys);
        let position = 0;
        for (; position < keys.length; position++) {
          // The runtime's crypto where chosen and able to import the key, else the crypto module.
          const entry = runtime === undefined ? null : runtime.get(alg, keys[position]);
          const inModule = entry === null ? moduleKeys(state) : undefined;
          // The signed bytes are the token's first ones, read in the module's token buffer, and
          // the signature in its answer: views taken after the calls above, which may grow the
          // module's memory (neither writes the token or the answer).
          const message = tokenBytes(signedLength);
          const signature = signatureOf(check);
          const verified = inModule !== undefined
            ? inModule.verify(alg, keys[position], message, signature)
            : host.verify(alg, entry, message, signature);
          if (verified) break;
        }
        const valid = Number(position < keys.length);
        const claims = answered(wasm.hostChecked(check.id, policy, state.wasm, now, valid, position));
        if (claims !== 0) return result(input.text, textAt(claims));
        // Dropped while pending (only past 256 verifications in flight): start over.
        return verifyWith(state, input, options, choice);
      }
    }
    return result(input.text, textAt(answered(wasm.verifySync(policy, state.wasm, tokenIntoModule(input), now))));
  } catch (e) {
    throw fromCore(e);
  }
}

/**
 * Verifies a JWT synchronously with local keys (or a remote set's current keys). Returns
 * `{ payload, protectedHeader }`; throws a coded error.
 */
export function verify(token, keys, options = {}) {
  ready();
  const input = tokenInput(token);
  const choice = backend(options);
  if (options.signatureBackend === 'webcrypto') {
    throw new ConfigError('WebCrypto is asynchronous: use jwtVerify with signatureBackend "webcrypto"', 'ERR_POLICY_INVALID');
  }
  if (keys instanceof RemoteJWKSet) {
    const state = keys.current();
    if (state === undefined) throw new JWKSUnavailable('the remote JWKS has not been fetched yet: use jwtVerify');
    if (!keys.fresh) {
      // Never a key set older than cacheMaxAge (a key the IdP removed must stop verifying):
      // refresh in the background for the next call, refuse this one.
      keys.reload().catch(() => {});
      throw new JWKSStale('the remote JWKS is older than cacheMaxAge and is being refetched: use jwtVerify, or retry');
    }
    return verifyWith(state, input, options, choice);
  }
  return verifyWith(localState(keys), input, options, choice);
}

/**
 * The async path, split so that JavaScript awaits `crypto.subtle.verify` itself: the module
 * checks everything before the signature and names the token's candidate keys (`hostCheck`),
 * WebCrypto (or the crypto module) checks the signature against each in turn until one
 * verifies, the module checks the rest (`hostChecked`). One promise hop per key, as jose takes.
 */
function verifyAsync(state, input, options) {
  const choice = backend(options);
  // 'auto' on a page that verifies P-384 or P-521 tokens: fetch the crypto module in the
  // background (once), which checks those 1.3-2x faster than WebCrypto; WebCrypto checks them
  // until it is there.
  if (choice === masks.auto && !prefetched && (state.algorithmMask & moduleFaster) !== 0 && !cryptoModuleAtHand()) {
    prefetched = true;
    loadCryptoModule().catch(() => {});
  }
  if ((choice.webcrypto & state.algorithmMask) === 0) {
    // No WebCrypto for this key set (e.g. HMAC keys, or Node): the synchronous path, once the
    // crypto module is loaded if its public-key signatures need it.
    if ((publicKey & ~choice.host & state.algorithmMask) !== 0) {
      return withCryptoModule(() => verifyWith(state, input, options, choice));
    }
    return verifyWith(state, input, options, choice);
  }
  const policy = policyFor(options, state);
  const now = nowSeconds(options);
  let check;
  try {
    check = pendingCheck(answered(wasm.hostCheck(policy, state.wasm, tokenIntoModule(input), publicKey)));
  } catch (e) {
    throw fromCore(e);
  }
  if (check === undefined) return verifyWith(state, input, options, choice);
  const { alg, keys: candidates } = check;
  // Copied out of the reused answer and token buffers: other tokens are checked while
  // WebCrypto is awaited (the module keeps what it checked; WebCrypto must see the same bytes,
  // whatever a caller does to its own Uint8Array meanwhile).
  const signature = signatureOf(check).slice();
  const message = tokenBytes(check.signedLength).slice();
  // The module's verdict on the candidate at `position` (past the last: none verified). It keeps
  // the parsed token in between (`0`: it was dropped, only past 256 verifications in
  // flight; the token is then verified again synchronously in the crypto module, which keeps
  // nothing pending across an await).
  const finish = (position) => {
    let claims;
    try {
      claims = answered(wasm.hostChecked(check.id, policy, state.wasm, now, Number(position < candidates.length), position));
    } catch (e) {
      throw fromCore(e);
    }
    if (claims !== 0) return result(input.text, textAt(claims));
    return withCryptoModule(() => verifyWith(state, input, options, MODULE_ONLY));
  };
  const toWebCrypto = (choice.webcrypto & (1 << check.bit)) !== 0;
  const keys = toWebCrypto ? state.check('webcrypto-keys', (set) => webCryptoKeys(subtle, set)) : undefined;
  // Candidate `position`, then the next while the signature is refused. The crypto module for
  // algorithms not sent to WebCrypto, and for keys WebCrypto cannot import.
  const from = (position) => {
    if (position === candidates.length) return finish(position);
    const index = candidates[position];
    const then = (valid) => (valid ? finish(position) : from(position + 1));
    const inModule = () => withCryptoModule(() => then(moduleKeys(state).verify(alg, index, message, signature)));
    if (!toWebCrypto) return inModule();
    const verify = (key) => (key === null ? inModule() : webCryptoVerify(subtle, alg, key, message, signature, then));
    const key = keys.ready(alg, index);
    return key === undefined ? keys.load(alg, index).then(verify) : verify(key);
  };
  return from(0);
}

const MODULE_ONLY = { host: 0, webcrypto: 0 };

async function verifyRemote(keys, input, options) {
  try {
    return await verifyAsync(await keys.keys(), input, options);
  } catch (e) {
    if (e?.code !== 'ERR_JWKS_NO_MATCHING_KEY' || keys.coolingDown) throw e;
    // A kid the cached set lacks: the issuer may have rotated keys. Refetch once.
    return verifyAsync(await keys.reload(), input, options);
  }
}

/**
 * Verifies a JWT with any key source, fetching a remote set as needed. Public-key signatures
 * are checked by the runtime's crypto where that is faster (`signatureBackend`), everything
 * else by the core. Resolves to `{ payload, protectedHeader }`; rejects with a coded error.
 */
export function jwtVerify(token, keys, options = {}) {
  try {
    ready();
    const input = tokenInput(token);
    if (keys instanceof RemoteJWKSet) return verifyRemote(keys, input, options);
    if (typeof keys === 'function') return verifyResolved(keys, input, options);
    if (isCryptoKey(keys)) return cryptoKeyState(keys).then((state) => verifyAsync(state, input, options));
    return Promise.resolve(verifyAsync(localState(keys), input, options));
  } catch (e) {
    return Promise.reject(e);
  }
}

const JWS_ALG = /^(?:(?:HS|RS|PS|ES)(?:256|384|512)|EdDSA)$/;
const isCryptoKey = (key) => typeof CryptoKey !== 'undefined' && key instanceof CryptoKey;
const cryptoKeys = new WeakMap();

/** A WebCrypto key, as jose users pass one: exported once (public keys are extractable). */
function cryptoKeyState(key) {
  let state = cryptoKeys.get(key);
  if (state === undefined) {
    if (key.type === 'private') {
      return Promise.reject(new ConfigError('a private key was given: pass the public key', 'ERR_JWK_INVALID'));
    }
    if (subtle === undefined || !key.extractable) {
      return Promise.reject(new ConfigError('the CryptoKey must be extractable (public keys from importJWK are)', 'ERR_JWK_INVALID'));
    }
    state = subtle.exportKey('jwk', key).then((jwk) => {
      // The key's own algorithm binding stays (an RSASSA-PKCS1-v1_5 key must not verify PS256);
      // names the core does not know (e.g. WebCrypto's "Ed25519") are left for it to derive.
      const { alg, ext, key_ops: ops, ...rest } = jwk;
      if (typeof alg === 'string' && JWS_ALG.test(alg)) rest.alg = alg;
      return localState(rest);
    });
    cryptoKeys.set(key, state);
  }
  return state;
}

/**
 * jose's key function: `keys(protectedHeader, { protected, payload, signature })` returns (or
 * resolves to) any key input. The header it sees is decoded but not yet verified: use it only
 * to pick a key; the core then parses and checks everything.
 */
async function verifyResolved(resolve, input, options) {
  const [protectedSegment, payload, signature] = input.text.split('.');
  let header;
  try {
    header = protectedHeader(input.text);
  } catch {
    throw new JWSInvalid('the protected header is not valid JSON in base64url');
  }
  const keys = await resolve(header, { protected: protectedSegment, payload, signature });
  if (typeof keys === 'function' || keys instanceof RemoteJWKSet) {
    throw new ConfigError('the key function must return a key, a JWK, a JWK Set or a local key set', 'ERR_JWKS_INVALID');
  }
  const state = isCryptoKey(keys) ? await cryptoKeyState(keys) : localState(keys);
  return verifyAsync(state, input, options);
}

export { LocalJWKSet, RemoteJWKSet };
