/**
 * `npm run bench`: every shipped scenario under every controller, on one or more seeds, judged
 * against each scenario's `expect:` block. Prints the markdown tables on stdout; with `--json`,
 * exactly one JSON document instead (sim/summary.ts, BenchDocument). Progress, missed expectations
 * and the report path go to stderr; the JSON document is also written to `<out>/bench.json` next
 * to the HTML report.
 *
 *   npm run bench -- [--seeds 1-5|1,3,7] [--quick] [--json] [--out <dir>] [--scenario <name-or-file>]...
 *                    [--suggest-floors] [--compare before.json] [--policy path=value]...
 *
 * `--policy detection.breachesToDegrade=4` changes one setting of every scenario's policy for the
 * run (sim/policySettings.ts): with `--compare`, what the setting trades against the shipped policy.
 * `--compare` prints what changed for steer53 since the run that wrote the document it names
 * (sim/benchCompare.ts): after the tables, or on stderr with `--json`.
 *
 * Exit codes: 0 every expectation met (or skipped, and said so); 1 an expectation missed; 2 bad options.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../functions/core/errors.js';
import { isParseArgsError, simulate, writeReport, type CliIo } from './cli.js';
import { benchComparisonLines, type ComparedBench, readBenchComparison } from './benchCompare.js';
import { type SeedStat, statOver } from './expectations.js';
import { benefitCaptured, extraHoursRatio, missRatio } from './metrics.js';
import type { ScenarioOutcome } from './run.js';
import { parsePolicySettings, type PolicySetting, settingsText } from './policySettings.js';
import { DEFAULT_SCENARIOS, loadScenario } from './scenario.js';
import { benchDocument, markdownTable, missedLines } from './summary.js';
import { CONTROLLER_NAMES, type ControllerName } from './world.js';

export const BENCH_USAGE =
  'npm run bench -- [--seeds 1-5|1,3,7] [--quick] [--json] [--out <dir>] [--scenario <name-or-file>]... [--suggest-floors] [--compare before.json] [--policy path=value]...';

/** At most this many seeds in one run: a typo such as `1-1000` should not run for hours. */
export const MAX_SEEDS = 100;

const BENCH_COMMAND = 'npm run bench';

/** `1-5` → [1,2,3,4,5]; `1,3,7` → [1,3,7]; `1-3,7` → [1,2,3,7]. Throws ValidationError naming `--seeds` of `command`. */
export function parseSeeds(text: string, command = BENCH_COMMAND): number[] {
  const problem = (message: string) => new ValidationError(command, [{ path: '--seeds', message }]);
  const seeds: number[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!match) throw problem(`"${text}" is not a list of seeds: give integers and ranges such as 1-5 or 1,3,7`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw problem(`the range ${part.trim()} runs backwards`);
    if (to > 2 ** 32 - 1) throw problem('a seed must be an integer 0–4294967295');
    if (to - from + 1 + seeds.length > MAX_SEEDS) throw problem(`at most ${MAX_SEEDS} seeds`);
    for (let seed = from; seed <= to; seed++) {
      if (seeds.includes(seed)) throw problem(`seed ${seed} is given twice`);
      seeds.push(seed);
    }
  }
  return seeds;
}

export async function runBench(args: readonly string[], io: CliIo): Promise<number> {
  let values: {
    json: boolean;
    quick: boolean;
    'suggest-floors': boolean;
    out: string;
    seeds?: string | undefined;
    scenario?: string[] | undefined;
    compare?: string | undefined;
    policy?: string[] | undefined;
    help: boolean;
  };
  let seeds: number[] | undefined;
  let before: ComparedBench | undefined;
  let policySettings: PolicySetting[] = [];
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        seeds: { type: 'string' },
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        out: { type: 'string', default: 'out/bench' },
        scenario: { type: 'string', multiple: true },
        'suggest-floors': { type: 'boolean', default: false },
        compare: { type: 'string' },
        policy: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
    if (values.help) {
      io.out(`usage: ${BENCH_USAGE}`);
      return 0;
    }
    if (values.seeds !== undefined) seeds = parseSeeds(values.seeds);
    policySettings = parsePolicySettings(values.policy ?? [], BENCH_COMMAND);
    // A setting a scenario's policy rejects is a bad option: said before anything runs, with its path.
    if (policySettings.length > 0) for (const name of values.scenario ?? DEFAULT_SCENARIOS) await loadScenario(name, { policySettings });
    if (values.compare !== undefined) before = readBenchComparison(values.compare, { seeds: seeds ?? null, quick: values.quick });
  } catch (error) {
    if (!(error instanceof ValidationError) && !isParseArgsError(error)) throw error;
    io.err(`${error.message}\nusage: ${BENCH_USAGE}`);
    return 2;
  }

  const scenarios = values.scenario ?? [...DEFAULT_SCENARIOS];
  const started = io.clock();
  io.err(
    `steer53 bench: ${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'} × ${CONTROLLER_NAMES.length} controllers × ${seeds ? `seeds ${seeds.join(', ')}` : "each scenario's own seed"}${values.quick ? ', quick (shortened)' : ''}${policySettings.length > 0 ? `, policy ${settingsText(policySettings)}` : ''}`,
  );
  const outcomes = await simulate({ scenarios, ...(seeds ? { seeds } : {}), quick: values.quick, policySettings }, io);
  const report = writeReport(outcomes, values.out, 'steer53 benchmark');
  const measured = benchDocument(outcomes, { ...(seeds ? { seeds } : {}), quick: values.quick, policy: settingsText(policySettings) });
  const document = JSON.stringify(measured);
  const jsonPath = resolve(join(values.out, 'bench.json'));
  writeFileSync(jsonPath, `${document}\n`);
  io.err(`report: ${report}`);
  io.err(`json: ${jsonPath}`);
  io.err(`bench took ${((io.clock() - started) / 1000).toFixed(1)} s`);

  if (values.json) io.out(document);
  else io.out(markdownTable(outcomes));
  const write = values.json ? io.err : io.out;
  if (values['suggest-floors']) {
    write('');
    for (const line of suggestFloors(outcomes, seeds)) write(line);
  }
  if (before !== undefined) {
    write('');
    for (const line of benchComparisonLines(values.compare!, before, measured)) write(line);
  }
  const missed = missedLines(outcomes);
  for (const line of missed) io.err(`missed: ${line}`);
  const skipped = outcomes.flatMap((o) => o.expectations).filter((c) => c.status === 'skipped').length;
  io.err(
    missed.length > 0
      ? `${missed.length} expectation${missed.length === 1 ? '' : 's'} missed${skipped > 0 ? `, ${skipped} skipped` : ''}`
      : `every expectation met${skipped > 0 ? ` (${skipped} skipped, each with its reason in the table)` : ''}`,
  );
  return missed.length > 0 ? 1 : 0;
}

// ---- --suggest-floors: what each expect block would be, from what was measured ----------------

/** Room left under a measured share of the oracle's benefit for seed noise. */
export const BENEFIT_MARGIN = 0.05;
/** Room left above a measured miss ratio: 20%, plus 0.02 so that a ratio of 0 has some. */
export const RATIO_MARGIN = { factor: 1.2, plus: 0.02 } as const;

const floor2 = (x: number) => Math.floor(x * 100 + 1e-9) / 100;
const ceil2 = (x: number) => Math.ceil(x * 100 - 1e-9) / 100;
/** A count: none stays none (0 flaps means never); otherwise a quarter more, rounded up. */
const countCeiling = (x: number) => (x === 0 ? 0 : Math.ceil(x * 1.25 - 1e-9));
/** A time: a minute more, in whole minutes. */
const minutesCeiling = (s: number) => `${Math.ceil((s + 60) / 60 - 1e-9)}m`;

/** `  # measured mean 0.896, worst 0.889 (seed 4)` */
function measured(stat: SeedStat, format: (x: number) => string = (x) => `${+x.toFixed(3)}`): string {
  if (stat.worst === null) return '';
  const show = (x: number) => (Number.isFinite(x) ? format(x) : 'never');
  return `  # measured mean ${show(stat.mean!)}, worst ${show(stat.worst)}${stat.worstSeed !== null && stat.mean !== stat.worst ? ` (seed ${stat.worstSeed})` : ''}`;
}

/**
 * Per scenario, its expect block (the expectations it declares, and the defaults) at the measured
 * values with a margin for seed noise: shares of benefit BENEFIT_MARGIN lower, ratios RATIO_MARGIN
 * higher, counts a quarter higher (0 stays 0), times a minute longer. A starting point for
 * re-measuring floors after the world changes — keep a floor at a target it meets, and comment the
 * target where the floor is lower.
 */
export function suggestFloors(outcomes: readonly ScenarioOutcome[], seeds: readonly number[] | undefined): string[] {
  const lines = [
    `# Suggested expect blocks (${seeds ? `seeds ${seeds.join(', ')}` : "each scenario's own seed"}): the measured mean and worst seed, with a margin for seed noise.`,
  ];
  for (const outcome of outcomes) {
    const scenario = outcome.results[0]!.scenario;
    const expect = scenario.spec.expect;
    const checks = outcome.expectations;
    const values = (value: (r: (typeof outcome.results)[number]) => number | null, better: 'higher' | 'lower') =>
      statOver(
        outcome.results.map((r) => ({ seed: r.scenario.spec.seed, value: value(r) })),
        better,
      );
    const bounds = (mean: number | null, worst: number | null, format: (x: number) => string | number) =>
      `{ ${[mean !== null ? `mean: ${format(mean)}` : '', worst !== null ? `worst: ${format(worst)}` : ''].filter(Boolean).join(', ')} }`;
    lines.push('', `# ${scenario.spec.name}`, 'expect:');
    const benefit = values((r) => benefitCaptured(r.metrics), 'higher');
    if (expect.benefit !== undefined && benefit.worst !== null) {
      lines.push(`  benefit: ${bounds(benefit.mean, benefit.worst, (x) => floor2(x - BENEFIT_MARGIN))}${measured(benefit)}`);
    }
    const ratios = Object.keys(expect.ratioTo ?? {}) as ControllerName[];
    if (ratios.length > 0) {
      lines.push('  ratioTo:');
      for (const name of ratios) {
        const stat = values((r) => missRatio(r.metrics, name), 'lower');
        const format = (x: number) =>
          Number.isFinite(x) ? ceil2(x * RATIO_MARGIN.factor + RATIO_MARGIN.plus) : 'unbounded (steer53 missed where it missed none)';
        lines.push(`    ${name}: ${bounds(stat.mean, stat.worst, format)}${measured(stat)}`);
      }
    }
    if (expect.extraInstanceHours !== undefined) {
      const stat = values((r) => extraHoursRatio(r.metrics), 'lower');
      const format = (x: number) => (Number.isFinite(x) ? ceil2(x * RATIO_MARGIN.factor + RATIO_MARGIN.plus) : 'unbounded (only steer53 added instances)');
      lines.push(`  extraInstanceHours: { overOracle: ${bounds(stat.mean, stat.worst, format)} }${measured(stat)}`);
    }
    for (const key of ['flaps', 'dnsChanges', 'safetyViolations'] as const) {
      if (expect[key] === undefined) continue;
      const stat = values((r) => r.metrics.steer53[key], 'lower');
      lines.push(`  ${key}: ${bounds(expect[key].mean !== undefined ? stat.mean : null, stat.worst, countCeiling)}${measured(stat)}`);
    }
    if (expect.timeToMitigate !== undefined) {
      const stat = values((r) => r.metrics.steer53.timeToMitigateS ?? Number.POSITIVE_INFINITY, 'lower');
      const format = (s: number) => (Number.isFinite(s) ? minutesCeiling(s) : 'never (steer53 did not mitigate on a seed)');
      lines.push(`  timeToMitigate: ${bounds(stat.mean, stat.worst, format)}${measured(stat, (x) => `${Math.round(x)} s`)}`);
    }
    if (expect.rollout !== undefined) {
      const held = checks.filter((c) => c.expectation.startsWith('rollout.')).every((c) => c.status !== 'missed');
      lines.push(`  # rollout: ${held ? 'every rollout expectation held: keep it as it is' : 'a rollout expectation was missed: see the table'}`);
    }
  }
  return lines;
}
