/**
 * Demand: how many requests arrive in each step of the scenario and how much work they carry.
 *
 * - A request trace replays real arrivals, scaled to the source's `meanRps` in a way that keeps
 *   its burstiness (sim/traceScaling.ts): by default each request becomes ⌊k⌋ or ⌈k⌉ requests
 *   at its own time, so each minute's count is scaled by k; or the time axis is warped by k. The
 *   trace is tiled when the scenario is longer.
 * - A rate series (one rate per row) draws Poisson arrivals around its rate, scaled the same ways.
 * - A curve draws Poisson arrivals around a synthetic rate.
 * Shapes (launch spikes, surges) and a trace's daily swing multiply the rate; for a request trace
 * they multiply its intensity, request by request, like the scaling itself.
 *
 * Work is counted in reference requests (see latencyModel.ts): a long prompt with a long answer
 * loads a region more than a short one, so bursts of heavy requests hurt more than their count.
 * All randomness comes from streams keyed by the seed and the source, so every controller meets
 * exactly the same demand.
 */
import { isAbsolute, join } from 'node:path';
import { formatPath, type ValidationProblem } from '../functions/core/config.js';
import { ValidationError } from '../functions/core/errors.js';
import { REFERENCE_SERVICE_SECONDS, serviceSeconds } from './latencyModel.js';
import { EXPONENTIAL_TABLE, Rng, hashString, streamSeed } from './random.js';
import { traceRefSchema, type DemandShape, type DemandSource, type TraceRef } from './scenarioSchema.js';
import { isTraceOption, loadTrace, type RateTrace, type RequestTrace, type Trace } from './trace.js';
import { COPY_JITTER_SECONDS, drawCopies } from './traceScaling.js';

/** Prompt lengths kept per step for sampling request latencies (a power of two: masked, not divided). */
export const PROMPT_SAMPLES_PER_STEP = 64;

export interface Demand {
  readonly stepSeconds: number;
  readonly steps: number;
  /** Requests arriving in each step. */
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

/** The traces a source reads: its arrivals (a request trace or a rate series), and its token mix. */
export interface SourceTraces {
  /** Undefined for a curve. */
  readonly arrivals?: Trace;
  /** The request trace whose token counts the source's requests carry (the arrivals themselves for a request trace). */
  readonly tokens: RequestTrace;
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

/** Shapes × daily swing: the multiplier on a source's mean rate at time t. */
function rateFactor(source: DemandSource, startSecondOfDay: number, t: number): number {
  const daily = source.curve?.kind === 'diurnal' ? diurnalFactor(source.curve, startSecondOfDay, t) : 1;
  return envelope(source.shapes, t) * daily;
}

/** Index of the first element at or after x, searching from index `from` on (ascending values; galloping, then binary search). */
function lowerBound(values: Float64Array, x: number, from = 0): number {
  let lo = from;
  let step = 1;
  while (lo + step < values.length && values[lo + step]! < x) {
    lo += step;
    step *= 2;
  }
  if (lo < values.length && values[lo]! >= x) return lo;
  let hi = Math.min(values.length, lo + step);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface PreparedTrace {
  readonly trace: RequestTrace;
  /** Work of each request, in reference requests, and its prefix sums (a window's work is one subtraction). */
  readonly work: Float64Array;
  readonly workPrefix: Float64Array;
  readonly meanWork: number;
  /** The tiling period in whole seconds: duration plus one mean gap, so copies join without a double arrival. */
  readonly period: number;
}

const prepared = new WeakMap<RequestTrace, PreparedTrace>();

function prepare(trace: RequestTrace): PreparedTrace {
  const hit = prepared.get(trace);
  if (hit) return hit;
  const work = new Float64Array(trace.offsets.length);
  const workPrefix = new Float64Array(trace.offsets.length + 1);
  for (let i = 0; i < work.length; i++) {
    work[i] = serviceSeconds(trace.promptTokens[i]!, trace.outputTokens[i]!) / REFERENCE_SERVICE_SECONDS;
    workPrefix[i + 1] = workPrefix[i]! + work[i]!;
  }
  const result = { trace, work, workPrefix, meanWork: workPrefix[work.length]! / work.length, period: Math.ceil(trace.durationSeconds + 1 / trace.meanRps) };
  prepared.set(trace, result);
  return result;
}

/** One source's arrivals and work per step, and the trace rows each step's prompts are drawn from. */
interface SourceDemand {
  readonly arrivals: Float64Array;
  readonly work: Float64Array;
  /** Rows [rowsFrom, rowsTo) of the token trace arrived in each step (empty: draw from the whole trace). */
  readonly rowsFrom: Int32Array;
  readonly rowsTo: Int32Array;
}

interface Steps {
  readonly steps: number;
  readonly stepSeconds: number;
  readonly startSecondOfDay: number;
}

/**
 * A request trace, tiled and scaled. The scaling factor k = meanRps / the tiled trace's rate: with
 * `intensity` each request in the step becomes on average k × shapes × daily swing requests; with
 * `time-warp` the step reads k steps' worth of the trace, each request once (× shapes × swing).
 */
function requestDemand(p: PreparedTrace, source: DemandSource, at: Steps, rng: Rng): SourceDemand {
  const { offsets } = p.trace;
  const { steps, stepSeconds } = at;
  const k = (source.meanRps * p.period) / offsets.length;
  const warp = source.scaling === 'time-warp' ? k : 1;
  const intensity = source.scaling === 'time-warp' ? 1 : k;
  const arrivals = new Float64Array(steps);
  const work = new Float64Array(steps);
  const rowsFrom = new Int32Array(steps);
  const rowsTo = new Int32Array(steps);
  const added = { n: 0, w: 0 };
  let lastTile = -1;
  let lastHi = 0;
  // Copies that the jitter carries past the end of a step arrive in the next one.
  let carried = 0;
  let carriedWork = 0;
  for (let s = 0; s < steps; s++) {
    const mean = intensity * rateFactor(source, at.startSecondOfDay, s * stepSeconds + stepSeconds / 2);
    let n = carried;
    let w = carriedWork;
    carried = 0;
    carriedWork = 0;
    // The step covers [from, to) of the tiled trace's time; copies of the rows in its last
    // COPY_JITTER_SECONDS may land in the next step.
    const from = s * stepSeconds * warp;
    const to = (s + 1) * stepSeconds * warp;
    const lateFrom = from + (stepSeconds - COPY_JITTER_SECONDS) * warp;
    for (let tile = Math.floor(from / p.period); tile * p.period < to; tile++) {
      const base = tile * p.period;
      // Steps are contiguous: this step starts where the last one ended, in the same tile or at a new one's start.
      const lo = from - base <= 0 ? 0 : tile === lastTile ? lastHi : lowerBound(offsets, from - base);
      const hi = lowerBound(offsets, to - base, lo);
      lastTile = tile;
      lastHi = hi;
      if (hi > lo && rowsTo[s] === rowsFrom[s]) {
        rowsFrom[s] = lo;
        rowsTo[s] = hi;
      }
      const late = Math.min(hi, lowerBound(offsets, lateFrom - base, lo));
      addCopies(p, lo, late, mean, rng, added);
      n += added.n;
      w += added.w;
      for (let i = late; i < hi; i++) {
        const copies = drawCopies(mean, rng);
        // Each copy lands past the step's end with probability `beyond` (its jitter is uniform).
        const into = (base + offsets[i]! - from) / warp;
        let next = 0;
        for (let c = 0; c < copies; c++) if (into + rng.next() * COPY_JITTER_SECONDS >= stepSeconds) next++;
        n += copies - next;
        w += (copies - next) * p.work[i]!;
        carried += next;
        carriedWork += next * p.work[i]!;
      }
    }
    arrivals[s] = n;
    work[s] = w;
  }
  return { arrivals, work, rowsFrom, rowsTo };
}

/**
 * The copies of rows [lo, hi) when each becomes ⌊mean⌋ or ⌈mean⌉ requests (as drawCopies), and
 * their work, into `out`. The same draw, made fast: the ⌊mean⌋ copies of every row come from the
 * prefix sums, and the rows that get one more are found by geometric skips over the rarer of the
 * two outcomes, so a step costs a few draws rather than one per row (bench:sim runs 50 services
 * for a simulated day).
 */
function addCopies(p: PreparedTrace, lo: number, hi: number, mean: number, rng: Rng, out: { n: number; w: number }): void {
  const whole = Math.floor(mean);
  const rows = hi - lo;
  const rowsWork = p.workPrefix[hi]! - p.workPrefix[lo]!;
  out.n = whole * rows;
  out.w = whole * rowsWork;
  const extra = mean - whole;
  if (rows <= 0 || extra <= 0) return;
  const flip = extra > 0.5;
  const q = flip ? 1 - extra : extra;
  // Rows skipped before the next hit: ⌊E / −ln(1 − q)⌋ for a unit exponential E is geometric with success q.
  const perSkip = -1 / Math.log1p(-q);
  let hits = 0;
  let hitWork = 0;
  for (
    let i = lo + Math.floor(EXPONENTIAL_TABLE[rng.nextUint32() >>> 16]! * perSkip);
    i < hi;
    i += 1 + Math.floor(EXPONENTIAL_TABLE[rng.nextUint32() >>> 16]! * perSkip)
  ) {
    hits++;
    hitWork += p.work[i]!;
  }
  out.n += flip ? rows - hits : hits;
  out.w += flip ? rowsWork - hitWork : hitWork;
}

/** Requests a rate series implies from its start to x seconds into the tiled series. */
function rateIntegral(trace: RateTrace, cumulative: Float64Array, x: number): number {
  const { starts, rates, durationSeconds } = trace;
  const tiles = Math.floor(x / durationSeconds);
  const y = x - tiles * durationSeconds;
  // The row whose interval holds y: the last that starts at or before it.
  let i = lowerBound(starts, y);
  if (i === starts.length || starts[i]! > y) i--;
  return tiles * trace.requests + cumulative[i]! + rates[i]! * (y - starts[i]!);
}

/** A Poisson draw: by inversion for small means, by the normal approximation for large ones. */
function poisson(mean: number, rng: Rng): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  let p = Math.exp(-mean);
  let cdf = p;
  const u = rng.next();
  let n = 0;
  while (u > cdf && n < 1000) {
    n++;
    p *= mean / n;
    cdf += p;
  }
  return n;
}

/** A rate series, tiled and scaled like a request trace; Poisson arrivals around its rate in each step. */
function rateDemand(trace: RateTrace, tokens: PreparedTrace, source: DemandSource, at: Steps, rng: Rng): SourceDemand {
  const { steps, stepSeconds } = at;
  const k = source.meanRps / trace.meanRps;
  const warp = source.scaling === 'time-warp' ? k : 1;
  const intensity = source.scaling === 'time-warp' ? 1 : k;
  const cumulative = new Float64Array(trace.starts.length);
  for (let i = 1; i < cumulative.length; i++) cumulative[i] = cumulative[i - 1]! + trace.rates[i - 1]! * (trace.starts[i]! - trace.starts[i - 1]!);
  const arrivals = new Float64Array(steps);
  const work = new Float64Array(steps);
  for (let s = 0; s < steps; s++) {
    const expected =
      intensity *
      rateFactor(source, at.startSecondOfDay, s * stepSeconds + stepSeconds / 2) *
      (rateIntegral(trace, cumulative, (s + 1) * stepSeconds * warp) - rateIntegral(trace, cumulative, s * stepSeconds * warp));
    arrivals[s] = poisson(expected, rng);
    work[s] = arrivals[s]! * tokens.meanWork;
  }
  return { arrivals, work, rowsFrom: new Int32Array(steps), rowsTo: new Int32Array(steps) };
}

/** A synthetic curve: Poisson noise around the rate, by its normal approximation (means here are tens to thousands). */
function curveDemand(tokens: PreparedTrace, source: DemandSource, at: Steps, rng: Rng): SourceDemand {
  const { steps, stepSeconds } = at;
  const arrivals = new Float64Array(steps);
  const work = new Float64Array(steps);
  for (let s = 0; s < steps; s++) {
    const mean = source.meanRps * rateFactor(source, at.startSecondOfDay, s * stepSeconds + stepSeconds / 2) * stepSeconds;
    const n = Math.max(0, mean + Math.sqrt(mean) * rng.normal());
    arrivals[s] = n;
    work[s] = n * tokens.meanWork;
  }
  return { arrivals, work, rowsFrom: new Int32Array(steps), rowsTo: new Int32Array(steps) };
}

export interface DemandInputs {
  readonly sources: readonly DemandSource[];
  /** The traces of each source, same order. */
  readonly traces: readonly SourceTraces[];
  readonly durationSeconds: number;
  readonly stepSeconds: number;
  readonly seed: number;
  /** Seconds after midnight UTC at the scenario start (for diurnal curves). */
  readonly startSecondOfDay: number;
}

export function buildDemand(inputs: DemandInputs): Demand {
  const { stepSeconds, seed } = inputs;
  const steps = Math.ceil(inputs.durationSeconds / stepSeconds);
  const at: Steps = { steps, stepSeconds, startSecondOfDay: inputs.startSecondOfDay };
  const perSource = inputs.sources.map((source, si): SourceDemand => {
    const traces = inputs.traces[si]!;
    const rng = new Rng(streamSeed(seed, hashString('demand'), si));
    const tokens = prepare(traces.tokens);
    if (traces.arrivals?.kind === 'requests') return requestDemand(prepare(traces.arrivals), source, at, rng);
    if (traces.arrivals?.kind === 'rate') return rateDemand(traces.arrivals, tokens, source, at, rng);
    return curveDemand(tokens, source, at, rng);
  });

  const arrivals = new Float64Array(steps);
  const work = new Float64Array(steps);
  const prompts = new Float32Array(steps * PROMPT_SAMPLES_PER_STEP);
  const outputs = new Float32Array(steps * PROMPT_SAMPLES_PER_STEP);
  // Prompt lengths per step, drawn from the sources in proportion to their arrivals, and from the
  // rows that actually arrived in that step (so a burst of long prompts shows in latency).
  const promptRng = new Rng(streamSeed(seed, hashString('prompts')));
  for (let s = 0; s < steps; s++) {
    let total = 0;
    for (const source of perSource) {
      total += source.arrivals[s]!;
      work[s]! += source.work[s]!;
    }
    arrivals[s] = total;
    for (let k = 0; k < PROMPT_SAMPLES_PER_STEP; k++) {
      let pick = promptRng.next() * total;
      let si = 0;
      while (si < perSource.length - 1 && pick >= perSource[si]!.arrivals[s]!) {
        pick -= perSource[si]!.arrivals[s]!;
        si++;
      }
      const trace = inputs.traces[si]!.tokens;
      const lo = perSource[si]!.rowsFrom[s]!;
      const hi = perSource[si]!.rowsTo[s]!;
      const row = hi > lo ? lo + promptRng.int(hi - lo) : promptRng.int(trace.offsets.length);
      prompts[s * PROMPT_SAMPLES_PER_STEP + k] = trace.promptTokens[row]!;
      outputs[s * PROMPT_SAMPLES_PER_STEP + k] = trace.outputTokens[row]!;
    }
  }

  return {
    stepSeconds,
    steps,
    arrivals,
    work,
    prompts,
    outputs,
    promptQuantiles: promptQuantilesOf(inputs.traces, inputs.sources),
    sources: perSource.map((source, i) => ({
      name: inputs.sources[i]!.name ?? `${inputs.sources[i]!.trace ? 'trace' : 'curve'} ${i + 1}`,
      arrivals: source.arrivals,
    })),
  };
}

function promptQuantilesOf(traces: readonly SourceTraces[], sources: readonly DemandSource[]): number[] {
  // Weighted by each source's mean rate; eight quantiles are plenty for the oracle's estimate.
  const points: { v: number; w: number }[] = [];
  traces.forEach(({ tokens }, i) => {
    const w = sources[i]!.meanRps / tokens.promptTokens.length;
    const stride = Math.max(1, Math.floor(tokens.promptTokens.length / 2000));
    for (let r = 0; r < tokens.promptTokens.length; r += stride) points.push({ v: tokens.promptTokens[r]!, w: w * stride });
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

/**
 * Reads the traces of every demand source: its arrivals (a request trace or a rate series) and its
 * token mix (`tokens`, or `defaultTokenTrace` for a curve or a rate series without one). A trace
 * that cannot be read is a problem of the scenario, reported at its path: a setting the file needs
 * at that setting (`demand.sources[0].trace.timestampUnit`), anything else at the file.
 */
export function loadSourceTraces(sources: readonly DemandSource[], baseDir: string, defaultTokenTrace: string, scenarioSource: string): SourceTraces[] {
  const problems: ValidationProblem[] = [];
  const read = (ref: TraceRef, at: (string | number)[]): Trace | undefined => {
    try {
      return loadTrace(isAbsolute(ref.file) ? ref.file : join(baseDir, ref.file), ref);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const problem of error.problems) {
        if (isTraceOption(problem.path)) problems.push({ path: formatPath([...at, problem.path]), message: `${ref.file}: ${problem.message}` });
        else
          problems.push({
            path: formatPath([...at, 'file']),
            message: `${ref.file}${problem.path === '(file)' ? '' : ` ${problem.path}`}: ${problem.message}`,
          });
      }
      return undefined;
    }
  };
  const tokenMix = (ref: TraceRef, at: (string | number)[]): RequestTrace | undefined => {
    const trace = read(ref, at);
    if (trace?.kind === 'requests' && trace.hasTokens) return trace;
    if (trace !== undefined) problems.push({ path: formatPath([...at, 'file']), message: `${ref.file}: has no token columns: a token mix needs both` });
    return undefined;
  };

  const loaded = sources.map((source, i): SourceTraces | undefined => {
    const at = ['demand', 'sources', i];
    const arrivals = source.trace ? read(source.trace, [...at, 'trace']) : undefined;
    if (arrivals?.kind === 'rate' && !(arrivals.meanRps > 0)) {
      problems.push({ path: formatPath([...at, 'trace', 'file']), message: `${source.trace!.file}: the rate is 0 throughout: nothing to scale to meanRps` });
    }
    const tokens =
      arrivals?.kind === 'requests'
        ? arrivals
        : source.tokens
          ? tokenMix(source.tokens, [...at, 'tokens'])
          : (loadTrace(defaultTokenTrace, traceRefSchema.parse({ file: defaultTokenTrace })) as RequestTrace);
    if ((source.trace && arrivals === undefined) || tokens === undefined) return undefined;
    return arrivals ? { arrivals, tokens } : { tokens };
  });
  if (problems.length > 0) throw new ValidationError(scenarioSource, problems);
  return loaded.map((traces) => traces!);
}
