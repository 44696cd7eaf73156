/**
 * Weight planning: from each endpoint's intended fraction of its baseline to the weights that
 * carry it out. Traffic an endpoint sheds has to go somewhere, and Route 53 weights are
 * relative, so "somewhere" is decided here explicitly: healthy actives first, then standbys,
 * then overflow endpoints, never past an endpoint's warm headroom. What no one can take is given
 * back to degraded endpoints (shed less, and say so) — overloading the healthy region too would
 * turn one incident into two.
 */
import type { EndpointConfig, Policy } from './config.js';
import type { EndpointState, Reason, Weights } from './types.js';

export interface PlanEndpoint {
  readonly config: EndpointConfig;
  readonly state: EndpointState;
  /** Fraction of its baseline the endpoint should carry on its own account (state, overrides). */
  readonly factor: number;
  /** May take traffic others shed (healthy, not drained by an operator). */
  readonly receiver: boolean;
  /** Drained by an operator: kept at zero unless a safety rule needs it. */
  readonly maintenance: boolean;
  /** Failing (errors, hard-down) rather than slow: given traffic only as a last resort, and never more than it has. */
  readonly failing: boolean;
  /** Weight the endpoint carries now, in baseline units (its share of the traffic × the baseline total). */
  readonly current: number;
}

export interface PlanResult {
  /** Real-valued weights in baseline units; only their ratios matter. */
  readonly weights: Weights;
  readonly blocked: readonly Reason[];
}

const tiers = ['active', 'standby', 'overflow'] as const;

/**
 * Largest share of all traffic an endpoint may carry: its `maxShare`, and, when demand is known,
 * what its warm capacity can serve at the target utilisation.
 */
export function capacityShare(config: EndpointConfig, demandRps: number | null): number {
  const { warmRps, maxShare, targetUtilization } = config.capacity;
  if (warmRps === undefined || demandRps === null || demandRps <= 0) return maxShare;
  return Math.min(maxShare, (warmRps * targetUtilization) / demandRps);
}

/** Plans real-valued weights for one service. */
export function planWeights(endpoints: readonly PlanEndpoint[], demandRps: number | null, policy: Policy): PlanResult {
  const blocked: Reason[] = [];
  const total = endpoints.reduce((sum, e) => sum + e.config.baselineWeight, 0);
  const weights: Weights = {};
  let freed = 0;
  for (const e of endpoints) {
    const own = e.config.baselineWeight * e.factor;
    weights[e.config.setIdentifier] = own;
    freed += e.config.baselineWeight - own;
  }

  // Hand the freed weight to receivers, tier by tier, each up to its headroom (water-filling).
  let remaining = freed;
  for (const role of tiers) {
    if (remaining <= 1e-9) break;
    const tier = endpoints.filter((e) => e.receiver && e.config.role === role);
    remaining = fill(tier, remaining, total, demandRps, weights);
  }

  if (remaining > 1e-9) {
    // Nobody has room. Overloading the healthy endpoints would turn one incident into two (past
    // its knee an LLM server's queue grows without bound), so give the traffic back: first to
    // slow-but-serving endpoints (shed less), and only then, as a last resort, to failing ones —
    // a bounded share of errors is better than every region timing out.
    // Chosen by state alone, never by this period's verdict, so a noisy signal cannot move weights.
    // A recovering endpoint has shown it is healthy again: it takes traffic back first.
    const recovering = endpoints.filter((e) => e.state.status === 'recovering' && !e.maintenance);
    remaining = giveBack(
      recovering,
      remaining,
      weights,
      (names) => `restoring ${names} faster than its recovery steps: the other endpoints have no warm headroom`,
      blocked,
    );
    // A slow endpoint gets back at most what it carried when it degraded (it may have been
    // carrying others' traffic then): shedding it into a failing endpoint would turn slow
    // requests into failed ones.
    const slow = endpoints.filter((e) => (e.state.status === 'degraded' || e.state.status === 'drained') && !e.failing && !e.maintenance);
    remaining = giveBack(
      slow,
      remaining,
      weights,
      (names) => `shedding less from ${names}: the other endpoints have no warm headroom for it`,
      blocked,
      (e) => e.config.baselineWeight * Math.max(1, e.state.shedFrom ?? 1),
    );
    // A failing endpoint keeps what it has, never more: traffic moved into it would fail outright.
    const failing = endpoints.filter((e) => e.failing && !e.maintenance);
    remaining = giveBack(
      failing,
      remaining,
      weights,
      (names) => `keeping some traffic on failing ${names}: the other endpoints have no warm headroom for it`,
      blocked,
      (e) => Math.min(e.config.baselineWeight, e.current),
    );
    if (remaining > 1e-9) {
      // What is left runs the receivers past their target utilisation (into their burst room):
      // placed on them explicitly, or normalising the weights would spread it onto failing ones.
      const receivers = endpoints.filter((e) => e.receiver && weights[e.config.setIdentifier]! > 0);
      const held = receivers.reduce((sum, e) => sum + weights[e.config.setIdentifier]!, 0);
      for (const e of receivers) weights[e.config.setIdentifier] = weights[e.config.setIdentifier]! + (remaining * weights[e.config.setIdentifier]!) / held;
      blocked.push({
        code: 'CAPACITY_LIMITED',
        message:
          receivers.length > 0
            ? `${receivers.map((e) => e.config.setIdentifier).join(', ')} will run past their capacity limits (target utilisation, maxShare): no endpoint has headroom for ${Math.round((remaining / total) * 100)}% of the traffic`
            : `no endpoint can take the ${Math.round((remaining / total) * 100)}% of the traffic being shed`,
      });
    }
  }

  keepMinimumServing(endpoints, weights, total, policy, blocked);
  return { weights, blocked };
}

/**
 * Returns up to `amount` of weight to endpoints below their `ceiling` (by default their baseline),
 * in proportion to the room each has.
 */
function giveBack(
  candidates: readonly PlanEndpoint[],
  amount: number,
  weights: Weights,
  say: (names: string) => string,
  blocked: Reason[],
  ceiling: (e: PlanEndpoint) => number = (e) => e.config.baselineWeight,
): number {
  const roomOf = (e: PlanEndpoint) => Math.max(0, ceiling(e) - weights[e.config.setIdentifier]!);
  const rooms = candidates.map(roomOf);
  const room = rooms.reduce((sum, r) => sum + r, 0);
  if (amount <= 1e-9 || room <= 1e-9) return amount;
  const given = Math.min(room, amount);
  candidates.forEach((e, i) => {
    weights[e.config.setIdentifier] = weights[e.config.setIdentifier]! + (given * rooms[i]!) / room;
  });
  blocked.push({
    code: 'CAPACITY_LIMITED',
    message: say(
      candidates
        .filter((_, i) => rooms[i]! > 1e-9)
        .map((e) => e.config.setIdentifier)
        .join(', '),
    ),
  });
  return amount - given;
}

function fill(tier: readonly PlanEndpoint[], amount: number, total: number, demandRps: number | null, weights: Weights): number {
  let remaining = amount;
  let open = tier.filter((e) => headroom(e, total, demandRps, weights) > 1e-9);
  // Proportional to baseline within a tier; a tier of zero-baseline standbys shares by capacity.
  const useBaseline = tier.some((e) => e.config.baselineWeight > 0);
  const weightOf = (e: PlanEndpoint) => (useBaseline ? e.config.baselineWeight : capacityShare(e.config, demandRps));
  // Each round either places everything left or fills at least one endpoint to its headroom.
  for (let round = 0; round <= tier.length && remaining > 1e-9 && open.length > 0; round++) {
    const sum = open.reduce((s, e) => s + weightOf(e), 0);
    const pool = remaining;
    for (const e of open) {
      const id = e.config.setIdentifier;
      const add = Math.min((pool * weightOf(e)) / sum, headroom(e, total, demandRps, weights));
      weights[id] = weights[id]! + add;
      remaining -= add;
    }
    open = open.filter((e) => headroom(e, total, demandRps, weights) > 1e-9);
  }
  return remaining;
}

/**
 * Room left on a receiver: up to its capacity share, or up to what it carries now when that is
 * more — a healthy endpoint is serving that load, and its signals, not the capacity model, say
 * when it is too much (it degrades and sheds). A noisy demand estimate must not pull traffic off a
 * region that copes with it.
 */
function headroom(e: PlanEndpoint, total: number, demandRps: number | null, weights: Weights): number {
  const cap = Math.max(capacityShare(e.config, demandRps) * total, Math.min(e.current, e.config.capacity.maxShare * total));
  return cap - weights[e.config.setIdentifier]!;
}

/** Keeps `minHealthyEndpoints` serving, and never lets every weight reach zero. */
function keepMinimumServing(endpoints: readonly PlanEndpoint[], weights: Weights, total: number, policy: Policy, blocked: Reason[]): void {
  const serving = endpoints.filter((e) => weights[e.config.setIdentifier]! > 1e-9).length;
  const needed = Math.max(1, policy.safety.minHealthyEndpoints) - serving;
  if (needed <= 0) return;
  // The least bad first: slow before failing, operator-drained last, larger baselines first.
  const rank = (e: PlanEndpoint) => (e.maintenance ? 3 : e.state.status === 'drained' ? 2 : 1);
  const candidates = endpoints
    .filter((e) => weights[e.config.setIdentifier]! <= 1e-9)
    .slice()
    .sort((a, b) => rank(a) - rank(b) || b.config.baselineWeight - a.config.baselineWeight);
  const firstStep = policy.recovery.steps[0]!;
  for (const e of candidates.slice(0, needed)) {
    const id = e.config.setIdentifier;
    weights[id] = Math.max(e.config.baselineWeight * firstStep, total * 0.01, 1e-6);
    blocked.push({
      code: 'MIN_HEALTHY_ENDPOINTS',
      endpoint: id,
      message: `${id} kept serving at ${Math.round(firstStep * 100)}% of baseline: at least ${policy.safety.minHealthyEndpoints} endpoint(s) must keep traffic`,
    });
  }
}
