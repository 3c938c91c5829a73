// Errors thrown by tokengate: `Error` subclasses named and coded like jose's, with the core's
// stable `code` strings. Messages come from the core and never contain the token.

/** The base class: every error tokengate throws has a stable `code`. */
export class JOSEError extends Error {
  static code = 'ERR_JOSE_GENERIC';
  code = 'ERR_JOSE_GENERIC';
  constructor(message, options) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

function coded(name, code, Base = JOSEError) {
  const cls = {
    [name]: class extends Base {
      static code = code;
      code = code;
    },
  }[name];
  return cls;
}

/** A claim failed validation; `claim` and `reason` say which and why. */
export class JWTClaimValidationFailed extends JOSEError {
  static code = 'ERR_JWT_CLAIM_VALIDATION_FAILED';
  code = 'ERR_JWT_CLAIM_VALIDATION_FAILED';
  constructor(message, claim = 'unspecified', reason = 'unspecified') {
    super(message);
    this.claim = claim;
    this.reason = reason;
  }
}

/** `exp` is in the past beyond the clock tolerance (`claim` is `"exp"`). */
export class JWTExpired extends JOSEError {
  static code = 'ERR_JWT_EXPIRED';
  code = 'ERR_JWT_EXPIRED';
  constructor(message, claim = 'exp', reason = 'check_failed') {
    super(message);
    this.claim = claim;
    this.reason = reason;
  }
}

export const JOSEAlgNotAllowed = coded('JOSEAlgNotAllowed', 'ERR_JOSE_ALG_NOT_ALLOWED');
export const JOSENotSupported = coded('JOSENotSupported', 'ERR_JOSE_NOT_SUPPORTED');
export const JWSInvalid = coded('JWSInvalid', 'ERR_JWS_INVALID');
export const JWTInvalid = coded('JWTInvalid', 'ERR_JWT_INVALID');
export const JWTTooLarge = coded('JWTTooLarge', 'ERR_JWT_TOO_LARGE');
export const JWSSignatureVerificationFailed = coded(
  'JWSSignatureVerificationFailed',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
);
export const JWKSNoMatchingKey = coded('JWKSNoMatchingKey', 'ERR_JWKS_NO_MATCHING_KEY');
export const JWKSMultipleMatchingKeys = coded(
  'JWKSMultipleMatchingKeys',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
);
/**
 * The verifier could not decide: something it needs (the remote key set, the denylist) is not
 * available. Not a verdict on the token: keep it and retry later (HTTP 503 with `Retry-After`,
 * as tokengate's Envoy filter answers), rather than asking the IdP for a new one.
 */
export class VerifierUnavailable extends JOSEError {
  static code = 'ERR_UNAVAILABLE';
  code = 'ERR_UNAVAILABLE';
}
export const JWKSUnavailable = coded('JWKSUnavailable', 'ERR_JWKS_UNAVAILABLE', VerifierUnavailable);
export const JWKSTimeout = coded('JWKSTimeout', 'ERR_JWKS_TIMEOUT', VerifierUnavailable);
export const JWKSStale = coded('JWKSStale', 'ERR_JWKS_STALE', VerifierUnavailable);
export const JWTRevoked = coded('JWTRevoked', 'ERR_JWT_REVOKED');
export const DenylistUnavailable = coded('DenylistUnavailable', 'ERR_DENYLIST_UNAVAILABLE', VerifierUnavailable);
export const JWTMissing = coded('JWTMissing', 'ERR_JWT_MISSING');
/**
 * A public-key signature needs the module's own signature code (the crypto module), which is
 * not loaded (the synchronous `verify` in a browser before `loadCryptoModule()`) or could not
 * be fetched.
 */
export const CryptoModuleUnavailable = coded('CryptoModuleUnavailable', 'ERR_CRYPTO_MODULE_UNAVAILABLE', VerifierUnavailable);

/** A configuration mistake (options, key set, denylist), not a bad token. */
export class ConfigError extends JOSEError {
  static code = 'ERR_CONFIG';
  constructor(message, code = 'ERR_CONFIG') {
    super(message);
    this.code = code;
  }
}
export const JWKSInvalid = coded('JWKSInvalid', 'ERR_JWKS_INVALID', ConfigError);
export const JWKInvalid = coded('JWKInvalid', 'ERR_JWK_INVALID', ConfigError);

const BY_CODE = new Map(
  [
    JWTClaimValidationFailed,
    JWTExpired,
    JOSEAlgNotAllowed,
    JOSENotSupported,
    JWSInvalid,
    JWTInvalid,
    JWTTooLarge,
    JWSSignatureVerificationFailed,
    JWKSNoMatchingKey,
    JWKSMultipleMatchingKeys,
    JWKSUnavailable,
    JWKSTimeout,
    JWKSStale,
    JWTRevoked,
    DenylistUnavailable,
    JWTMissing,
    CryptoModuleUnavailable,
    JWKSInvalid,
    JWKInvalid,
  ].map((cls) => [cls.code, cls]),
);

/**
 * Turns what the core threw (`code \x1f message [\x1f claim \x1f reason]`) into an error
 * object; anything else (a JavaScript error from a callback) passes through.
 */
export function fromCore(thrown) {
  if (typeof thrown !== 'string') return thrown;
  const [code, message, claim, reason] = thrown.split('\x1f');
  const cls = BY_CODE.get(code);
  if (cls === JWTClaimValidationFailed || cls === JWTExpired) {
    return new cls(message, claim || undefined, reason || undefined);
  }
  if (cls !== undefined) {
    return new cls(message);
  }
  // Configuration codes without a class of their own (ERR_POLICY_INVALID, ...).
  return new ConfigError(message, code);
}
