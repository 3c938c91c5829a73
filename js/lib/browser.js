// Browsers (and any runtime with fetch and top-level await): the module is fetched from the
// URL next to this file and compiled streaming.
import init from '../pkg/tokengate_js.js';
import { configure } from './api.js';

await init({ module_or_path: new URL('../pkg/tokengate_js_bg.wasm', import.meta.url) });
configure({ subtle: globalThis.crypto?.subtle });

export * from './api.js';
