import { describe, expect, it } from 'vitest';
import { buildDemand, shapeFactor, type DemandInputs, type SourceTraces } from '../../sim/demand.js';
import { traceRefSchema, type DemandSource } from '../../sim/scenarioSchema.js';
import { loadTrace, type RateTrace, type RequestTrace } from '../../sim/trace.js';

const AZURE_CODE = 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_code.csv';
const code = loadTrace(AZURE_CODE, traceRefSchema.parse({ file: AZURE_CODE })) as RequestTrace;

function traceSource(settings: Partial<DemandSource> & { meanRps: number }): DemandSource {
  return { trace: traceRefSchema.parse({ file: 'x.csv' }), shapes: [], ...settings };
}

function demandOf(source: DemandSource, traces: SourceTraces, durationSeconds: number, seed = 1, more: Partial<DemandInputs> = {}) {
  return buildDemand({ sources: [source], traces: [traces], durationSeconds, stepSeconds: 10, seed, startSecondOfDay: 0, ...more });
}

describe('Demand from a rate series', () => {
  // Minutes at 5, 8 and 11 requests per second in turn.
  const rates = Float64Array.from({ length: 3600 }, (_, i) => 5 + 3 * (Math.floor(i / 60) % 3));
  const series: RateTrace = {
    kind: 'rate',
    file: 'qps',
    timestampUnit: 's',
    starts: Float64Array.from({ length: 3600 }, (_, i) => i),
    rates,
    durationSeconds: 3600,
    requests: rates.reduce((a, b) => a + b, 0),
    meanRps: 8,
  };

  it('draws Poisson arrivals around the rate, scaled to meanRps, with its per-minute shape', () => {
    const demand = demandOf(traceSource({ meanRps: 16 }), { arrivals: series, tokens: code }, 3600);
    const perMinute = Array.from({ length: 60 }, (_, m) => demand.arrivals.subarray(m * 6, m * 6 + 6).reduce((a, b) => a + b, 0));
    // Expected 600, 960 and 1,320 a minute; Poisson noise about √n.
    expect(perMinute[0]! / 600).toBeCloseTo(1, 0);
    expect(perMinute[2]! / 1320).toBeCloseTo(1, 0);
    const total = perMinute.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - 16 * 3600)).toBeLessThan(5 * Math.sqrt(16 * 3600));
    expect(demand.arrivals.every((n) => Number.isInteger(n))).toBe(true);
  });

  it('draws small counts from the Poisson law itself (a quiet series is not rounded to its mean)', () => {
    const demand = demandOf(traceSource({ meanRps: 0.2 }), { arrivals: series, tokens: code }, 6 * 3600);
    const values = new Set(Array.from(demand.arrivals));
    expect(values.has(0)).toBe(true);
    expect([...values].some((n) => n >= 4)).toBe(true);
    const mean = demand.arrivals.reduce((a, b) => a + b, 0) / demand.steps;
    expect(mean).toBeCloseTo(2, 0);
  });
});

describe('Shapes', () => {
  it.each([
    [0, 1],
    [600, 1],
    [900, 2],
    [1200, 3],
    [1500, 3],
    [2400, 2.1],
    [3000, 1.2],
  ])('shapes a surge: at %i s the multiplier is %f', (t, factor) => {
    const shape = { kind: 'surge' as const, start: 600, ramp: 600, hold: 600, decay: 1200, factor: 3, before: 1, after: 1.2 };
    expect(shapeFactor(shape, t)).toBeCloseTo(factor, 10);
  });
});
