import { describe, expect, it } from 'vitest';
import { decide } from '../../../functions/core/engine.js';
import { CONFIRMING_BREACHES, LIMIT_TTL_MS, learnLimit, plannedWarm, planningLimit } from '../../../functions/core/learnedHeadroom.js';
import type { EndpointState, ServiceState, VerdictRecord, Weights } from '../../../functions/core/types.js';
import { MINUTE, makeService, observe, T0 } from '../../support/engineFixtures.js';

const breach: VerdictRecord = { periodStart: T0, verdict: 'breach' };
const clear: VerdictRecord = { periodStart: T0, verdict: 'clear' };

describe('learnLimit', () => {
  it('learns the lowest utilisation an endpoint breached at, from a fifth of its capacity up', () => {
    expect(learnLimit(undefined, breach, 0.7, T0, 2)).toEqual({ utilisation: 0.7, at: T0 });
    expect(learnLimit({ utilisation: 0.7, at: T0 }, breach, 0.6, T0 + MINUTE, 2)).toEqual({ utilisation: 0.6, at: T0 + MINUTE });
    // A breach at a higher load than the limit says nothing new; one at 10% is not about load.
    expect(learnLimit({ utilisation: 0.6, at: T0 }, breach, 0.8, T0 + MINUTE, 2)).toEqual({ utilisation: 0.6, at: T0 });
    expect(learnLimit(undefined, breach, 0.1, T0, 2)).toBeUndefined();
  });

  it('raises the limit where the endpoint is clear at a higher load, and ignores errors, holds and unread load', () => {
    const limit = { utilisation: 0.6, at: T0 };
    expect(learnLimit(limit, clear, 0.75, T0 + MINUTE, 2)).toEqual({ utilisation: 0.75, at: T0 });
    expect(learnLimit(limit, clear, 0.5, T0 + MINUTE, 2)).toEqual(limit);
    expect(learnLimit(undefined, { periodStart: T0, verdict: 'fail' }, 0.5, T0, 2)).toBeUndefined();
    expect(learnLimit(limit, { periodStart: T0, verdict: 'hold' }, 0.9, T0 + MINUTE, 2)).toEqual(limit);
    expect(learnLimit(limit, breach, null, T0 + MINUTE, 2)).toEqual(limit);
    expect(learnLimit(limit, undefined, 0.4, T0 + MINUTE, 2)).toEqual(limit);
  });

  it('learns nothing from a breach alone in the detection window: one slow minute is not the endpoint’s capacity', () => {
    expect(learnLimit(undefined, breach, 0.5, T0, 1)).toBeUndefined();
    expect(learnLimit({ utilisation: 0.7, at: T0 }, breach, 0.5, T0 + MINUTE, 1)).toEqual({ utilisation: 0.7, at: T0 });
    expect(learnLimit(undefined, breach, 0.5, T0, CONFIRMING_BREACHES)).toEqual({ utilisation: 0.5, at: T0 });
  });

  it('forgets the limit half an hour after the breach that set it', () => {
    const limit = { utilisation: 0.6, at: T0 };
    expect(learnLimit(limit, clear, 0.3, T0 + LIMIT_TTL_MS - 1, 2)).toEqual(limit);
    expect(learnLimit(limit, clear, 0.3, T0 + LIMIT_TTL_MS, 2)).toBeUndefined();
  });
});

describe('planningLimit', () => {
  it('is the lower of the endpoint’s own limit and its peers’, naming the peer', () => {
    const own = { utilisation: 0.7, at: T0 };
    expect(planningLimit(own, [])).toEqual(own);
    expect(planningLimit(undefined, [])).toBeUndefined();
    expect(
      planningLimit(own, [
        { id: 'b', limit: { utilisation: 0.65, at: T0 + MINUTE } },
        { id: 'c', limit: { utilisation: 0.8, at: T0 } },
      ]),
    ).toEqual({
      utilisation: 0.65,
      at: T0 + MINUTE,
      from: 'b',
    });
    expect(planningLimit({ utilisation: 0.6, at: T0 }, [{ id: 'b', limit: { utilisation: 0.65, at: T0 } }])).toEqual({ utilisation: 0.6, at: T0 });
  });
});

describe('plannedWarm', () => {
  const service = makeService({ n: 2, endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 } }, {}] });
  const config = service.endpoints[0]!;

  it('plans with a margin under the utilisation the endpoint was too slow at, and says so', () => {
    const planned = plannedWarm(config, { utilisation: 0.6, at: T0 }, 100);
    // 90% of 0.6 is 0.54 of its warm capacity, where 0.8 was planned: 100 × 0.54 / 0.8.
    expect(planned.warmRps).toBeCloseTo(67.5);
    expect(planned.reason).toEqual({
      code: 'HEADROOM_LEARNED',
      endpoint: 'a',
      message: 'a planned at 54% of its warm capacity, not 80%: it was too slow at 60%',
    });
  });

  it('names the peer whose limit it plans with', () => {
    const planned = plannedWarm(config, { utilisation: 0.6, at: T0, from: 'c' }, 100);
    expect(planned.reason?.message).toBe('a planned at 54% of its warm capacity, not 80%: c, serving the same traffic, was too slow at 60%');
  });

  it('leaves the capacity as configured without a limit, or when the limit is above the target', () => {
    expect(plannedWarm(config, undefined, 100)).toEqual({ warmRps: 100 });
    expect(plannedWarm(config, { utilisation: 0.95, at: T0 }, 100)).toEqual({ warmRps: 100 });
    expect(plannedWarm(config, { utilisation: 0.5, at: T0 }, undefined)).toEqual({ warmRps: undefined });
  });
});

describe('learned headroom in a decision', () => {
  // a (warm 100 rps at 0.85) carries 60 requests/s and breaches; b is failing, so its traffic has to go somewhere.
  const service = makeService({ n: 2, endpoints: [{ capacity: { warmRps: 100 } }, { capacity: { warmRps: 100 } }] });

  function step(state: ServiceState | undefined, minute: number, a: 'ok' | 'slow', b: 'ok' | 'slow' | 'fail-severe', weights: Weights) {
    const now = T0 + minute * MINUTE;
    const endpoints = { a: observe(a, 60), b: observe(b, b === 'fail-severe' ? undefined : 60) };
    return decide(service, { now, observations: { periodStart: now - MINUTE, endpoints }, state, currentWeights: weights });
  }

  it('remembers the load an endpoint breached at, once a second breach confirms it, and plans it below that when another fails', () => {
    const alone = step(undefined, 0, 'slow', 'ok', { a: 100, b: 100 });
    expect(alone.nextState.endpoints.a!.learnedLimit).toBeUndefined();
    const first = step(alone.nextState, 1, 'slow', 'ok', { a: 100, b: 100 });
    expect(first.nextState.endpoints.a!.learnedLimit).toEqual({ utilisation: 0.6, at: T0 + MINUTE });
    // b fails a minute later: a would take it all (0.85 × 100 rps of 120), but it was too slow at 60.
    const second = step(first.nextState, 2, 'ok', 'fail-severe', { a: 100, b: 100 });
    expect(second.decision.reasons).toContainEqual({
      code: 'HEADROOM_LEARNED',
      endpoint: 'a',
      message: 'a planned at 54% of its warm capacity, not 85%: it was too slow at 60%',
    });
    // a's learned room (54 of its 100 requests/s) is less than the half it carries now: it keeps its half, no more.
    const shareOfA = (w: Weights) => w.a! / (w.a! + w.b!);
    expect(shareOfA(second.decision.targetWeights)).toBeCloseTo(0.5, 2);
    // Without the breach, a would be given what its configured 85 requests/s serve of the 120 arriving.
    const unlearned = step(step(undefined, 0, 'ok', 'ok', { a: 100, b: 100 }).nextState, 1, 'ok', 'fail-severe', { a: 100, b: 100 });
    expect(unlearned.decision.reasons.map((r) => r.code)).not.toContain('HEADROOM_LEARNED');
    expect(shareOfA(unlearned.decision.targetWeights)).toBeCloseTo(85 / 120, 2);
  });

  it('says so for an endpoint sized from its instances in service (perInstanceRps, no warmRps) as for one with a warmRps', () => {
    const scaled = makeService({
      n: 2,
      endpoints: [{}, { capacity: { scaling: { provider: { kind: 'ec2-asg', autoScalingGroupName: 'chat-b' }, perInstanceRps: 5, maxInstances: 30 } } }],
    });
    const first = decide(scaled, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints: {} }, state: undefined, currentWeights: { a: 100, b: 100 } });
    const learned: ServiceState = {
      ...first.nextState,
      endpoints: { ...first.nextState.endpoints, b: { ...first.nextState.endpoints.b!, learnedLimit: { utilisation: 0.5, at: T0 } } },
    };
    const now = T0 + MINUTE;
    const out = decide(scaled, {
      now,
      observations: { periodStart: now - MINUTE, endpoints: { a: observe('ok', 60), b: observe('ok', 20) } },
      state: learned,
      currentWeights: { a: 100, b: 100 },
      capacity: { b: { inService: 10, desired: 10 } },
    });
    expect(out.decision.reasons).toContainEqual(expect.objectContaining({ code: 'HEADROOM_LEARNED', endpoint: 'b' }));
  });

  it('learns under fail static too: every endpoint slow at once moves no state, but what each showed of its headroom is kept', () => {
    const first = step(undefined, 0, 'slow', 'slow', { a: 100, b: 100 });
    const { decision, nextState } = step(first.nextState, 1, 'slow', 'slow', { a: 100, b: 100 });
    expect(decision.mode).toBe('fail-static');
    expect(nextState.endpoints.a).toMatchObject({ status: 'healthy', learnedLimit: { utilisation: 0.6, at: T0 + MINUTE } });
    expect(nextState.endpoints.b).toMatchObject({ status: 'healthy', learnedLimit: { utilisation: 0.6, at: T0 + MINUTE } });
  });
});

describe('a peer’s learned headroom in a decision', () => {
  // Three endpoints of 100 warm requests/s (planned at 85) carry 60 each; b fails, and its 60 go to a and c.
  // c has learned it is too slow at 70% of its warm capacity: a, on the same traffic, is planned under it too.
  const service = makeService({ n: 3, endpoints: [{ capacity: { warmRps: 100 } }, { capacity: { warmRps: 100 } }, { capacity: { warmRps: 100 } }] });
  const weights = { a: 100, b: 100, c: 100 };

  function failB(c: Partial<EndpointState>) {
    const first = decide(service, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints: {} }, state: undefined, currentWeights: weights });
    const state: ServiceState = { ...first.nextState, endpoints: { ...first.nextState.endpoints, c: { ...first.nextState.endpoints.c!, ...c } } };
    const now = T0 + MINUTE;
    const endpoints = { a: observe('ok', 60), b: observe('fail-severe'), c: observe('ok', 60) };
    return decide(service, { now, observations: { periodStart: now - MINUTE, endpoints }, state, currentWeights: weights }).decision;
  }
  const shared = (d: ReturnType<typeof failB>) => d.reasons.find((r) => r.code === 'HEADROOM_LEARNED' && r.endpoint === 'a');

  it('plans a receiver under the utilisation a peer was too slow at from load, and names the peer', () => {
    const decision = failB({ learnedLimit: { utilisation: 0.7, at: T0 } });
    expect(shared(decision)?.message).toBe('a planned at 63% of its warm capacity, not 85%: c, serving the same traffic, was too slow at 70%');
    // a takes b's traffic up to 63 of its 100 requests/s, not up to 85.
    const unshared = failB({});
    expect(shared(unshared)).toBeUndefined();
    expect(decision.targetWeights.a!).toBeLessThan(unshared.targetWeights.a!);
  });

  it('does not share a limit learned at an impaired endpoint’s load, or by one with a severe breach in its window, or failing', () => {
    // Under 0.75 × 0.85 of its warm capacity, a slow endpoint is impaired, not busy.
    expect(shared(failB({ learnedLimit: { utilisation: 0.6, at: T0 } }))).toBeUndefined();
    const severe: VerdictRecord = { periodStart: T0 - MINUTE, verdict: 'breach', severe: true };
    expect(shared(failB({ learnedLimit: { utilisation: 0.7, at: T0 }, history: [severe] }))).toBeUndefined();
    expect(shared(failB({ learnedLimit: { utilisation: 0.7, at: T0 }, status: 'drained', failed: true, shed: 1 }))).toBeUndefined();
  });
});
