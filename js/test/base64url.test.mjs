// The module's strict base64url decoder (RFC 7515: URL-safe alphabet, no padding, canonical
// trailing bits), which decodes sixteen characters at a time with WebAssembly SIMD, against a
// reference written here: the alphabet checked, Node's decoder, and the re-encoding required to
// give back the same text (so a string with non-zero spare bits is refused). The core's native
// tests and the `base64url` fuzz target hold the same algorithm, lane by lane, to the `base64`
// crate; this test holds the real SIMD instructions to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../lib/node.js';
import { base64urlDecodeInModule } from '../pkg/tokengate_js.js';
import { uniform } from './random.mjs';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const IN_ALPHABET = new Set([...ALPHABET].map((c) => c.charCodeAt(0)));

/** The strict decoding of `bytes`, or undefined. */
function reference(bytes) {
  if (bytes.length % 4 === 1 || !bytes.every((b) => IN_ALPHABET.has(b))) return undefined;
  const text = String.fromCharCode(...bytes);
  const out = Buffer.from(text, 'base64url');
  return out.toString('base64url') === text ? new Uint8Array(out) : undefined;
}

function check(bytes, counts) {
  const ours = base64urlDecodeInModule(bytes);
  const expected = reference(bytes);
  assert.deepEqual(ours, expected, `input ${JSON.stringify(String.fromCharCode(...bytes))}`);
  counts[expected === undefined ? 'refused' : 'decoded']++;
}

test('the module decodes base64url as the reference does, around and inside its 16-character blocks', () => {
  const counts = { decoded: 0, refused: 0 };
  const valid = Uint8Array.from({ length: 64 }, (_, i) => ALPHABET.charCodeAt((i * 29 + 7) % 64));
  // Every byte value at every position of one, two and three blocks, and of a block followed
  // by a short tail (which the module decodes without SIMD).
  for (const length of [16, 17, 18, 19, 20, 31, 32, 34, 35, 48, 50]) {
    for (let at = 0; at < length; at++) {
      for (let byte = 0; byte < 256; byte++) {
        const input = valid.slice(0, length);
        input[at] = byte;
        check(input, counts);
      }
    }
  }
  const random = uniform(0xb64);
  // Encodings of random bytes of every length up to 400.
  for (let i = 0; i < 4000; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(random() * 401) }, () => Math.floor(random() * 256));
    check(new TextEncoder().encode(Buffer.from(bytes).toString('base64url')), counts);
  }
  // Random text over the alphabet and its near misses (padding, the standard alphabet's two
  // characters, space, bytes past ASCII), mostly valid characters.
  const near = [...'=+/ .\n\0'].map((c) => c.charCodeAt(0)).concat([0x80, 0xff, 0x7b, 0x40, 0x60, 0x2f, 0x3a]);
  for (let i = 0; i < 4000; i++) {
    const input = Uint8Array.from({ length: Math.floor(random() * 120) }, () => (random() < 0.97
      ? ALPHABET.charCodeAt(Math.floor(random() * 64))
      : near[Math.floor(random() * near.length)]));
    check(input, counts);
  }
  assert.ok(counts.decoded > 8_000 && counts.refused > 60_000, JSON.stringify(counts));
});
