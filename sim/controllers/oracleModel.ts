/**
 * The oracle's model of a region: the share of requests that would fail or miss the SLO at a
 * given arrival rate, from the serving unit's model in closed form (steady state). The world
 * itself is simulated request by request; this is only the oracle's forecast, a strong heuristic
 * rather than a bound: at each replica, prefills wait in a FIFO (the heavy-traffic M/G/1 tail),
 * a prompt's own prefill slows with the decode batch the rate keeps running, and a replica past
 * its sustainable rate fails or delays everything beyond it.
 */
import type { Workload, UnitModel } from '../loadTest.js';
import type { RegionCondition } from '../latencyModel.js';
import { inverseNormalCdf, normalCdf } from '../random.js';

const QUADRATURE = 8;
const Z_POINTS = Array.from({ length: QUADRATURE }, (_, i) => inverseNormalCdf((i + 0.5) / QUADRATURE));

export interface OracleRegion {
  readonly unit: UnitModel;
  readonly replicas: number;
  /** Requests per second one replica sustains at all (for the mix). */
  readonly unitSaturationRps: number;
  readonly networkMs: number;
  readonly sloMs: number;
  readonly workload: Workload;
  /** Prompt lengths standing for the mix. */
  readonly prompts: readonly number[];
}

/** The share of requests arriving at `rate` (requests/s, the whole region) that fail or miss the SLO. */
export function missFraction(region: OracleRegion, condition: RegionCondition, rate: number): number {
  if (condition.down) return 1;
  if (rate <= 0) return 0;
  const active = Math.max(1, Math.min(region.replicas, Math.round(region.replicas * condition.capacityFactor)));
  const p = region.unit.params;
  const slow = condition.latencyFactor;
  const capacity = region.unitSaturationRps / slow;
  const perReplica = rate / active;
  const rho = perReplica / capacity;
  // Past the sustainable rate everything beyond it waits until it times out.
  const served = rho >= 0.97 ? 0.97 / rho : 1;
  const rhoEff = Math.min(rho, 0.97);
  // The decode batch the rate keeps running (Little's law), and the prefill of a reference prompt at it.
  let batch = 0;
  for (let k = 0; k < 50; k++)
    batch = (rhoEff * capacity * region.workload.outputTokens * p.decodeBaseMs * slow * (1 + (batch / p.decodeDoublingBatch) ** p.decodeExponent)) / 1000;
  const prefillRefMs = (p.prefillIdleMs + ((p.prefillBusyMs - p.prefillIdleMs) * batch) / (batch + p.prefillHalfBatch)) * slow;
  const meanServiceMs = (prefillRefMs * region.workload.promptTokens) / p.referencePromptTokens;
  const sigma = region.unit.prefillJitterSigma;
  const promptCv2 = variance(region.prompts) / Math.max(1, mean(region.prompts) ** 2);
  const cs2 = (1 + promptCv2) * Math.exp(sigma * sigma) - 1;
  const decay = (2 * (1 - rhoEff)) / (meanServiceMs * (1 + cs2));
  const budget = region.sloMs - region.networkMs - condition.addedLatencyMs;
  let late = 0;
  for (const prompt of region.prompts) {
    const ownMs = (prefillRefMs * prompt) / p.referencePromptTokens;
    for (const z of Z_POINTS) {
      const own = ownMs * Math.exp(sigma * z - (sigma * sigma) / 2);
      // P(wait > budget − own), the wait's heavy-traffic tail.
      late += own >= budget ? 1 : rhoEff * Math.exp(-decay * (budget - own));
    }
  }
  const lateShare = late / (region.prompts.length * QUADRATURE);
  const ok = (1 - condition.errorRate) * served * (1 - lateShare);
  return Math.min(1, Math.max(0, 1 - ok));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function variance(values: readonly number[]): number {
  const m = mean(values);
  return values.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, values.length);
}

export { normalCdf };
