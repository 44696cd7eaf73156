/**
 * What a decision learns of each endpoint's latency against its load (loadModel.ts), for the
 * load-matched judgement of later canaries: one more period, while the endpoint runs its settled
 * version normally.
 */
import type { ServiceConfig } from './config.js';
import { canaryBasis, onBasis } from './canaryLatency.js';
import { addPoint } from './loadModel.js';
import type { Evaluation } from './phase.js';
import { latencySignalOf } from './rollout.js';
import type { DecideInput, EndpointState, EndpointVerdict, LoadProfile, RolloutEvent, RolloutState } from './types.js';

const HOUR_MS = 3_600_000;
/** Half-life of a point in an endpoint's learned latency against load: a day, so a daily cycle of load is in it. */
const LOAD_PROFILE_HALF_LIFE_MS = 24 * HOUR_MS;

/** Each endpoint's requests per second over its warm capacity this period; null when either is unknown. */
export function utilisationOf(service: ServiceConfig, input: DecideInput, warmNow: Readonly<Record<string, number>> = {}): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const e of service.endpoints) {
    const rate = input.observations.endpoints[e.setIdentifier]?.requestRate;
    const warm = warmNow[e.setIdentifier] ?? e.capacity.warmRps;
    out[e.setIdentifier] = warm !== undefined && rate !== undefined && rate !== null && Number.isFinite(rate) && rate >= 0 ? rate / warm : null;
  }
  return out;
}

export interface LoadLearning {
  readonly verdicts: Readonly<Record<string, EndpointVerdict>>;
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  readonly rollouts: Readonly<Record<string, RolloutState>>;
  /** Every rollout event of the decision: a promoted version starts its line afresh. */
  readonly rolloutEvents: readonly RolloutEvent[];
  /** Under fail static the observations are suspect: nothing is learned from them. */
  readonly failStatic: boolean;
}

/**
 * One more period of each endpoint's latency against load: only while it runs its settled version
 * normally — healthy, no rollout, below the knee of its capacity, with enough samples, on a period
 * not seen before. A canary's line stays as it was before its deploy; a promoted version starts afresh.
 */
export function learnLoadProfiles(ev: Evaluation, now: LoadLearning): Record<string, LoadProfile> {
  const { service, previous, observations } = ev;
  const policy = service.policy.rollout;
  if (policy.mode === 'none') return {};
  const learn = !now.failStatic && (previous.lastPeriodStart === null || observations.periodStart > previous.lastPeriodStart);
  const profiles: Record<string, LoadProfile> = {};
  for (const e of service.endpoints) {
    const id = e.setIdentifier;
    if (now.rolloutEvents.some((event) => event.endpoint === id && event.type === 'Rollout Succeeded')) continue;
    // A line learned on another signal or statistic starts afresh (canaryLatency.ts).
    const basis = canaryBasis(e, policy);
    const kept = previous.loadProfiles[id];
    const prior = kept !== undefined && onBasis(kept, e, policy) ? kept : undefined;
    const u = ev.utilisation[id];
    const latency = latencySignalOf(now.verdicts[id], policy);
    const usable =
      learn &&
      now.rollouts[id] === undefined &&
      now.endpoints[id]!.status === 'healthy' &&
      u !== null &&
      u !== undefined &&
      u <= e.capacity.targetUtilization &&
      latency !== undefined &&
      latency.value !== null &&
      (latency.sampleCount === null || latency.sampleCount >= policy.canary.minSamples);
    const next = usable ? { ...addPoint(prior, u, latency.value!, observations.periodStart, LOAD_PROFILE_HALF_LIFE_MS), ...(basis ? { basis } : {}) } : prior;
    if (next) profiles[id] = next;
  }
  return profiles;
}
