/**
 * Measures each Lambda handler's bundle: esbuild, platform node, ESM, target node24, minified,
 * AWS SDK v3 external (the nodejs24.x runtime provides it). Two builds per handler:
 *   - plain: exactly those flags;
 *   - deployed: as the TrafficController construct bundles (lib/handlerFunctions.ts): plus the
 *     createRequire banner (CommonJS dependencies such as the X-Ray SDK call require() for Node
 *     built-ins) and semver aliased to its `gte` alone (lib/bundling/xraySemver.cjs).
 * Prints minified and gzip sizes and the largest inputs, then loads each bundle and invokes it with
 * a malformed event, which is answered without AWS: a bundle that cannot run in an ESM Lambda
 * fails here rather than on its first real invocation.
 *
 *   npm run bundle:sizes
 */
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const handlers = ['alarm', 'schedule', 'deployment'];
const banner = "import{createRequire as __steer53CreateRequire}from'node:module';const require=__steer53CreateRequire(import.meta.url);";
// Inside node_modules, so the external AWS SDK resolves when the bundle is loaded (as in Lambda).
const outdir = mkdtempSync(join(process.cwd(), 'node_modules', '.steer53-bundles-'));

/** The aliases the construct bundles with (lib/handlerFunctions.ts), when this checkout has them. */
function aliases(): Record<string, string> {
  const semver = join(process.cwd(), 'lib', 'bundling', 'xraySemver.cjs');
  return existsSync(semver) ? { semver } : {};
}

function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return input.split('/').slice(0, 2).join('/');
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function check(file: string, name: string): Promise<string> {
  try {
    const loaded = (await import(pathToFileURL(file).href)) as { handler: (event: unknown, context: unknown) => Promise<{ status?: string }> };
    const answer = await loaded.handler(
      { steer53BundleCheck: true },
      { functionName: `steer53-${name}`, awsRequestId: 'bundle-check', getRemainingTimeInMillis: () => 1000 },
    );
    return answer?.status === 'rejected' ? 'runs' : `UNEXPECTED ${JSON.stringify(answer)}`;
  } catch (error) {
    return `FAILS: ${(error as Error).message}`;
  }
}

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
try {
  const variants = [
    { label: 'plain', options: {} },
    { label: 'deployed', options: { banner: { js: banner }, alias: aliases() } },
  ];
  console.log(`handler     build        minified        gzip   run check      largest inputs`);
  for (const name of handlers) {
    for (const variant of variants) {
      const outfile = join(outdir, `${name}-${variant.label}.mjs`);
      const result = await build({
        entryPoints: [`functions/handlers/${name}.ts`],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        minify: true,
        external: ['@aws-sdk/*'],
        outfile,
        metafile: true,
        logLevel: 'error',
        ...variant.options,
      });
      const [, output] = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'))!;
      const byPackage = new Map<string, number>();
      for (const [input, info] of Object.entries(output.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + info.bytesInOutput);
      const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 4);
      const runs = await check(outfile, name);
      if (variant.label === 'deployed' && runs !== 'runs') process.exitCode = 1;
      console.log(
        `${name.padEnd(11)} ${variant.label.padEnd(9)} ${kb(output.bytes).padStart(11)} ${kb(gzipSync(readFileSync(outfile)).length).padStart(11)}   ${runs.padEnd(12).slice(0, 60)}   ${top.map(([p, b]) => `${p} ${kb(b)}`).join(', ')}`,
      );
    }
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
