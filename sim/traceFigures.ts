/**
 * What a trace looks like to the simulator, in the figures `steer53 trace inspect` prints: its
 * size, its mean and peak rate, its burstiness and its token mix. Burstiness is the coefficient of
 * variation of the request count per whole minute (population standard deviation over mean), the
 * scale at which CloudWatch and the controller see load: the Azure code trace's is 1.04.
 */
import type { TimestampUnit } from './scenarioSchema.js';
import type { Trace } from './trace.js';

export interface TokenPercentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export interface TraceFigures {
  /** Requests in the trace; for a rate series, the requests its rate implies. */
  readonly requests: number;
  readonly durationSeconds: number;
  readonly meanRps: number;
  /** The busiest whole minute's rate (the mean rate when the trace is shorter than a minute). */
  readonly peakRps: number;
  /** Coefficient of variation of the per-minute counts; null under two whole minutes. */
  readonly perMinuteCv: number | null;
  /** Null when the trace has no token columns (or is a rate series). */
  readonly promptTokens: TokenPercentiles | null;
  readonly outputTokens: TokenPercentiles | null;
  readonly kind: Trace['kind'];
  readonly timestampUnit: TimestampUnit;
}

/**
 * Requests in each whole minute from the first arrival (the last, partial minute is left out: it
 * would read as a lull). For a rate series, the requests its rate implies in each minute.
 */
export function perMinuteCounts(trace: Trace): Float64Array {
  const minutes = Math.floor(trace.durationSeconds / 60);
  const counts = new Float64Array(minutes);
  if (trace.kind === 'requests') {
    for (const offset of trace.offsets) {
      const m = Math.floor(offset / 60);
      if (m < minutes) counts[m]!++;
    }
    return counts;
  }
  const { starts, rates, durationSeconds } = trace;
  for (let i = 0; i < starts.length; i++) {
    // Spread the row's requests over the minutes its interval covers.
    const from = starts[i]!;
    const to = i + 1 < starts.length ? starts[i + 1]! : durationSeconds;
    for (let m = Math.floor(from / 60); m < minutes && m * 60 < to; m++) {
      const overlap = Math.min(to, (m + 1) * 60) - Math.max(from, m * 60);
      if (overlap > 0) counts[m]! += rates[i]! * overlap;
    }
  }
  return counts;
}

/** Population coefficient of variation; null for fewer than two values or a zero mean. */
export function coefficientOfVariation(values: Float64Array): number | null {
  if (values.length < 2) return null;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  if (mean === 0) return null;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return Math.sqrt(squares / values.length) / mean;
}

/** Nearest-rank percentiles (the p99 of 1,000 values is the 990th smallest). */
export function tokenPercentiles(values: Float64Array): TokenPercentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { p50: at(50), p90: at(90), p99: at(99) };
}

export function traceFigures(trace: Trace): TraceFigures {
  const counts = perMinuteCounts(trace);
  const requests = trace.kind === 'requests' ? trace.offsets.length : trace.requests;
  const tokens = trace.kind === 'requests' && trace.hasTokens;
  return {
    requests,
    durationSeconds: trace.durationSeconds,
    meanRps: trace.meanRps,
    peakRps: counts.length > 0 ? counts.reduce((a, b) => Math.max(a, b), 0) / 60 : trace.meanRps,
    perMinuteCv: coefficientOfVariation(counts),
    promptTokens: tokens ? tokenPercentiles(trace.promptTokens) : null,
    outputTokens: tokens ? tokenPercentiles(trace.outputTokens) : null,
    kind: trace.kind,
    timestampUnit: trace.timestampUnit,
  };
}
