/**
 * `npm run bench:bound`: how much of the oracle's benefit minute metrics leave within reach.
 *
 * The oracle knows every region's condition the moment it changes. A controller that reads
 * CloudWatch cannot: a minute's datapoint is published one to two and a half minutes after the
 * minute ends, and one minute is not enough to act on (noise). The same oracle told everything
 * some minutes late (`laggedOracleController`) knows the truth exactly, with nothing to confirm,
 * but as late as minute metrics can tell it: its benefit is what reading them can gain at that lag.
 * This program runs it at a few lags beside steer53, on the same worlds and seeds, and prints each
 * one's share of the oracle's benefit (mean / worst). It is a reference, not an expectation: hard
 * failures (a region down, errors) reach steer53 through Route 53 health checks and alarms within
 * seconds, so there steer53 may beat a lagged oracle.
 */
import { parseArgs } from 'node:util';
import { ValidationError } from '../functions/core/errors.js';
import { parseSeeds } from './benchmark.js';
import { type CliIo, isParseArgsError } from './cli.js';
import { laggedOracleController } from './controllers/oracle.js';
import { CONTROLLERS } from './run.js';
import { benefitShare, metricsOf, type ControllerMetrics } from './metrics.js';
import { DEFAULT_SCENARIOS, loadScenario } from './scenario.js';
import { parseDurationSeconds } from './scenarioSchema.js';
import { runWorld, type ControllerFactory } from './world.js';

export const BOUND_USAGE = 'npm run bench:bound -- [--seeds 1-5|1,3,7] [--lags 120,180,240] [--duration 30m] [--json] [--scenario <name-or-file>]...';

/** The lags run when none are given: about when CloudWatch has published a minute, and one and two minutes later. */
export const DEFAULT_LAGS = [120, 180, 240] as const;

/** At most this many lags: each is a full run per scenario and seed. */
const MAX_LAGS = 8;

/** `120,180` → [120, 180]: seconds, each 0–3600, none twice. Throws ValidationError naming `--lags`. */
export function parseLags(text: string): number[] {
  const problem = (message: string) => new ValidationError('npm run bench:bound', [{ path: '--lags', message }]);
  const lags: number[] = [];
  for (const part of text.split(',')) {
    if (!/^\s*\d+\s*$/.test(part)) throw problem(`"${text}" is not a list of lags: give whole seconds such as 120,180,240`);
    const lag = Number(part);
    if (lag > 3600) throw problem(`a lag of ${lag} s is more than an hour`);
    if (lags.includes(lag)) throw problem(`the lag ${lag} s is given twice`);
    lags.push(lag);
  }
  if (lags.length > MAX_LAGS) throw problem(`at most ${MAX_LAGS} lags`);
  return lags;
}

/** One controller's runs of a scenario, per seed: its share of the oracle's benefit (null where the oracle gains nothing over the fixed split) and its flaps. */
export interface BoundRuns {
  readonly benefit: readonly (number | null)[];
  readonly flaps: readonly number[];
}

/** One scenario: steer53, and the oracle at each lag. */
export interface BoundRow {
  readonly scenario: string;
  readonly seeds: readonly number[];
  readonly steer53: BoundRuns;
  /** By lag in seconds, in the order given. */
  readonly lagged: readonly (BoundRuns & { readonly lagSeconds: number })[];
}

/** Runs static, the oracle, steer53 and the oracle at each lag on one scenario, on every seed. */
export async function boundRow(
  name: string,
  options: { readonly seeds: readonly number[]; readonly lags: readonly number[]; readonly durationSeconds?: number },
): Promise<BoundRow> {
  const steer53 = { benefit: [] as (number | null)[], flaps: [] as number[] };
  const lagged = options.lags.map((lagSeconds) => ({ lagSeconds, benefit: [] as (number | null)[], flaps: [] as number[] }));
  for (const seed of options.seeds) {
    const scenario = await loadScenario(name, { seed, ...(options.durationSeconds !== undefined ? { durationSeconds: options.durationSeconds } : {}) });
    const metrics = async (factory: ControllerFactory, warm = false) => {
      const warmState = warm && scenario.history ? (await runWorld(scenario.history, factory)).finalState : undefined;
      const run = await runWorld(scenario, factory, warmState ? { warmState } : {});
      return metricsOf(scenario, run, run.truth);
    };
    // Each controller's share of the oracle's benefit over the fixed split, as the benchmark counts it.
    const fixed = (await metrics(CONTROLLERS.static)).sloMissFraction;
    const oracle = (await metrics(CONTROLLERS.oracle)).sloMissFraction;
    const share = (miss: number) => benefitShare(fixed, oracle, miss);
    const record = (into: { benefit: (number | null)[]; flaps: number[] }, m: ControllerMetrics) => {
      into.benefit.push(share(m.sloMissFraction));
      into.flaps.push(m.flaps);
    };
    record(steer53, await metrics(CONTROLLERS.steer53, true));
    for (const entry of lagged) record(entry, await metrics(laggedOracleController(entry.lagSeconds)));
  }
  return { scenario: name, seeds: options.seeds, steer53, lagged };
}

/** `mean / worst` of the seeds' shares, in percent; `–` where the oracle gains nothing. */
export function meanWorst(shares: readonly (number | null)[]): string {
  const known = shares.filter((x): x is number => x !== null);
  if (known.length === 0) return '–';
  const mean = known.reduce((a, b) => a + b, 0) / known.length;
  return `${Math.round(mean * 100)}% / ${Math.round(Math.min(...known) * 100)}%`;
}

/** `mean / worst` of the seeds' flaps. */
export function flapsMeanWorst(flaps: readonly number[]): string {
  if (flaps.length === 0) return '–';
  return `${(flaps.reduce((a, b) => a + b, 0) / flaps.length).toFixed(1)} / ${Math.max(...flaps)}`;
}

/** Two tables, one under the other: the shares of the oracle's benefit, then the flaps. */
export function boundTable(rows: readonly BoundRow[]): string {
  const lags = rows[0]?.lagged.map((l) => l.lagSeconds) ?? [];
  const table = (what: string, cell: (runs: BoundRuns) => string) => [
    `| ${what} | steer53 | ${lags.map((lag) => `oracle ${lag} s late`).join(' | ')} |`,
    `|---|---:|${lags.map(() => '---:').join('|')}|`,
    ...rows.map((row) => `| ${row.scenario} | ${cell(row.steer53)} | ${row.lagged.map(cell).join(' | ')} |`),
  ];
  return [...table('benefit (mean / worst)', (r) => meanWorst(r.benefit)), '', ...table('flaps (mean / worst)', (r) => flapsMeanWorst(r.flaps))].join('\n');
}

/** The command: exit 0 when it ran, 2 on a bad argument (the message names it). */
export async function runBound(args: readonly string[], io: CliIo): Promise<number> {
  let options: { seeds: number[]; lags: number[]; durationSeconds?: number; scenarios: string[]; json: boolean };
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        seeds: { type: 'string', default: '1-5' },
        lags: { type: 'string' },
        duration: { type: 'string' },
        json: { type: 'boolean', default: false },
        scenario: { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    });
    const durationSeconds = values.duration === undefined ? undefined : parseDurationSeconds(values.duration);
    if (values.duration !== undefined && (durationSeconds === undefined || durationSeconds < 600))
      throw new ValidationError('npm run bench:bound', [{ path: '--duration', message: 'must be a duration of at least 10m, such as 30m or 2h' }]);
    options = {
      seeds: parseSeeds(values.seeds, 'npm run bench:bound'),
      lags: values.lags === undefined ? [...DEFAULT_LAGS] : parseLags(values.lags),
      ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      scenarios: values.scenario ?? [...DEFAULT_SCENARIOS],
      json: values.json,
    };
  } catch (error) {
    if (!(error instanceof ValidationError) && !isParseArgsError(error)) throw error;
    io.err(`${(error as Error).message}\nusage: ${BOUND_USAGE}`);
    return 2;
  }
  io.err(`steer53 bench:bound: ${options.scenarios.length} scenario(s) × seeds ${options.seeds.join(', ')}; the oracle ${options.lags.join(', ')} s late`);
  const rows: BoundRow[] = [];
  for (const name of options.scenarios) {
    const started = io.clock();
    rows.push(await boundRow(name, options));
    io.err(`  ${name}: ${((io.clock() - started) / 1000).toFixed(1)} s`);
  }
  io.out(options.json ? JSON.stringify({ seeds: options.seeds, lags: options.lags, rows }) : boundTable(rows));
  return 0;
}
