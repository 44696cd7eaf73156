/**
 * Demand: how many requests arrive in each step of the scenario and how much work they carry.
 * A trace source replays real arrivals; to reach a larger mean rate it superposes time-shifted
 * copies of the trace (many independent tenants, each as bursty as the original), so bursts
 * smooth out the way they do when independent users add up. A curve source draws Poisson
 * arrivals around a synthetic rate. Shapes (launch spikes, surges) multiply either.
 *
 * Work is counted in reference requests (see latencyModel.ts): a long prompt with a long answer
 * loads a region more than a short one, so bursts of heavy requests hurt more than their count.
 */
import { REFERENCE_SERVICE_SECONDS, serviceSeconds } from './latencyModel.js';
import { Rng, hashString, streamSeed } from './random.js';
import type { DemandShape, DemandSource } from './scenarioSchema.js';
import type { Trace } from './trace.js';

/** Prompt lengths kept per step for sampling request latencies (a power of two: masked, not divided). */
export const PROMPT_SAMPLES_PER_STEP = 64;

export interface Demand {
  readonly stepSeconds: number;
  readonly steps: number;
  /** Expected requests arriving in each step. */
  readonly arrivals: Float64Array;
  /** Work arriving in each step, in reference requests. */
  readonly work: Float64Array;
  /** PROMPT_SAMPLES_PER_STEP prompt lengths per step, drawn from that step's arrivals. */
  readonly prompts: Float32Array;
  /** The output lengths of the same requests (paired with `prompts`). */
  readonly outputs: Float32Array;
  /** Prompt-length quantiles of the whole demand (the oracle's model of the mix). */
  readonly promptQuantiles: readonly number[];
  /** Per-source arrivals, for the report. */
  readonly sources: readonly { name: string; arrivals: Float64Array }[];
}

/** The multiplier a shape puts on its source at time t (seconds from the scenario start). */
export function shapeFactor(shape: DemandShape, t: number): number {
  const rampEnd = shape.start + shape.ramp;
  const holdEnd = rampEnd + shape.hold;
  const decayEnd = holdEnd + shape.decay;
  if (t < shape.start) return shape.before;
  if (t < rampEnd) return shape.before + ((shape.factor - shape.before) * (t - shape.start)) / shape.ramp;
  if (t < holdEnd) return shape.factor;
  if (t < decayEnd) return shape.factor + ((shape.after - shape.factor) * (t - holdEnd)) / shape.decay;
  return shape.after;
}

function envelope(shapes: readonly DemandShape[], t: number): number {
  let f = 1;
  for (const shape of shapes) f *= shapeFactor(shape, t);
  return f;
}

function diurnalFactor(curve: { amplitude: number; peakAt: number }, startSecondOfDay: number, t: number): number {
  const secondOfDay = (startSecondOfDay + t) % 86400;
  return 1 + curve.amplitude * Math.cos((2 * Math.PI * (secondOfDay - curve.peakAt)) / 86400);
}

/** Index of the first arrival at or after offset x (binary search). */
function lowerBound(offsets: Float64Array, x: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface PreparedTrace {
  readonly trace: Trace;
  /** Prefix sums of work per request, so a window's work is one subtraction. */
  readonly workPrefix: Float64Array;
  /** The tiling period in whole seconds: duration plus one mean gap, so copies join without a double arrival. */
  readonly period: number;
  /** Index of the first arrival at or after each whole second of the period (period + 1 entries). */
  readonly firstAtSecond: Int32Array;
}

const prepared = new WeakMap<Trace, PreparedTrace>();

function prepare(trace: Trace): PreparedTrace {
  const hit = prepared.get(trace);
  if (hit) return hit;
  const workPrefix = new Float64Array(trace.offsets.length + 1);
  for (let i = 0; i < trace.offsets.length; i++) {
    workPrefix[i + 1] = workPrefix[i]! + serviceSeconds(trace.promptTokens[i]!, trace.outputTokens[i]!) / REFERENCE_SERVICE_SECONDS;
  }
  const period = Math.ceil(trace.durationSeconds + 1 / trace.meanRps);
  const firstAtSecond = new Int32Array(period + 1);
  for (let second = 0; second <= period; second++) firstAtSecond[second] = lowerBound(trace.offsets, second);
  const result = { trace, workPrefix, period, firstAtSecond };
  prepared.set(trace, result);
  return result;
}

/**
 * Calls visit(lo, hi) for the trace rows arriving in [from, from + length) of the tiled trace.
 * `from` and `length` are whole seconds (steps and phases are), so bounds are table lookups.
 */
function windows(p: PreparedTrace, from: number, length: number, visit: (lo: number, hi: number) => void): void {
  let start = ((from % p.period) + p.period) % p.period;
  let remaining = length;
  while (remaining > 0) {
    const span = Math.min(remaining, p.period - start);
    visit(p.firstAtSecond[start]!, p.firstAtSecond[start + span]!);
    remaining -= span;
    start = 0;
  }
}

export interface DemandInputs {
  readonly sources: readonly DemandSource[];
  /** The trace of each source (its replayed arrivals, or a curve's token mix), same order. */
  readonly traces: readonly Trace[];
  readonly durationSeconds: number;
  readonly stepSeconds: number;
  readonly seed: number;
  /** Seconds after midnight UTC at the scenario start (for diurnal curves). */
  readonly startSecondOfDay: number;
}

export function buildDemand(inputs: DemandInputs): Demand {
  const { stepSeconds, seed } = inputs;
  const steps = Math.ceil(inputs.durationSeconds / stepSeconds);
  const arrivals = new Float64Array(steps);
  const work = new Float64Array(steps);
  const prompts = new Float32Array(steps * PROMPT_SAMPLES_PER_STEP);
  const outputs = new Float32Array(steps * PROMPT_SAMPLES_PER_STEP);
  const perSource = inputs.sources.map((source, i) => ({
    name: source.name ?? `${source.trace ? 'trace' : 'curve'} ${i + 1}`,
    arrivals: new Float64Array(steps),
  }));
  const sourceWork = inputs.sources.map(() => new Float64Array(steps));

  inputs.sources.forEach((source, si) => {
    const p = prepare(inputs.traces[si]!);
    const rng = new Rng(streamSeed(seed, hashString('demand'), si));
    if (source.trace) {
      // Superpose ceil(scale) copies of the trace, each from its own random phase.
      const scale = source.meanRps / p.trace.meanRps;
      const copies = Math.max(1, Math.ceil(scale));
      const weight = scale / copies;
      const phases = Array.from({ length: copies }, (_, c) => (c === 0 ? 0 : rng.int(p.period)));
      for (let s = 0; s < steps; s++) {
        const t = s * stepSeconds;
        const mid = t + stepSeconds / 2;
        const daily = source.curve?.kind === 'diurnal' ? diurnalFactor(source.curve, inputs.startSecondOfDay, mid) : 1;
        const f = envelope(source.shapes, mid) * daily * weight;
        let n = 0;
        let w = 0;
        for (const phase of phases) {
          windows(p, t + phase, stepSeconds, (lo, hi) => {
            n += hi - lo;
            w += p.workPrefix[hi]! - p.workPrefix[lo]!;
          });
        }
        perSource[si]!.arrivals[s] = n * f;
        sourceWork[si]![s] = w * f;
      }
    } else {
      const curve = source.curve!;
      const meanWork = p.workPrefix[p.trace.offsets.length]! / p.trace.offsets.length;
      for (let s = 0; s < steps; s++) {
        const t = s * stepSeconds + stepSeconds / 2;
        const rate = source.meanRps * envelope(source.shapes, t) * (curve.kind === 'diurnal' ? diurnalFactor(curve, inputs.startSecondOfDay, t) : 1);
        const mean = rate * stepSeconds;
        // Poisson noise, by its normal approximation (means here are tens to thousands).
        const n = Math.max(0, mean + Math.sqrt(mean) * rng.normal());
        perSource[si]!.arrivals[s] = n;
        sourceWork[si]![s] = n * meanWork;
      }
    }
  });

  // Prompt lengths per step, drawn from the sources in proportion to their arrivals, and from the
  // rows that actually arrived in that step (so a burst of long prompts shows in latency).
  const promptRng = new Rng(streamSeed(seed, hashString('prompts')));
  const windowLo = new Int32Array(perSource.length);
  const windowHi = new Int32Array(perSource.length);
  for (let s = 0; s < steps; s++) {
    let total = 0;
    for (let si = 0; si < perSource.length; si++) {
      total += perSource[si]!.arrivals[s]!;
      work[s]! += sourceWork[si]![s]!;
    }
    arrivals[s] = total;
    // The rows of this step's window of each trace source's primary copy.
    for (let si = 0; si < perSource.length; si++) {
      windowLo[si] = 0;
      windowHi[si] = 0;
      if (!inputs.sources[si]!.trace) continue;
      windows(prepare(inputs.traces[si]!), s * stepSeconds, stepSeconds, (a, b) => {
        if (b > a && windowHi[si] === windowLo[si]) {
          windowLo[si] = a;
          windowHi[si] = b;
        }
      });
    }
    for (let k = 0; k < PROMPT_SAMPLES_PER_STEP; k++) {
      let pick = promptRng.next() * total;
      let si = 0;
      while (si < perSource.length - 1 && pick >= perSource[si]!.arrivals[s]!) {
        pick -= perSource[si]!.arrivals[s]!;
        si++;
      }
      const trace = inputs.traces[si]!;
      const lo = windowLo[si]!;
      const hi = windowHi[si]!;
      const row = hi > lo ? lo + promptRng.int(hi - lo) : promptRng.int(trace.offsets.length);
      prompts[s * PROMPT_SAMPLES_PER_STEP + k] = trace.promptTokens[row]!;
      outputs[s * PROMPT_SAMPLES_PER_STEP + k] = trace.outputTokens[row]!;
    }
  }

  return { stepSeconds, steps, arrivals, work, prompts, outputs, promptQuantiles: promptQuantilesOf(inputs.traces, inputs.sources), sources: perSource };
}

function promptQuantilesOf(traces: readonly Trace[], sources: readonly DemandSource[]): number[] {
  // Weighted by each source's mean rate; eight quantiles are plenty for the oracle's estimate.
  const points: { v: number; w: number }[] = [];
  traces.forEach((trace, i) => {
    const w = sources[i]!.meanRps / trace.promptTokens.length;
    const stride = Math.max(1, Math.floor(trace.promptTokens.length / 2000));
    for (let r = 0; r < trace.promptTokens.length; r += stride) points.push({ v: trace.promptTokens[r]!, w: w * stride });
  });
  points.sort((a, b) => a.v - b.v);
  const total = points.reduce((a, p) => a + p.w, 0);
  const quantiles: number[] = [];
  let acc = 0;
  let q = 0;
  const targets = Array.from({ length: 8 }, (_, i) => (i + 0.5) / 8);
  for (const point of points) {
    acc += point.w;
    while (q < targets.length && acc / total >= targets[q]!) {
      quantiles.push(point.v);
      q++;
    }
  }
  while (quantiles.length < targets.length) quantiles.push(points[points.length - 1]?.v ?? 1000);
  return quantiles;
}
