import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPoint, fitSlope, predict, type LoadProfile } from '../../../functions/core/loadModel.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** A profile of points on a line, one a minute. */
function line(intercept: number, slope: number, loads: readonly number[], noise: (i: number) => number = () => 0): LoadProfile {
  let profile: LoadProfile | undefined;
  loads.forEach((u, i) => {
    profile = addPoint(profile, u, intercept + slope * u + noise(i), i * MINUTE, DAY);
  });
  return profile!;
}

describe('addPoint', () => {
  it('sums points, older ones decayed by the half-life', () => {
    const one = addPoint(undefined, 0.5, 300, 0, DAY);
    expect(one).toEqual({ n: 1, u: 0.5, uu: 0.25, y: 300, yy: 90_000, uy: 150, at: 0 });
    const next = addPoint(one, 0.1, 200, DAY, DAY);
    expect(next.n).toBeCloseTo(1.5, 12);
    expect(next.y).toBeCloseTo(350, 9);
    expect(next.at).toBe(DAY);
  });

  it('does not grow old points back when a point arrives out of order', () => {
    const one = addPoint(undefined, 0.5, 300, DAY, DAY);
    expect(addPoint(one, 0.5, 300, 0, DAY).n).toBe(2);
  });
});

describe('fitSlope and predict', () => {
  const loads = Array.from({ length: 200 }, (_, i) => 0.3 + 0.3 * Math.sin(i / 20));

  it('recovers one slope from endpoints with their own intercepts', () => {
    const fit = fitSlope([
      line(250, 150, loads),
      line(
        330,
        150,
        loads.map((u) => u * 0.9),
      ),
      line(
        400,
        150,
        loads.map((u) => u + 0.1),
      ),
    ])!;
    expect(fit.slope).toBeCloseTo(150, 6);
    expect(fit.variance).toBeCloseTo(0, 6);
  });

  it('predicts an endpoint at a load it never ran at, along the shared slope', () => {
    const own = line(250, 150, loads);
    const fit = fitSlope([own, line(400, 150, loads)])!;
    expect(predict(own, fit, 0.04).value).toBeCloseTo(256, 6);
  });

  it('is less sure far from the loads it learned at', () => {
    const noise = (i: number) => ((i * 7919) % 41) - 20;
    const own = line(250, 150, loads, noise);
    const fit = fitSlope([own, line(400, 150, loads, noise)])!;
    expect(fit.variance).toBeGreaterThan(0);
    expect(predict(own, fit, 0.04).error).toBeGreaterThan(predict(own, fit, 0.3).error);
  });

  it('has nothing to fit when load never varied, or too few points', () => {
    expect(fitSlope([line(250, 150, [0.4, 0.4, 0.4])])).toBeNull();
    expect(fitSlope([line(250, 150, [0.4])])).toBeNull();
    expect(fitSlope([])).toBeNull();
  });

  it('never lets latency fall with load', () => {
    expect(fitSlope([line(400, -100, loads)])!.slope).toBe(0);
  });

  it('recovers the slope of any noise-free set of lines (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.array(fc.record({ intercept: fc.double({ min: 0, max: 2000, noNaN: true }), shift: fc.double({ min: 0, max: 0.3, noNaN: true }) }), {
          minLength: 1,
          maxLength: 5,
        }),
        (slope, endpoints) => {
          const fit = fitSlope(
            endpoints.map((e) =>
              line(
                e.intercept,
                slope,
                loads.map((u) => u + e.shift),
              ),
            ),
          )!;
          expect(fit.slope).toBeCloseTo(slope, 3);
        },
      ),
      { numRuns: 300 },
    );
  });
});
