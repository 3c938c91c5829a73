// jose-style verify options -> the core's policy JSON (snake_case), validated by the core once
// per distinct policy and cached. Only names and units are translated here; every rule the
// options express is enforced by the core.

import { ConfigError } from './errors.js';

const UNITS = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
  y: 31557600, yr: 31557600, yrs: 31557600, year: 31557600, years: 31557600,
};

/** Seconds from a number of seconds or a jose time span such as `"30s"`, `"5 minutes"`. */
export function seconds(value, name) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new ConfigError(`${name} must be a non-negative number of seconds`, 'ERR_POLICY_INVALID');
    }
    return Math.floor(value);
  }
  if (typeof value === 'string') {
    const m = /^(\d+(?:\.\d+)?) ?([a-z]+)$/i.exec(value.trim());
    const unit = m && UNITS[m[2].toLowerCase()];
    if (unit) return Math.round(parseFloat(m[1]) * unit);
  }
  throw new ConfigError(`${name} must be seconds or a time span like "5m"`, 'ERR_POLICY_INVALID');
}

// An empty array is passed on as one, and the core refuses it: an empty list never means "any".
function list(value, name) {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new ConfigError(`${name} must be a string or an array of strings`, 'ERR_POLICY_INVALID');
}

const KNOWN = new Set([
  'algorithms', 'issuer', 'audience', 'subject', 'typ', 'clockTolerance', 'maxTokenAge',
  'currentDate', 'requiredClaims', 'denylist', 'requireExpiration', 'maxLifetime',
  'maxTokenBytes', 'maxHeaderBytes', 'signatureBackend',
]);

/**
 * The core policy document for `options`, with `defaultAlgorithms` (the key set's own, as jose
 * derives the algorithm from the key) when the options name none.
 */
export function policyJson(options, defaultAlgorithms) {
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) {
      throw new ConfigError(`unknown option ${JSON.stringify(name)}`, 'ERR_POLICY_INVALID');
    }
  }
  const policy = {
    algorithms: list(options.algorithms, 'algorithms') ?? defaultAlgorithms,
    issuers: list(options.issuer, 'issuer'),
    audiences: list(options.audience, 'audience'),
    subjects: list(options.subject, 'subject'),
    typ: options.typ,
    clock_skew_seconds:
      options.clockTolerance === undefined ? undefined : seconds(options.clockTolerance, 'clockTolerance'),
    max_age_seconds:
      options.maxTokenAge === undefined ? undefined : seconds(options.maxTokenAge, 'maxTokenAge'),
    max_lifetime_seconds:
      options.maxLifetime === undefined ? undefined : seconds(options.maxLifetime, 'maxLifetime'),
    required_claims: list(options.requiredClaims, 'requiredClaims'),
    require_expiration: options.requireExpiration,
    max_token_bytes: options.maxTokenBytes,
    max_header_bytes: options.maxHeaderBytes,
  };
  return JSON.stringify(policy);
}

/** `now` in whole seconds: `currentDate` when given, else the clock. */
export function nowSeconds(options) {
  const date = options.currentDate;
  if (date === undefined) return Math.floor(Date.now() / 1000);
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new ConfigError('currentDate must be a valid Date', 'ERR_POLICY_INVALID');
  }
  return Math.floor(date.getTime() / 1000);
}
