/**
 * Measures each Lambda handler's bundle as the infrastructure builds it: esbuild, platform node,
 * ESM, target node24, minified, AWS SDK v3 external (the nodejs24.x runtime provides it).
 * Prints raw and gzip sizes and the largest inputs, so a size regression has a name.
 *
 *   npm run bundle:sizes
 */
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const handlers = ['alarm', 'schedule', 'deployment'];
const outdir = mkdtempSync(join(tmpdir(), 'steer53-bundles-'));

function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return input.split('/').slice(0, 2).join('/');
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

try {
  for (const name of handlers) {
    const result = await build({
      entryPoints: [`functions/handlers/${name}.ts`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: true,
      external: ['@aws-sdk/*'],
      outfile: join(outdir, `${name}.mjs`),
      metafile: true,
      write: true,
      logLevel: 'error',
    });
    const [, output] = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'))!;
    const code = readFileSync(join(outdir, `${name}.mjs`));
    const byPackage = new Map<string, number>();
    for (const [input, info] of Object.entries(output.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + info.bytesInOutput);
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(`${name.padEnd(11)} ${kb(output.bytes).padStart(10)} minified  ${kb(gzipSync(code).length).padStart(10)} gzip   largest: ${top.map(([p, b]) => `${p} ${kb(b)}`).join(', ')}`);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
