import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceRefSchema } from '../../sim/scenarioSchema.js';
import { loadTrace, type RequestTrace } from '../../sim/trace.js';
import { perMinuteCounts, traceFigures } from '../../sim/traceFigures.js';
import { COPY_JITTER_SECONDS, scaleTrace } from '../../sim/traceScaling.js';

const AZURE_CODE = 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_code.csv';
const code = loadTrace(AZURE_CODE, traceRefSchema.parse({ file: AZURE_CODE })) as RequestTrace;

function requestTrace(offsets: readonly number[]): RequestTrace {
  const sorted = Float64Array.from(offsets).sort();
  const durationSeconds = Math.max(1, sorted[sorted.length - 1]!);
  return {
    kind: 'requests',
    file: 'synthetic',
    timestampUnit: 's',
    offsets: sorted,
    promptTokens: sorted.map(() => 1000),
    outputTokens: sorted.map(() => 100),
    durationSeconds,
    meanRps: sorted.length / durationSeconds,
    hasTokens: true,
  };
}

describe('Scaling a trace: intensity keeps its burstiness', () => {
  it('keeps the per-minute CV of the Azure code trace within 15% when scaled ×10', () => {
    const before = traceFigures(code);
    const after = traceFigures(scaleTrace(code, code.meanRps * 10, 'intensity', 1));
    expect(before.perMinuteCv).toBeCloseTo(1.04, 2);
    expect(after.meanRps).toBeCloseTo(code.meanRps * 10, 0);
    // Superposing ten randomly phased copies (what the simulator did before) gave 0.28 here.
    expect(Math.abs(after.perMinuteCv! / before.perMinuteCv! - 1)).toBeLessThan(0.15);
  });

  it.each([0.3, 2.5, 10, 23.4])('multiplies the count by k = %f, thinning below 1, and keeps the duration and token mix', (k) => {
    const scaled = scaleTrace(code, code.meanRps * k, 'intensity', 7) as RequestTrace;
    const n = code.offsets.length;
    // Each request becomes ⌊k⌋ or ⌈k⌉: the variance of the total is at most n/4.
    expect(Math.abs(scaled.offsets.length - k * n)).toBeLessThan(5 * Math.sqrt(n / 4) + 1);
    expect(scaled.durationSeconds).toBe(code.durationSeconds);
    expect(traceFigures(scaled).promptTokens!.p50).toBeCloseTo(traceFigures(code).promptTokens!.p50, -2);
  });

  it('places the copies at the request time plus less than the jitter', () => {
    const scaled = scaleTrace(requestTrace([0, 100]), 0.02 * 3, 'intensity', 3) as RequestTrace;
    expect(scaled.offsets.length).toBe(6);
    for (const t of scaled.offsets) expect(t < COPY_JITTER_SECONDS || (t >= 100 && t < 100 + COPY_JITTER_SECONDS)).toBe(true);
  });

  it('gives the same trace for the same seed, and another for another seed', () => {
    const a = scaleTrace(code, 30, 'intensity', 1) as RequestTrace;
    const b = scaleTrace(code, 30, 'intensity', 1) as RequestTrace;
    const c = scaleTrace(code, 30, 'intensity', 2) as RequestTrace;
    expect(Array.from(a.offsets)).toEqual(Array.from(b.offsets));
    expect(Array.from(a.offsets)).not.toEqual(Array.from(c.offsets));
  });

  it('scales the count by ≈k and keeps per-minute counts proportional, for any trace and k', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1200, noNaN: true }), { minLength: 20, maxLength: 600 }),
        fc.double({ min: 0.05, max: 20, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (offsets, k, seed) => {
          const trace = requestTrace(offsets);
          const scaled = scaleTrace(trace, trace.meanRps * k, 'intensity', seed) as RequestTrace;
          const n = trace.offsets.length;
          expect(Math.abs(scaled.offsets.length - k * n)).toBeLessThanOrEqual(6 * Math.sqrt(n / 4) + 1);
          const before = perMinuteCounts(trace);
          const after = perMinuteCounts(scaled);
          before.forEach((count, m) => {
            // Rounding noise, plus the copies the jitter carries across a minute's edges.
            const edge = trace.offsets.filter(
              (t) => (t >= 60 * m - COPY_JITTER_SECONDS && t < 60 * m) || (t >= 60 * (m + 1) - COPY_JITTER_SECONDS && t < 60 * (m + 1)),
            ).length;
            expect(Math.abs(after[m]! - k * count)).toBeLessThanOrEqual(6 * Math.sqrt(count / 4) + 1 + Math.ceil(k) * edge);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('Scaling a trace: time-warp', () => {
  it('compresses the time axis by k: the same requests in 1/k of the time', () => {
    const warped = scaleTrace(code, code.meanRps * 4, 'time-warp', 1) as RequestTrace;
    expect(warped.offsets.length).toBe(code.offsets.length);
    expect(warped.durationSeconds).toBeCloseTo(code.durationSeconds / 4, 6);
    expect(warped.offsets[100]).toBeCloseTo(code.offsets[100]! / 4, 9);
  });

  it('smooths the per-minute CV when it compresses (a minute then holds k minutes of the trace)', () => {
    const warped = traceFigures(scaleTrace(code, code.meanRps * 10, 'time-warp', 1));
    expect(warped.perMinuteCv!).toBeLessThan(0.5 * traceFigures(code).perMinuteCv!);
  });
});
