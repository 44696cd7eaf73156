/**
 * The oracle: knows the true condition of every region the moment it changes and the true demand
 * of the last 15 minutes (no controller can know the future, and neither does the oracle), and
 * picks the weights that minimise the requests expected to miss the SLO if both stay as they
 * are — forecast step by step over those minutes' real arrivals with a closed-form model of the
 * regions' serving units (oracleModel.ts). It still pays Route 53 propagation and DNS caching.
 * It is a strong heuristic, not a proven bound: its forecast is a steady-state approximation of a
 * world simulated request by request, so a controller can, rarely, beat it.
 *
 * The search starts from the current weights and moves 2.5% slices of traffic while that lowers
 * the expected misses plus a small price for being away from baseline, so the oracle never moves
 * traffic for nothing and returns to baseline once baseline costs nothing more.
 *
 * Where regions can scale, the oracle asks them for the capacity the demand needs the moment an
 * incident starts and gives it back after (oracleScaling.ts); it forecasts each region with the
 * replicas it has in service, so its weights follow the capacity as it arrives.
 *
 * `laggedOracleController(lag)` is the same oracle told `lag` seconds late: each region's true
 * condition, and the demand its weights are forecast on, as they were then (its capacity asks still
 * size the last 15 minutes' demand as of now: a few minutes' lag moves that average little). It is
 * a reference for what minute metrics allow (`npm run bench:bound`): CloudWatch publishes a minute
 * one to two and a half minutes after it ends, so no controller that reads it knows a region's
 * condition sooner, and this one knows it exactly (no noise, nothing to confirm) that late. A
 * heuristic like the oracle, not a proof; and not for hard failures, which Route 53 health checks
 * and alarms see within seconds.
 */
import { integerWeights } from '../../functions/core/weights.js';
import { oracleScaler } from './oracleScaling.js';
import type { RegionCondition } from '../latencyModel.js';
import { missFraction, type OracleRegion } from './oracleModel.js';
import type { Controller, ControllerContext, ControllerFactory, EvaluationRecord } from '../world.js';

/**
 * The demand the forecast replays: the last 15 minutes of true arrivals (a shorter window makes a
 * noisier estimate of the bursts, and a flappier oracle).
 */
const HORIZON_SECONDS = 900;
/** Shares the forecast is computed at (0, 5%, …, 100%); costs between are interpolated. */
const GRID = 21;
const SLICE = 0.025;
/** A slice moves only if it saves more than this share of the horizon's requests per unit of share moved. */
const MOVE_PRICE = 0.01;
/**
 * New weights must beat the current ones by this share of requests (price included), plus this
 * fraction of the current expected misses, to be written: a forecast from a noisy five minutes
 * must not flap the weights.
 */
const WRITE_MARGIN = 0.0002;
const RELATIVE_MARGIN = 0.1;
/** Weights are rewritten only when some endpoint's share would move more than this. */
const SHARE_DEADBAND = 0.05;
/** Rates the oracle's miss model is tabulated at, per region and condition. */
const RATE_POINTS = 400;
/** Four prompt lengths (quartile midpoints) stand for the mix: plenty for an expectation. */
const PROMPT_POINTS = [1, 3, 5, 7];

export function oracleController(context: ControllerContext): Controller {
  return oracle(context, 0);
}

/** The oracle told each region's condition and the demand `lagSeconds` late (see the file's comment). */
export function laggedOracleController(lagSeconds: number): ControllerFactory {
  if (!Number.isFinite(lagSeconds) || lagSeconds < 0) throw new RangeError(`oracle lag must be a number of seconds, 0 or more: ${lagSeconds}`);
  return (context) => oracle(context, lagSeconds);
}

function oracle(context: ControllerContext, lagSeconds: number): Controller {
  const { scenario, route53 } = context;
  const ids = scenario.endpoints;
  const dt = scenario.spec.stepSeconds;
  const lagSteps = Math.round(lagSeconds / dt);
  /** Each region's condition at step s, as the oracle knows it: `lagSteps` late. */
  const conditionsAt = (s: number) => context.truth.conditionsAtStep(Math.max(0, s - lagSteps));
  const total = scenario.baselineWeights.reduce((a, b) => a + b, 0);
  const baselineShares = scenario.baselineWeights.map((w) => w / total);
  const minServing = scenario.service.policy.safety.minHealthyEndpoints;
  const prompts = PROMPT_POINTS.map((i) => scenario.demand.promptQuantiles[i]!);
  const meanOutput = mean(Array.from(scenario.demand.outputs.subarray(0, Math.min(scenario.demand.outputs.length, 20_000))));
  const evaluations: EvaluationRecord[] = [];
  let lastSignature = '';
  let lastComputed = -Infinity;

  const models: OracleRegion[] = scenario.regions.map((region) => ({
    unit: region.unit,
    replicas: region.replicas,
    unitSaturationRps: region.unitSaturationRps,
    networkMs: region.spec.networkLatencyMs,
    sloMs: scenario.spec.slo.latencyMs,
    workload: { promptTokens: mean(prompts), outputTokens: meanOutput },
    prompts,
  }));
  const scaler = oracleScaler(context);
  /** Replicas region r serves with now: its configured ones, or what its fleet has in service. */
  const replicasOf = (r: number) => (scaler ? context.fleets[r]!.inServiceCount : models[r]!.replicas);

  /**
   * Requests region r is expected to fail or serve late, for each grid share, if its condition at
   * step `now` held over the demand of steps from..to.
   */
  function forecast(r: number, now: number, from: number, to: number): Float64Array {
    const condition = context.truth.conditionsAtStep(now)[r]!;
    const miss = missTable(r, condition);
    const costs = new Float64Array(GRID);
    for (let g = 1; g < GRID; g++) {
      const share = g / (GRID - 1);
      let missed = 0;
      for (let s = from; s < to; s++) {
        const n = scenario.demand.arrivals[s]! * share;
        missed += n * miss(n / dt);
      }
      costs[g] = missed;
    }
    return costs;
  }

  /** missFraction over a grid of rates, per region and condition (conditions change rarely): interpolated. */
  const tables = new Map<string, (rate: number) => number>();
  function missTable(r: number, condition: RegionCondition): (rate: number) => number {
    const replicas = replicasOf(r);
    const key = `${r}|${replicas}|${JSON.stringify(condition)}`;
    const hit = tables.get(key);
    if (hit) return hit;
    const model = { ...models[r]!, replicas };
    const top = 4 * model.replicas * model.unitSaturationRps + 1;
    const values = Float64Array.from({ length: RATE_POINTS + 1 }, (_, i) => missFraction(model, condition, (top * i) / RATE_POINTS));
    const lookup = (rate: number) => {
      const x = Math.min(RATE_POINTS, Math.max(0, (rate / top) * RATE_POINTS));
      const i = Math.min(RATE_POINTS - 1, Math.floor(x));
      return values[i]! + (values[i + 1]! - values[i]!) * (x - i);
    };
    tables.set(key, lookup);
    return lookup;
  }

  function costAt(table: Float64Array, share: number): number {
    const x = Math.min(1, Math.max(0, share)) * (GRID - 1);
    const i = Math.min(GRID - 2, Math.floor(x));
    return table[i]! + (table[i + 1]! - table[i]!) * (x - i);
  }

  /**
   * The shares that minimise expected misses plus a small price for leaving baseline, searched
   * from where the weights are now by moving 2.5% slices; and whether they beat the current shares
   * by enough to be worth a DNS change (hysteresis: a noisy forecast must not flap the weights).
   */
  function bestShares(t: number, current: readonly number[]): { shares: number[]; expected: number; baseline: number; worthIt: boolean } {
    // The demand just seen (at the very start: the first minutes), under the conditions of now;
    // a lagged oracle sees both as they were `lagSteps` ago.
    const now = Math.max(0, Math.min(scenario.steps - 1, Math.floor(t / dt)) - lagSteps);
    const span = Math.round(HORIZON_SECONDS / dt);
    const from = Math.max(0, now - span);
    const to = Math.min(scenario.steps, Math.max(now, span));
    let arrivals = 0;
    for (let s = from; s < to; s++) arrivals += scenario.demand.arrivals[s]!;
    const norm = Math.max(arrivals, 1e-9);
    const tables = ids.map((_, r) => forecast(r, now, from, to));
    const cost = (r: number, share: number) => costAt(tables[r]!, share) / norm;
    const objective = (shares: readonly number[]) =>
      shares.reduce((sum, share, r) => sum + cost(r, share) + (MOVE_PRICE * Math.abs(share - baselineShares[r]!)) / 2, 0);
    // Start from the current shares, snapped to the slice grid.
    const shares = current.map((share) => Math.round(share / SLICE) * SLICE);
    const excess = shares.reduce((a, b) => a + b, 0) - 1;
    if (Math.abs(excess) > 1e-9) shares[shares.indexOf(Math.max(...shares))]! -= excess;
    for (let iteration = 0; iteration < 200; iteration++) {
      const base = objective(shares);
      let best = { gain: 1e-9, from: -1, to: -1 };
      for (let a = 0; a < ids.length; a++) {
        if (shares[a]! < SLICE - 1e-9) continue;
        for (let b = 0; b < ids.length; b++) {
          if (b === a || shares[b]! > 1 - SLICE + 1e-9) continue;
          shares[a]! -= SLICE;
          shares[b]! += SLICE;
          const gain = base - objective(shares);
          shares[a]! += SLICE;
          shares[b]! -= SLICE;
          if (gain > best.gain) best = { gain, from: a, to: b };
        }
      }
      if (best.from < 0) break;
      shares[best.from] = Math.max(0, shares[best.from]! - SLICE);
      shares[best.to] = shares[best.to]! + SLICE;
    }
    const clean = shares.map((share) => (share < 1e-9 ? 0 : share));
    const expected = clean.reduce((sum, share, r) => sum + cost(r, share), 0);
    const baseline = baselineShares.reduce((sum, share, r) => sum + cost(r, share), 0);
    const atCurrent = objective(current);
    return { shares: clean, expected, baseline, worthIt: atCurrent - objective(clean) > WRITE_MARGIN + RELATIVE_MARGIN * atCurrent };
  }

  return {
    name: 'oracle',
    evaluations,
    capacityAsks: scaler?.asks ?? [],
    tick(t) {
      // Recompute the moment any region's truth changes, and every minute for demand.
      const s = Math.min(scenario.steps - 1, Math.floor(t / dt));
      const conditions = conditionsAt(s);
      // Where regions scale, replicas coming into service change the forecast too.
      const signature = ids.map((_, r) => `${JSON.stringify(conditions[r])}${scaler ? `/${replicasOf(r)}` : ''}`).join('|');
      if (signature === lastSignature && t - lastComputed < 60) return;
      scaler?.plan(t, conditions);
      lastSignature = signature;
      lastComputed = t;
      const current = route53.weights;
      const currentTotal = current.reduce((a, b) => a + b, 0) || 1;
      const {
        shares: target,
        expected,
        baseline,
        worthIt,
      } = bestShares(
        t,
        current.map((w) => w / currentTotal),
      );
      if (!worthIt) return;
      // Keep the policy's floor of serving endpoints, taking those still up first.
      const serving = target.filter((share) => share > 0).length;
      if (serving < minServing) {
        const order = ids.map((_, r) => r).filter((r) => target[r] === 0 && !conditions[r]!.down);
        for (const r of order.slice(0, minServing - serving)) target[r] = SLICE;
      }
      const moves = target.some((share, r) => Math.abs(share - current[r]! / currentTotal) > SHARE_DEADBAND || (share === 0) !== (current[r] === 0));
      if (!moves) return;
      const weights = integerWeights(Object.fromEntries(ids.map((id, r) => [id, target[r]!])), ids, total);
      const next = ids.map((id) => weights[id] ?? 0);
      const why = `expected SLO miss ${(expected * 100).toFixed(2)}% (baseline weights: ${(baseline * 100).toFixed(2)}%)`;
      route53.write(t, next, { why });
      evaluations.push({ t, statuses: next.map((w) => (w === 0 ? 'drained' : 'healthy')), reasons: [why] });
    },
  };
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length > 0 ? sum / values.length : 0;
}
