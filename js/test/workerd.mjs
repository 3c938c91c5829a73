// Runs a worker in a real workerd (the npm `workerd` binary) from a generated capnp config, on
// loopback. Used by the worker test and by bench/workerd.mjs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const js = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const WORKERD = js('node_modules/.bin/workerd');

/** A free loopback port (for a server about to start). */
export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The verifier's modules under `lib/` (`tokengate` in workerd), as a worker imports them. */
export const VERIFIER_LIB = ['workerd', 'api', 'errors', 'keys', 'modulecrypto', 'options', 'webcrypto'];

// Modules are named like the package's files, so the package's relative imports resolve; the
// worker's bare `tokengate` (and `tokengate/gate`) import resolves to the workerd entry, as the
// `workerd` export condition does in a bundler.
function config(dir, port, workerPath, bindings, extraModules, gate) {
  // Embedded paths are relative to the config file.
  const esm = (name, path) => `(name = "${name}", esModule = embed "${relative(dir, path)}")`;
  const modules = [
    esm('worker.js', workerPath),
    `(name = "tokengate", esModule = "export * from 'lib/workerd.js';")`,
    ...(gate ? [`(name = "tokengate/gate", esModule = "export * from '../lib/gate-workerd.js';")`] : []),
    ...[...VERIFIER_LIB, ...(gate ? ['gate', 'gate-workerd'] : [])]
      .map((m) => esm(`lib/${m}.js`, js(`lib/${m}.js`))),
    // The gate's module only for a worker that imports it (the cold-start bench measures the
    // verifier's alone).
    ...['tokengate_js', 'tokengate_crypto', ...(gate ? ['tokengate_gate'] : [])].flatMap((m) => [
      esm(`pkg/${m}.js`, js(`pkg/${m}.js`)),
      `(name = "pkg/${m}_bg.wasm", wasm = embed "${relative(dir, js(`pkg/${m}_bg.wasm`))}")`,
    ]),
    ...extraModules.map(([name, path]) => esm(name, path)),
  ];
  const texts = Object.entries(bindings).map(([name, text]) => `(name = "${name}", text = ${JSON.stringify(text)})`);
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${modules.join(',\n    ')}],
  compatibilityDate = "2025-01-01",
  bindings = [${texts.join(', ')}],
);
`;
}

/**
 * Starts workerd serving the ES module at `workerPath` (which imports `tokengate`) with text
 * `bindings` and any `extraModules` (`[name, path]` pairs), with `tokengate/gate` importable
 * when `options.gate`; resolves once it answers HTTP (polled every `options.pollMs`, 50 ms).
 * Returns `{ base, stderr(), stop() }`; `stop()` ends workerd and removes its temporary folder.
 */
export async function startWorkerd(workerPath, bindings = {}, extraModules = [], options = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-workerd-'));
  writeFileSync(join(dir, 'config.capnp'), config(dir, port, workerPath, bindings, extraModules, options.gate === true));
  const child = spawn(WORKERD, ['serve', join(dir, 'config.capnp'), '--verbose'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const stop = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const running = { base: `http://127.0.0.1:${port}`, stderr: () => stderr, stop, dir };
  for (let i = 0; i < 10_000 / (options.pollMs ?? 50); i++) {
    try {
      await fetch(running.base);
      return running;
    } catch {
      await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
    }
  }
  stop();
  throw new Error(`workerd did not start:\n${stderr}`);
}
