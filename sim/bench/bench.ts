/**
 * `npm run bench`: every shipped scenario under every controller, in one run. Prints the markdown
 * table (and the targets) on stdout; with `--json`, exactly one JSON document instead:
 *   {"scenarios":[{"name":…,"incident":…,"controllers":{"steer53":{…},"static":{…},…}}]}
 * Progress and the report path go to stderr; the JSON document is also written to
 * `<out>/bench.json` next to the HTML report (npm prints a banner on stdout unless run with -s).
 *
 *   npm run bench [-- --json] [-- --out <dir>] [-- --seed N]
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../../functions/core/errors.js';
import { simulate, writeReport } from '../cli.js';
import { DEFAULT_SCENARIOS } from '../scenario.js';
import { benchDocument, markdownTable } from '../summary.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, out: { type: 'string', default: 'out/bench' }, seed: { type: 'string' } },
    strict: true,
  });
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) throw new ValidationError('bench', [{ path: '--seed', message: 'must be an integer ≥ 0' }]);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  err(`steer53 bench: ${DEFAULT_SCENARIOS.length} scenarios × 5 controllers`);
  const results = await simulate(
    { scenarios: [...DEFAULT_SCENARIOS], ...(seed !== undefined ? { seed } : {}) },
    { out: err, err, clock: () => performance.now() },
  );
  const report = writeReport(results, values.out, 'steer53 benchmark');
  const document = JSON.stringify(benchDocument(results));
  const jsonPath = resolve(join(values.out, 'bench.json'));
  writeFileSync(jsonPath, `${document}\n`);
  err(`report: ${report}`);
  err(`json: ${jsonPath}`);
  err(`bench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (values.json) process.stdout.write(`${document}\n`);
  else process.stdout.write(`${markdownTable(results)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof ValidationError ? error.message : (error as Error).stack}\n`);
    process.exitCode = 1;
  },
);
