/**
 * `npm run bench:load-line`: could an endpoint's own latency-vs-load line tell an incident from
 * noise sooner than the absolute trip does? (issue 12, item 4: the load-line anomaly detector.)
 *
 * A detector that degrades an endpoint whose p99 is k times its learned line, even below the trip,
 * gains only where its ratio rises past k before today's rules act, and costs a false shed on every
 * quiet minute that also reaches k. This program measures both on the simulator's worlds, as a
 * controller would see them:
 *
 * - each run is `static` (the baseline weights throughout), so each region carries its own share;
 * - each minute's p99 is CloudWatch's whole-minute datapoint of the endpoint's latency signal (a
 *   controller reading it as soon as it is published sees fewer samples; the engine rule tried
 *   beside this program, docs/simulator.md, did);
 * - the line is the engine's own (functions/core/loadModel.ts: one slope shared by the service's
 *   endpoints, an intercept each, a day's half-life), learned online, on the incident-free minutes
 *   at or below the endpoint's target utilisation with enough samples, and judged only within the
 *   loads it was learned on;
 * - a quiet minute is one without any incident on the region, then or in the SETTLE_MINUTES before
 *   (demand surges are quiet: the line should explain them);
 * - an episode is one incident on one region: its minutes from the start up to the first minute at
 *   twice the trip or more (a severe breach: two of them degrade, one at ten times the trip drains at
 *   once), or its end. Its peak ratio there is the highest threshold at which a line detector
 *   would fire before that minute.
 */
import { parseArgs } from 'node:util';
import { rolloutLatencySignal } from '../functions/core/canaryLatency.js';
import { ValidationError } from '../functions/core/errors.js';
import { addPoint, fitSlope, learnedRange, predict, type LoadProfile } from '../functions/core/loadModel.js';
import { defaultMinSamples } from '../functions/core/percentiles.js';
import { parseSeeds } from './benchmark.js';
import { type CliIo, isParseArgsError } from './cli.js';
import { CONTROLLERS } from './run.js';
import { conditionAt, loadScenario, type Scenario } from './scenario.js';
import { runWorld, type RunResult } from './world.js';

export const LOAD_LINE_USAGE = 'npm run bench:load-line -- [--seeds 1-5|1,3,7] [--json] [--scenario <name-or-file>]...';

/** The worlds run when none are named: the slow-region incidents, and the worlds of noise alone. */
export const LOAD_LINE_SCENARIOS = [
  'gray-failure',
  'relapse-during-recovery',
  'small-region',
  'mild-gray-failure',
  'noisy-near-threshold',
  'gpu-saturation-surge',
] as const;

/** The thresholds (multiples of the line) whose quiet minutes are counted. */
export const RATIO_STEPS = [1.5, 2, 2.5, 3] as const;

/** A line is trusted once its endpoint has this many minutes in it (the engine's canary judge asks for standard errors; this asks for a settled fit). */
export const MIN_LINE_POINTS = 20;

const DAY_MS = 86_400_000;

/** One region-minute as CloudWatch published it, and as the detector would judge it. */
export interface JudgedMinute {
  readonly region: number;
  readonly minute: number;
  /** p99 over the line's prediction at the minute's utilisation; null where the line cannot judge (too few samples, no trusted line, a load outside the learned ones). */
  readonly ratio: number | null;
  readonly pastTrip: boolean;
  /** Twice the trip or more: a severe breach (today's rules count it on tail evidence, however few the samples). */
  readonly severe: boolean;
  readonly quiet: boolean;
}

/** One incident on one region, up to its first severe minute. */
export interface Episode {
  readonly region: string;
  readonly startMinute: number;
  /** Each judged minute from the incident's start to its first severe minute: minutes after the start, and the ratio. */
  readonly before: readonly { readonly after: number; readonly ratio: number }[];
  /** The first severe minute, counted from the incident's start; null if none. */
  readonly severeAfter: number | null;
}

export interface SeedLines {
  readonly seed: number;
  /** The ratio of every quiet minute judged, highest first. */
  readonly quietRatios: readonly number[];
  /** Of those, the ratios of the minutes also past trip, highest first. */
  readonly quietPastTrip: readonly number[];
  readonly episodes: readonly Episode[];
}

/** Minutes after an incident on a region in which it is not yet quiet: the queue it left drains. */
export const SETTLE_MINUTES = 5;

function healthyAt(scenario: Scenario, r: number, t: number): boolean {
  const c = conditionAt(scenario.incidents, r, t);
  return !c.down && c.errorRate === 0 && c.latencyFactor === 1 && c.capacityFactor === 1 && c.addedLatencyMs === 0 && !c.metricsMissing;
}

/** No incident on the region in the minute, nor in the SETTLE_MINUTES before it. */
function isQuiet(scenario: Scenario, r: number, minute: number): boolean {
  for (let back = 0; back <= SETTLE_MINUTES; back++) if (!healthyAt(scenario, r, (minute - back) * 60 + 30)) return false;
  return true;
}

/** One endpoint's minute: its p99 in the signal's unit, samples and utilisation; undefined without a datapoint. */
function readMinute(scenario: Scenario, run: RunResult, r: number, m: number) {
  const e = scenario.service.endpoints[r]!;
  // The signal the engine learns its lines on: the one the rollout policy names, else the first percentile signal.
  const signal = rolloutLatencySignal(e, scenario.service.policy.rollout);
  const binding = signal && scenario.bindings[r]?.get(signal.name);
  const point = binding && run.cloudwatch.periodDatapoint(binding, r, m, m, run.minutes * 60);
  const requests = run.cloudwatch.final(r, m)?.requests;
  if (!signal || !point || e.capacity.warmRps === undefined || requests === undefined || !Number.isFinite(point.value)) return undefined;
  const enough = point.sampleCount >= (signal.minSamples ?? defaultMinSamples(signal.metric.statistic));
  return { signal, p99: point.value * signal.scale, enough, u: requests / 60 / e.capacity.warmRps };
}

/** Every region-minute of a run, judged against its line learned online from the quiet minutes before it. */
export function judgeMinutes(scenario: Scenario, run: RunResult): JudgedMinute[] {
  const endpoints = scenario.service.endpoints;
  const profiles: (LoadProfile | undefined)[] = endpoints.map(() => undefined);
  const out: JudgedMinute[] = [];
  for (let m = 0; m < run.minutes; m++) {
    const fit = fitSlope(profiles.filter((p): p is LoadProfile => p !== undefined));
    endpoints.forEach((e, r) => {
      const read = readMinute(scenario, run, r, m);
      if (!read) return;
      const { signal, p99, enough, u } = read;
      const quiet = isQuiet(scenario, r, m);
      const profile = profiles[r];
      const range = profile && learnedRange(profile);
      const judged = enough && fit && profile && range && profile.n >= MIN_LINE_POINTS && u >= range.low && u <= range.high;
      const ratio = judged ? p99 / predict(profile, fit, u).value : null;
      out.push({ region: r, minute: m, ratio, pastTrip: p99 > signal.trip, severe: p99 >= 2 * signal.trip, quiet });
      if (enough && quiet && u <= e.capacity.targetUtilization) profiles[r] = addPoint(profile, u, p99, scenario.startMs + m * 60_000, DAY_MS);
    });
  }
  return out;
}

/** Each harmful incident on each region it hits, from its start to its first severe minute. */
export function episodesOf(scenario: Scenario, minutes: readonly JudgedMinute[]): Episode[] {
  const episodes: Episode[] = [];
  for (const incident of scenario.incidents) {
    if (!incident.harmful) continue;
    const start = Math.floor(incident.start / 60);
    const end = Math.ceil(incident.end / 60);
    for (const r of incident.regions) {
      const own = minutes.filter((j) => j.region === r && j.minute >= start && j.minute < end);
      const severe = own.find((j) => j.severe);
      const before = own.filter((j) => j.ratio !== null && (severe === undefined || j.minute < severe.minute));
      episodes.push({
        region: scenario.endpoints[r]!,
        startMinute: start,
        before: before.map((j) => ({ after: j.minute - start, ratio: j.ratio! })),
        severeAfter: severe ? severe.minute - start : null,
      });
    }
  }
  return episodes;
}

/** One seed of one world: its quiet minutes' ratios, and its episodes. */
export function seedLines(seed: number, scenario: Scenario, run: RunResult): SeedLines {
  const minutes = judgeMinutes(scenario, run);
  const quiet = minutes.filter((j) => j.quiet && j.ratio !== null);
  const highestFirst = (xs: readonly JudgedMinute[]) => xs.map((j) => j.ratio!).sort((a, b) => b - a);
  return {
    seed,
    quietRatios: highestFirst(quiet),
    quietPastTrip: highestFirst(quiet.filter((j) => j.pastTrip)),
    episodes: episodesOf(scenario, minutes),
  };
}

export interface LoadLineRow {
  readonly scenario: string;
  readonly seeds: readonly SeedLines[];
}

async function loadLineRow(name: string, seeds: readonly number[]): Promise<LoadLineRow> {
  const out: SeedLines[] = [];
  for (const seed of seeds) {
    const scenario = await loadScenario(name, { seed });
    out.push(seedLines(seed, scenario, await runWorld(scenario, CONTROLLERS.static)));
  }
  return { scenario: name, seeds: out };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Quiet minutes at or over `k` times the line (of those past trip too, with `pastTrip`), over every seed of the rows. */
export function quietAtLeast(rows: readonly LoadLineRow[], k: number, pastTrip = false): number {
  return sum(rows.flatMap((row) => row.seeds.map((s) => (pastTrip ? s.quietPastTrip : s.quietRatios).filter((x) => x >= k).length)));
}

const quietCount = (rows: readonly LoadLineRow[]) => sum(rows.flatMap((row) => row.seeds.map((s) => s.quietRatios.length)));
const peak = (e: Episode) => (e.before.length === 0 ? null : Math.max(...e.before.map((x) => x.ratio)));

/** What a detector firing at `k` times the line would have done: in the episodes, and in the quiet minutes. */
export interface Tradeoff {
  readonly threshold: number;
  /** Episodes that turn severe with a judged minute before: how many, in how many it fires first, and the minutes it gains in all. */
  readonly severeEpisodes: number;
  readonly firesFirst: number;
  readonly minutesGained: number;
  /** Episodes that never turn severe (too mild to drain on): how many, and in how many it fires. */
  readonly mildEpisodes: number;
  readonly firesOnMild: number;
  /** Quiet minutes judged, at or over the threshold, and of those past trip too. */
  readonly quiet: number;
  readonly quietFires: number;
  readonly quietFiresPastTrip: number;
}

export function tradeoff(rows: readonly LoadLineRow[], k: number): Tradeoff {
  const episodes = rows.flatMap((row) => row.seeds.flatMap((s) => s.episodes)).filter((e) => e.before.length > 0);
  const severe = episodes.filter((e) => e.severeAfter !== null);
  const mild = episodes.filter((e) => e.severeAfter === null);
  const first = (e: Episode) => e.before.find((x) => x.ratio >= k);
  return {
    threshold: k,
    severeEpisodes: severe.length,
    firesFirst: severe.filter((e) => first(e) !== undefined).length,
    minutesGained: sum(severe.map((e) => (first(e) ? e.severeAfter! - first(e)!.after : 0))),
    mildEpisodes: mild.length,
    firesOnMild: mild.filter((e) => first(e) !== undefined).length,
    quiet: quietCount(rows),
    quietFires: quietAtLeast(rows, k),
    quietFiresPastTrip: quietAtLeast(rows, k, true),
  };
}

/** Two tables: each world's quiet minutes by threshold and its episodes; then what a detector at each threshold would do. */
export function loadLineTable(rows: readonly LoadLineRow[]): string {
  const head = `| world | quiet minutes judged | ${RATIO_STEPS.map((k) => `≥ ${k}× line (past trip too)`).join(' | ')} | episodes: highest ratio before the first severe minute (minutes from the start to it) |`;
  const lines = [head, `|---|---:|${RATIO_STEPS.map(() => '---:').join('|')}|---|`];
  for (const row of rows) {
    const episodes = row.seeds.flatMap((s) => s.episodes.map((e) => `${peak(e)?.toFixed(2) ?? 'unjudged'} (${e.severeAfter ?? 'never'})`));
    lines.push(
      `| ${row.scenario} | ${quietCount([row])} | ${RATIO_STEPS.map((k) => `${quietAtLeast([row], k)} (${quietAtLeast([row], k, true)})`).join(' | ')} | ${episodes.join(', ') || '–'} |`,
    );
  }
  lines.push(
    '',
    '| threshold | fires before the first severe minute | minutes earlier, in all | fires on a mild incident | quiet minutes it fires on, per region-day (past trip too) |',
    '|---:|---:|---:|---:|---:|',
  );
  for (const k of RATIO_STEPS) {
    const t = tradeoff(rows, k);
    const perDay = t.quiet === 0 ? '–' : ((t.quietFires / t.quiet) * 1440).toFixed(1);
    lines.push(
      `| ${k}× | ${t.firesFirst} of ${t.severeEpisodes} | ${t.minutesGained} | ${t.firesOnMild} of ${t.mildEpisodes} | ${t.quietFires} of ${t.quiet}: ${perDay} (${t.quietFiresPastTrip}) |`,
    );
  }
  return lines.join('\n');
}

/** The command: exit 0 when it ran, 2 on a bad argument (the message names it). */
export async function runLoadLine(args: readonly string[], io: CliIo): Promise<number> {
  let options: { seeds: number[]; scenarios: string[]; json: boolean };
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { seeds: { type: 'string', default: '1-5' }, json: { type: 'boolean', default: false }, scenario: { type: 'string', multiple: true } },
      strict: true,
      allowPositionals: false,
    });
    options = { seeds: parseSeeds(values.seeds, 'npm run bench:load-line'), scenarios: values.scenario ?? [...LOAD_LINE_SCENARIOS], json: values.json };
  } catch (error) {
    if (!(error instanceof ValidationError) && !isParseArgsError(error)) throw error;
    io.err(`${(error as Error).message}\nusage: ${LOAD_LINE_USAGE}`);
    return 2;
  }
  io.err(`steer53 bench:load-line: ${options.scenarios.length} world(s) × seeds ${options.seeds.join(', ')}, static weights`);
  const rows: LoadLineRow[] = [];
  for (const name of options.scenarios) {
    const started = io.clock();
    rows.push(await loadLineRow(name, options.seeds));
    io.err(`  ${name}: ${((io.clock() - started) / 1000).toFixed(1)} s`);
  }
  io.out(options.json ? JSON.stringify({ seeds: options.seeds, rows, tradeoffs: RATIO_STEPS.map((k) => tradeoff(rows, k)) }) : loadLineTable(rows));
  return 0;
}
