// jose's WebCrypto build for a workerd bench: its files, module by module, under the names
// their relative imports expect, plus a `jose` entry (written to a scratch folder).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The `[name, path]` modules of jose found under `jsDir`'s node_modules, and `cleanup()`. */
export function joseWorkerdModules(jsDir) {
  const joseDir = join(jsDir, 'node_modules/jose/dist/webapi');
  const files = readdirSync(joseDir, { recursive: true }).filter((f) => f.endsWith('.js'));
  const modules = files.map((f) => [`jose/${f}`, join(joseDir, f)]);
  const scratch = mkdtempSync(join(tmpdir(), 'tokengate-bench-'));
  const entry = join(scratch, 'jose-entry.mjs');
  writeFileSync(entry, "export * from 'jose/index.js';\n");
  modules.push(['jose', entry]);
  return { modules, cleanup: () => rmSync(scratch, { recursive: true, force: true }) };
}
