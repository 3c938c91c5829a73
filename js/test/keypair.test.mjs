// The key-pair helper (keypair.mjs), and the rule it exists for: no script here exports a
// KeyObject that came straight from generateKeyPairSync, which can hang Node 20 (see keypair.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from './keypair.mjs';

test('generateKeyPair gives working KeyObjects of the type and size asked for', () => {
  const message = Buffer.from('header.payload');
  const cases = [
    ['rsa', { modulusLength: 2048, publicExponent: 3 }, 'sha256', { kty: 'RSA', e: 'Aw' }],
    ['ec', { namedCurve: 'P-384' }, 'sha384', { kty: 'EC', crv: 'P-384' }],
    ['ed25519', {}, null, { kty: 'OKP', crv: 'Ed25519' }],
  ];
  for (const [type, options, hash, expected] of cases) {
    const { publicKey, privateKey } = generateKeyPair(type, options);
    assert.equal(publicKey.type, 'public', type);
    assert.equal(privateKey.type, 'private', type);
    assert.equal(publicKey.asymmetricKeyType, type, type);
    if (type === 'rsa') assert.equal(publicKey.asymmetricKeyDetails.modulusLength, 2048);
    const jwk = publicKey.export({ format: 'jwk' });
    for (const [name, value] of Object.entries(expected)) assert.equal(jwk[name], value, `${type} ${name}`);
    // The two halves are one pair: the public key checks the private key's signature only.
    const signature = sign(hash, message, privateKey);
    assert.equal(verify(hash, message, publicKey, signature), true, type);
    assert.equal(verify(hash, Buffer.from('header.other'), publicKey, signature), false, type);
    assert.equal(verify(hash, message, generateKeyPair(type, options).publicKey, signature), false, type);
  }
});

/** The JavaScript files under `dir`, without node_modules and the built package. */
function scripts(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'pkg') return [];
    if (statSync(path).isDirectory()) return scripts(path);
    return /\.(mjs|cjs|js)$/.test(name) ? [path] : [];
  });
}

test('no script here exports a KeyObject straight from generateKeyPairSync', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const files = [...scripts(join(root, 'js')), ...scripts(join(root, 'bench'))];
  const helper = new URL('./keypair.mjs', import.meta.url).pathname;
  let calls = 0;
  const offenders = [];
  for (const file of files) {
    if (file === helper) continue;
    // Each call with its arguments (one level of nested parentheses or braces is enough here).
    for (const [call] of readFileSync(file, 'utf8').matchAll(/generateKeyPairSync\((?:[^(){}]|\([^()]*\)|\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})*\)/g)) {
      calls++;
      // A call that asks for encoded keys returns no KeyObject to export.
      if (!/publicKeyEncoding/.test(call)) offenders.push(`${file.slice(root.length)}: ${call}`);
    }
  }
  assert.ok(files.length > 20, `${files.length} files read`);
  assert.ok(calls > 0, 'the check found the encoded call in pack.test.mjs');
  assert.deepEqual(offenders, [], 'use generateKeyPair from js/test/keypair.mjs');
});
