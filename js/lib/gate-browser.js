// `tokengate/gate` in browsers' service workers (and any runtime with fetch and top-level
// await): the gate's module is fetched from the URL next to this file.
import init from '../pkg/tokengate_gate.js';

await init({ module_or_path: new URL('../pkg/tokengate_gate_bg.wasm', import.meta.url) });

export { Gate, cacheStore, createGate } from './gate.js';
export * as errors from './errors.js';
