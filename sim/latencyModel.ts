/**
 * What a region is made of: replicas of one serving unit (servingUnit.ts), each a
 * continuous-batching server whose model is calibrated from a load test (calibration.ts). This
 * file holds the default unit — fitted to Oracle's published load test of Llama 3.3 70B, the
 * table in `scenarios/calibration/oci-llama-3.3-70b.csv` — the conditions incidents put a region
 * in, and how many requests per second a unit sustains for a given request mix.
 *
 * The default fit (`npx steer53 world sweep --calibration scenarios/calibration/oci-llama-3.3-70b.csv
 * --concurrency 1,2,4,8,16,32,64,128,256`) reproduces every row's TTFT within 10%, its TPOT within
 * 10% and its throughput within 11%; fitted from the rows at 1, 64 and 256 only, it predicts the
 * held-back rows at 16 and 128 within 25% (a suite test holds it to that).
 */
import { runLoadPoint, type UnitModel, type Workload } from './loadTest.js';

/**
 * The default serving unit: Llama 3.3 70B on one OCI "Large Generic" unit (see the file comment),
 * as `fitCalibration` returns it for the whole table. Kept at full precision: near saturation a
 * closed-loop TTFT is the small difference of large numbers, and rounding moves the heaviest row.
 */
export const DEFAULT_UNIT: UnitModel = {
  params: {
    prefillIdleMs: 51.314504284279174,
    prefillBusyMs: 132.05580788159168,
    prefillHalfBatch: 21.397968416861303,
    referencePromptTokens: 480,
    decodeBaseMs: 17.444019080775128,
    decodeDoublingBatch: 81.7969345609235,
    decodeExponent: 1.475450361554314,
    prefillDecodeShare: 0,
    maxNumSeqs: 256,
    // max_num_seqs sequences of the load test's mean length (480 + 300 tokens): the table shows no cache size.
    kvCacheTokens: 199_680,
    // A large model under tensor parallelism reports well under 100% while it works (collectives,
    // CPU scheduling between iterations); published runs show ~70–75% even in overload.
    gpuBusyShare: 0.72,
  },
  prefillJitterSigma: 0.5502436222829149,
};

/** The Azure conversation trace's mean request (1,155 prompt tokens, 211 output tokens). */
export const REFERENCE_WORKLOAD: Workload = { promptTokens: 1154.7, outputTokens: 211.1 };

/**
 * Seconds of one request's decode and prefill on the default unit, alone: what the demand's
 * "work" counts (a long prompt with a long answer loads a region more than a short one).
 */
export function serviceSeconds(promptTokens: number, outputTokens: number): number {
  const p = DEFAULT_UNIT.params;
  return (p.prefillIdleMs * (promptTokens / p.referencePromptTokens) + p.decodeBaseMs * outputTokens) / 1000;
}

/** The reference request that work is counted in. */
export const REFERENCE_SERVICE_SECONDS = serviceSeconds(REFERENCE_WORKLOAD.promptTokens, REFERENCE_WORKLOAD.outputTokens);

/**
 * The most requests per second one unit sustains for a mix: where its prefill path would be busy
 * all the time at the batch that rate keeps decoding (Little's law: batch = rate × decode time),
 * or where the batch would outgrow `max_num_seqs` or the KV cache, whichever comes first.
 */
export function unitCapacityRps(model: UnitModel, workload: Workload): number {
  const p = model.params;
  const prefillMs = (batch: number) =>
    (p.prefillIdleMs + ((p.prefillBusyMs - p.prefillIdleMs) * batch) / (batch + p.prefillHalfBatch)) * (workload.promptTokens / p.referencePromptTokens);
  const iterationMs = (batch: number) => p.decodeBaseMs * (1 + (batch / p.decodeDoublingBatch) ** p.decodeExponent);
  const maxBatch = Math.min(p.maxNumSeqs, p.kvCacheTokens / (workload.promptTokens + workload.outputTokens / 2));
  /** The decode batch a rate keeps running, or Infinity when it grows without bound. */
  const batchAt = (rate: number) => {
    let batch = 0;
    for (let k = 0; k < 200; k++) {
      const next = (rate * workload.outputTokens * iterationMs(batch)) / 1000;
      if (next > maxBatch) return Number.POSITIVE_INFINITY;
      if (Math.abs(next - batch) < 1e-6) return next;
      batch = next;
    }
    return batch;
  };
  const sustainable = (rate: number) => {
    const batch = batchAt(rate);
    return Number.isFinite(batch) && (rate * prefillMs(batch)) / 1000 < 1;
  };
  let lo = 0;
  let hi = 1;
  while (sustainable(hi) && hi < 1e6) hi *= 2;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (sustainable(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The most requests per second one unit serves within the latency SLO: the arrival rate (Poisson)
 * at which its p99 time to first token, network included, reaches `sloMs` — what "warm capacity"
 * means for an SLO-bound service. Found by bisection on simulated load tests; deterministic.
 */
export function unitGoodputRps(model: UnitModel, workload: Workload, sloMs: number, networkMs: number): number {
  const saturation = unitCapacityRps(model, workload);
  const within = (rate: number) => runLoadPoint(model, workload, { rps: rate }, { seconds: 900, seed: 7 }).ttftP99Ms + networkMs <= sloMs;
  let lo = 0;
  let hi = saturation;
  if (within(hi)) return hi;
  for (let k = 0; k < 12; k++) {
    const mid = (lo + hi) / 2;
    if (within(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The conditions of one region at one moment, after incidents. */
export interface RegionCondition {
  /** Hard down: every request fails, health checks fail. */
  down: boolean;
  /** Share of requests that fail outright (5xx). */
  errorRate: number;
  /** Multiplier on every prefill and decode time (gray failure, a slower version). */
  latencyFactor: number;
  /** Share of the region's replicas serving (instances lost, GPUs out). */
  capacityFactor: number;
  addedLatencyMs: number;
  /** CloudWatch is not reporting this region. */
  metricsMissing: boolean;
}

export const HEALTHY: RegionCondition = { down: false, errorRate: 0, latencyFactor: 1, capacityFactor: 1, addedLatencyMs: 0, metricsMissing: false };
