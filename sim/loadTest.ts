/**
 * A simulated load test of one serving unit, the way operators measure real ones (`vllm bench
 * serve`, GuideLLM, LLMPerf): either C clients in a closed loop (each sends its next request when
 * the last one finishes, after its client-side overhead), or an open loop of Poisson arrivals at a
 * fixed rate. It reports what those tools report: TTFT percentiles, time per output token,
 * requests per second, GPU utilisation, KV-cache usage.
 *
 * The calibration fits a unit's model by running this against the table's load points, and
 * `steer53 world sweep` prints it. Deterministic: the same model, load and seed give the same numbers.
 */
import { Rng, hashString, streamSeed } from './random.js';
import { ServingUnit, type ServerParams, type UnitSink } from './servingUnit.js';

/** The request mix of a load test: token lengths, normal around their means, cut below at a tenth. */
export interface Workload {
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** Standard deviations. @default half the mean (the LLMPerf / OCI random-length scenario) */
  readonly promptTokensSd?: number;
  readonly outputTokensSd?: number;
  /** Requests to draw lengths from instead (a trace's mix), paired by index. */
  readonly samples?: { readonly prompts: ArrayLike<number>; readonly outputs: ArrayLike<number> };
}

export type Load = { readonly concurrency: number; readonly clientOverheadSeconds?: number } | { readonly rps: number };

export interface LoadResult {
  readonly ttftP50Ms: number;
  readonly ttftP95Ms: number;
  readonly ttftP99Ms: number;
  readonly ttftMeanMs: number;
  /** Mean time per output token after the first (decode). */
  readonly tpotMs: number;
  readonly reqPerS: number;
  readonly outTokS: number;
  /** Percent. */
  readonly gpuUtil: number;
  /** Percent of the KV cache in use, time-averaged. */
  readonly kvCache: number;
  /** Requests that timed out. */
  readonly failed: number;
}

/** A unit model with the jitter of its prefill durations (lognormal sigma): the unit's whole description. */
export interface UnitModel {
  readonly params: ServerParams;
  readonly prefillJitterSigma: number;
}

export interface LoadTestOptions {
  /** Seconds measured after the warm-up. @default 240 */
  readonly seconds?: number;
  readonly warmupSeconds?: number;
  readonly seed?: number;
  /** Client timeout. @default 600 (load testers wait) */
  readonly timeoutSeconds?: number;
}

const STEP = 0.02;
const KEY = hashString('load-test');

class Collector implements UnitSink {
  readonly ttfts: number[] = [];
  completed = 0;
  failedCount = 0;
  /** Times at which closed-loop clients send their next request. */
  readonly due: number[] = [];
  measuring = false;

  constructor(
    private readonly think: (() => number) | undefined,
    private readonly warmup: number,
  ) {}

  firstToken(t: number, ttft: number): void {
    if (t >= this.warmup) this.ttfts.push(ttft);
  }

  failed(t: number): void {
    if (t >= this.warmup) this.failedCount++;
    if (this.think) this.due.push(t + this.think());
  }

  finished(t: number, count: number): void {
    if (t >= this.warmup) this.completed += count;
    if (this.think) for (let k = 0; k < count; k++) this.due.push(t + this.think());
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs one load point against a fresh unit. */
export function runLoadPoint(model: UnitModel, workload: Workload, load: Load, options: LoadTestOptions = {}): LoadResult {
  const seconds = options.seconds ?? 240;
  const warmup = options.warmupSeconds ?? 40;
  const end = warmup + seconds;
  const rng = new Rng(streamSeed(options.seed ?? 1, KEY, 'concurrency' in load ? load.concurrency : Math.round(load.rps * 1000)));
  const overhead = 'concurrency' in load ? (load.clientOverheadSeconds ?? 0) : 0;
  const think = 'concurrency' in load ? () => overhead * (0.5 + rng.next()) : undefined;
  const sink = new Collector(think, warmup);
  const unit = new ServingUnit(model.params, sink, options.timeoutSeconds ?? 600);
  const promptSd = workload.promptTokensSd ?? workload.promptTokens / 2;
  const outputSd = workload.outputTokensSd ?? workload.outputTokens / 2;
  const sigma = model.prefillJitterSigma;
  const samples = workload.samples;
  const send = (t: number) => {
    if (samples) {
      const k = rng.int(samples.prompts.length);
      unit.arrive(t, samples.prompts[k]!, samples.outputs[k]!, Math.exp(sigma * rng.normal() - (sigma * sigma) / 2));
      return;
    }
    const prompt = Math.max(workload.promptTokens / 10, workload.promptTokens + promptSd * rng.normal());
    const output = Math.max(workload.outputTokens / 10, workload.outputTokens + outputSd * rng.normal());
    unit.arrive(t, prompt, Math.round(output), Math.exp(sigma * rng.normal() - (sigma * sigma) / 2));
  };

  let busy = 0;
  let kvSum = 0;
  let kvSamples = 0;
  let decode = { seqSeconds: 0, tokens: 0 };
  let nextArrival = 'rps' in load ? rng.exponential(1 / load.rps) : Number.POSITIVE_INFINITY;
  if ('concurrency' in load) for (let c = 0; c < load.concurrency; c++) sink.due.push(rng.next() * 0.5);
  for (let t = 0; t < end; t += STEP) {
    const until = t + STEP;
    if (sink.due.length > 0) {
      // Clients due in this slice send now, in time order (never earlier than the slice starts).
      sink.due.sort((a, b) => a - b);
      let k = 0;
      while (k < sink.due.length && sink.due[k]! < until) send(Math.max(t, sink.due[k++]!));
      sink.due.splice(0, k);
    }
    while (nextArrival < until) {
      send(nextArrival);
      nextArrival += rng.exponential(1 / (load as { rps: number }).rps);
    }
    unit.runUntil(until);
    if (until > warmup) {
      kvSum += unit.kvUsage;
      kvSamples++;
    } else {
      unit.takeBusySeconds();
      unit.takeDecodeStats();
    }
  }
  busy = unit.takeBusySeconds();
  decode = unit.takeDecodeStats();
  const sorted = sink.ttfts.sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  const reqPerS = sink.completed / seconds;
  return {
    ttftP50Ms: quantile(sorted, 0.5) * 1000,
    ttftP95Ms: quantile(sorted, 0.95) * 1000,
    ttftP99Ms: quantile(sorted, 0.99) * 1000,
    ttftMeanMs: mean * 1000,
    tpotMs: decode.tokens > 0 ? (decode.seqSeconds / decode.tokens) * 1000 : Number.NaN,
    reqPerS,
    outTokS: decode.tokens / seconds,
    gpuUtil: Math.min(100, (100 * busy * model.params.gpuBusyShare) / seconds),
    kvCache: kvSamples > 0 ? (100 * kvSum) / kvSamples : 0,
    failed: sink.failedCount,
  };
}
