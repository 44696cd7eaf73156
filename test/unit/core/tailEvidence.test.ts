import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signalSchema } from '../../../functions/core/config.js';
import { binomialUpperTail, tailEvidence } from '../../../functions/core/tailEvidence.js';
import { evaluateSignal } from '../../../functions/core/verdicts.js';

/** P(X ≥ k) by summing every term in plain arithmetic: slow, obviously right, for small n. */
function tailBySum(n: number, k: number, q: number): number {
  let sum = 0;
  let choose = 1;
  for (let i = 0; i <= n; i++) {
    if (i > 0) choose = (choose * (n - i + 1)) / i;
    if (i >= k) sum += choose * q ** i * (1 - q) ** (n - i);
  }
  return sum;
}

describe('binomialUpperTail', () => {
  it('agrees with the direct sum for small n, any k and q', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 0, max: 125 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), (n, k, q) => {
        const exact = tailBySum(n, k, q);
        expect(Math.abs(binomialUpperTail(n, k, q) - exact)).toBeLessThan(1e-9 + 1e-9 * exact);
      }),
      { numRuns: 300 },
    );
  });

  it('matches published values (R: pbinom(k - 1, n, q, lower.tail = FALSE))', () => {
    expect(binomialUpperTail(60, 3, 0.01)).toBeCloseTo(0.0224202, 6);
    expect(binomialUpperTail(1000, 18, 0.01)).toBeCloseTo(0.0138326, 6);
    expect(binomialUpperTail(1_000_000, 10_000, 0.01)).toBeCloseTo(0.50135, 4);
  });

  it('is 1 at k ≤ 0, 0 past n, and exact at the ends of q', () => {
    expect(binomialUpperTail(10, 0, 0.3)).toBe(1);
    expect(binomialUpperTail(10, 11, 0.3)).toBe(0);
    expect(binomialUpperTail(10, 1, 0)).toBe(0);
    expect(binomialUpperTail(10, 10, 1)).toBe(1);
  });

  it('is a tail: never grows with k, never falls with q', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 200 }), fc.double({ min: 0.001, max: 0.5, noNaN: true }), (n, k, q) => {
        expect(binomialUpperTail(n, k + 1, q)).toBeLessThanOrEqual(binomialUpperTail(n, k, q) + 1e-12);
        expect(binomialUpperTail(n, k, Math.min(0.999, q * 1.5))).toBeGreaterThanOrEqual(binomialUpperTail(n, k, q) - 1e-12);
      }),
      { numRuns: 200 },
    );
  });
});

describe('tailEvidence', () => {
  it('takes a few slow requests out of a few as proof, and a few out of many as noise', () => {
    // 6 of 60 past a p99 trip: a 1-in-60,000 event were the p99 within it; not proven to be 5% though.
    expect(tailEvidence(60, 6, 0.01, 0.99, 5)).toMatchObject({ breach: true, severe: false });
    // 12 of 60 (20%): proven past 5%, severe.
    expect(tailEvidence(60, 12, 0.01, 0.99, 5)).toMatchObject({ breach: true, severe: true });
    // 12 of 1,000: 30% likely for a healthy p99.
    expect(tailEvidence(1000, 12, 0.01, 0.99, 5)).toMatchObject({ breach: false, severe: false });
    // 35 of 1,000 (a burst of long prompts): proven past trip, not severe.
    expect(tailEvidence(1000, 35, 0.01, 0.99, 5)).toMatchObject({ breach: true, severe: false });
    // A p99 of a minute (544 of its requests arrived) where 30% are slow: severe.
    expect(tailEvidence(544, 160, 0.01, 0.99, 5)).toMatchObject({ breach: true, severe: true, share: 160 / 544 });
  });

  it('needs samples: none prove nothing', () => {
    expect(tailEvidence(0, 0, 0.01, 0.99, 5)).toMatchObject({ breach: false, severe: false, share: 0 });
  });

  it('asks more at a higher confidence', () => {
    expect(tailEvidence(1000, 20, 0.01, 0.99, 5).breach).toBe(true);
    expect(tailEvidence(1000, 20, 0.01, 0.999, 5).breach).toBe(false);
  });
});

const p99 = signalSchema.parse({
  name: 'p99',
  source: 'metric',
  metric: { namespace: 'N', metricName: 'Latency', statistic: 'p99' },
  unit: 'ms',
  trip: 2000,
  clear: 1500,
});
const p1Throughput = signalSchema.parse({
  name: 'tps',
  source: 'metric',
  metric: { namespace: 'N', metricName: 'TokensPerSecond', statistic: 'p1' },
  direction: 'lower-is-worse',
  trip: 10,
  clear: 20,
});
const rules = { confidence: 0.99, severeExcess: 1, severeTailShare: 5 };

describe('evaluateSignal with the count of samples past trip', () => {
  it.each([
    ['a small minute whose slow requests prove it: breach, severe', { value: 30_000, sampleCount: 60, worseThanTrip: 15 }, 'breach', true],
    ['a big minute just past trip by value, not by count: hold', { value: 2100, sampleCount: 1000, worseThanTrip: 12 }, 'hold', undefined],
    ['a small minute past trip by value, not by count: unknown (low-sample)', { value: 2100, sampleCount: 200, worseThanTrip: 3 }, 'unknown', undefined],
    ['proven past trip, not proven 5% past it: breach, not severe', { value: 2300, sampleCount: 5000, worseThanTrip: 150 }, 'breach', false],
    ['a fast minute, however small: clear', { value: 900, sampleCount: 40, worseThanTrip: 0 }, 'clear', undefined],
    ['between clear and trip on many samples: hold', { value: 1800, sampleCount: 5000, worseThanTrip: 20 }, 'hold', undefined],
  ] as const)('%s', (_name, observation, verdict, severe) => {
    const judged = evaluateSignal(p99, observation, rules);
    expect(judged.verdict).toBe(verdict);
    expect(judged.severe).toBe(severe);
    if (verdict !== 'unknown') expect(judged.worseShare).toBeCloseTo(observation.worseThanTrip / observation.sampleCount);
    if (verdict === 'unknown') expect(judged.unknownCause).toBe('low-sample');
  });

  it('counts below trip as worse when lower is worse (a p1 of throughput allows 1% under trip)', () => {
    expect(evaluateSignal(p1Throughput, { value: 4, sampleCount: 600, worseThanTrip: 60 }, rules)).toMatchObject({ verdict: 'breach', severe: true });
    expect(evaluateSignal(p1Throughput, { value: 9, sampleCount: 5000, worseThanTrip: 55 }, rules).verdict).toBe('hold');
  });

  it('marks a clear on fewer samples than the percentile needs as low-sample', () => {
    expect(evaluateSignal(p99, { value: 800, sampleCount: 50, worseThanTrip: 0 }, rules).lowSample).toBe(true);
    expect(evaluateSignal(p99, { value: 800, sampleCount: 5000, worseThanTrip: 0 }, rules).lowSample).toBeUndefined();
  });

  it('marks a breach proven on fewer samples than it takes a healthy p99 to have one past trip (100) as thin', () => {
    // 3 of 19 past trip prove a p99 past it (P = 0.001 for a healthy one), on too few requests to expect even one slow.
    expect(evaluateSignal(p99, { value: 3000, sampleCount: 19, worseThanTrip: 3 }, rules)).toMatchObject({ verdict: 'breach', thin: true });
    expect(evaluateSignal(p99, { value: 3000, sampleCount: 99, worseThanTrip: 5 }, rules)).toMatchObject({ verdict: 'breach', thin: true });
    expect(evaluateSignal(p99, { value: 3000, sampleCount: 100, worseThanTrip: 5 }, rules).thin).toBeUndefined();
    // A p1 of throughput allows 1% under trip: the same 100.
    expect(evaluateSignal(p1Throughput, { value: 4, sampleCount: 20, worseThanTrip: 20 }, rules)).toMatchObject({ verdict: 'breach', thin: true });
    expect(evaluateSignal(p1Throughput, { value: 4, sampleCount: 600, worseThanTrip: 60 }, rules).thin).toBeUndefined();
    // A value past trip without the count is judged on the value, and is never thin.
    expect(evaluateSignal(p99, { value: 3000, sampleCount: 19 }, rules).thin).toBeUndefined();
  });

  it('without the count, judges the value as before (severe by how far past trip)', () => {
    expect(evaluateSignal(p99, { value: 2100, sampleCount: 5000 }, rules)).toMatchObject({ verdict: 'breach', severe: false });
    expect(evaluateSignal(p99, { value: 4100, sampleCount: 5000 }, rules)).toMatchObject({ verdict: 'breach', severe: true });
  });
});
