/**
 * The oracle's capacity, where regions can scale: it knows the truth, so it asks for capacity the
 * moment it is needed, and meets the same provisioning delays and obtainable limits as anyone
 * (it asks the region's fleet, sim/fleet.ts).
 *
 * - **Out**: every time it plans (a condition changes, or a minute passed), each region that can
 *   scale and is up is sized for its part of the demand: the true arrival rate of the last 15
 *   minutes, split between the healthy regions in proportion to their baseline weights (every
 *   region that is up when none is healthy), at TARGET_UTILIZATION of what one replica serves
 *   within the SLO in the region's condition. A region holding fewer is asked for that many
 *   (never above its maximum); capacity is never given back while harm lasts.
 * - **Back**: once every region has been healthy for GIVE_BACK_AFTER_SECONDS (long enough for
 *   clients' caches to follow the weights back), each region is asked for its configured replicas.
 *   Without an incident the oracle does not scale: the trace's swings are the configured
 *   replicas' business, as they are every other controller's (no controller autoscales).
 *
 * A heuristic like the rest of the oracle: the split is the natural one, not searched.
 */
import type { RegionCondition } from '../latencyModel.js';
import type { CapacityAskRecord, ControllerContext } from '../world.js';

/** Share of a replica's within-SLO rate the oracle fills, as steer53's capacity.targetUtilization defaults to. */
export const TARGET_UTILIZATION = 0.85;
/** How long every region must have been healthy before the oracle gives capacity back. */
export const GIVE_BACK_AFTER_SECONDS = 600;
const DEMAND_WINDOW_SECONDS = 900;

export interface OracleScaler {
  readonly asks: CapacityAskRecord[];
  /** Asks the regions for what the truth at time t needs. */
  plan(t: number, conditions: readonly RegionCondition[]): void;
}

function healthy(c: RegionCondition): boolean {
  return !c.down && c.errorRate === 0 && c.latencyFactor === 1 && c.capacityFactor === 1 && c.addedLatencyMs === 0;
}

/** The oracle's scaler, or null when no region of the scenario can scale. */
export function oracleScaler(context: ControllerContext): OracleScaler | null {
  const { scenario, fleets } = context;
  if (!scenario.regions.some((region) => region.scaling !== null)) return null;
  const dt = scenario.spec.stepSeconds;
  const asks: CapacityAskRecord[] = [];
  let calmSince: number | null = 0;

  /** True requests per second over the window before t (the very first steps at the start). */
  function recentRate(t: number): number {
    const to = Math.max(1, Math.min(scenario.steps, Math.floor(t / dt)));
    const from = Math.max(0, to - Math.round(DEMAND_WINDOW_SECONDS / dt));
    let sum = 0;
    for (let s = from; s < to; s++) sum += scenario.demand.arrivals[s]!;
    return sum / ((to - from) * dt);
  }

  /** Replicas each region needs for its part of the demand now (0 where it is down). */
  function needed(t: number, conditions: readonly RegionCondition[]): number[] {
    const up = conditions.map((c) => !c.down);
    const takers = conditions.some(healthy) ? conditions.map(healthy) : up;
    const weight = scenario.baselineWeights.reduce((sum, w, r) => sum + (takers[r] ? w : 0), 0);
    const demand = recentRate(t);
    return scenario.regions.map((region, r) => {
      const c = conditions[r]!;
      if (!takers[r] || weight <= 0) return 0;
      const perReplica = (region.unitCapacityRps * c.capacityFactor * (1 - c.errorRate)) / c.latencyFactor;
      return Math.ceil(((scenario.baselineWeights[r]! / weight) * demand) / (perReplica * TARGET_UTILIZATION));
    });
  }

  function ask(t: number, r: number, desired: number, reason: string): void {
    const fleet = fleets[r]!;
    if (desired === fleet.desired) return;
    const direction = desired > fleet.desired ? 'out' : 'in';
    fleet.request(t, desired);
    asks.push({ t, endpoint: scenario.endpoints[r]!, desired, direction, reason });
  }

  return {
    asks,
    plan(t, conditions) {
      const calm = conditions.every(healthy);
      if (!calm) calmSince = null;
      else calmSince ??= t;
      // Without an incident the regions hold what they were given: the oracle scales for incidents, not for the trace's swings.
      const need = calm ? null : needed(t, conditions);
      scenario.regions.forEach((region, r) => {
        const scaling = region.scaling;
        if (scaling === null || conditions[r]!.down) return;
        const fleet = fleets[r]!;
        if (need !== null) {
          const wanted = Math.min(scaling.maxReplicas, Math.max(region.replicas, need[r]!));
          if (wanted > fleet.desired) ask(t, r, wanted, `sized for its part of the demand now: ${need[r]} replicas`);
        } else if (calmSince !== null && t - calmSince >= GIVE_BACK_AFTER_SECONDS && fleet.desired > region.replicas) {
          ask(t, r, region.replicas, `every region healthy for ${GIVE_BACK_AFTER_SECONDS / 60} minutes: capacity given back`);
        }
      });
    },
  };
}
