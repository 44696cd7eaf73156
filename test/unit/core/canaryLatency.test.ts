import { describe, expect, it } from 'vitest';
import { canaryBasis, canaryQueryOf, canaryVerdicts, profilesOnBasis, rolloutLatencySignal } from '../../../functions/core/canaryLatency.js';
import { parseConfig } from '../../../functions/core/config.js';
import { decide } from '../../../functions/core/engine.js';
import type { ServiceState } from '../../../functions/core/types.js';
import { evaluateEndpoint } from '../../../functions/core/verdicts.js';
import { deployDay, makeService, MINUTE, T0 } from '../../support/engineFixtures.js';

const withRollouts = (canary: Record<string, unknown> = {}) => makeService({ n: 2, policy: { rollout: { mode: 'drain-during-deploy', canary } } });

describe('Which signal and statistic a canary is judged on', () => {
  it('is the named signal, else the first percentile signal, at the canary statistic (p50 by default)', () => {
    const service = withRollouts();
    const endpoint = service.endpoints[0]!;
    expect(rolloutLatencySignal(endpoint, service.policy.rollout)?.name).toBe('p99');
    const signal = rolloutLatencySignal(endpoint, service.policy.rollout)!;
    expect(canaryQueryOf(endpoint, service.policy.rollout)).toEqual({ ...signal.metric, statistic: 'p50' });
    expect(canaryBasis(endpoint, service.policy.rollout)).toBe('p99@p50');
    const named = withRollouts({ latencySignal: 'errors', statistic: 'Average' });
    // Its own statistic already: the signal's value is the reading, nothing more is asked.
    expect(canaryQueryOf(named.endpoints[0]!, named.policy.rollout)).toBeUndefined();
    expect(canaryBasis(named.endpoints[0]!, named.policy.rollout)).toBe('errors@Average');
  });

  it('asks nothing when rollouts are off, or when the canary statistic is the signal’s own', () => {
    const off = makeService({ n: 1 });
    expect(canaryQueryOf(off.endpoints[0]!, off.policy.rollout)).toBeUndefined();
    const same = withRollouts({ statistic: 'p99' });
    expect(canaryQueryOf(same.endpoints[0]!, same.policy.rollout)).toBeUndefined();
  });

  it('refuses a canary statistic that is not a percentile or Average, naming the field', () => {
    const service = withRollouts();
    const input = { version: 1, services: [{ ...service, policy: { rollout: { mode: 'canary', canary: { statistic: 'Sum' } } } }] };
    const result = parseConfig(input);
    expect(result.ok ? [] : result.problems).toEqual([
      { path: 'services[0].policy.rollout.canary.statistic', message: 'must be a percentile (p50, p90, …) or Average, not Sum' },
    ]);
  });
});

describe('canaryVerdicts', () => {
  const service = makeService({
    n: 2,
    policy: { rollout: { mode: 'canary' } },
    endpoints: [{}, {}].map(() => ({
      signals: [
        { name: 'ttft', source: 'metric', metric: { namespace: 'I', metricName: 'TTFT', statistic: 'p99' }, scale: 1000, unit: 'ms', trip: 2000, clear: 1500 },
      ],
    })),
  });
  const verdictOf = (seconds: number) => evaluateEndpoint(service.endpoints[0]!.signals, { signals: { ttft: { value: seconds, sampleCount: 900 } } });

  it('puts the canary reading, scaled, in place of the latency signal’s value, and marks it', () => {
    const verdicts = { a: verdictOf(1.2), b: verdictOf(1.1) };
    const out = canaryVerdicts(service, { periodStart: T0, endpoints: { a: { signals: {}, canaryLatency: { value: 0.171, sampleCount: 300 } } } }, verdicts);
    expect(out.a!.signals[0]).toMatchObject({ signal: 'ttft', value: 171, sampleCount: 300, statistic: 'p50', canaryReading: true, unit: 'ms' });
    // No reading: missing, never the p99 in its place.
    expect(out.b!.signals[0]).toMatchObject({ value: null, sampleCount: null, statistic: 'p50', canaryReading: true });
    // The endpoint's own verdict is as it was.
    expect(out.a!.verdict).toBe(verdicts.a.verdict);
    expect(verdicts.a.signals[0]!.value).toBe(1200);
  });

  it('leaves a service without rollouts as it is', () => {
    const plain = makeService({ n: 1 });
    const verdicts = { a: evaluateEndpoint(plain.endpoints[0]!.signals, { signals: { p99: { value: 900, sampleCount: 900 } } }) };
    expect(canaryVerdicts(plain, { periodStart: T0, endpoints: {} }, verdicts)).toEqual(verdicts);
  });
});

describe('profilesOnBasis', () => {
  it('keeps a profile learned on the basis judged now and sets aside one of another basis', () => {
    const service = withRollouts();
    const profile = { n: 12, u: 6, uu: 3.1, y: 2400, yy: 480_100, uy: 1200, at: T0 };
    expect(profilesOnBasis(service, { a: { ...profile, basis: 'p99@p50' }, b: { ...profile, basis: 'p99@p99' } })).toEqual({
      a: { ...profile, basis: 'p99@p50' },
    });
    // One from before layout 8 says nothing: it was learned on the signal's own statistic.
    expect(profilesOnBasis(service, { a: profile })).toEqual({});
    expect(profilesOnBasis(withRollouts({ statistic: 'p99' }), { a: profile })).toEqual({ a: profile });
  });
});

describe('decide judges a canary on its median', () => {
  // Three endpoints of 100 requests/s. Their p99 is flat near idle (the longest prompts' prefill) and
  // rises past 30% utilisation, so a line learned at the day's 35-65% reaches idle far too low; their
  // median grows gently and evenly with load.
  const network: Record<string, number> = { a: 80, b: 40, c: 120 };
  const p99 = (id: string, u: number) => network[id]! + 600 + 1200 * Math.max(0, u - 0.3);
  const p50 = (id: string, u: number, slowdown: number) => network[id]! + 150 * (1 + 0.3 * u) * slowdown;
  const serviceOn = (statistic: string) =>
    makeService({
      n: 3,
      policy: {
        rollout: { mode: 'drain-during-deploy', canary: { steps: [0.1, 0.5, 1], holdSeconds: 300, statistic, maxLatencyRatio: 1.1, minSamples: 100 } },
      },
      endpoints: ['a', 'b', 'c'].map(() => ({ capacity: { warmRps: 100 }, load: { namespace: 'Inference', metricName: 'Requests', statistic: 'Sum' } })),
    });
  /** A day swinging ±30% around 150 requests/s, then `after` minutes with `a` deploying a version `slowdown` slower. */
  function day(statistic: string, slowdown: number, after = 40, start?: ServiceState) {
    return deployDay(
      serviceOn(statistic),
      ({ id, rate, u, deployed, wobble }) => {
        const samples = Math.round(rate * 60);
        const slower = id === 'a' && deployed ? slowdown : 1;
        return {
          signals: { p99: { value: p99(id, u) * slower * wobble, sampleCount: samples }, errors: { value: 0.1 } },
          canaryLatency: { value: p50(id, u, slower) * wobble, sampleCount: samples },
          requestRate: rate,
        };
      },
      after,
      start,
    );
  }

  it('rolls a good version back when judged on its p99 at 10%, and promotes it on its median', () => {
    const onTail = day('p99', 1).flatMap((s) => s.decision.rolloutEvents);
    expect(onTail).toEqual([expect.objectContaining({ type: 'Rollback Requested', reason: expect.stringContaining('step 1 (10%)') })]);
    const steps = day('p50', 1);
    expect(steps.flatMap((s) => s.decision.rolloutEvents)).toEqual([expect.objectContaining({ type: 'Rollout Succeeded' })]);
    const passed = steps.flatMap((s) => s.decision.reasons).find((r) => r.code === 'CANARY_STEP' && r.message.includes('step 1 (10%) passed'));
    expect(passed).toBeDefined();
  });

  it('rolls a version 40% slower back on its median, naming the statistic', () => {
    const steps = day('p50', 1.4);
    const rollback = steps.find((s) => s.decision.rolloutEvents.length > 0)!;
    expect(rollback.decision.rolloutEvents).toEqual([expect.objectContaining({ type: 'Rollback Requested', reason: expect.stringContaining('step 1 (10%)') })]);
    const message = rollback.decision.reasons.find((r) => r.code === 'ROLLBACK_REQUESTED')!.message;
    // The controls carry its share past the loads their lines were learned on: its own line.
    expect(message).toMatch(/p99 at p50 \d+ms is 1\.\d+× a's own line at the canary's \d+% utilisation/);
  });

  it('learns its lines on the median, and sets aside lines learned on another statistic', () => {
    // Learned on the day before (no rollout yet): stored with what they were learned on.
    const learned = day('p50', 1, 1)[0]!.state.loadProfiles;
    expect(learned.b!.basis).toBe('p99@p50');
    expect(learned.b!.n).toBeGreaterThan(1000);
    // A state whose lines were learned on the p99 (as a layout-7 state's were): learned afresh.
    const onTail = day('p99', 1, 1)[0]!.state;
    expect(onTail.loadProfiles.b!.basis).toBe('p99@p99');
    const service = serviceOn('p50');
    const ok = { signals: { p99: { value: 900, sampleCount: 5000 }, errors: { value: 0 } }, canaryLatency: { value: 200, sampleCount: 5000 }, requestRate: 50 };
    const later = T0 + 2 * 24 * 60 * MINUTE;
    const next = decide(service, {
      now: later,
      observations: { periodStart: later - MINUTE, endpoints: { a: ok, b: ok, c: ok } },
      state: { ...onTail, rollouts: {} },
    });
    expect(next.nextState.loadProfiles.b).toMatchObject({ n: 1, y: 200, basis: 'p99@p50' });
  });
});
