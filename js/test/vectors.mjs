// Reads the public test vectors the repository carries (tests/vectors, with their licenses and
// provenance) and counts cases, so every conformance driver fails when it ran none.
import { readFileSync, existsSync } from 'node:fs';
import assert from 'node:assert/strict';

const DIR = new URL('../../tests/vectors/', import.meta.url);

export function load(relative) {
  const url = new URL(relative, DIR);
  assert.ok(existsSync(url), `vectors not found: ${url.pathname}`);
  return JSON.parse(readFileSync(url, 'utf8'));
}

export const hex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
export const b64u = (bytes) => Buffer.from(bytes).toString('base64url');

/** Counts checked cases and documented policy departures; `finish` fails on any miss or zero. */
export class Tally {
  constructor(name) {
    this.name = name;
    this.checked = 0;
    this.policy = 0;
    this.failures = [];
  }
  check(id, ok, detail) {
    this.checked++;
    if (!ok) this.failures.push(`${id}: ${detail}`);
  }
  departs(id, ok, reason) {
    this.policy++;
    if (!ok) this.failures.push(`${id} (policy: ${reason}) did not hold`);
  }
  finish() {
    console.log(`conformance-js ${this.name}: ${this.checked + this.policy} cases (${this.policy} policy-dependent), ${this.failures.length} failed`);
    assert.ok(this.checked + this.policy > 0, `${this.name}: no cases ran`);
    assert.deepEqual(this.failures.slice(0, 20), [], `${this.name}: ${this.failures.length} failures`);
  }
}
