// Node >= 18: the module's bytes are read from next to this package's files.
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { initSync } from '../pkg/tokengate_js.js';
import { configure } from './api.js';

initSync({ module: readFileSync(new URL('../pkg/tokengate_js_bg.wasm', import.meta.url)) });
configure(webcrypto.subtle);

export * from './api.js';
