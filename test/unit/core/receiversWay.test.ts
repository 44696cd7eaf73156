import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import { initialEndpointState } from '../../../functions/core/hysteresis.js';
import { keepReceiversWay } from '../../../functions/core/receiversWay.js';
import type { EndpointState, RecentChange, ServiceState, Weights } from '../../../functions/core/types.js';
import type { PlanEndpoint } from '../../../functions/core/weightPlanner.js';
import { capacityShare } from '../../../functions/core/weightPlanner.js';
import { sharesOf } from '../../../functions/core/weights.js';
import { codes, evaluation, makeService, MINUTE, observe, T0 } from '../../support/engineFixtures.js';

// Three endpoints of 100 requests/s warm capacity at 85% target utilisation; c (baseline 50) the small one.
const service = makeService({
  baselines: [100, 100, 50],
  endpoints: [{ capacity: { warmRps: 100 } }, { capacity: { warmRps: 100 } }, { capacity: { warmRps: 40 } }],
});
const TOTAL = 250;

/** a moved down 6 minutes ago (its recovery ended), b up then and again 3 minutes ago (c's first shed). */
const RECENT: RecentChange[] = [
  { at: T0 - 6 * MINUTE, emergency: false, moved: { a: -1, b: 1 } },
  { at: T0 - 3 * MINUTE, emergency: false, moved: { b: 1, c: -1 } },
];
const NOW: Weights = { a: 100, b: 130, c: 20 };

function states(status: Partial<Record<string, EndpointState['status']>> = {}): Record<string, EndpointState> {
  return Object.fromEntries(['a', 'b', 'c'].map((id) => [id, { ...initialEndpointState(T0 - 60 * MINUTE, service.policy), status: status[id] ?? 'healthy' }]));
}

function planned(endpoints: Record<string, EndpointState>, current: Weights): PlanEndpoint[] {
  const sum = Object.values(current).reduce((x, y) => x + y, 0);
  return service.endpoints.map((config) => {
    const state = endpoints[config.setIdentifier]!;
    return {
      config,
      state,
      factor: 1,
      receiver: state.status === 'healthy',
      maintenance: false,
      failing: false,
      current: (current[config.setIdentifier]! / sum) * TOTAL,
      severe: false,
      dwelling: false,
    };
  });
}

/** c degraded and shedding again: the plan would raise a (moved down 6 minutes ago) and cut b (moved up 3 minutes ago). */
function keep(
  options: {
    target?: Weights;
    current?: Weights;
    recent?: RecentChange[];
    demand?: number | null;
    prior?: Record<string, EndpointState>;
    c?: EndpointState['status'];
  } = {},
) {
  const current = options.current ?? NOW;
  const endpoints = states({ c: options.c ?? 'degraded' });
  const base = initialServiceState(service, T0 - 60 * MINUTE, current);
  const prior = options.prior ?? endpoints;
  const ev = evaluation(service, { state: { ...base, endpoints: prior, recentChanges: options.recent ?? RECENT }, currentWeights: current });
  const target = options.target ?? { a: 123, b: 122, c: 5 };
  return keepReceiversWay(ev, { target, endpoints, planned: planned(endpoints, current), demand: options.demand === undefined ? 100 : options.demand });
}

describe('Function: keepReceiversWay', () => {
  it('keeps a bystander from going back up for another endpoint’s shed: the receiver that went up takes it instead', () => {
    const out = keep();
    expect(out.value).toEqual({ a: 100, b: 145, c: 5 });
    expect(out.reasons).toEqual([
      {
        code: 'RECEIVER_KEPT',
        endpoint: 'a',
        message: 'a kept at 40% of the traffic, not 49%: it moved down 360 s ago, and moving it back now would flap; b takes the difference',
      },
    ]);
  });

  it('lets the plan stand when the others have no planned capacity for the difference', () => {
    // At 200 requests/s, b's 85 requests/s at 85% is 42.5% of the traffic: b can take 58% − 49% no more.
    const out = keep({ demand: 200 });
    expect(out.value).toEqual({ a: 123, b: 122, c: 5 });
    expect(out.reasons).toEqual([]);
    // Nor when the demand is unknown: nobody's room is known.
    expect(keep({ demand: null }).value).toEqual({ a: 123, b: 122, c: 5 });
  });

  it('never keeps a move back toward the baseline share: an incident’s end is not a flap to prevent', () => {
    // a went up 6 minutes ago to carry a drained region's traffic; the plan brings it home.
    const out = keep({
      current: { a: 130, b: 100, c: 20 },
      target: { a: 105, b: 120, c: 25 },
      recent: [{ at: T0 - 6 * MINUTE, emergency: true, moved: { a: 1 } }],
    });
    expect(out.value).toEqual({ a: 105, b: 120, c: 25 });
    expect(out.reasons).toEqual([]);
  });

  it('leaves the plan alone outside the dwell, and for an endpoint whose own state moved in this decision', () => {
    expect(keep({ recent: [{ at: T0 - 11 * MINUTE, emergency: false, moved: { a: -1, b: 1 } }] }).value).toEqual({ a: 123, b: 122, c: 5 });
    // a was recovering before this decision (its recovery completes now): its move is its own.
    const recovering = { ...states({ c: 'degraded' }), a: { ...states().a!, status: 'recovering' as const } };
    expect(keep({ prior: recovering }).value).toEqual({ a: 123, b: 122, c: 5 });
  });

  it('keeps a bystander raised within the dwell from being cut below its baseline share for another’s recovery: one that has not moved gives instead', () => {
    // b went up 4 minutes ago; the plan would now cut it below its baseline share and raise a, which has not moved.
    const out = keep({
      current: { a: 100, b: 110, c: 40 },
      target: { a: 115, b: 85, c: 50 },
      recent: [{ at: T0 - 4 * MINUTE, emergency: false, moved: { b: 1, c: -1 } }],
    });
    expect(out.value).toEqual({ a: 90, b: 110, c: 50 });
    expect(out.reasons.map((r) => [r.code, r.endpoint])).toEqual([['RECEIVER_KEPT', 'b']]);
  });
});

describe('Function: keepReceiversWay, both ways at once', () => {
  it('keeps two bystanders the plan would move back both ways, with nothing left for the others to take', () => {
    // a went down and b up 5 minutes ago; the plan now swaps 10 points between them while c sheds nothing.
    const out = keep({
      current: { a: 100, b: 100, c: 50 },
      target: { a: 110, b: 90, c: 50 },
      recent: [{ at: T0 - 5 * MINUTE, emergency: false, moved: { a: -1, b: 1 } }],
    });
    expect(out.value).toEqual({ a: 100, b: 100, c: 50 });
    expect(out.reasons.map((r) => r.endpoint)).toEqual(['a', 'b']);
    // c healthy and serving nothing, a above its baseline share and b at it: a would go further up, b
    // further down, by as much. Both are kept; c, the only other receiver, has nothing to take or give.
    const idle = keep({
      c: 'healthy',
      current: { a: 120, b: 80, c: 0 },
      target: { a: 130, b: 70, c: 0 },
      recent: [{ at: T0 - 5 * MINUTE, emergency: false, moved: { a: -1, b: 1 } }],
    });
    expect(idle.value).toEqual({ a: 120, b: 80, c: 0 });
  });
});

describe('Function: decide, with receivers keeping their way', () => {
  it('says RECEIVER_KEPT and writes the kept share when a shed would move a bystander back', () => {
    const endpoints = { ...states(), c: { ...states().c!, status: 'degraded' as const, shed: 0.3, shedFrom: 1, shedSince: T0 - 4 * MINUTE } };
    const state: ServiceState = { ...initialServiceState(service, T0 - 60 * MINUTE, NOW), endpoints, recentChanges: RECENT };
    const observations = {
      periodStart: T0 - MINUTE,
      endpoints: { a: observe('ok', 40), b: observe('ok', 52), c: observe('severe', 8) },
    };
    const { decision } = decide(service, { now: T0, observations, state, currentWeights: NOW });
    expect(codes(decision)).toContain('RECEIVER_KEPT');
    expect(decision.targetWeights.a).toBe(100);
  });
});

describe('Function: keepReceiversWay (property-based)', () => {
  const weight = fc.integer({ min: 0, max: 200 });
  const weightsArb = fc.record({ a: weight, b: weight, c: weight }).filter((w) => w.a + w.b + w.c >= 50);
  const moveArb = fc.record({
    at: fc.integer({ min: 1, max: 15 }),
    moved: fc.record({ a: fc.constantFrom(1, -1, 0), b: fc.constantFrom(1, -1, 0), c: fc.constantFrom(1, -1, 0) }),
  });

  it('moves only healthy receivers, keeps the total, holds each kept one where it was, and pushes no taker past its planned capacity', () => {
    fc.assert(
      fc.property(weightsArb, weightsArb, fc.array(moveArb, { maxLength: 3 }), fc.integer({ min: 20, max: 400 }), (current, target, moves, demand) => {
        const recent: RecentChange[] = moves
          .map(({ at, moved }) => ({
            at: T0 - at * MINUTE,
            emergency: false,
            moved: Object.fromEntries(Object.entries(moved).filter(([, way]) => way !== 0)) as Record<string, 1 | -1>,
          }))
          .sort((x, y) => x.at - y.at);
        const out = keep({ current, target, recent, demand });
        const sum = (w: Weights) => w.a! + w.b! + w.c!;
        // The same total, or less where a weight would pass 255 (integerWeights); a share moves by up to a point of it in rounding.
        expect(sum(out.value)).toBeLessThanOrEqual(sum(target));
        const tol = 1.5 / Math.min(sum(target), sum(out.value));
        const [before, planned, after] = [sharesOf(current, ['a', 'b', 'c']), sharesOf(target, ['a', 'b', 'c']), sharesOf(out.value, ['a', 'b', 'c'])];
        // c is degraded: its weight is its state's, never the rule's.
        expect(Math.abs(after.c! - planned.c!)).toBeLessThanOrEqual(tol);
        for (const id of ['a', 'b']) {
          const config = service.endpoints.find((e) => e.setIdentifier === id)!;
          if (after[id]! > planned[id]! + tol) expect(after[id]!).toBeLessThanOrEqual(Math.max(before[id]!, capacityShare(config, demand)) + tol);
        }
        for (const r of out.reasons) expect(Math.abs(after[r.endpoint!]! - before[r.endpoint!]!)).toBeLessThanOrEqual(tol);
      }),
      { numRuns: 2000 },
    );
  });
});
