// workerd (Cloudflare Workers): the bundler or the worker config turns the `.wasm` import into
// a compiled WebAssembly.Module, instantiated synchronously at startup.
import module from '../pkg/tokengate_js_bg.wasm';
import { initSync } from '../pkg/tokengate_js.js';
import { configure } from './api.js';

initSync({ module });
// workerd (bench/workerd.mjs): the module's RSA and P-384 beat WebCrypto; workerd's WebCrypto
// wins for P-256 and EdDSA, and for P-521 (no fast path in the module).
configure({
  subtle: globalThis.crypto?.subtle,
  moduleFaster: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES384'],
});

export * from './api.js';
