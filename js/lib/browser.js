// Browsers (and any runtime with fetch and top-level await): the module is fetched from the
// URL next to this file and compiled streaming.
import init from '../pkg/tokengate_js.js';
import { configure } from './api.js';

await init({ module_or_path: new URL('../pkg/tokengate_js_bg.wasm', import.meta.url) });
// Chromium (bench/browser.mjs): the module's RSA, P-256 and P-384 beat WebCrypto's round trip;
// WebCrypto wins for EdDSA, and for P-521 (no fast path in the module).
configure({
  subtle: globalThis.crypto?.subtle,
  moduleFaster: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'],
});

export * from './api.js';
