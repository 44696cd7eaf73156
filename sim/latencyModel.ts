/**
 * How a region turns load into latency: a queue with a knee. Below saturation a request waits
 * little (Erlang C: with hundreds of slots a queue hardly forms until the slots are nearly all
 * busy); near saturation the wait climbs steeply; past it a backlog builds minute by minute until
 * clients time out. On top of the wait, each request pays its own prefill time (from its prompt
 * tokens), slowed by how full the batch is, with lognormal noise, plus the network round trip.
 *
 * Calibration (public figures, ../shared/data/README.md):
 * - Llama 3.3 70B on one serving unit (OCI): time to first token 0.05 s at 1 concurrent request,
 *   0.09 s at 16 (batching slows prefill ~1.8×), then 0.40 / 1.29 / 4.09 s at 64 / 128 / 256:
 *   flat, then steep. Request latency 5.19 s at 1 concurrent request.
 *   → prefill 20 ms + 30 ms per 1,000 prompt tokens (≈ 0.05 s for the ~1k-token median prompt);
 *     decode 25 ms per output token (≈ 5.3 s for the conversation trace's mean request);
 *     batch slowdown up to 1.8× when the slots are full; the queue supplies the knee.
 * - MLPerf server scenario: p99 time to first token 2,000 ms for 70B models, the default SLO.
 */
import { normalCdf, inverseNormalCdf } from './random.js';

export const CALIBRATION = {
  prefillBaseMs: 20,
  prefillMsPerKiloToken: 30,
  decodeMsPerToken: 25,
  /** Prefill in a full batch takes (1 + this) × as long as alone (OCI: 0.05 s → 0.09 s). */
  batchSlowdown: 0.8,
} as const;

/** Seconds a request occupies a slot: prefill plus decode. */
export function serviceSeconds(promptTokens: number, outputTokens: number): number {
  return (CALIBRATION.prefillBaseMs + (CALIBRATION.prefillMsPerKiloToken * promptTokens) / 1000 + CALIBRATION.decodeMsPerToken * outputTokens) / 1000;
}

/**
 * The reference request that `warmRps` is counted in: the mean of the Azure conversation trace
 * (1,155 prompt tokens, 211 output tokens) → about 5.3 s of slot time.
 */
export const REFERENCE_SERVICE_SECONDS = serviceSeconds(1154.7, 211.126);

/** Time to first token of one request with no queue and an idle batch, before noise. */
export function prefillMs(promptTokens: number): number {
  return CALIBRATION.prefillBaseMs + (CALIBRATION.prefillMsPerKiloToken * promptTokens) / 1000;
}

/**
 * Erlang C: the chance that an arriving request finds every one of `servers` slots busy at
 * utilisation `rho` (M/M/c). Computed through the Erlang B recurrence, which is stable for
 * hundreds of servers.
 */
export function erlangC(servers: number, rho: number): number {
  if (rho <= 0) return 0;
  if (rho >= 1) return 1;
  const a = servers * rho;
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (a * b) / (k + a * b);
  return b / (1 - rho * (1 - b));
}

const TABLE_POINTS = 1000;
export const MAX_QUEUE_RHO = 0.999;

/** Erlang C at TABLE_POINTS utilisations, interpolated: the per-step cost must stay tiny. */
export class WaitModel {
  private readonly table = new Float64Array(TABLE_POINTS + 1);

  constructor(readonly slots: number) {
    for (let i = 0; i <= TABLE_POINTS; i++) this.table[i] = erlangC(slots, (i / TABLE_POINTS) * MAX_QUEUE_RHO);
  }

  /** Chance of waiting for a slot at utilisation rho. */
  probabilityOfWait(rho: number): number {
    if (rho <= 0) return 0;
    const x = (Math.min(rho, MAX_QUEUE_RHO) / MAX_QUEUE_RHO) * TABLE_POINTS;
    const i = Math.min(TABLE_POINTS - 1, Math.floor(x));
    const f = x - i;
    return this.table[i]! * (1 - f) + this.table[i + 1]! * f;
  }

  /** Mean wait of those who wait (seconds): 1 / (c·μ − λ) for M/M/c. */
  meanWaitSeconds(rho: number, serviceSecondsPerSlot: number): number {
    return serviceSecondsPerSlot / (this.slots * (1 - Math.min(rho, MAX_QUEUE_RHO)));
  }
}

/** The conditions of one region at one moment, after incidents. */
export interface RegionCondition {
  /** Hard down: every request fails, health checks fail. */
  down: boolean;
  /** Share of requests that fail outright (5xx). */
  errorRate: number;
  /** Multiplier on the service part of latency (gray failure). */
  latencyFactor: number;
  /** Multiplier on warm capacity. */
  capacityFactor: number;
  addedLatencyMs: number;
  /** CloudWatch is not reporting this region. */
  metricsMissing: boolean;
}

export const HEALTHY: RegionCondition = { down: false, errorRate: 0, latencyFactor: 1, capacityFactor: 1, addedLatencyMs: 0, metricsMissing: false };

const QUADRATURE = 12;
const Z_POINTS = Array.from({ length: QUADRATURE }, (_, i) => inverseNormalCdf((i + 0.5) / QUADRATURE));

/**
 * The expected share of one step's requests that miss the SLO (or fail) in a region, by the same
 * formulas the world samples from: prefill slowed by the batch and the condition, lognormal
 * noise, the network, the backlog's wait, and Erlang C queueing for a slot. The oracle's model of
 * the world. `promptQuantiles` stand for the demand's prompt-length mix.
 */
export function stepMissFraction(
  params: { wait: WaitModel; networkMs: number; sigma: number; sloMs: number; latencyFactor: number },
  condition: RegionCondition,
  step: { rho: number; busy: number; backlogWaitMs: number },
  promptQuantiles: readonly number[],
): number {
  if (condition.down) return 1;
  const pWait = params.wait.probabilityOfWait(step.rho);
  const meanWaitMs = params.wait.meanWaitSeconds(step.rho, REFERENCE_SERVICE_SECONDS) * 1000;
  const slowdown = (1 + CALIBRATION.batchSlowdown * Math.min(1, step.busy)) * condition.latencyFactor * params.latencyFactor;
  const budget = params.sloMs - params.networkMs - condition.addedLatencyMs - step.backlogWaitMs;
  if (budget <= 0) return 1;
  const sigma = Math.max(params.sigma, 1e-6);
  let miss = 0;
  for (const prompt of promptQuantiles) {
    const base = prefillMs(prompt) * slowdown;
    const noWait = 1 - normalCdf(Math.log(budget / base) / sigma);
    let waited = 0;
    if (pWait > 1e-6) {
      for (const z of Z_POINTS) {
        const x = base * Math.exp(sigma * z);
        waited += x >= budget ? 1 : Math.exp(-(budget - x) / meanWaitMs);
      }
    }
    miss += (1 - pWait) * noWait + pWait * (waited / QUADRATURE);
  }
  const latencyMiss = miss / promptQuantiles.length;
  return condition.errorRate + (1 - condition.errorRate) * latencyMiss;
}
