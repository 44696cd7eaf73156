/**
 * The zod stand-in used when bundling the handlers: same API and English messages, minus the
 * translated locales. Bundles a small program with esbuild (as the CDK bundling does) and runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { writeZodWithoutLocales } from '../../lib/zodWithoutLocales.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const program = `
import { z } from 'zod';
import zDefault, { object, string } from 'zod';
const schema = z.strictObject({ name: z.string().regex(/^[a-z]+$/, { error: 'must be lowercase' }), weight: z.number().int().max(255) });
const result = schema.safeParse({ name: 'Chat', weight: 300, extra: 1 });
console.log(JSON.stringify({
  messages: result.error.issues.map((i) => i.message),
  locales: typeof z.locales,
  coreLocales: typeof z.core.locales,
  sameDefault: zDefault === z,
  named: object({ a: string() }).parse({ a: 'x' }).a,
  json: z.toJSONSchema(z.string()).type,
}));
`;

function bundleAndRun(alias: string | undefined): { size: number; output: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'steer53-zod-'));
  writeFileSync(join(dir, 'entry.ts'), program);
  const out = join(dir, 'out.mjs');
  const result = buildSync({
    entryPoints: [join(dir, 'entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    minify: true,
    outfile: out,
    nodePaths: [join(root, 'node_modules')],
    ...(alias ? { alias: { zod: alias } } : {}),
    metafile: true,
  });
  const size = Object.values(result.metafile!.outputs)[0]!.bytes;
  const run = spawnSync(process.execPath, [out], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return { size, output: JSON.parse(run.stdout) };
}

describe('writeZodWithoutLocales', () => {
  it("keeps zod's API and English messages while dropping the translated locales", () => {
    const alias = writeZodWithoutLocales(root, mkdtempSync(join(tmpdir(), 'steer53-zodshim-')));
    expect(alias).toBeDefined();
    const plain = bundleAndRun(undefined);
    const slim = bundleAndRun(alias);
    expect(slim.output).toEqual({ ...plain.output, locales: 'undefined', coreLocales: 'undefined' });
    expect(plain.output).toMatchObject({ locales: 'object', sameDefault: true, named: 'x', json: 'string' });
    expect(slim.output.messages).toEqual(['must be lowercase', 'Too big: expected number to be <=255', 'Unrecognized key: "extra"']);
    expect(plain.size - slim.size).toBeGreaterThan(200 * 1024);
  });

  it('makes no stand-in when zod is not where it is expected', () => {
    expect(writeZodWithoutLocales(mkdtempSync(join(tmpdir(), 'steer53-nozod-')), tmpdir())).toBeUndefined();
  });
});
