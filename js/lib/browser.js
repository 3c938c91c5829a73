// Browsers (and any runtime with fetch and top-level await): the module is fetched from the
// URL next to this file and compiled streaming. Public-key signatures go to WebCrypto; the
// crypto module (the package's own public-key arithmetic, a second .wasm) is fetched only when a
// verification needs it, or on `loadCryptoModule()`. Its bindings are imported statically (a
// dynamic import() would make some bundler set-ups, such as Rollup's single `output.file`, fail).
import init from '../pkg/tokengate_js.js';
import initCrypto, * as cryptoModule from '../pkg/tokengate_crypto.js';
import { configure } from './api.js';

await init({ module_or_path: new URL('../pkg/tokengate_js_bg.wasm', import.meta.url) });
configure({
  subtle: globalThis.crypto?.subtle,
  cryptoModule: {
    async load() {
      await initCrypto({ module_or_path: new URL('../pkg/tokengate_crypto_bg.wasm', import.meta.url) });
      return cryptoModule;
    },
  },
});

export * from './api.js';
