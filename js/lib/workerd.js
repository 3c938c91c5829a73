// workerd (Cloudflare Workers): the bundler or the worker config turns the `.wasm` imports into
// compiled WebAssembly.Modules. The main one is instantiated at startup; the crypto module
// (public-key arithmetic) only on first need, synchronously.
import module from '../pkg/tokengate_js_bg.wasm';
import cryptoWasm from '../pkg/tokengate_crypto_bg.wasm';
import { initSync } from '../pkg/tokengate_js.js';
import * as cryptoModule from '../pkg/tokengate_crypto.js';
import { configure } from './api.js';

initSync({ module });
configure({
  subtle: globalThis.crypto?.subtle,
  cryptoModule: {
    loadSync() {
      cryptoModule.initSync({ module: cryptoWasm });
      return cryptoModule;
    },
  },
});

export * from './api.js';
