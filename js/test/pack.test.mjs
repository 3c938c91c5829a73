// The package as a user gets it: `npm pack`, installed into an empty project, imported by name
// (the `node` export condition), and used; and the tarball carries only what it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JS = fileURLToPath(new URL('..', import.meta.url));

test('npm pack: installs into an empty project and verifies a token', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: JS, encoding: 'utf8' }));
  const files = packed.files.map((f) => f.path).sort();
  assert.ok(files.includes('pkg/tokengate_js_bg.wasm') && files.includes('lib/index.d.ts'), files.join(' '));
  assert.ok(files.includes('pkg/tokengate_gate_bg.wasm') && files.includes('lib/gate.d.ts'), files.join(' '));
  assert.ok(files.includes('pkg/tokengate_crypto_bg.wasm') && files.includes('pkg/tokengate_crypto.js'), files.join(' '));
  assert.deepEqual(files.filter((f) => !/^(lib\/|pkg\/tokengate_(js|gate|crypto)|README\.md$|package\.json$)/.test(f)), []);

  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(dir, packed.filename)], { cwd: app });
  writeFileSync(join(app, 'main.js'), `
    import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
    import { verify, errors } from 'tokengate';
    const secret = Buffer.from('a packaged secret of at least 32 bytes');
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = b64({ alg: 'HS256' }) + '.' + b64({ sub: 'packaged', exp: Math.floor(Date.now() / 1000) + 60 });
    const token = input + '.' + createHmac('sha256', secret).update(input).digest('base64url');
    console.log(verify(token, new Uint8Array(secret)).payload.sub);
    try { verify(token + 'x', new Uint8Array(secret)); } catch (e) { console.log(e instanceof errors.JOSEError, e.code); }
    // EdDSA in the package's own crypto module, read from the installed package. The pair
    // comes encoded (a KeyObject from generateKeyPairSync can hang Node 20 in export(): see
    // test/keypair.mjs).
    const ed = generateKeyPairSync('ed25519', { publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const edInput = b64({ alg: 'EdDSA' }) + '.' + b64({ sub: 'ed', exp: Math.floor(Date.now() / 1000) + 60 });
    const edToken = edInput + '.' + sign(null, Buffer.from(edInput), ed.privateKey).toString('base64url');
    console.log(verify(edToken, ed.publicKey, { signatureBackend: 'wasm' }).payload.sub);
    const { createGate } = await import('tokengate/gate');
    const gate = createGate({ providers: { p: { algorithms: ['HS256'], local_jwks: { keys: [{ kty: 'oct', k: secret.toString('base64url') }] },
      claim_to_headers: [{ header_name: 'x-sub', claim_name: 'sub' }] } },
      rules: [{ match: { prefix: '/' }, requires: { provider_name: 'p' } }] });
    const ok = await gate.handle(new Request('http://app/x', { headers: { authorization: 'Bearer ' + token } }));
    const no = await gate.handle(new Request('http://app/x'));
    console.log(ok.request.headers.get('x-sub'), no.response.status);
  `);
  const out = execFileSync('node', ['main.js'], { cwd: app, encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(out, ['packaged', 'true ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ed', 'packaged 401']);
});
