/**
 * A scenario's `expect:` block, judged against steer53's results on every seed run. Each
 * expectation bounds the mean over the seeds and/or the worst seed; a run shorter than the
 * scenario file (`--quick`, `--duration`) judges what a cut can judge and says, for each of the
 * others, why it was skipped.
 *
 * A shorter run is a prefix of the full one (every random draw is keyed by step, and no
 * controller sees the future), so counts on it — flaps, DNS changes, safety violations, the share
 * a bad version was answered — can only be lower: a bound they break on the cut they break on the
 * full run. Shares of misses are judged on a cut only when the whole harm window is inside it.
 */
import type { ValidationProblem } from '../functions/core/config.js';
import { MIN_ORACLE_GAIN, benefitCaptured, extraHoursRatio, missRatio } from './metrics.js';
import type { RolloutFact, ScenarioResult } from './run.js';
import type { Scenario } from './scenario.js';
import type { ExpectSpec } from './scenarioSchema.js';
import type { ControllerName } from './world.js';

export type ExpectationStatus = 'met' | 'missed' | 'skipped';

/** What an expectation's value counts, for printing it. */
export type ExpectationUnit = 'share' | 'ratio' | 'count' | 'seconds' | 'seeds';

/** One bound of one expectation, judged. */
export interface ExpectationCheck {
  /** The expectation as the file names it: `benefit`, `ratioTo.route53-health-check`, `rollout.badVersionCapped`. */
  readonly expectation: string;
  /** What it is about, where the name alone does not say (a deployment: `eu-west-1 v2`). */
  readonly subject?: string;
  /** `mean` over the seeds, the `worst` seed, or `seeds` (how many seeds held a yes/no check). */
  readonly statistic: 'mean' | 'worst' | 'seeds';
  readonly op: '≥' | '≤';
  readonly bound: number;
  readonly unit: ExpectationUnit;
  /** The measured value; null when skipped. Infinity: never (a mitigation, a rollback) or unbounded (a ratio to zero). */
  readonly value: number | null;
  /** The seed that gave a `worst` value. */
  readonly seed?: number;
  readonly status: ExpectationStatus;
  /** Why it was skipped, or what else the reader needs (seeds where the value is not defined). */
  readonly note?: string;
}

/** A value per seed; null where it is not defined on that seed. */
export interface SeedValue {
  readonly seed: number;
  readonly value: number | null;
}

export interface SeedStat {
  /** Over the seeds where the value is defined; null if it is defined on none. */
  readonly mean: number | null;
  readonly worst: number | null;
  readonly worstSeed: number | null;
  /** Seeds where the value is not defined. */
  readonly undefinedOn: readonly number[];
}

/** Mean and worst over seeds; `better` says which way is better (the worst of a share is its lowest). */
export function statOver(values: readonly SeedValue[], better: 'higher' | 'lower'): SeedStat {
  const defined = values.filter((v): v is { seed: number; value: number } => v.value !== null);
  const undefinedOn = values.filter((v) => v.value === null).map((v) => v.seed);
  if (defined.length === 0) return { mean: null, worst: null, worstSeed: null, undefinedOn };
  let worst = defined[0]!;
  for (const v of defined) if (better === 'higher' ? v.value < worst.value : v.value > worst.value) worst = v;
  const mean = defined.reduce((sum, v) => sum + v.value, 0) / defined.length;
  return { mean, worst: worst.value, worstSeed: worst.seed, undefinedOn };
}

/** Problems of an `expect:` block that only the resolved scenario shows (its policy, its deployments). */
export function expectProblems(scenario: Scenario): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const rollout = scenario.spec.expect.rollout;
  if (rollout !== undefined) {
    const succeeding = scenario.deployments.filter((d) => d.spec.outcome === 'succeeded');
    const bad = succeeding.filter((d) => d.badVersion);
    if (scenario.service.policy.rollout.mode === 'none') {
      problems.push({ path: 'expect.rollout', message: 'the policy runs no rollouts (policy.rollout.mode is none): there is nothing to judge' });
    } else {
      if ((rollout.badVersionCapped || rollout.rollbackWithinHolds !== undefined) && bad.length === 0) {
        const key = rollout.badVersionCapped ? 'badVersionCapped' : 'rollbackWithinHolds';
        problems.push({ path: `expect.rollout.${key}`, message: 'the scenario deploys no bad version (slower, smaller or failing) that succeeds' });
      }
      if (rollout.goodVersionAtBaseline && succeeding.length === bad.length) {
        problems.push({ path: 'expect.rollout.goodVersionAtBaseline', message: 'the scenario deploys no good version that succeeds' });
      }
    }
  }
  if (scenario.spec.expect.extraInstanceHours !== undefined && !scenario.regions.some((region) => region.scaling !== null)) {
    problems.push({ path: 'expect.extraInstanceHours', message: 'no region of the scenario can scale (regions[].scaling): nobody can add instances' });
  }
  if (scenario.spec.expect.timeToMitigate !== undefined && scenario.harmStart === null) {
    problems.push({ path: 'expect.timeToMitigate', message: 'the scenario has no harm to mitigate (no harmful incident, demand shape or deployment)' });
  }
  return problems;
}

/** Where a run stops short of its scenario file: what a cut can judge. */
interface Cut {
  readonly atSeconds: number;
  /** The whole harm window is inside the run (shares of misses on it are those of the full run's harm). */
  readonly holdsHarm: boolean;
  readonly why: string;
}

function cutOf(scenario: Scenario, fileDurationSeconds: number): Cut | null {
  const at = scenario.spec.duration;
  if (at >= fileDurationSeconds) return null;
  const badVersion = scenario.deployments.some((d) => d.badVersion);
  const holdsHarm = scenario.harmEnd !== null && !badVersion && scenario.harmEnd <= at;
  const harm =
    scenario.harmEnd === null
      ? 'the scenario has no harm window'
      : badVersion
        ? 'a bad version harms until it is rolled back'
        : `the harm lasts until ${minutes(scenario.harmEnd)}`;
  return { atSeconds: at, holdsHarm, why: `the run is cut at ${minutes(at)} of ${minutes(fileDurationSeconds)}${holdsHarm ? '' : ` and ${harm}`}` };
}

function minutes(seconds: number): string {
  return `${Math.round(seconds / 60)} min`;
}

type Bounds = { readonly mean?: number | undefined; readonly worst?: number | undefined };

/** One expectation's bounds, the values they bound, and why it cannot be judged here (if so). */
interface Judged {
  readonly expectation: string;
  readonly bounds: Bounds;
  readonly values: readonly SeedValue[];
  readonly better: 'higher' | 'lower';
  readonly unit: ExpectationUnit;
  readonly skip?: string | null;
  /** Why a value can be undefined on a seed. */
  readonly undefinedWhy?: string;
}

/** Both bounds of one expectation over per-seed values. */
function judgeBounds({ expectation, bounds, values, better, unit, skip = null, undefinedWhy }: Judged): ExpectationCheck[] {
  const op = better === 'higher' ? '≥' : '≤';
  const stat = statOver(values, better);
  const checks: ExpectationCheck[] = [];
  for (const statistic of ['mean', 'worst'] as const) {
    const bound = bounds[statistic];
    if (bound === undefined) continue;
    const base = { expectation, statistic, op, bound, unit } as const;
    const value = stat[statistic];
    // A mean over one seed is that seed's value: the worst bound judges it.
    const single =
      statistic === 'mean' && values.length < 2 ? 'a mean needs several seeds (npm run bench -- --seeds 1-5); the worst bound judges this one' : null;
    if (skip !== null || single !== null || value === null) {
      const note = skip ?? single ?? `not defined on any seed run${undefinedWhy ? ` (${undefinedWhy})` : ''}`;
      checks.push({ ...base, value: null, status: 'skipped', note });
      continue;
    }
    const met = better === 'higher' ? value >= bound - 1e-9 : value <= bound + 1e-9;
    const note = stat.undefinedOn.length > 0 ? `not defined on seed ${stat.undefinedOn.join(', ')}${undefinedWhy ? ` (${undefinedWhy})` : ''}` : undefined;
    checks.push({
      ...base,
      value,
      ...(statistic === 'worst' && stat.worstSeed !== null && values.some((v) => v.value !== value) ? { seed: stat.worstSeed } : {}),
      status: met ? 'met' : 'missed',
      ...(note ? { note } : {}),
    });
  }
  return checks;
}

function perSeed(results: readonly ScenarioResult[], value: (result: ScenarioResult) => number | null): SeedValue[] {
  return results.map((r) => ({ seed: r.scenario.spec.seed, value: value(r) }));
}

/**
 * Judges a scenario's `expect:` block on its results, one per seed (the same scenario, the same
 * duration). `fileDurationSeconds` is the scenario file's own duration: a shorter run is a cut.
 */
export function judgeExpectations(results: readonly ScenarioResult[], fileDurationSeconds: number): ExpectationCheck[] {
  const scenario = results[0]!.scenario;
  const expect: ExpectSpec = scenario.spec.expect;
  const cut = cutOf(scenario, fileDurationSeconds);
  const harmSkip = cut && !cut.holdsHarm ? cut.why : null;
  const checks: ExpectationCheck[] = [];

  if (expect.benefit !== undefined) {
    const values = perSeed(results, (r) => benefitCaptured(r.metrics));
    checks.push(
      ...judgeBounds({
        expectation: 'benefit',
        bounds: expect.benefit,
        values,
        better: 'higher',
        unit: 'share',
        skip: harmSkip,
        undefinedWhy: `the oracle gains < ${MIN_ORACLE_GAIN} over static`,
      }),
    );
  }
  for (const [name, bounds] of Object.entries(expect.ratioTo ?? {})) {
    const values = perSeed(results, (r) => missRatio(r.metrics, name as ControllerName));
    checks.push(...judgeBounds({ expectation: `ratioTo.${name}`, bounds, values, better: 'lower', unit: 'ratio', skip: harmSkip }));
  }
  if (expect.extraInstanceHours !== undefined) {
    // Capacity asked for during the harm is given back after it: judged where the whole harm is in the run, like benefit.
    const values = perSeed(results, (r) => extraHoursRatio(r.metrics));
    checks.push(
      ...judgeBounds({
        expectation: 'extraInstanceHours.overOracle',
        bounds: expect.extraInstanceHours.overOracle,
        values,
        better: 'lower',
        unit: 'ratio',
        skip: harmSkip,
      }),
    );
  }
  // Counts on a prefix can only be lower: judged on any cut.
  for (const key of ['flaps', 'dnsChanges', 'safetyViolations'] as const) {
    const bounds = expect[key];
    if (bounds === undefined) continue;
    checks.push(...judgeBounds({ expectation: key, bounds, values: perSeed(results, (r) => r.metrics.steer53[key]), better: 'lower', unit: 'count' }));
  }
  if (expect.timeToMitigate !== undefined) {
    const values = perSeed(results, (r) => r.metrics.steer53.timeToMitigateS ?? Number.POSITIVE_INFINITY);
    checks.push(...judgeBounds({ expectation: 'timeToMitigate', bounds: expect.timeToMitigate, values, better: 'lower', unit: 'seconds', skip: harmSkip }));
  }
  if (expect.rollout !== undefined) checks.push(...judgeRollout(expect.rollout, results, cut));
  return checks;
}

function judgeRollout(expect: NonNullable<ExpectSpec['rollout']>, results: readonly ScenarioResult[], cut: Cut | null): ExpectationCheck[] {
  const checks: ExpectationCheck[] = [];
  const byDeployment = new Map<number, { fact: RolloutFact; seed: number }[]>();
  for (const result of results) {
    for (const fact of result.rollout)
      byDeployment.set(fact.deployment, [...(byDeployment.get(fact.deployment) ?? []), { fact, seed: result.scenario.spec.seed }]);
  }
  for (const facts of byDeployment.values()) {
    const first = facts[0]!.fact;
    const subject = `${first.endpoint} ${first.version}`;
    const seedValues = (value: (fact: RolloutFact) => number | null) => facts.map(({ fact, seed }) => ({ seed, value: value(fact) }));
    if (first.badVersion && expect.badVersionCapped) {
      // The share answered on a prefix can only be lower: judged on any cut.
      const [check] = judgeBounds({
        expectation: 'rollout.badVersionCapped',
        bounds: { worst: first.firstStepShare },
        values: seedValues((f) => f.maxAnsweredShare),
        better: 'lower',
        unit: 'share',
      });
      const lived = statOver(
        seedValues((f) => f.maxLivedShare),
        'lower',
      );
      checks.push({ ...check!, subject, note: `clients with stale answers included: ${formatValue(lived.worst, 'share')} at most` });
    }
    if (first.badVersion && expect.rollbackWithinHolds !== undefined) {
      const within = expect.rollbackWithinHolds * first.holdSeconds;
      const skip = cut && cut.atSeconds < first.outcomeAt + within ? `${cut.why}, before ${expect.rollbackWithinHolds} canary holds after the outcome` : null;
      const [check] = judgeBounds({
        expectation: 'rollout.rollbackWithinHolds',
        bounds: { worst: within },
        values: seedValues((f) => f.rollbackRequestedAfterS ?? Number.POSITIVE_INFINITY),
        better: 'lower',
        unit: 'seconds',
        skip,
      });
      checks.push({ ...check!, subject });
    }
    if (!first.badVersion && expect.goodVersionAtBaseline) {
      const held = facts.filter(({ fact }) => fact.backAtBaselineAfterS !== null && fact.rollbackRequestedAfterS === null);
      const base = { expectation: 'rollout.goodVersionAtBaseline', subject, statistic: 'seeds', op: '≥', bound: facts.length, unit: 'seeds' } as const;
      if (cut) {
        checks.push({ ...base, value: null, status: 'skipped', note: `${cut.why} (a rollback may still come after it)` });
      } else {
        const missedOn = facts.filter((f) => !held.includes(f)).map(({ seed }) => seed);
        checks.push({
          ...base,
          value: held.length,
          status: held.length === facts.length ? 'met' : 'missed',
          ...(missedOn.length > 0 ? { note: `not back at baseline, or a rollback requested, on seed ${missedOn.join(', ')}` } : {}),
        });
      }
    }
  }
  return checks;
}

/** A value as the tables print it; `precise` adds digits (where a value and its bound would print the same). */
export function formatValue(value: number | null, unit: ExpectationUnit, precise = false): string {
  if (value === null) return '–';
  if (value === Number.POSITIVE_INFINITY) return unit === 'seconds' ? 'never' : '∞';
  const extra = precise ? 2 : 0;
  switch (unit) {
    case 'share':
      return `${(value * 100).toFixed((Math.abs(value) < 0.1 && value !== 0 ? 1 : 0) + extra)}%`;
    case 'ratio':
      return `${value.toFixed(2 + extra)}×`;
    case 'seconds':
      return `${value.toFixed(extra)} s`;
    case 'count':
      return Number.isInteger(value) ? `${value}` : value.toFixed(1 + extra);
    case 'seeds':
      return `${value}`;
  }
}

/** `benefit worst ≥ 80%`, `ratioTo.route53-health-check mean ≤ 0.50×`, `rollout.goodVersionAtBaseline (eu-west-1 v2) on 5 of 5 seeds`. */
export function describeExpectation(check: ExpectationCheck): string {
  const subject = check.subject ? ` (${check.subject})` : '';
  if (check.statistic === 'seeds') return `${check.expectation}${subject} on every seed`;
  return `${check.expectation}${subject} ${check.statistic} ${check.op} ${formatValue(check.bound, check.unit)}`;
}

/** What was measured: `83% (seed 4)`, `skipped: …`. */
export function describeOutcome(check: ExpectationCheck): string {
  if (check.status === 'skipped') return `skipped: ${check.note ?? ''}`;
  // A missed value that would print as its bound (89.97% against 90%) gets the digits that show why.
  const precise = check.status === 'missed' && formatValue(check.value, check.unit) === formatValue(check.bound, check.unit);
  const value = check.statistic === 'seeds' ? `${check.value} of ${check.bound} seeds` : formatValue(check.value, check.unit, precise);
  return `${value}${check.seed !== undefined ? ` (seed ${check.seed})` : ''}${check.note ? `; ${check.note}` : ''}`;
}

/** What a `--quick` run keeps after the last thing that happens in a scenario, by default. */
export const QUICK_TAIL_SECONDS = 1800;
/** The longest a `--quick` run lasts unless the scenario says otherwise (a day-long trace would not be quick). */
export const QUICK_MAX_SECONDS = 3 * 3600;

/**
 * How long a `--quick` run lasts: the scenario's `expect.quick.duration`; or else 30 minutes after
 * the last incident, demand shape or deployment outcome ends (a bad version harms until it is
 * rolled back: such a scenario runs in full), at least 10 minutes, at most 3 hours and at most the
 * scenario's duration.
 */
export function quickDurationSeconds(scenario: Scenario): number {
  const full = scenario.spec.duration;
  const declared = scenario.spec.expect.quick?.duration;
  if (declared !== undefined) return Math.min(declared, full);
  const ends = [
    ...(scenario.harmEnd !== null ? [scenario.harmEnd] : []),
    ...scenario.incidents.map((i) => i.end),
    ...scenario.deployments.map((d) => d.outcomeAt),
  ];
  const wanted = ends.length === 0 ? full : Math.max(600, Math.max(...ends) + QUICK_TAIL_SECONDS);
  return Math.min(full, wanted, QUICK_MAX_SECONDS);
}
