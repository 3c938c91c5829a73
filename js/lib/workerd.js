// workerd (Cloudflare Workers): the bundler or the worker config turns the `.wasm` import into
// a compiled WebAssembly.Module, instantiated synchronously at startup.
import module from '../pkg/tokengate_js_bg.wasm';
import { initSync } from '../pkg/tokengate_js.js';
import { configure } from './api.js';

initSync({ module });
configure({ subtle: globalThis.crypto?.subtle });

export * from './api.js';
