// `tokengate/gate` in workerd (Cloudflare Workers): the `.wasm` import is a compiled
// WebAssembly.Module, instantiated synchronously at startup.
import module from '../pkg/tokengate_gate_bg.wasm';
import { initSync } from '../pkg/tokengate_gate.js';
import { setHeaderEncoding } from './gate.js';

initSync({ module });
// workerd writes a header string as UTF-8 (not one byte per char).
setHeaderEncoding('utf8');

export { Gate, cacheStore, createGate } from './gate.js';
export * as errors from './errors.js';
