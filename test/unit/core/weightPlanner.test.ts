import { describe, expect, it } from 'vitest';
import { initialEndpointState } from '../../../functions/core/hysteresis.js';
import type { EndpointStatus } from '../../../functions/core/types.js';
import { capacityShare, planWeights, type PlanEndpoint } from '../../../functions/core/weightPlanner.js';
import { makeService } from '../../support/engineFixtures.js';

const service = makeService({ n: 4 });
const policy = service.policy;

function endpoint(
  i: number,
  status: EndpointStatus,
  options: {
    factor?: number;
    baseline?: number;
    role?: 'active' | 'standby' | 'overflow';
    maxShare?: number;
    warmRps?: number;
    failing?: boolean;
    maintenance?: boolean;
    /** Held out while it deploys (drain-during-deploy), rather than by an operator. */
    deploying?: boolean;
    current?: number;
    shedFrom?: number;
    severe?: boolean;
    dwelling?: boolean;
    /** Its state says it was drained as failing (hard down), not slow. */
    failed?: boolean;
    targetUtilization?: number;
    lateAtAnyShare?: boolean;
    /** Failing: its error rate this period proves more than a quarter of its requests fail. */
    failsMany?: boolean;
    /** Failing: its error rate this period proves more than a tenth of its requests fail. */
    failsSome?: boolean;
    /** A recovery step that failed, held back from flapping (hysteresis.ts). */
    recoveryFailed?: boolean;
  } = {},
): PlanEndpoint {
  const config = service.endpoints[i]!;
  const state = {
    ...initialEndpointState(0, policy),
    status,
    ...(options.shedFrom !== undefined ? { shedFrom: options.shedFrom } : {}),
    ...(options.failed !== undefined ? { failed: options.failed } : {}),
    ...(options.recoveryFailed ? { recoveryFailed: { at: 0, until: 300_000, backTo: 0 } } : {}),
  };
  const factor = options.factor ?? (status === 'healthy' ? 1 : status === 'drained' ? 0 : 0.5);
  return {
    config: {
      ...config,
      baselineWeight: options.baseline ?? config.baselineWeight,
      role: options.role ?? 'active',
      capacity: { ...config.capacity, maxShare: options.maxShare ?? 1, warmRps: options.warmRps, targetUtilization: options.targetUtilization ?? 1 },
    },
    state,
    factor: options.maintenance || options.deploying ? 0 : factor,
    receiver: status === 'healthy' && !options.maintenance && !options.deploying,
    maintenance: options.maintenance ?? options.deploying ?? false,
    ...(options.deploying ? { deploying: true } : {}),
    failing: options.failing ?? false,
    current: options.current ?? options.baseline ?? config.baselineWeight,
    severe: options.severe ?? false,
    dwelling: options.dwelling ?? false,
    ...(options.lateAtAnyShare !== undefined ? { lateAtAnyShare: options.lateAtAnyShare } : {}),
    ...(options.failsMany !== undefined ? { failsMany: options.failsMany } : {}),
    ...(options.failsSome !== undefined ? { failsSome: options.failsSome } : {}),
  };
}

describe('planWeights', () => {
  it('shares a zero-baseline standby tier by capacity', () => {
    const plan = planWeights(
      [
        endpoint(0, 'drained', { failing: true }),
        endpoint(1, 'healthy', { maxShare: 0.75 }),
        endpoint(2, 'healthy', { role: 'standby', baseline: 0, maxShare: 0.5 }),
        endpoint(3, 'healthy', { role: 'standby', baseline: 0, maxShare: 0.25 }),
      ],
      null,
      policy,
    );
    // Total 200: b grows to its cap (150, 75%); the 50 left go to the standbys by capacity, 2:1.
    expect(plan.weights.a).toBe(0);
    expect(plan.weights.b).toBeCloseTo(150);
    expect(plan.weights.c).toBeCloseTo(100 / 3);
    expect(plan.weights.d).toBeCloseTo(50 / 3);
    expect(plan.blocked).toEqual([]);
  });

  /** a (baseline 100) failed and drained; the receivers take its traffic, demand unknown. */
  const afterFailure = (...receivers: PlanEndpoint[]) => planWeights([endpoint(0, 'drained', { failing: true }), ...receivers], null, policy);

  it("shares a failed endpoint's traffic among the receivers by their planned warm capacity, not their baseline weight", () => {
    const plan = afterFailure(
      endpoint(1, 'healthy', { warmRps: 60, targetUtilization: 0.85 }),
      endpoint(2, 'healthy', { warmRps: 20, targetUtilization: 0.85 }),
      endpoint(3, 'healthy', { warmRps: 20, targetUtilization: 0.85 }),
    );
    // Total 400, a's 100 freed: 3:1:1 by warm capacity, so each receiver's utilisation rises alike
    // (by baseline, the two 20 requests/s regions would take a third each).
    expect(plan.weights.a).toBe(0);
    expect(plan.weights.b).toBeCloseTo(160);
    expect(plan.weights.c).toBeCloseTo(120);
    expect(plan.weights.d).toBeCloseTo(120);
    expect(plan.blocked).toEqual([]);
  });

  it('shares by baseline weight when a receiver has no warm capacity to plan with', () => {
    const plan = afterFailure(
      endpoint(1, 'healthy', { warmRps: 60, baseline: 200 }),
      endpoint(2, 'healthy', { baseline: 100 }),
      endpoint(3, 'healthy', { warmRps: 20, baseline: 100 }),
    );
    // Total 500, a's 100 freed: 2:1:1 by baseline.
    expect(plan.weights.b).toBeCloseTo(250);
    expect(plan.weights.c).toBeCloseTo(125);
    expect(plan.weights.d).toBeCloseTo(125);
  });

  it('gives shed traffic back, slow endpoints first and failing ones last, when nobody can take it', () => {
    const plan = planWeights(
      [
        endpoint(0, 'drained', { failing: true }),
        endpoint(1, 'healthy', { maxShare: 0.3 }),
        endpoint(2, 'healthy', { maxShare: 0.3 }),
        endpoint(3, 'degraded', { factor: 0.5 }),
      ],
      null,
      policy,
    );
    // Total 400: b and c take 20 each (to 120 = 30%); d gets its 50 back; a keeps the other 110.
    expect(plan.weights.b).toBeCloseTo(120);
    expect(plan.weights.c).toBeCloseTo(120);
    expect(plan.weights.d).toBeCloseTo(100);
    expect(plan.weights.a).toBeCloseTo(60);
    expect(plan.blocked.map((b) => b.message)).toEqual([
      'shedding less from d: the other endpoints have no warm headroom for it',
      'keeping some traffic on failing a: the other endpoints have no warm headroom for it',
    ]);
  });

  it('never moves traffic into a failing endpoint: what nobody has room for runs the receivers past their limits', () => {
    // a is hard down and already holds 30 (what b could not take when it drained); demand grew since.
    const plan = planWeights([endpoint(0, 'drained', { failing: true, current: 30 }), endpoint(1, 'healthy', { maxShare: 0.6 })], null, policy);
    expect(plan.weights.a).toBeCloseTo(30);
    expect(plan.weights.b).toBeCloseTo(170);
    expect(plan.blocked.map((b) => b.message)).toEqual([
      'keeping some traffic on failing a: the other endpoints have no warm headroom for it',
      'b will run past their capacity limits (target utilisation, maxShare): no endpoint has headroom for 25% of the traffic',
    ]);
  });

  it('runs the receivers up to their full warm capacity before giving traffic back to an endpoint late at any share', () => {
    // 50 requests/s. b (60 warm, target utilisation 0.5) has room for 20 at its target, 100 at full warm capacity; c sheds 80.
    const plan = (lateAtAnyShare: boolean) =>
      planWeights(
        [endpoint(1, 'healthy', { warmRps: 60, targetUtilization: 0.5 }), endpoint(2, 'degraded', { factor: 0.2, severe: true, lateAtAnyShare })],
        50,
        policy,
      );
    // Severe but only slow: c is given back what b cannot take at its target utilisation.
    expect(plan(false).weights).toEqual({ b: expect.closeTo(120), c: expect.closeTo(80) });
    // Late at any share: b runs past its target, up to its warm capacity, and c keeps its shed.
    const late = plan(true);
    expect(late.weights).toEqual({ b: expect.closeTo(180), c: expect.closeTo(20) });
    expect(late.blocked.map((b) => b.message)).toEqual([
      'running b past target utilisation in the busiest minutes (up to full warm capacity, or target utilisation at the mean demand), rather than giving traffic back to c: its requests are late at any share',
    ]);
  });

  it('runs the receivers up to their full warm capacity before keeping traffic on an endpoint failing more than a quarter of its requests', () => {
    // 50 requests/s. b (60 warm, target utilisation 0.5) has room for 30 at its target; a, failing, carries 80 of 200.
    const plan = (failsMany: boolean) =>
      planWeights(
        [endpoint(0, 'drained', { failing: true, current: 80, failsMany }), endpoint(1, 'healthy', { warmRps: 60, targetUtilization: 0.5 })],
        50,
        policy,
      );
    // Failing a few percent: a keeps what b cannot take at its target utilisation.
    expect(plan(false).weights).toEqual({ a: expect.closeTo(80), b: expect.closeTo(120) });
    // Failing more than a quarter: b runs up to its warm capacity (60 of the 50 requests/s), and a keeps nothing.
    const many = plan(true);
    expect(many.weights).toEqual({ a: expect.closeTo(0), b: expect.closeTo(200) });
    expect(many.blocked.map((b) => b.message)).toEqual([
      'running b past target utilisation in the busiest minutes (up to full warm capacity, or target utilisation at the mean demand), rather than giving traffic back to a: more than a quarter of its requests fail',
    ]);
  });

  it('runs the receivers up to their full warm capacity in the busiest minute before keeping traffic on an endpoint failing more than a tenth of its requests', () => {
    // Busiest minute 100 requests/s, mean 40. b (60 warm, target utilisation 0.8) carries its 100 of 200
    // (50 requests/s, past its target in the busiest minute); a, failing, sheds its 100.
    const plan = (fails: { failsSome?: boolean; failsMany?: boolean }) =>
      planWeights(
        [endpoint(0, 'drained', { failing: true, current: 100, ...fails }), endpoint(1, 'healthy', { warmRps: 60, targetUtilization: 0.8 })],
        100,
        policy,
        40,
      );
    // Failing a few percent: a keeps what b has no room for at its target utilisation.
    expect(plan({}).weights).toEqual({ a: expect.closeTo(100), b: expect.closeTo(100) });
    // Failing more than a tenth: b runs up to its full warm capacity in the busiest minute (60 of 100 requests/s).
    const some = plan({ failsSome: true });
    expect(some.weights).toEqual({ a: expect.closeTo(80), b: expect.closeTo(120) });
    expect(some.blocked.map((b) => b.message)).toEqual([
      'running b past target utilisation in the busiest minutes (up to full warm capacity), rather than giving traffic back to a: more than a tenth of its requests fail',
      'keeping some traffic on failing a: the other endpoints have no warm headroom for it',
    ]);
    // Failing more than a quarter: the burst room, at its target utilisation at the mean demand too, takes it all.
    expect(plan({ failsSome: true, failsMany: true }).weights).toEqual({ a: expect.closeTo(0), b: expect.closeTo(200) });
  });

  it('plans the burst room at the mean demand too, where the busiest minute is a burst', () => {
    // Busiest minute 100 requests/s, mean 40. b (60 warm, target utilisation 0.8) takes 60 of the busiest
    // minute at full warm capacity (share 0.6), 48 of the mean at its target (share 1.2, capped by maxShare 1).
    const endpoints = [
      endpoint(1, 'healthy', { warmRps: 60, targetUtilization: 0.8 }),
      endpoint(2, 'degraded', { factor: 0, severe: true, lateAtAnyShare: true }),
    ];
    // c sheds everything (100 of 200); b holds 100 and may take up to 200 (its maxShare), so c keeps nothing.
    expect(planWeights(endpoints, 100, policy, 40).weights).toEqual({ b: expect.closeTo(200), c: expect.closeTo(0) });
    // Judged on the busiest minute alone: b stops at 60% of the traffic, and c keeps the rest.
    expect(planWeights(endpoints, 100, policy).weights).toEqual({ b: expect.closeTo(120), c: expect.closeTo(80) });
    // The mean bounds only the burst room: an endpoint only slow, not late at any share, is given back
    // what b cannot take at its target utilisation in the busiest minute (b keeps the 100 it carries now).
    const slow = [endpoints[0]!, endpoint(2, 'degraded', { factor: 0, severe: true, lateAtAnyShare: false })];
    expect(planWeights(slow, 100, policy, 40).weights).toEqual({ b: expect.closeTo(100), c: expect.closeTo(100) });
  });

  it('gives a slow endpoint back up to what it carried when it degraded, before a failing one gets anything', () => {
    // c carried 1.5× its baseline (a's overflow) when it degraded; shedding it into a would fail those requests.
    const plan = planWeights(
      [
        endpoint(0, 'drained', { failing: true, current: 50 }),
        endpoint(1, 'healthy', { maxShare: 0.4 }),
        endpoint(2, 'degraded', { factor: 0.5, shedFrom: 1.5 }),
      ],
      null,
      policy,
    );
    expect(plan.weights.c).toBeCloseTo(150);
    expect(plan.weights.a).toBeCloseTo(30);
  });

  it('takes a degraded endpoint above its baseline down first when the others claim their own back, rather than shrinking every endpoint alike', () => {
    // c degraded carrying a's traffic (shedFrom 2, 30% shed: 1.4× its baseline); a is back at its baseline.
    const back = planWeights([endpoint(0, 'healthy'), endpoint(1, 'healthy'), endpoint(2, 'degraded', { factor: 1.4, shedFrom: 2 })], null, policy);
    expect(back.weights).toEqual({ a: expect.closeTo(100), b: expect.closeTo(100), c: expect.closeTo(100) });
    // b sheds 20 of its own: c keeps that much of its excess, and a keeps its baseline.
    const partly = planWeights(
      [endpoint(0, 'healthy'), endpoint(1, 'degraded', { factor: 0.8 }), endpoint(2, 'degraded', { factor: 1.4, shedFrom: 2 })],
      null,
      policy,
    );
    expect(partly.weights).toEqual({ a: expect.closeTo(100), b: expect.closeTo(80), c: expect.closeTo(120) });
  });

  it('gives a slow endpoint within its dwell no more than it carries now: the receivers run hot instead of the shed reversing', () => {
    // c shed to 20 of its 100 three minutes ago and carries 30 now; b has room for 20 of the 80 placed.
    const plan = (dwelling: boolean) =>
      planWeights([endpoint(1, 'healthy', { maxShare: 0.6 }), endpoint(2, 'degraded', { factor: 0.2, shedFrom: 1, current: 30, dwelling })], null, policy);
    const within = plan(true);
    expect(within.weights).toEqual({ b: expect.closeTo(170), c: expect.closeTo(30) });
    expect(within.blocked.map((r) => r.message)).toEqual([
      'shedding less from c: the other endpoints have no warm headroom for it',
      'b will run past their capacity limits (target utilisation, maxShare): no endpoint has headroom for 25% of the traffic',
    ]);
    // Its dwell over, it is given back up to what it carried when it degraded.
    expect(plan(false).weights).toEqual({ b: expect.closeTo(120), c: expect.closeTo(80) });
  });

  it('gives a drained slow endpoint no more than it carries, its dwell over or not: it takes more by its recovery steps', () => {
    // c was drained too slow and keeps 30 the others had no room for; b has room for 20 of the 100 placed.
    const plan = planWeights([endpoint(1, 'healthy', { maxShare: 0.6 }), endpoint(2, 'drained', { shedFrom: 1, current: 30 })], null, policy);
    expect(plan.weights).toEqual({ b: expect.closeTo(170), c: expect.closeTo(30) });
    expect(plan.blocked.map((r) => r.message)).toEqual([
      'shedding less from c: the other endpoints have no warm headroom for it',
      'b will run past their capacity limits (target utilisation, maxShare): no endpoint has headroom for 25% of the traffic',
    ]);
  });

  it('may give a slow endpoint within its dwell more when an operator or a deployment freed the traffic: planned, not a change of mind', () => {
    // a is held out by a deployment; b has room for 20 of the 180 placed; c, within its dwell, takes its 80 back.
    const plan = planWeights(
      [
        endpoint(0, 'healthy', { maintenance: true }),
        endpoint(1, 'healthy', { maxShare: 0.4 }),
        endpoint(2, 'degraded', { factor: 0.2, shedFrom: 1, current: 30, dwelling: true }),
      ],
      null,
      policy,
    );
    expect(plan.weights).toEqual({ a: 0, b: expect.closeTo(200), c: expect.closeTo(100) });
  });

  it('gives traffic back to a mildly slow endpoint before one with severe breaches in its window', () => {
    // 150 to place (b sheds half, c all); a has room for 50 (half of 300); b and c have room for 50 and 100.
    const plan = (bSevere: boolean, cSevere: boolean) =>
      planWeights(
        [
          endpoint(0, 'healthy', { maxShare: 0.5 }),
          endpoint(1, 'degraded', { factor: 0.5, shedFrom: 1, severe: bSevere }),
          endpoint(2, 'degraded', { factor: 0, shedFrom: 1, severe: cSevere }),
        ],
        null,
        policy,
      ).weights;
    // c has severe breaches: the mild b gets all its 50 back first, c the 50 left.
    expect(plan(false, true)).toEqual({ a: expect.closeTo(150), b: expect.closeTo(100), c: expect.closeTo(50) });
    // b has them: c, the mild one, takes the 100 left.
    expect(plan(true, false)).toEqual({ a: expect.closeTo(150), b: expect.closeTo(50), c: expect.closeTo(100) });
    // Both alike: in proportion to their room, as before.
    expect(plan(false, false)).toEqual({ a: expect.closeTo(150), b: expect.closeTo(50 + 100 / 3), c: expect.closeTo(200 / 3) });
  });

  it('lets a healthy endpoint keep what it carries now, though the capacity model would give it less', () => {
    // 100 requests/s: b's warm 50 makes its share 50%, but it carries 60% and copes (it is healthy).
    const plan = planWeights([endpoint(0, 'drained', { failing: true, current: 80 }), endpoint(1, 'healthy', { warmRps: 50, current: 120 })], 100, policy);
    expect(plan.weights.b).toBeCloseTo(120);
    expect(plan.weights.a).toBeCloseTo(80);
  });

  it('gives an endpoint back from a hard failure its traffic before a receiver runs past its warm capacity; a slow one recovering waits its steps', () => {
    // 100 requests/s: b's warm 50 makes its share 50% (100 of 200); it carries 150 now. a recovers at its first step (25).
    const plan = (failed: boolean) =>
      planWeights([endpoint(0, 'recovering', { factor: 0.25, shedFrom: 1, failed }), endpoint(1, 'healthy', { warmRps: 50, current: 150 })], 100, policy)
        .weights;
    expect(plan(true)).toEqual({ a: expect.closeTo(100), b: expect.closeTo(100) });
    // A region that was slow may be slow again under load: b keeps what it carries, a takes the rest.
    expect(plan(false)).toEqual({ a: expect.closeTo(50), b: expect.closeTo(150) });
  });

  it('gives a recovering endpoint whose step failed (held back from flapping) no more than it carries: it is slow, not shown healthy', () => {
    const plan = planWeights(
      [endpoint(0, 'recovering', { factor: 0.25, shedFrom: 1, current: 25, recoveryFailed: true }), endpoint(1, 'healthy', { warmRps: 50, current: 150 })],
      100,
      policy,
    );
    expect(plan.weights).toEqual({ a: expect.closeTo(25), b: expect.closeTo(175) });
    expect(plan.blocked.map((b) => b.code)).toEqual(['CAPACITY_LIMITED']);
  });

  it('keeps on an endpoint held out while it deploys what the others have no room for, never more than it carries; an operator drain stays at zero', () => {
    // 100 requests/s, weights out of 300: b has warm room for 40% (120); c, slow, sheds half of its 100.
    const plan = (held: { deploying?: boolean; maintenance?: boolean }, current?: number) =>
      planWeights(
        [
          endpoint(0, 'healthy', { ...held, ...(current !== undefined ? { current } : {}) }),
          endpoint(1, 'healthy', { warmRps: 40 }),
          endpoint(2, 'degraded', { factor: 0.5, shedFrom: 1, current: 50, dwelling: true }),
        ],
        100,
        policy,
      );
    // b takes 20; the slow c shedding less comes first (the deploy freed the traffic: planned); a keeps the 80 left.
    const deploying = plan({ deploying: true });
    expect(deploying.weights).toEqual({ a: expect.closeTo(80), b: expect.closeTo(120), c: expect.closeTo(100) });
    expect(deploying.blocked.map((b) => b.message)).toContain('keeping a serving while it deploys: the other endpoints have no warm headroom for its share');
    // Drained to 30 already: it does not grow back while it deploys (that reversal would be a flap); b runs past its warm capacity.
    expect(plan({ deploying: true }, 30).weights).toEqual({ a: expect.closeTo(30), b: expect.closeTo(170), c: expect.closeTo(100) });
    // An operator's drain is an order: a stays at 0 and b runs past its capacity.
    expect(plan({ maintenance: true }).weights).toEqual({ a: 0, b: expect.closeTo(200), c: expect.closeTo(100) });
  });

  it('says when nobody at all can take the shed traffic', () => {
    const plan = planWeights([endpoint(0, 'drained', { maintenance: true }), endpoint(1, 'healthy', { maxShare: 0.3 })], null, policy);
    expect(plan.blocked.map((b) => b.message)).toEqual([
      'b will run past their capacity limits (target utilisation, maxShare): no endpoint has headroom for 50% of the traffic',
    ]);
  });

  it('keeps the least bad endpoints serving first: slow before failing, operator-drained last', () => {
    const strict = { ...policy, safety: { ...policy.safety, minHealthyEndpoints: 3 } };
    const plan = planWeights(
      [
        endpoint(0, 'drained', { failing: true }),
        endpoint(1, 'drained', { maintenance: true }),
        endpoint(2, 'degraded', { factor: 0 }),
        endpoint(3, 'healthy', { maxShare: 1 }),
      ],
      null,
      strict,
    );
    expect(plan.weights.c).toBeGreaterThan(0);
    expect(plan.weights.a).toBeGreaterThan(0);
    expect(plan.weights.b).toBe(0);
    expect(plan.blocked.filter((b) => b.code === 'MIN_HEALTHY_ENDPOINTS').map((b) => b.endpoint)).toEqual(['c', 'a']);
  });
});

describe('capacityShare', () => {
  it('uses maxShare when demand or warm capacity is unknown, and the tighter of the two otherwise', () => {
    const e = endpoint(0, 'healthy', { maxShare: 0.8, warmRps: 50 }).config;
    expect(capacityShare(e, null)).toBe(0.8);
    expect(capacityShare(e, 0)).toBe(0.8);
    expect(capacityShare(e, 100)).toBe(0.5);
    expect(capacityShare(e, 50)).toBe(0.8);
  });
});
