/**
 * The oracle: knows the true condition of every region the moment it changes, and the demand of
 * the next minutes, and picks the weights that minimise the expected share of requests missing
 * the SLO, by the world's own latency model. It still pays Route 53 propagation and DNS caching,
 * so it bounds what any controller could achieve through DNS; the benchmark measures steer53's
 * detection and decision quality against it.
 */
import { integerWeights } from '../../functions/core/weights.js';
import { expectedMissFraction, type RegionCondition } from '../latencyModel.js';
import type { Controller, ControllerContext, EvaluationRecord } from '../world.js';

/** Traffic is placed in this many slices; 2.5% is finer than any useful weight change. */
const SLICES = 40;
/** Weights are rewritten only when some endpoint's share would move more than this. */
const SHARE_DEADBAND = 0.05;
/** Baseline is kept unless the best weights are expected to save more than this share of requests. */
const BASELINE_PREFERENCE = 0.002;

export function oracleController(context: ControllerContext): Controller {
  const { scenario, route53, truth } = context;
  const ids = scenario.endpoints;
  const regions = scenario.regions;
  const total = scenario.baselineWeights.reduce((a, b) => a + b, 0);
  const baselineShares = scenario.baselineWeights.map((w) => w / total);
  const minServing = scenario.service.policy.safety.minHealthyEndpoints;
  const evaluations: EvaluationRecord[] = [];
  let lastSignature = '';
  let lastComputed = -Infinity;

  /** Expected requests missing the SLO (as a share of all) if region r carries `share`. */
  function cost(r: number, share: number, condition: RegionCondition, demand: number, capacity: number): number {
    if (share <= 0) return 0;
    if (capacity <= 0) return share;
    const region = regions[r]!;
    const miss = expectedMissFraction(
      { wait: region.wait, networkMs: region.spec.networkLatencyMs, sigma: region.spec.latencyNoiseSigma, sloMs: scenario.spec.slo.latencyMs },
      region.spec.latencyFactor === 1 ? condition : { ...condition, latencyFactor: condition.latencyFactor * region.spec.latencyFactor },
      (share * demand) / capacity,
      scenario.demand.promptQuantiles,
    );
    return share * miss;
  }

  function bestShares(t: number): { shares: number[]; expected: number; baseline: number } {
    const demand = truth.peakWorkRate(t, 300);
    const conditions = ids.map((_, r) => truth.condition(r, t));
    const capacities = ids.map((_, r) => truth.capacity(r, t));
    const shares = ids.map(() => 0);
    const costs = ids.map(() => 0);
    for (let slice = 0; slice < SLICES; slice++) {
      let best = -1;
      let bestDelta = Infinity;
      for (let r = 0; r < ids.length; r++) {
        const delta = cost(r, shares[r]! + 1 / SLICES, conditions[r]!, demand, capacities[r]!) - costs[r]!;
        // Ties go to the endpoint with the larger baseline share: no move without a reason.
        if (delta < bestDelta - 1e-12 || (Math.abs(delta - bestDelta) <= 1e-12 && best >= 0 && baselineShares[r]! > baselineShares[best]!)) {
          best = r;
          bestDelta = delta;
        }
      }
      shares[best] = shares[best]! + 1 / SLICES;
      costs[best] = cost(best, shares[best]!, conditions[best]!, demand, capacities[best]!);
    }
    const expected = costs.reduce((a, b) => a + b, 0);
    const baseline = baselineShares.reduce((sum, share, r) => sum + cost(r, share, conditions[r]!, demand, capacities[r]!), 0);
    return { shares, expected, baseline };
  }

  return {
    name: 'oracle',
    evaluations,
    tick(t) {
      // Recompute the moment any region's truth changes, and every minute for demand.
      const signature = ids.map((_, r) => JSON.stringify(truth.condition(r, t))).join('|');
      if (signature === lastSignature && t - lastComputed < 60) return;
      lastSignature = signature;
      lastComputed = t;
      const { shares, expected, baseline } = bestShares(t);
      const target = baseline - expected > BASELINE_PREFERENCE ? shares : baselineShares;
      // Keep the policy's floor of serving endpoints, taking the least harmful first.
      const serving = target.filter((s) => s > 0).length;
      if (serving < minServing) {
        const order = ids.map((_, r) => r).filter((r) => target[r] === 0 && truth.capacity(r, t) > 0);
        for (const r of order.slice(0, minServing - serving)) target[r] = 1 / SLICES;
      }
      const current = route53.weights;
      const currentTotal = current.reduce((a, b) => a + b, 0) || 1;
      const moves = target.some((share, r) => Math.abs(share - current[r]! / currentTotal) > SHARE_DEADBAND || (share === 0) !== (current[r] === 0));
      if (!moves) return;
      const weights = integerWeights(Object.fromEntries(ids.map((id, r) => [id, target[r]!])), ids, total);
      const next = ids.map((id) => weights[id] ?? 0);
      const why = `expected miss ${(expected * 100).toFixed(2)}% vs baseline ${(baseline * 100).toFixed(2)}%`;
      route53.write(t, next, { why });
      evaluations.push({ t, statuses: next.map((w) => (w === 0 ? 'drained' : 'healthy')), reasons: [why] });
    },
  };
}
