/**
 * The benchmark's outputs: the JSON document, the markdown tables of `npm run bench`, and the
 * plain summary `npm start` prints. Every table is generic over the controllers run.
 */
import { describeExpectation, describeOutcome, statOver, type ExpectationCheck, type SeedValue } from './expectations.js';
import { benefitCaptured, missRatio, type ControllerMetrics } from './metrics.js';
import type { ScenarioOutcome, ScenarioResult } from './run.js';
import { CONTROLLER_NAMES, type ControllerName, type EvaluationRecord } from './world.js';

/** One controller's metrics on one seed, with the share of the oracle's benefit it captured. */
export interface SeedMetrics extends ControllerMetrics {
  /** (static − it) / (static − oracle); null where the oracle gains < 0.005 over static. */
  readonly benefit: number | null;
}

/**
 * Over the seeds: the mean, and the worst seed per metric (the lowest benefit, the highest of
 * everything else). A time that never came (never mitigated, never back at baseline) is worst of
 * all: the mean and the worst are then null. A benefit not defined on a seed is left out.
 */
export interface MetricsOverSeeds {
  readonly sloMissFraction: number;
  readonly benefit: number | null;
  readonly dnsChanges: number;
  readonly flaps: number;
  readonly timeToMitigateS: number | null;
  readonly timeToBaselineS: number | null;
  readonly safetyViolations: number;
  /** Replica-hours billed over every region, and those beyond the configured replicas (worst: the most). */
  readonly instanceHours: number;
  readonly extraInstanceHours: number;
}

export interface ControllerOverSeeds {
  readonly mean: MetricsOverSeeds;
  readonly worst: MetricsOverSeeds;
  readonly perSeed: readonly (SeedMetrics & { readonly seed: number })[];
}

export interface BenchDocument {
  /** The seeds given (`--seeds`); null when each scenario ran on its own `seed:`. */
  readonly seeds: readonly number[] | null;
  /** Shortened runs (`--quick`). */
  readonly quick: boolean;
  /** The policy settings every scenario ran with (`--policy`), when any was given. */
  readonly policy?: string;
  readonly scenarios: readonly {
    readonly name: string;
    readonly incident: boolean;
    readonly seeds: readonly number[];
    /** As run; the scenario file's own when it differs (a cut). */
    readonly durationSeconds: number;
    readonly fileDurationSeconds: number;
    readonly controllers: Readonly<Record<ControllerName, ControllerOverSeeds>>;
    /** steer53's sloMissFraction over each other controller's, per seed: mean and worst (null: unbounded). */
    readonly steer53MissRatio: Readonly<Partial<Record<ControllerName, { readonly mean: number | null; readonly worst: number | null }>>>;
    readonly expectations: readonly (ExpectationCheck & { readonly text: string })[];
  }[];
  /** How many expectations were met, missed and skipped over every scenario. */
  readonly expectations: { readonly met: number; readonly missed: number; readonly skipped: number };
}

const OTHERS = (): ControllerName[] => CONTROLLER_NAMES.filter((name) => name !== 'steer53');

function byController<T>(value: (name: ControllerName) => T): Record<ControllerName, T> {
  return Object.fromEntries(CONTROLLER_NAMES.map((name) => [name, value(name)])) as Record<ControllerName, T>;
}

function seedMetrics(result: ScenarioResult, name: ControllerName): SeedMetrics {
  return { ...result.metrics[name], benefit: benefitCaptured<ControllerName>(result.metrics, name) };
}

type TimeKey = 'timeToMitigateS' | 'timeToBaselineS';
type CountKey = 'sloMissFraction' | 'dnsChanges' | 'flaps' | 'safetyViolations' | 'instanceHours' | 'extraInstanceHours';

/** Mean and worst of every metric of one controller over the seeds of one scenario. */
export function overSeeds(outcome: ScenarioOutcome, name: ControllerName): ControllerOverSeeds {
  const perSeed = outcome.results.map((r) => ({ seed: r.scenario.spec.seed, ...seedMetrics(r, name) }));
  const stat = (value: (m: SeedMetrics) => number | null, better: 'higher' | 'lower') =>
    statOver(
      perSeed.map((m): SeedValue => ({ seed: m.seed, value: value(m) })),
      better,
    );
  const counts = (key: CountKey) => stat((m) => m[key], 'lower');
  const times = (key: TimeKey) => stat((m) => m[key] ?? Number.POSITIVE_INFINITY, 'lower');
  const finite = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
  const pick = (which: 'mean' | 'worst'): MetricsOverSeeds => ({
    sloMissFraction: counts('sloMissFraction')[which]!,
    benefit: stat((m) => m.benefit, 'higher')[which],
    dnsChanges: counts('dnsChanges')[which]!,
    flaps: counts('flaps')[which]!,
    timeToMitigateS: finite(times('timeToMitigateS')[which]),
    timeToBaselineS: finite(times('timeToBaselineS')[which]),
    safetyViolations: counts('safetyViolations')[which]!,
    instanceHours: counts('instanceHours')[which]!,
    extraInstanceHours: counts('extraInstanceHours')[which]!,
  });
  return { mean: pick('mean'), worst: pick('worst'), perSeed };
}

/** steer53's miss ratio to another controller over the seeds (lower is better for steer53). */
export function ratioOverSeeds(outcome: ScenarioOutcome, to: ControllerName): { mean: number | null; worst: number | null; worstSeed: number | null } {
  const stat = statOver(
    outcome.results.map((r) => ({ seed: r.scenario.spec.seed, value: missRatio(r.metrics, to) })),
    'lower',
  );
  return { mean: stat.mean, worst: stat.worst, worstSeed: stat.worstSeed };
}

function round(x: number | null, digits: number): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function roundMetrics<T extends MetricsOverSeeds | SeedMetrics>(m: T): T {
  return {
    ...m,
    sloMissFraction: round(m.sloMissFraction, 6)!,
    benefit: round(m.benefit, 4),
    dnsChanges: round(m.dnsChanges, 2)!,
    flaps: round(m.flaps, 2)!,
    safetyViolations: round(m.safetyViolations, 2)!,
    instanceHours: round(m.instanceHours, 3)!,
    extraInstanceHours: round(m.extraInstanceHours, 3)!,
  };
}

export function expectationCounts(outcomes: readonly ScenarioOutcome[]): { met: number; missed: number; skipped: number } {
  const all = outcomes.flatMap((o) => o.expectations);
  return {
    met: all.filter((c) => c.status === 'met').length,
    missed: all.filter((c) => c.status === 'missed').length,
    skipped: all.filter((c) => c.status === 'skipped').length,
  };
}

/** The JSON document of `npm run bench -- --json` and `steer53 simulate --json`. */
export function benchDocument(
  outcomes: readonly ScenarioOutcome[],
  run: { readonly seeds?: readonly number[]; readonly quick?: boolean; readonly policy?: string | undefined } = {},
): BenchDocument {
  return {
    seeds: run.seeds ?? null,
    quick: run.quick ?? false,
    ...(run.policy === undefined ? {} : { policy: run.policy }),
    scenarios: outcomes.map((o) => {
      const scenario = o.results[0]!.scenario;
      return {
        name: scenario.spec.name,
        incident: scenario.hasIncident,
        seeds: o.results.map((r) => r.scenario.spec.seed),
        durationSeconds: scenario.spec.duration,
        fileDurationSeconds: o.fileDurationSeconds,
        controllers: byController((name): ControllerOverSeeds => {
          const s = overSeeds(o, name);
          return { mean: roundMetrics(s.mean), worst: roundMetrics(s.worst), perSeed: s.perSeed.map(roundMetrics) };
        }),
        steer53MissRatio: Object.fromEntries(
          OTHERS().map((name) => {
            const r = ratioOverSeeds(o, name);
            return [name, { mean: round(r.mean, 4), worst: round(r.worst, 4) }];
          }),
        ),
        expectations: o.expectations.map((c) => ({ ...c, value: round(c.value, 6), text: `${describeExpectation(c)}: ${describeOutcome(c)}` })),
      };
    }),
    expectations: expectationCounts(outcomes),
  };
}

function seconds(s: number | null): string {
  return s === null ? '–' : `${Math.round(s)}`;
}

export function formatFraction(x: number): string {
  return `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 2)}%`;
}

function share(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(0)}%`;
}

function ratio(x: number | null): string {
  return x === null ? '–' : Number.isFinite(x) ? x.toFixed(2) : '∞';
}

function hours(x: number): string {
  return x.toFixed(2);
}

export function count(x: number): string {
  return Number.isInteger(x) ? `${x}` : x.toFixed(1);
}

/** `mean / worst` over several seeds, the one value over one. */
function meanWorst<T>(outcome: ScenarioOutcome, mean: T, worst: T, format: (x: T) => string): string {
  return outcome.results.length > 1 ? `${format(mean)} / ${format(worst)}` : format(mean);
}

function scenarioLabel(outcome: ScenarioOutcome): string {
  const scenario = outcome.results[0]!.scenario;
  return `${scenario.spec.name}${scenario.hasIncident ? '' : ' (no incident)'}`;
}

function seedsLabel(outcomes: readonly ScenarioOutcome[]): string {
  const counts = new Set(outcomes.map((o) => o.results.length));
  return counts.size === 1 && counts.has(1) ? 'one seed per scenario' : `mean / worst over ${[...counts].join(' or ')} seeds`;
}

/**
 * The full tables: every scenario and controller (mean / worst over the seeds); steer53 against
 * every other controller; then every expectation with its verdict.
 */
export function markdownTable(outcomes: readonly ScenarioOutcome[]): string {
  const lines = [
    `Metrics per scenario and controller (${seedsLabel(outcomes)}; the worst seed is the lowest benefit and the highest of everything else).`,
    '',
    '| scenario | controller | sloMissFraction | benefit | dnsChanges | flaps | timeToMitigateS | timeToBaselineS | safetyViolations | extraInstanceHours |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const o of outcomes) {
    for (const name of CONTROLLER_NAMES) {
      const { mean, worst } = overSeeds(o, name);
      const cell = <T>(m: T, w: T, f: (x: T) => string) => meanWorst(o, m, w, f);
      lines.push(
        `| ${scenarioLabel(o)} | ${name} | ${cell(mean.sloMissFraction, worst.sloMissFraction, (x) => x.toFixed(4))} | ${cell(mean.benefit, worst.benefit, share)} | ${cell(mean.dnsChanges, worst.dnsChanges, count)} | ${cell(mean.flaps, worst.flaps, count)} | ${cell(mean.timeToMitigateS, worst.timeToMitigateS, seconds)} | ${cell(mean.timeToBaselineS, worst.timeToBaselineS, seconds)} | ${cell(mean.safetyViolations, worst.safetyViolations, count)} | ${cell(mean.extraInstanceHours, worst.extraInstanceHours, hours)} |`,
      );
    }
  }
  const others = OTHERS();
  lines.push(
    '',
    `steer53 against the others: share of the oracle's benefit, and steer53's sloMissFraction over each controller's (below 1: steer53 missed fewer; ${seedsLabel(outcomes)}).`,
    '',
    `| scenario | benefit | ${others.map((n) => `÷ ${n}`).join(' | ')} |`,
    `|---|---:|${others.map(() => '---:').join('|')}|`,
  );
  for (const o of outcomes) {
    const s = overSeeds(o, 'steer53');
    const ratios = others.map((n) => {
      const r = ratioOverSeeds(o, n);
      return meanWorst(o, r.mean, r.worst, ratio);
    });
    lines.push(`| ${scenarioLabel(o)} | ${meanWorst(o, s.mean.benefit, s.worst.benefit, share)} | ${ratios.join(' | ')} |`);
  }
  lines.push(...flapCauseLines(outcomes));
  const counts = expectationCounts(outcomes);
  lines.push(
    '',
    `Expectations (each scenario's \`expect:\`): ${counts.met} met, ${counts.missed} missed, ${counts.skipped} skipped.`,
    '',
    '| scenario | expectation | verdict | value |',
    '|---|---|---|---|',
  );
  for (const o of outcomes) {
    for (const c of o.expectations) {
      const verdict = c.status === 'met' ? 'met' : c.status === 'missed' ? '**MISSED**' : 'skipped';
      lines.push(`| ${o.results[0]!.scenario.spec.name} | ${describeExpectation(c)} | ${verdict} | ${describeOutcome(c)} |`);
    }
  }
  return lines.join('\n');
}

/** Flaps by cause summed over runs (each a `flapCauses`). */
export function sumCauses(each: Iterable<Readonly<Record<string, number>>>): Record<string, number> {
  const causes: Record<string, number> = {};
  for (const one of each) for (const [cause, n] of Object.entries(one)) causes[cause] = (causes[cause] ?? 0) + n;
  return causes;
}

/** Flaps by cause, most first (ties by name): `RECOVERY_FAILED 3, DRAINED 1`. */
export function causeList(causes: Readonly<Record<string, number>>): string {
  return Object.entries(causes)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([cause, n]) => `${cause} ${n}`)
    .join(', ');
}

/** steer53's flaps, summed over the seeds, by the reason code of the write that reversed a move: where they come from. */
function flapCauseLines(outcomes: readonly ScenarioOutcome[]): string[] {
  const rows = outcomes.flatMap((o) => {
    const causes = sumCauses(o.results.map((r) => r.metrics.steer53.flapCauses));
    const total = Object.values(causes).reduce((a, b) => a + b, 0);
    if (total === 0) return [];
    return [`| ${scenarioLabel(o)} | ${total} | ${causeList(causes)} |`];
  });
  if (rows.length === 0) return [];
  return [
    '',
    `steer53's flaps by the reason code of the write that reversed a move (summed over ${seedsLabel(outcomes).replace('mean / worst over ', '')}).`,
    '',
    '| scenario | flaps | by cause |',
    '|---|---:|---|',
    ...rows,
  ];
}

/** One line per missed expectation: `gray-failure: benefit worst ≥ 80%: 66% (seed 4)`. */
export function missedLines(outcomes: readonly ScenarioOutcome[]): string[] {
  return outcomes.flatMap((o) =>
    o.expectations.filter((c) => c.status === 'missed').map((c) => `${o.results[0]!.scenario.spec.name}: ${describeExpectation(c)}: ${describeOutcome(c)}`),
  );
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** A compact table for the terminal: SLO miss per controller, steer53's counts, expectations met; then every missed one. */
export function summaryTable(outcomes: readonly ScenarioOutcome[]): string {
  const width = (n: string) => Math.max(n.length, 9);
  const header = [pad('scenario', 30), ...CONTROLLER_NAMES.map((n) => pad(n, width(n), true)), pad('steer53 changes/flaps/safety', 29, true), '  expectations'];
  const lines = [header.join('  ')];
  for (const o of outcomes) {
    const s = overSeeds(o, 'steer53').worst;
    const met = o.expectations.filter((c) => c.status === 'met').length;
    const missed = o.expectations.filter((c) => c.status === 'missed').length;
    const skipped = o.expectations.filter((c) => c.status === 'skipped').length;
    const judged = met + missed;
    lines.push(
      [
        pad(o.results[0]!.scenario.spec.name, 30),
        ...CONTROLLER_NAMES.map((n) => pad(formatFraction(overSeeds(o, n).mean.sloMissFraction), width(n), true)),
        pad(`${count(s.dnsChanges)}/${count(s.flaps)}/${count(s.safetyViolations)}`, 29, true),
        `  ${met}/${judged} met${missed > 0 ? `, ${missed} MISSED` : ''}${skipped > 0 ? `, ${skipped} skipped` : ''}`,
      ].join('  '),
    );
  }
  lines.push(
    '',
    `Columns 2–${CONTROLLER_NAMES.length + 1}: share of requests that failed or missed the latency SLO, per controller${outcomes.some((o) => o.results.length > 1) ? ' (mean over the seeds; steer53 counts: worst seed)' : ''}.`,
  );
  const missed = missedLines(outcomes);
  if (missed.length > 0) lines.push('', `Missed expectations (${missed.length}):`, ...missed.map((line) => `  ✗ ${line}`));
  return lines.join('\n');
}

/** Consecutive evaluations with the same value, as time spans (one rectangle each: no seams). */
export function runsOf(
  evaluations: readonly EvaluationRecord[],
  labelOf: (e: EvaluationRecord) => string,
  end: number,
): { value: string; from: number; to: number }[] {
  const spans: { value: string; from: number; to: number }[] = [];
  for (let k = 0; k < evaluations.length; k++) {
    const value = labelOf(evaluations[k]!);
    const to = evaluations[k + 1]?.t ?? end;
    const last = spans[spans.length - 1];
    if (last && last.value === value) last.to = to;
    else spans.push({ value, from: evaluations[k]!.t, to });
  }
  return spans;
}

/**
 * Fail-static episodes of a run: its runs of consecutive evaluations in fail static. Each that lasts
 * `safety.failStaticNoticeSeconds` is a critical notice to the operators, so a rule that leans on
 * fail static to hold (or stops doing so) shows beside its misses.
 */
export function failStaticEpisodes(evaluations: readonly EvaluationRecord[]): number {
  return runsOf(evaluations, (e) => e.mode ?? 'normal', evaluations.at(-1)?.t ?? 0).filter((span) => span.value === 'fail-static').length;
}
