import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdsAsWritten, integerWeights, MAX_WEIGHT, shareMoved, sharesOf, writtenWeights } from '../../../functions/core/weights.js';

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

describe('writtenWeights', () => {
  it.each<[string, Record<string, number>, Record<string, number>, Record<string, number>]>([
    [
      'drains one of five equal records by writing that record alone',
      { a: 0, b: 125, c: 125, d: 125, e: 125 },
      { a: 100, b: 100, c: 100, d: 100, e: 100 },
      { a: 0, b: 100, c: 100, d: 100, e: 100 },
    ],
    [
      'restores it the same way',
      { a: 100, b: 100, c: 100, d: 100, e: 100 },
      { a: 0, b: 100, c: 100, d: 100, e: 100 },
      { a: 100, b: 100, c: 100, d: 100, e: 100 },
    ],
    ['drains one of three (150 each at 100: two thirds, exactly)', { a: 0, b: 150, c: 150 }, { a: 100, b: 100, c: 100 }, { a: 0, b: 100, c: 100 }],
    [
      'writes every record when no other scale keeps the shares exactly',
      { a: 0, b: 133, c: 133, d: 134 },
      { a: 100, b: 100, c: 100, d: 100 },
      { a: 0, b: 133, c: 133, d: 134 },
    ],
    [
      'moves traffic between two records at the scale Route 53 holds',
      { a: 0, b: 100, c: 150, d: 125, e: 125 },
      { a: 0, b: 100, c: 100, d: 100, e: 100 },
      { a: 0, b: 80, c: 120, d: 100, e: 100 },
    ],
    ['keeps the target when no other scale keeps more records', { a: 75, b: 125, c: 100 }, { a: 100, b: 100, c: 100 }, { a: 75, b: 125, c: 100 }],
    ['prefers the target’s own scale on a tie', { a: 50, b: 150 }, { a: 50, b: 100 }, { a: 50, b: 150 }],
    ['prefers the larger of two other scales on a tie (finer shares)', { a: 0, b: 100, c: 200 }, { a: 5, b: 50, c: 250 }, { a: 0, b: 125, c: 250 }],
    ['never scales a record past 255', { a: 100, b: 150 }, { a: 200, b: 0 }, { a: 100, b: 150 }],
    ['never rounds a record meant to carry traffic to zero', { a: 1, b: 199 }, { a: 0, b: 100 }, { a: 1, b: 199 }],
    ['keeps an all-zero target as it is', { a: 0, b: 0 }, { a: 100, b: 100 }, { a: 0, b: 0 }],
  ])('%s', (_name, target, live, expected) => {
    expect(writtenWeights(target, live, Object.keys(target))).toEqual(expected);
  });

  /** A target and what Route 53 holds: each record either anything, or the target's weight at one common ratio (so other scales happen). */
  const targetAndLive = fc
    .tuple(
      fc.array(fc.tuple(fc.integer({ min: 0, max: MAX_WEIGHT }), fc.integer({ min: 0, max: MAX_WEIGHT }), fc.boolean()), { minLength: 1, maxLength: 6 }),
      fc.constantFrom(1 / 2, 2 / 3, 4 / 5, 1, 5 / 4, 3 / 2, 2),
    )
    .map(([records, ratio]) => {
      const ids = records.map((_, i) => `r${i}`);
      const target = Object.fromEntries(records.map(([t], i) => [ids[i]!, t]));
      const live = Object.fromEntries(records.map(([t, l, scaled], i) => [ids[i]!, scaled ? Math.min(MAX_WEIGHT, Math.round(t * ratio)) : l]));
      return { ids, target, live };
    });

  it('keeps every share exactly, within 255, carrying traffic where the target does, and changes no more records than the target would', () => {
    fc.assert(
      fc.property(targetAndLive, ({ ids, target, live }) => {
        const written = writtenWeights(target, live, ids);
        const targetTotal = ids.reduce((sum, id) => sum + target[id]!, 0);
        const total = ids.reduce((sum, id) => sum + written[id]!, 0);
        const changed = (w: Record<string, number>) => ids.filter((id) => w[id] !== live[id]).length;
        expect(changed(written)).toBeLessThanOrEqual(changed(target));
        for (const id of ids) {
          expect(Number.isInteger(written[id]) && written[id]! >= 0 && written[id]! <= MAX_WEIGHT).toBe(true);
          expect(written[id]! > 0).toBe(target[id]! > 0);
          // Cross-multiplied: written / total = target / targetTotal, in integers.
          expect(written[id]! * targetTotal).toBe(target[id]! * total);
        }
      }),
    );
  });

  it('takes what it wrote as holding the target, and a weight changed outside it as not', () => {
    fc.assert(
      fc.property(targetAndLive, ({ ids, target, live }) => {
        const written = writtenWeights(target, live, ids);
        expect(holdsAsWritten(target, written, ids)).toBe(true);
        expect(writtenWeights(target, written, ids)).toEqual(written);
      }),
    );
    expect(holdsAsWritten({ a: 100, b: 100 }, { a: 100, b: 101 }, ['a', 'b'])).toBe(false);
    expect(holdsAsWritten({ a: 100, b: 100 }, { a: 200, b: 200 }, ['a', 'b'])).toBe(true);
    expect(holdsAsWritten({ a: 100 }, { a: 100, b: 5 }, ['a', 'b'])).toBe(false);
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
