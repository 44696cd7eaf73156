import { describe, expect, it } from 'vitest';
import { integerWeights, shareMoved, sharesOf } from '../../../functions/core/weights.js';

describe('integerWeights', () => {
  it.each<[string, Record<string, number>, number, Record<string, number>]>([
    ['keeps exact integers', { a: 100, b: 100, c: 50 }, 250, { a: 100, b: 100, c: 50 }],
    ['hands leftover points to the largest remainders, not by naive rounding', { a: 1, b: 1, c: 1 }, 100, { a: 34, b: 33, c: 33 }],
    ['keeps the total where naive rounding would lose a point', { a: 0.5, b: 0.5, c: 0.5, d: 0.5 }, 10, { a: 3, b: 3, c: 2, d: 2 }],
    ['scales down so no record exceeds 255', { a: 300, b: 100 }, 400, { a: 255, b: 85 }],
    ['never rounds a record meant to carry traffic down to zero', { a: 1000, b: 1 }, 100, { a: 99, b: 1 }],
    ['gives all zeros for all-zero intent', { a: 0, b: 0 }, 100, { a: 0, b: 0 }],
  ])('%s', (_name, intended, total, expected) => {
    expect(integerWeights(intended, Object.keys(intended), total)).toEqual(expected);
  });
});

describe('shares', () => {
  it('splits evenly when every weight is zero, as Route 53 does', () => {
    expect(sharesOf({ a: 0, b: 0 }, ['a', 'b'])).toEqual({ a: 0.5, b: 0.5 });
  });

  it('measures the share of traffic a change moves', () => {
    expect(shareMoved({ a: 100, b: 100 }, { a: 0, b: 200 }, ['a', 'b'])).toBeCloseTo(0.5);
    expect(shareMoved({ a: 1, b: 1 }, { a: 50, b: 50 }, ['a', 'b'])).toBe(0);
  });
});

describe('reason codes', () => {
  it('are their own names, so logs, metrics and subscription filters agree', async () => {
    const { ReasonCodes, Verdicts, EndpointStatuses } = await import('../../../functions/core/types.js');
    for (const [key, value] of Object.entries(ReasonCodes)) expect(value).toBe(key);
    expect(Object.values(Verdicts)).toEqual(['breach', 'clear', 'hold', 'unknown']);
    expect(Object.values(EndpointStatuses)).toEqual(['healthy', 'degraded', 'drained', 'recovering']);
  });
});
