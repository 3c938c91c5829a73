/**
 * `tokengate/gate`: the tokengate Envoy filter's gate for Fetch API hosts (Cloudflare-style
 * workers, Node >= 18, service workers) and Node's `http`. The configuration is the filter's
 * JSON; decisions, challenges and claim headers are the same as in Envoy.
 */

import type { JWKSStore, JWTPayload, errors as verifierErrors } from './index.js';

/** A document fetched and refreshed (the Envoy filter's remote document). */
export interface GateRemote {
  /** The Envoy cluster; the `clusters` option maps it to a base URL. */
  cluster: string;
  /** The `:authority`; the default base URL is `https://` + it. */
  authority: string;
  /** The absolute path of the document. */
  path: string;
  refresh_seconds?: number;
  timeout_ms?: number;
  unknown_kid_cooldown_seconds?: number;
  max_stale_seconds?: number;
}

/** One identity provider. */
export interface GateProvider {
  issuer?: string;
  issuers?: string[];
  audiences?: string[];
  algorithms: string[];
  typ?: string;
  clock_skew_seconds?: number;
  max_lifetime_seconds?: number;
  require_expiration?: boolean;
  max_token_bytes?: number;
  max_header_bytes?: number;
  from_headers?: { name: string; value_prefix?: string }[];
  from_cookies?: string[];
  from_params?: string[];
  /** Keep the token in the forwarded request (default: strip it). */
  forward?: boolean;
  forward_payload_header?: string;
  claim_to_headers?: { header_name: string; claim_name: string; arrays?: 'comma' | 'json' }[];
  local_jwks?: { keys: Record<string, unknown>[] } | string;
  remote_jwks?: GateRemote;
  /** Not supported by `createGate` (Envoy only): throws `ERR_GATE_CONFIG`. */
  discovery?: GateRemote;
  denylist?: GateRemote;
  /** FAIL-OPEN: skip revocation until the first denylist loads. */
  denylist_fail_open_until_loaded?: boolean;
}

/** One rule: the first whose match fits decides. */
export interface GateRule {
  match: {
    prefix?: string;
    path?: string;
    regex?: string;
    methods?: string[];
    case_sensitive?: boolean;
  };
  requires?: {
    provider_name?: string;
    requires_any?: string[];
    requires_all?: string[];
    allow_missing?: boolean;
    /** FAIL-OPEN: requests pass whatever their tokens. */
    allow_missing_or_failed?: boolean;
  };
  scopes_all?: string[];
  scopes_any?: string[];
  claims?: Record<string, unknown>[];
}

/** The Envoy filter's configuration. */
export interface GateConfig {
  providers: Record<string, GateProvider>;
  rules?: GateRule[];
  /** `report` is FAIL-OPEN: denials are only reported. */
  mode?: 'enforce' | 'report';
  bypass_cors_preflight?: boolean;
  cache_capacity?: number;
  realm?: string;
  /** FAIL-OPEN: match rules against paths not in normal form. */
  allow_unnormalized_paths?: boolean;
  verdict_header?: string;
  hide_failure_details?: boolean;
}

/** One decision, for the decision log. Never holds the token. */
export interface GateAudit {
  /** The rule's index; null for a path refused before rule matching. */
  route: number | null;
  provider: string;
  verdict: 'allow' | 'allow_unauthenticated' | 'would_deny' | 'deny' | 'unavailable';
  /** The error code, or `-`. */
  code: string;
  /** The counter this decision increments (`allowed`, `denied.<code>`, ...). */
  metric: string;
}

export interface GateOptions {
  /** Cluster name to base URL (`http://127.0.0.1:8080`); default `https://` + authority. */
  clusters?: Record<string, string>;
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Keeps fetched documents between isolates (KV, a `Map`, `cacheStore(caches.default)`). */
  store?: JWKSStore;
  /** Allow plain-http document URLs that are not loopback. */
  insecureAllowHttp?: boolean;
  /**
   * Where signatures are checked: `"auto"` (default) the runtime's WebCrypto for RSA, P-256
   * and Ed25519 (as `jwtVerify`), the module for HMAC, P-384 and P-521; `"wasm"` the module.
   */
  signatureBackend?: 'auto' | 'wasm';
  /** Called with every decision about a request a rule protects. */
  onDecision?: (audit: GateAudit | undefined) => void;
}

/** A request as plain parts: the Node adapter's input, and `decide`'s. */
export interface GateRequestParts {
  method: string;
  /** The path with its query. */
  target: string;
  authority?: string;
  /** Names and values alternating, repeated names kept (Node's `rawHeaders`). */
  headers: string[];
}

/** A refusal: what to send. */
export interface GateRefusal {
  allowed: false;
  status: number;
  headers: Record<string, string>;
  body: string;
  audit?: GateAudit;
}

/** A pass: the edits to the forwarded request (`['set', name, value]`, `['remove', name]`). */
export interface GatePass<P = JWTPayload> {
  allowed: true;
  edits: (['set', string, string] | ['remove', string])[];
  claims?: P;
  audit?: GateAudit;
}

/** The gate. */
export declare class Gate {
  /** Whether the configuration is in report mode (FAIL-OPEN). */
  readonly reportMode: boolean;
  /**
   * Checks a Fetch `Request`: `{ response }` to send (401/403 with the RFC 6750 challenge,
   * 400, 503 with `Retry-After`), or `{ request, claims }`: the `Request` to forward, claim
   * headers set and the token stripped.
   */
  handle<P = JWTPayload>(
    request: Request,
  ): Promise<{ response: Response; audit?: GateAudit; request?: undefined; claims?: undefined } | { request: Request; claims?: P; audit?: GateAudit; response?: undefined }>;
  /**
   * Checks a Node `http.IncomingMessage`. Refused: writes the answer to `res` when given.
   * Allowed: edits `req.headers`, `req.rawHeaders` and `req.url` in place for the upstream.
   */
  handleNode<P = JWTPayload>(
    req: { method?: string; url?: string; headers: Record<string, string | string[] | undefined>; rawHeaders: string[] },
    res?: { writeHead(status: number, headers: Record<string, string>): { end(body: string): unknown } },
  ): Promise<GatePass<P> | GateRefusal>;
  /** Decides a request given as parts. */
  decide<P = JWTPayload>(request: GateRequestParts): Promise<GatePass<P> | GateRefusal>;
}

/** A gate over the Envoy filter's configuration (object or JSON text). Throws `ERR_GATE_CONFIG`. */
export declare function createGate(config: GateConfig | string, options?: GateOptions): Gate;

/** A `store` over the Workers Cache API (`caches.default`). */
export declare function cacheStore(
  cache: { match(url: string): Promise<Response | undefined>; put(url: string, response: Response): Promise<void> },
  base?: string,
): JWKSStore;

export declare const errors: typeof verifierErrors;
