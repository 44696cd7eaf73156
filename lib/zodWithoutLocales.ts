/**
 * A build-time stand-in for the `zod` package that leaves out zod's ~50 translated error-message
 * locales (about 255 KB of minified JavaScript, 40% of a handler bundle).
 *
 * Why: `import { z } from 'zod'` (used in functions/ and inside @aws-lambda-powertools/parser)
 * hands the whole `z` namespace around as a value, so esbuild must keep every export of it,
 * including `z.locales` and `z.core.locales`, although nothing reads them. The stand-in is zod's
 * own entry modules, generated from the installed package with those two `export * as locales`
 * lines removed; every other export is zod's own code, and the default English messages are still
 * registered (zod does that from `classic/schemas.js`, which imports `locales/en.js` directly).
 * `z.locales` is the only thing missing; steer53 never switches the locale.
 *
 * If the installed zod no longer has the expected layout, no stand-in is made and the handlers
 * bundle the real package (bigger, never broken). The alias covers the bare `zod` import only: a
 * subpath import (`zod/mini`, `zod/v4/core`) in handler code would fail the bundling loudly at
 * synth, never at run time; extend the stand-in then.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const localesExport = /^export \* as locales from "[^"]+";\s*$/m;

/** Rewrites one zod entry module: drops its locales export and makes relative imports absolute. */
function rewriteModule(file: string, replacements: Readonly<Record<string, string>>): string | undefined {
  const source = readFileSync(file, 'utf8');
  if (!localesExport.test(source)) return undefined;
  const dir = dirname(file);
  return source.replace(localesExport, '').replace(/from "(\.{1,2}\/[^"]+)"/g, (_match, relative: string) => {
    const absolute = resolve(dir, relative);
    return `from ${JSON.stringify(replacements[absolute] ?? absolute)}`;
  });
}

/**
 * Writes the stand-in under `outDir` and returns the path to alias `zod` to, or undefined when the
 * installed zod does not have the layout this relies on.
 */
export function writeZodWithoutLocales(packageRoot: string, outDir: string): string | undefined {
  const zod = join(packageRoot, 'node_modules', 'zod');
  const coreIndex = join(zod, 'v4', 'core', 'index.js');
  const classicExternal = join(zod, 'v4', 'classic', 'external.js');
  if (!existsSync(coreIndex) || !existsSync(classicExternal)) return undefined;
  const dir = join(outDir, 'zod-without-locales');
  const core = rewriteModule(coreIndex, {});
  const external = rewriteModule(classicExternal, { [coreIndex]: join(dir, 'core.mjs') });
  if (core === undefined || external === undefined) return undefined;
  mkdirSync(dir, { recursive: true });
  writeAtomically(join(dir, 'core.mjs'), core);
  writeAtomically(join(dir, 'external.mjs'), external);
  // The same shape as zod's own index.js: named exports plus `z` and the default export.
  writeAtomically(join(dir, 'index.mjs'), "import * as z from './external.mjs';\nexport * from './external.mjs';\nexport { z, z as default };\n");
  return join(dir, 'index.mjs');
}

let writes = 0;

/** Several synths may run at once (tests, watch): a reader never sees a half-written file. */
function writeAtomically(file: string, content: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  const temporary = `${file}.${process.pid}.${++writes}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}
