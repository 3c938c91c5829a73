/**
 * tokengate: strict JWT verification for browsers, Node >= 18 and edge workers, backed by the
 * tokengate Rust core compiled to WebAssembly. The API follows jose's `jwtVerify`.
 */

/** JWS algorithms tokengate verifies (`none` is never accepted). */
export type Algorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA';

/** A JSON Web Key (public, or `oct` for HMAC). Private members are refused. */
export interface JWK {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
  k?: string;
  [member: string]: unknown;
}

/** A JSON Web Key Set. */
export interface JSONWebKeySet {
  keys: JWK[];
}

/** Registered claims, plus whatever else the token carries. */
export interface JWTPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}

/** The verified protected header. */
export interface JWTHeaderParameters {
  alg: Algorithm;
  kid?: string;
  typ?: string;
  cty?: string;
  [parameter: string]: unknown;
}

/** What a successful verification returns, as jose's `jwtVerify` does. */
export interface JWTVerifyResult<P = JWTPayload> {
  payload: P & JWTPayload;
  protectedHeader: JWTHeaderParameters;
}

/** Seconds, or a time span such as `"30s"`, `"5m"`, `"2 hours"`. */
export type TimeSpan = number | string;

/** Verification options (named as jose's, plus tokengate's own). */
export interface JWTVerifyOptions {
  /** The only algorithms accepted. Default: every algorithm the key set's keys support. */
  algorithms?: Algorithm[];
  /** `iss` must equal one of these. An empty array is refused: leave the option out instead. */
  issuer?: string | string[];
  /** `aud` must contain one of these (exact match; `"*"` and an empty array are refused). */
  audience?: string | string[];
  /** `sub` must equal this. */
  subject?: string;
  /** The header `typ` must match, e.g. `"at+jwt"`. */
  typ?: string;
  /** Leeway for `exp`, `nbf` and `iat`. Default 60 seconds, at most 600. */
  clockTolerance?: TimeSpan;
  /** Largest `now - iat`; makes `iat` required. */
  maxTokenAge?: TimeSpan;
  /** The time to verify at. Default: now. */
  currentDate?: Date;
  /** Claims that must be present. */
  requiredClaims?: string[];
  /** tokengate: a revocation denylist (`createDenylist`, or its JSON document). */
  denylist?: Denylist | DenylistDocument;
  /** tokengate: whether `exp` is required. Default true. */
  requireExpiration?: boolean;
  /** tokengate: largest `exp - iat`; makes both required. */
  maxLifetime?: TimeSpan;
  /** tokengate: size limit checked before decoding (64 to 1048576). Default 16384. */
  maxTokenBytes?: number;
  /**
   * tokengate: size limit of the base64url protected header (64 to `maxTokenBytes`). Default
   * 8192, room for an `x5c` chain of three certificates.
   */
  maxHeaderBytes?: number;
  /**
   * tokengate: which code checks public-key signatures (parsing and every rule stay in the
   * module). `"auto"` (default): the fastest measured per runtime, `node:crypto` in Node; in
   * browsers and workerd the module for RS/PS/ES256/ES384 and, on `jwtVerify`, WebCrypto for
   * ES512/EdDSA. `"wasm"`: always the module; `"node"`: `node:crypto` (Node only);
   * `"webcrypto"`: WebCrypto (`jwtVerify` only). HMAC always runs in the module.
   */
  signatureBackend?: 'auto' | 'node' | 'webcrypto' | 'wasm';
}

/** A key set parsed and validated once: `createLocalJWKSet`. */
export interface LocalJWKSet {
  /** The algorithms the keys can verify. */
  readonly algorithms: Algorithm[];
  /** How many keys are usable. */
  readonly size: number;
}

/** Options of `createRemoteJWKSet` (durations in milliseconds, as jose's). */
export interface RemoteJWKSetOptions {
  /** Refetch after this long. Default 600000 (10 minutes). */
  cacheMaxAge?: number;
  /** No refetch for an unknown `kid` within this long of the last fetch attempt. Default 30000. */
  cooldownDuration?: number;
  /**
   * INSECURE: allow an `http:` URL on a host other than loopback. Keys fetched over plain
   * http can be replaced on the way, and then any token forged. Default false.
   */
  insecureAllowHttp?: boolean;
  /** Abort the fetch after this long. Default 5000. */
  timeoutDuration?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /**
   * Keeps the fetched set between short-lived isolates: anything with `get(key)` and
   * `put(key, value)` or `set(key, value)`, sync or async, storing strings (Cloudflare KV,
   * a `Map`, the Cache API behind a small adapter).
   */
  store?: JWKSStore;
}

/** Where a remote key set is kept between isolates. */
export interface JWKSStore {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  put?(key: string, value: string): unknown;
  set?(key: string, value: string): unknown;
}

/** A key set fetched from a URL: `createRemoteJWKSet`. */
export interface RemoteJWKSet {
  /** Whether the cached set is younger than `cacheMaxAge`. */
  readonly fresh: boolean;
  /** Whether an unknown `kid` would not trigger a refetch now. */
  readonly coolingDown: boolean;
  /** Fetches the set now. */
  reload(): Promise<unknown>;
  /** The last fetched document, if any. */
  jwks(): JSONWebKeySet | undefined;
}

/** A Node `KeyObject` (public or secret), typed structurally so browsers need no Node types. */
export interface KeyObjectLike {
  readonly type: 'public' | 'secret' | 'private';
  export(options: { format: 'jwk' }): JWK;
}

/**
 * A shared secret, one JWK, a Node `KeyObject`, a JWK Set, or a key set object. A key given
 * directly (not in a set) is used whatever the token's `kid`, as in jose.
 */
export type KeyInput = LocalJWKSet | RemoteJWKSet | Uint8Array | JWK | JSONWebKeySet | KeyObjectLike;

/** The token's parts as jose's key functions receive them (nothing verified yet). */
export interface FlattenedTokenParts {
  protected: string;
  payload: string;
  signature: string;
}

/**
 * jose's key function: picks a key from the (not yet verified) protected header. Use the
 * header only to choose; every check runs after it.
 */
export type KeyFunction = (
  protectedHeader: JWTHeaderParameters,
  token: FlattenedTokenParts,
) => Exclude<KeyInput, RemoteJWKSet> | CryptoKey | Promise<Exclude<KeyInput, RemoteJWKSet> | CryptoKey>;

/** The core's denylist document. */
export interface DenylistDocument {
  jti?: Array<string | { value: string; iss?: string; expires_at?: number }>;
  sub?: Array<string | { value: string; iss?: string; expires_at?: number }>;
  sub_issued_before?: Array<{ sub: string; before: number; iss?: string; expires_at?: number }>;
}

/** A parsed revocation denylist: `createDenylist`. */
export declare class Denylist {
  private constructor();
  /** How many entries it holds. */
  readonly size: number;
}

/**
 * Verifies a JWT synchronously with local keys (or a remote set already fetched). In a browser,
 * a public-key signature needs the crypto module loaded first (`loadCryptoModule()`); else
 * this throws `errors.CryptoModuleUnavailable`. Node and workerd load it by themselves.
 */
export declare function verify<P = JWTPayload>(
  token: string | Uint8Array,
  keys: KeyInput,
  options?: JWTVerifyOptions,
): JWTVerifyResult<P>;

/** Verifies a JWT with any key source; public-key signatures may use WebCrypto. */
export declare function jwtVerify<P = JWTPayload>(
  token: string | Uint8Array,
  keys: KeyInput | CryptoKey | KeyFunction,
  options?: JWTVerifyOptions,
): Promise<JWTVerifyResult<P>>;

/** Parses and validates a JWK Set once. Throws `errors.ConfigError` subclasses. */
export declare function createLocalJWKSet(jwks: JSONWebKeySet | string): LocalJWKSet;

/** A key set fetched from `url`, cached and refreshed. */
export declare function createRemoteJWKSet(url: string | URL, options?: RemoteJWKSetOptions): RemoteJWKSet;

/**
 * Loads the crypto module: the module's own RSA, ECDSA and EdDSA code, a second WebAssembly
 * file that the main one leaves out to stay small (public-key signatures usually go to the
 * runtime's WebCrypto or node:crypto). `jwtVerify` loads it by itself when a verification needs
 * it; in a browser, call this once before a synchronous `verify` of a public-key token.
 * Rejects with `errors.CryptoModuleUnavailable`.
 */
export declare function loadCryptoModule(): Promise<void>;

/** Parses a denylist once, for the `denylist` option. */
export declare function createDenylist(document: DenylistDocument | string): Denylist;

/** Error classes: each has a stable `code` (the tokengate core's, named like jose's). */
export declare namespace errors {
  class JOSEError extends Error {
    static code: string;
    code: string;
  }
  class JWTClaimValidationFailed extends JOSEError {
    /** The claim, e.g. `"aud"`. */
    claim: string;
    /** `missing`, `invalid`, `check_failed`, `not_yet_valid`, `issued_in_future`, `lifetime_too_long`. */
    reason: string;
  }
  class JWTExpired extends JOSEError {
    claim: string;
    reason: string;
  }
  class JOSEAlgNotAllowed extends JOSEError {}
  class JOSENotSupported extends JOSEError {}
  class JWSInvalid extends JOSEError {}
  class JWTInvalid extends JOSEError {}
  class JWTTooLarge extends JOSEError {}
  class JWSSignatureVerificationFailed extends JOSEError {}
  class JWKSNoMatchingKey extends JOSEError {}
  class JWKSMultipleMatchingKeys extends JOSEError {}
  /**
   * The verifier could not decide (the remote key set or the denylist is unavailable): not a
   * verdict on the token. Keep the token and retry later (HTTP 503 with `Retry-After`).
   */
  class VerifierUnavailable extends JOSEError {}
  class JWKSUnavailable extends VerifierUnavailable {}
  class JWKSTimeout extends VerifierUnavailable {}
  /** `verify` (sync) with a remote set older than `cacheMaxAge`: a refetch has started. */
  class JWKSStale extends VerifierUnavailable {}
  class JWTRevoked extends JOSEError {}
  class DenylistUnavailable extends VerifierUnavailable {}
  class JWTMissing extends JOSEError {}
  /** `ERR_CRYPTO_MODULE_UNAVAILABLE`: a public-key signature needs the crypto module, not loaded (see `loadCryptoModule`). */
  class CryptoModuleUnavailable extends VerifierUnavailable {}
  /** A configuration mistake (`ERR_POLICY_INVALID`, `ERR_JWK_INVALID`, `ERR_JWKS_INVALID`, ...). */
  class ConfigError extends JOSEError {}
  class JWKSInvalid extends ConfigError {}
  class JWKInvalid extends ConfigError {}
}
