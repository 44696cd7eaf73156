/**
 * The benchmark's metrics, per scenario and controller, exactly as the issue names them:
 * - sloMissFraction: requests that failed or missed the latency SLO, over all requests;
 * - dnsChanges: changes of what DNS answers (Route 53 change batches; for Route 53 health-check
 *   failover, health-status flips that change the answers);
 * - flaps: changes that reverse an endpoint's previous move (of the same origin: the controller's
 *   writes, Route 53's health checks) within 10 minutes, where both moves shift its share by more
 *   than one weight unit of the baseline total (rollout-ordered changes excepted: a canary step, a
 *   rollback, the restore after it);
 * - timeToMitigateS: from the start of harm to the first change that reduced the share of a
 *   harmed endpoint (null if none before the harm ended);
 * - timeToBaselineS: from the end of the last incident to the change that put the weights back
 *   at baseline for good (0 if they never left; null if they are not back by the end);
 * - safetyViolations: changes that left every weight at 0, left fewer than minHealthyEndpoints
 *   serving, or pushed an endpoint past its warm capacity by moving traffic into it.
 */
import type { Scenario } from './scenario.js';
import type { ControllerName, RunResult, WeightWrite, WorldTruth } from './world.js';

export const FLAP_WINDOW_SECONDS = 600;
/**
 * A move of at most this many Route 53 weight points (weights are integers 0–255) is too small to
 * be a flap or to be reversed by one: rounding a share to an integer weight moves a point or so.
 */
export const FLAP_MIN_MOVE_WEIGHT = 1;

export interface ControllerMetrics {
  readonly sloMissFraction: number;
  readonly dnsChanges: number;
  readonly flaps: number;
  /** The flaps by the reason code of the write that reversed a move (`flapCauses`). */
  readonly flapCauses: Readonly<Record<string, number>>;
  readonly timeToMitigateS: number | null;
  readonly timeToBaselineS: number | null;
  readonly safetyViolations: number;
  /** Replica-hours billed over every region (each replica from its launch until it left). */
  readonly instanceHours: number;
  /** Of those, the hours beyond the regions' configured replicas (what asking for capacity cost). */
  readonly extraInstanceHours: number;
}

function shares(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => (total > 0 ? w / total : 1 / weights.length));
}

/**
 * Writes that reverse an endpoint's previous move within the flap window. A move is a change of
 * the endpoint's share, in weight units of `unitTotal` (the baseline weights' total; by default
 * each write's total before it): steer53 writes weights at the scale that changes the fewest
 * records, so a record left as it is can move (its share does), and weights rewritten at another
 * scale with the same shares do not. A move reverses the previous move of the same origin: the
 * controller's writes (`api`) one another, Route 53's health checks (`health-check`) one another.
 * A health check that drops a failing record raises the others' shares; the controller planning
 * less than that for one of them has not changed its mind. Only moves of more than
 * `FLAP_MIN_MOVE_WEIGHT` units count, both the move and its reversal; smaller ones are ignored
 * (they neither flap nor reset the endpoint's last move). A write a deployment rollout ordered (a canary step, a rollback, the
 * restore once the pipeline rolled back) follows the pipeline's protocol, not a change of the
 * controller's mind: it counts as a move, never as a flap.
 */
export function countFlaps(writes: readonly WeightWrite[], windowSeconds = FLAP_WINDOW_SECONDS, unitTotal?: number): number {
  return flappingWrites(writes, windowSeconds, unitTotal).length;
}

/**
 * The flaps by what ordered each reversing write: its `cause` (steer53's reason code), else its
 * kind (`health-check`, or `api` for a controller that gives no cause).
 */
export function flapCauses(writes: readonly WeightWrite[], windowSeconds = FLAP_WINDOW_SECONDS, unitTotal?: number): Record<string, number> {
  return causesOf(flappingWrites(writes, windowSeconds, unitTotal));
}

function causesOf(flapping: readonly WeightWrite[]): Record<string, number> {
  const causes: Record<string, number> = {};
  for (const write of flapping) {
    const cause = write.cause ?? write.kind;
    causes[cause] = (causes[cause] ?? 0) + 1;
  }
  return causes;
}

/** The writes `countFlaps` counts. */
function flappingWrites(writes: readonly WeightWrite[], windowSeconds: number, unitTotal: number | undefined): WeightWrite[] {
  const lastMove = new Map<string, { t: number; direction: number }>();
  const flaps: WeightWrite[] = [];
  for (const write of writes) {
    let reversed = false;
    const before = shares(write.before);
    const after = shares(write.after);
    const unit = unitTotal ?? write.before.reduce((a, b) => a + b, 0);
    after.forEach((share, i) => {
      const delta = (share - (before[i] ?? 0)) * unit;
      if (Math.abs(delta) <= FLAP_MIN_MOVE_WEIGHT + 1e-9) return;
      const direction = Math.sign(delta);
      const key = `${write.kind}:${i}`;
      const previous = lastMove.get(key);
      if (previous && previous.direction !== direction && write.t - previous.t < windowSeconds) reversed = true;
      lastMove.set(key, { t: write.t, direction });
    });
    if (reversed && !write.rollout) flaps.push(write);
  }
  return flaps;
}

const threatenedCache = new WeakMap<Scenario, boolean[]>();

/**
 * Endpoints whose baseline share of the demand fills more than 90% of their warm capacity at some
 * minute of the harm window (5-minute mean demand): those a surge threatens, whatever a
 * controller does about it.
 */
function threatened(scenario: Scenario, truth: WorldTruth): boolean[] {
  const cached = threatenedCache.get(scenario);
  if (cached) return cached;
  const base = shares(scenario.baselineWeights);
  const result = base.map(() => false);
  if (scenario.harmStart !== null && scenario.harmEnd !== null) {
    for (let t = scenario.harmStart; t <= scenario.harmEnd; t += 60) {
      const demand = truth.demandRate(t, 300);
      base.forEach((share, r) => {
        const capacity = truth.configuredCapacity(r, t);
        if (capacity > 0 && (share * demand) / capacity > 0.9) result[r] = true;
      });
    }
  }
  threatenedCache.set(scenario, result);
  return result;
}

/**
 * Is the endpoint harmed at time t: an incident hurts it now, it is one a surge threatens (its
 * baseline share would fill more than 90% of its warm capacity during the harm window, so a
 * controller that sheds before the queue forms is credited), or it missed the SLO for more than
 * 1% of its requests in the last complete minute.
 */
export function harmedAt(scenario: Scenario, run: Pick<RunResult, 'series'>, truth: WorldTruth, r: number, t: number): boolean {
  const c = truth.condition(r, t);
  if (c.down || c.errorRate > 0 || c.latencyFactor > 1 || c.capacityFactor < 1 || c.addedLatencyMs > 0) return true;
  if (t >= (scenario.harmStart ?? Infinity) && t <= (scenario.harmEnd ?? -Infinity) && threatened(scenario, truth)[r]) return true;
  const m = Math.floor(t / 60) - 1;
  if (m < 0) return false;
  const requests = run.series.requests[r]![m]!;
  return requests > 0 && (run.series.failed[r]![m]! + run.series.missed[r]![m]!) / requests > 0.01;
}

export function timeToMitigate(scenario: Scenario, run: Pick<RunResult, 'series' | 'writes'>, truth: WorldTruth): number | null {
  if (scenario.harmStart === null || scenario.harmEnd === null) return null;
  for (const write of run.writes) {
    if (write.t < scenario.harmStart || write.t > scenario.harmEnd) continue;
    const before = shares(write.before);
    const after = shares(write.after);
    for (let r = 0; r < after.length; r++) {
      if (after[r]! < before[r]! - 1e-9 && harmedAt(scenario, run, truth, r, write.t)) return write.t - scenario.harmStart;
    }
  }
  return null;
}

function atBaseline(weights: readonly number[], baseline: readonly number[]): boolean {
  const a = shares(weights);
  const b = shares(baseline);
  return a.every((share, i) => Math.abs(share - b[i]!) <= 0.005);
}

/** `harmEnd`: when the run's harm ended (a deployment's bad version ends when that run rolled it back). */
export function timeToBaseline(scenario: Scenario, writes: readonly WeightWrite[], harmEnd: number | null = scenario.harmEnd): number | null {
  const incidentEnd = harmEnd ?? (scenario.incidents.length > 0 ? Math.max(...scenario.incidents.map((i) => i.end)) : null);
  if (incidentEnd === null) return null;
  const final = writes.length > 0 ? writes[writes.length - 1]!.after : scenario.baselineWeights;
  if (!atBaseline(final, scenario.baselineWeights)) return null;
  // The write that returned to baseline for good: the first after the last one that left it.
  let back = 0;
  for (let i = writes.length - 1; i >= 0; i--) {
    if (!atBaseline(writes[i]!.before, scenario.baselineWeights)) {
      back = writes[i]!.t;
      break;
    }
  }
  return Math.max(0, back - incidentEnd);
}

export function safetyViolations(scenario: Scenario, writes: readonly WeightWrite[], truth: WorldTruth): number {
  const minServing = scenario.service.policy.safety.minHealthyEndpoints;
  let violations = 0;
  for (const write of writes) {
    const serving = write.after.filter((w) => w > 0).length;
    const before = shares(write.before);
    const after = shares(write.after);
    const demand = truth.demandRate(write.t, 300);
    let overloaded = false;
    for (let r = 0; r < after.length; r++) {
      if (after[r]! > before[r]! + 1e-9 && after[r]! * demand > truth.capacity(r, write.t)) overloaded = true;
    }
    if (serving === 0 || serving < Math.min(minServing, write.after.length) || overloaded) violations++;
  }
  return violations;
}

function baselineTotal(scenario: Scenario): number {
  return scenario.baselineWeights.reduce((a, b) => a + b, 0);
}

export function metricsOf(scenario: Scenario, run: RunResult, truth: WorldTruth): ControllerMetrics {
  const flapping = flappingWrites(run.writes, FLAP_WINDOW_SECONDS, baselineTotal(scenario));
  return {
    sloMissFraction: run.totalRequests > 0 ? (run.totalFailed + run.totalMissed) / run.totalRequests : 0,
    dnsChanges: run.writes.length,
    flaps: flapping.length,
    flapCauses: causesOf(flapping),
    timeToMitigateS: timeToMitigate(scenario, run, truth),
    timeToBaselineS: timeToBaseline(scenario, run.writes, run.harmEnd),
    safetyViolations: safetyViolations(scenario, run.writes, truth),
    ...instanceHours(run),
  };
}

/** Replica-hours over every region of a run, and the hours beyond the configured replicas. */
export function instanceHours(run: Pick<RunResult, 'instances'>): { instanceHours: number; extraInstanceHours: number } {
  const billed = run.instances.reduce((sum, use) => sum + use.instanceSeconds, 0);
  const configured = run.instances.reduce((sum, use) => sum + use.configuredSeconds, 0);
  return { instanceHours: billed / 3600, extraInstanceHours: (billed - configured) / 3600 };
}

/**
 * steer53's extra instance-hours over the oracle's: below 1, steer53 paid less for capacity than
 * the oracle did. 0 when neither added any; Infinity when only steer53 did.
 */
export function extraHoursRatio(metrics: Readonly<Record<ControllerName, ControllerMetrics>>): number {
  const mine = metrics.steer53.extraInstanceHours;
  const theirs = metrics.oracle.extraInstanceHours;
  if (theirs > 1e-9) return Math.max(0, mine) / theirs;
  return mine > 1e-9 ? Number.POSITIVE_INFINITY : 0;
}

/** The oracle's gain over static below which there is no benefit to share (a share of noise means nothing). */
export const MIN_ORACLE_GAIN = 0.005;

/**
 * The share of the oracle's benefit a controller captures: (static − it) / (static − oracle) on
 * sloMissFraction; null where the oracle gains less than MIN_ORACLE_GAIN over static.
 */
export function benefitCaptured<N extends ControllerName = 'steer53'>(
  metrics: Readonly<Record<'static' | 'oracle' | N, ControllerMetrics>>,
  name: N = 'steer53' as N,
): number | null {
  return benefitShare(metrics.static.sloMissFraction, metrics.oracle.sloMissFraction, metrics[name].sloMissFraction);
}

/** `benefitCaptured` on the shares missed (sloMissFraction) of the fixed split, the oracle and the controller. */
export function benefitShare(fixed: number, oracle: number, miss: number): number | null {
  const gain = fixed - oracle;
  return gain < MIN_ORACLE_GAIN ? null : (fixed - miss) / gain;
}

/**
 * steer53's sloMissFraction over another controller's: below 1, steer53 missed fewer requests.
 * 0 when neither missed any (steer53 did as well as possible); Infinity when only steer53 did.
 */
export function missRatio(metrics: Readonly<Record<ControllerName, ControllerMetrics>>, to: ControllerName): number {
  const mine = metrics.steer53.sloMissFraction;
  const theirs = metrics[to].sloMissFraction;
  if (theirs > 0) return mine / theirs;
  return mine > 0 ? Number.POSITIVE_INFINITY : 0;
}
