// `tokengate/gate` in Node >= 18: the gate's module is read from next to this package's files.
import { readFileSync } from 'node:fs';
import { initSync } from '../pkg/tokengate_gate.js';

initSync({ module: readFileSync(new URL('../pkg/tokengate_gate_bg.wasm', import.meta.url)) });

export { Gate, cacheStore, createGate } from './gate.js';
export * as errors from './errors.js';
