/**
 * The bundles give `require('semver')` only semver's `gte` (lib/bundling/xraySemver.cjs): safe only
 * while the X-Ray SDK, the one bundled module that requires semver, calls nothing else of it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SemverAlias } from '../../lib/handlerFunctions.js';

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? jsFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : [],
  );
}

describe('The semver alias of the bundles', () => {
  it('covers every use the X-Ray SDK makes of semver', () => {
    const xray = join(process.cwd(), 'node_modules', 'aws-xray-sdk-core', 'dist', 'lib');
    const uses = jsFiles(xray).flatMap((file) => {
      const code = readFileSync(file, 'utf8');
      if (!/require\(['"]semver['"]\)/.test(code)) return [];
      return [...code.matchAll(/semver\.(\w+)/g)].map((m) => `${file.slice(xray.length + 1)}: ${m[1]}`);
    });
    expect(uses).toEqual(['patchers/aws_p.js: gte']);
  });

  it("is semver's own gte", () => {
    const alias = createRequire(import.meta.url)(SemverAlias) as { gte: (a: string, b: string) => boolean };
    expect(Object.keys(alias)).toEqual(['gte']);
    expect(alias.gte('2.1000.0', '2.7.15')).toBe(true);
    expect(alias.gte('2.6.0', '2.7.15')).toBe(false);
  });
});
