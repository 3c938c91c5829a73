// Node >= 18: the module's bytes are read from next to this package's files; public-key
// signatures are checked with node:crypto (synchronous OpenSSL), the fastest choice measured
// (bench/node.mjs, BENCHMARKS.md).
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { initSync } from '../pkg/tokengate_js.js';
import { configure } from './api.js';
import { NODE_ALGORITHMS, nodeCryptoCheck, nodeCryptoKeys, nodeCryptoVerify } from './nodecrypto.js';

initSync({ module: readFileSync(new URL('../pkg/tokengate_js_bg.wasm', import.meta.url)) });
configure({
  subtle: webcrypto.subtle,
  host: { algorithms: NODE_ALGORITHMS, keys: nodeCryptoKeys, verify: nodeCryptoVerify, check: nodeCryptoCheck },
});

export * from './api.js';
