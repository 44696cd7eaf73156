import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { buildDemand, shapeFactor } from '../../sim/demand.js';
import { parseTimestamp, parseTrace } from '../../sim/trace.js';

const ref = { file: 'x.csv', timestampColumn: 'TIMESTAMP', promptTokensColumn: 'ContextTokens', outputTokensColumn: 'GeneratedTokens' };

describe('Demand traces', () => {
  it.each([
    ['2023-11-16 18:15:46.6805900', Date.UTC(2023, 10, 16, 18, 15, 46) + 680.59],
    ['2023-11-16T18:15:46Z', Date.UTC(2023, 10, 16, 18, 15, 46)],
    ['1700158546', 1700158546000],
    ['1700158546123', 1700158546123],
  ])('reads the timestamp %s', (text, ms) => {
    expect(parseTimestamp(text)).toBeCloseTo(ms, 3);
  });

  it('reads any CSV with a timestamp column; token columns are optional', () => {
    const trace = parseTrace('TIMESTAMP,other\n2023-11-16 18:00:01,a\n2023-11-16 18:00:00,b\n2023-11-16 18:00:04,c\n', ref, 'x.csv');
    expect(Array.from(trace.offsets)).toEqual([0, 1, 4]);
    expect(trace.hasTokens).toBe(false);
    expect(trace.meanRps).toBeCloseTo(3 / 4, 10);
  });

  it('lists every bad row and a missing column with where it is', () => {
    expect(() => parseTrace('when,ContextTokens\n1,2\n3,4\n', ref, 'x.csv')).toThrow(ValidationError);
    let thrown: unknown;
    try {
      parseTrace('TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n2023-11-16 18:00:00,-4,2\n2023-11-16 18:00:01,4,2\n', ref, 'x.csv');
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ValidationError).problems).toEqual([
      { path: 'line 2.TIMESTAMP', message: 'is not a timestamp: "yesterday"' },
      { path: 'line 3.ContextTokens', message: 'must be a token count ≥ 0' },
    ]);
  });

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

  it('scales a trace to the mean rate by superposing copies, keeping its per-request work', () => {
    const rows = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
    for (let i = 0; i < 600; i++) rows.push(`2023-11-16 18:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},1000,200`);
    const trace = parseTrace(rows.join('\n'), ref, 'x.csv');
    const demand = buildDemand({
      sources: [{ trace: ref, meanRps: 10, shapes: [] }],
      traces: [trace],
      durationSeconds: 3600,
      stepSeconds: 10,
      seed: 1,
      startSecondOfDay: 0,
    });
    const total = demand.arrivals.reduce((a, b) => a + b, 0);
    expect(total / 3600).toBeCloseTo(10, 0);
    expect(demand.prompts.every((p) => p === 1000)).toBe(true);
  });
});
