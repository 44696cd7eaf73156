/**
 * Measures the handler bundles of a synthesized app: minified size, and the time Node takes to
 * import each bundle (a proxy for Lambda cold-start init). A program, not a test: run it after
 * `npx cdk synth -q` with `npm run measure:bundles [-- <cdk.out>]`.
 *
 * Import time is the median of fresh `node` processes, each timing `await import(bundle)` with the
 * handler's environment and `--enable-source-maps` (as deployed): CPU time (user + system, what
 * the bundle costs; steadier on a busy machine) and wall time. Two variants:
 *  - "sdk stubbed": the bundle is copied next to generated stub packages for the external
 *    `@aws-sdk/*` imports, so only steer53's own code (and its bundled dependencies) is timed;
 *  - "sdk real": the bundle resolves the real AWS SDK from this repository's node_modules, as the
 *    Lambda runtime resolves its built-in SDK.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const assembly = resolve(process.argv[2] ?? 'cdk.out');
const runs = Number(process.env.RUNS ?? 7);

interface FunctionAsset {
  readonly name: string;
  readonly dir: string;
}

function functionAssets(): FunctionAsset[] {
  const template = JSON.parse(readFileSync(join(assembly, 'Steer53.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  };
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x')
    .map((r) => ({
      name: String(r.Properties.Description).replace(/^.*: (\w+) events$/, '$1'),
      dir: join(assembly, `asset.${String(r.Properties.Code.S3Key).replace(/\.zip$/, '')}`),
    }));
}

/** Stub packages for every `@aws-sdk/*` import of a bundle, exporting the imported names. */
function writeSdkStubs(bundle: string, nodeModules: string): void {
  const code = readFileSync(bundle, 'utf8');
  const imports = new Map<string, Set<string>>();
  for (const match of code.matchAll(/import\s*\{([^}]*)\}\s*from\s*"(@aws-sdk\/[^"]+)"/g)) {
    const names = imports.get(match[2]!) ?? new Set<string>();
    for (const part of match[1]!.split(',')) {
      const name = part
        .trim()
        .split(/\s+as\s+/)[0]!
        .trim();
      if (name) names.add(name);
    }
    imports.set(match[2]!, names);
  }
  for (const [pkg, names] of imports) {
    const dir = join(nodeModules, ...pkg.split('/'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkg, type: 'module', main: 'index.js' }));
    writeFileSync(
      join(dir, 'index.js'),
      [...names].map((n) => `export class ${n} { constructor(...a) { this.args = a; } send() { throw new Error('stub'); } }`).join('\n'),
    );
  }
}

interface ImportTime {
  readonly cpuMs: number;
  readonly wallMs: number;
}

function importTime(bundle: string, configPath: string): ImportTime {
  const script = `const c=process.cpuUsage();const t=process.hrtime.bigint();await import(${JSON.stringify(bundle)});const w=Number(process.hrtime.bigint()-t)/1e6;const u=process.cpuUsage(c);process.stdout.write(JSON.stringify({cpuMs:(u.user+u.system)/1000,wallMs:w}));`;
  const result = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      STEER53_CONFIG_PATH: configPath,
      STEER53_TABLE_NAME: 'steer53-state',
      STEER53_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:steer53',
      STEER53_EVENT_BUS_NAME: 'steer53',
      POWERTOOLS_SERVICE_NAME: 'steer53',
      POWERTOOLS_METRICS_NAMESPACE: 'steer53',
    },
  });
  if (result.status !== 0) throw new Error(`importing ${bundle} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as ImportTime;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rows: string[] = [];
for (const asset of functionAssets()) {
  const bundle = join(asset.dir, 'index.mjs');
  const config = join(asset.dir, 'steer53.config.json');
  if (!existsSync(config)) throw new Error(`${asset.dir} has no steer53.config.json`);
  const stubbed = mkdtempSync(join(tmpdir(), `steer53-${asset.name}-`));
  cpSync(asset.dir, stubbed, { recursive: true });
  writeSdkStubs(join(stubbed, 'index.mjs'), join(stubbed, 'node_modules'));
  const withStubs = Array.from({ length: runs }, () => importTime(join(stubbed, 'index.mjs'), config));
  const withSdk = Array.from({ length: runs }, () => importTime(bundle, config));
  const kb = (file: string) => (statSync(file).size / 1024).toFixed(1);
  const ms = (times: ImportTime[], key: keyof ImportTime) =>
    median(times.map((t) => t[key]))
      .toFixed(0)
      .padStart(4);
  rows.push(
    `${asset.name.padEnd(11)} ${kb(bundle).padStart(7)} KB  map ${kb(`${bundle}.map`).padStart(7)} KB  ` +
      `import, sdk stubbed: cpu ${ms(withStubs, 'cpuMs')} ms, wall ${ms(withStubs, 'wallMs')} ms  ` +
      `import, sdk real: cpu ${ms(withSdk, 'cpuMs')} ms, wall ${ms(withSdk, 'wallMs')} ms`,
  );
}
process.stdout.write(`${rows.join('\n')}\n(median of ${runs} fresh node ${process.version} processes each)\n`);
