// Node >= 18: the module's bytes are read from next to this package's files; public-key
// signatures are checked with node:crypto (synchronous OpenSSL), the fastest choice measured
// (bench/node.mjs, BENCHMARKS.md). The crypto module is read and instantiated synchronously
// on first need (P-384/P-521 under `auto`, `signatureBackend: 'wasm'`).
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { initSync } from '../pkg/tokengate_js.js';
import * as cryptoModule from '../pkg/tokengate_crypto.js';
import { configure } from './api.js';
import { NODE_ALGORITHMS, nodeCryptoKeys, nodeCryptoVerify } from './nodecrypto.js';

initSync({ module: readFileSync(new URL('../pkg/tokengate_js_bg.wasm', import.meta.url)) });
configure({
  subtle: webcrypto.subtle,
  host: { algorithms: NODE_ALGORITHMS, keys: nodeCryptoKeys, verify: nodeCryptoVerify },
  cryptoModule: {
    loadSync() {
      cryptoModule.initSync({ module: readFileSync(new URL('../pkg/tokengate_crypto_bg.wasm', import.meta.url)) });
      return cryptoModule;
    },
  },
});

export * from './api.js';
