import { describe, expect, it } from 'vitest';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import type { Decision, ServiceState } from '../../../functions/core/types.js';
import { allOk, codes, makeService, MINUTE, observe, runMinutes, T0, type Health } from '../../support/engineFixtures.js';

/** `a` at its first recovery step, taken five minutes before T0, from `from` of its baseline. */
function recoveringA(base: ServiceState, from: number) {
  return { ...base.endpoints.a!, status: 'recovering' as const, since: T0 - 5 * MINUTE, stepSince: T0 - 5 * MINUTE, recoveryStep: 0, recoveryFrom: from };
}

/** `a` in the given condition from minute `from` to `to`, everything else ok. */
function incident(service: ReturnType<typeof makeService>, health: Health, from: number, to = Infinity) {
  return (m: number) => allOk(service, m >= from && m < to ? { a: health } : {});
}

describe('decide: detection (M of N)', () => {
  const service = makeService();

  it('holds weights through one or two breaching minutes, then degrades on the third of five', () => {
    const steps = runMinutes(service, 6, incident(service, 'slow', 2));
    expect(steps[2]!.decision.changes).toEqual([]);
    expect(steps[3]!.decision.changes).toEqual([]);
    expect(steps[4]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', from: 'healthy', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
    expect(steps[4]!.weights.a).toBeLessThan(100);
  });

  it('degrades on fewer breaches when they are severe (twice the trip value or worse)', () => {
    const steps = runMinutes(service, 3, incident(service, 'severe', 0));
    expect(steps[0]!.decision.transitions).toEqual([]);
    expect(steps[1]!.decision.transitions).toEqual([
      expect.objectContaining({ to: 'degraded', message: expect.stringContaining('2 severe of last 5 periods') }),
    ]);
  });

  it('degrades on one period when the breach is extreme (ten times the trip value or worse, severe), and says so', () => {
    const steps = runMinutes(service, 1, incident(service, 'extreme', 0));
    expect(steps[0]!.decision.transitions).toEqual([
      expect.objectContaining({
        endpoint: 'a',
        to: 'degraded',
        reason: 'BREACH_EXTREME',
        message: expect.stringContaining('one period at 10.0× trip or worse'),
      }),
    ]);
  });

  it('judges a percentile severe by its tail, not by its value: proven past trip but not 5% past it waits for M of N', () => {
    // 25 s, ten times the trip, but only 3% of 1,000 requests past it: a breach, neither severe nor extreme.
    const steps = runMinutes(service, 3, incident(service, 'extreme-few', 0));
    expect(steps[0]!.decision.transitions).toEqual([]);
    expect(steps[1]!.decision.transitions).toEqual([]);
    expect(steps[2]!.decision.transitions).toEqual([
      expect.objectContaining({ to: 'degraded', reason: 'M_OF_N_BREACH', message: expect.stringContaining('3 of last 5') }),
    ]);
  });

  it('sheds again after extremeIntervalSeconds (120), not intervalSeconds (180), while the breach stays extreme', () => {
    const sheds = (health: Health) => runMinutes(service, 5, incident(service, health, 0)).map((s) => s.state.endpoints.a!.shed);
    expect(sheds('extreme')).toEqual([0.3, 0.3, 0.6, 0.6, 0.9].map((x) => expect.closeTo(x, 5)));
    expect(sheds('severe').slice(1)).toEqual([0.3, 0.3, 0.3, 0.6].map((x) => expect.closeTo(x, 5)));
  });

  it('follows detection.extremeExcess', () => {
    const strict = makeService({ policy: { detection: { extremeExcess: 1 } } });
    const steps = runMinutes(strict, 1, incident(strict, 'severe', 0));
    expect(steps[0]!.decision.transitions).toEqual([expect.objectContaining({ to: 'degraded', reason: 'BREACH_EXTREME' })]);
  });

  it('does not count breaches that fell out of the window', () => {
    const pattern: Health[] = ['slow', 'ok', 'ok', 'ok', 'ok', 'slow', 'ok', 'ok', 'ok', 'ok', 'slow'];
    const steps = runMinutes(service, pattern.length, (m) => allOk(service, { a: pattern[m]! }));
    expect(steps.every((s) => s.decision.transitions.length === 0)).toBe(true);
  });

  it('holds weights while p99 sits between the clear and trip thresholds', () => {
    const steps = runMinutes(service, 30, incident(service, 'hold', 0));
    expect(steps.flatMap((s) => s.decision.changes)).toEqual([]);
    expect(steps.at(-1)!.state.endpoints.a!.status).toBe('healthy');
  });

  it('counts a period once when an alarm re-evaluates it', () => {
    let state: ServiceState | undefined;
    const observations = { periodStart: T0, endpoints: allOkObs(service, { a: 'slow' }) };
    for (let i = 0; i < 5; i++) state = decide(service, { now: T0 + MINUTE + i * 1000, observations, state }).nextState;
    expect(state!.endpoints.a!.status).toBe('healthy');
    expect(state!.endpoints.a!.history).toHaveLength(1);
  });

  it('ignores observations older than ones already seen', () => {
    const first = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state: undefined });
    const stale = decide(service, {
      now: T0 + MINUTE,
      observations: { periodStart: T0 - 5 * MINUTE, endpoints: allOkObs(service, { a: 'fail' }) },
      state: first.nextState,
    });
    expect(stale.nextState.endpoints.a).toEqual(first.nextState.endpoints.a);
    expect(stale.nextState.lastPeriodStart).toBe(T0);
  });
});

describe('decide: noise the service shares', () => {
  /** a slow at minutes 1-3 (its third breach confirms at minute 3); `others` as given at minute 0. */
  const noisy = (service: ReturnType<typeof makeService>, others: Record<string, Health>) => (m: number) =>
    allOk(service, { ...(m === 0 ? others : {}), ...(m >= 1 && m <= 3 ? { a: 'slow' } : {}) });

  it('holds a calm endpoint healthy when none of its breaches is severe and half the others breached in their windows too', () => {
    const service = makeService();
    const steps = runMinutes(service, 4, noisy(service, { b: 'slow' }));
    expect(steps[3]!.decision.transitions).toEqual([]);
    expect(steps[3]!.decision.changes).toEqual([]);
    expect(steps[3]!.state.endpoints.a!.status).toBe('healthy');
    expect(steps[3]!.decision.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'NOISE_HOLD',
          endpoint: 'a',
          message: expect.stringContaining('3 of last 5 periods, none severe), as b did in theirs'),
        }),
      ]),
    );
  });

  it('degrades it as before when fewer than half the others breached', () => {
    const service = makeService({ n: 4 });
    const steps = runMinutes(service, 4, noisy(service, { b: 'slow' }));
    expect(codes(steps[3]!.decision)).not.toContain('NOISE_HOLD');
    expect(steps[3]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
  });

  it('degrades it as before when the others failed rather than ran slow (errors are an incident, not noise)', () => {
    const service = makeService();
    const steps = runMinutes(service, 4, noisy(service, { b: 'fail', c: 'fail' }));
    expect(codes(steps[3]!.decision)).not.toContain('NOISE_HOLD');
    expect(steps[3]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
  });

  describe('while another endpoint is out (not a calm service)', () => {
    // d fails at minutes 0-1 and stays drained for its dwell; b is slow at minute 2, a at minutes
    // 3-5 at `rps` requests/s (planned capacity 80/s): a's third breach confirms at minute 5.
    const capacity = { warmRps: 100, targetUtilization: 0.8 };
    const service = makeService({ n: 4, endpoints: [{ capacity }, { capacity }, { capacity }, { capacity }] });
    function noisyWhileOut(rps: number) {
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100, c: 100, d: 100 };
      return Array.from({ length: 6 }, (_, m) => {
        const health = (id: string): Health => (id === 'd' && m < 2 ? 'fail' : (id === 'b' && m === 2) || (id === 'a' && m >= 3) ? 'slow' : 'ok');
        const endpoints = Object.fromEntries(['a', 'b', 'c', 'd'].map((id) => [id, observe(health(id), id === 'a' ? rps : 40)]));
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        state = out.nextState;
        weights = { ...out.decision.targetWeights };
        return { decision: out.decision, state };
      });
    }

    it('holds a healthy endpoint within its planned capacity, as half its healthy peers breached too', () => {
      const steps = noisyWhileOut(40);
      expect(steps[5]!.state.endpoints.d!.status).toBe('drained');
      expect(steps[5]!.state.endpoints.a!.status).toBe('healthy');
      expect(steps[5]!.decision.reasons).toContainEqual(
        expect.objectContaining({
          code: 'NOISE_HOLD',
          endpoint: 'a',
          message: expect.stringContaining('3 of last 5 periods, none severe), as b did in theirs'),
        }),
      );
    });

    it('sheds a survivor past its planned capacity as before: that is the failover, not noise', () => {
      const steps = noisyWhileOut(90);
      expect(codes(steps[5]!.decision)).not.toContain('NOISE_HOLD');
      expect(steps[5]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
    });
  });

  it('degrades it as before on severe breaches, whatever the others show', () => {
    const service = makeService();
    const steps = runMinutes(service, 3, (m) => allOk(service, m === 0 ? { b: 'slow', c: 'slow' } : { a: 'severe' }));
    expect(steps[2]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
  });
});

function allOkObs(service: ReturnType<typeof makeService>, except: Record<string, Health> = {}) {
  return Object.fromEntries(Object.entries(allOk(service, except)).map(([id, h]) => [id, observe(h)]));
}

describe('decide: shedding and draining', () => {
  it('sheds in proportion to the excess over trip, bounded by the step limits', () => {
    const service = makeService({ policy: { shedding: { gain: 1, minStep: 0.1, maxStep: 0.3 } } });
    // 2400 ms is 20% past the 2000 ms trip: shed 20% of a's share.
    const slightly = runMinutes(service, 5, incident(service, 'slow', 0));
    expect(slightly[2]!.state.endpoints.a!.shed).toBeCloseTo(0.2);
    // 3800 ms is 90% past: bounded to 30%.
    const badly = runMinutes(service, 5, incident(service, 'very-slow', 0));
    expect(badly[2]!.state.endpoints.a!.shed).toBeCloseTo(0.3);
    expect(badly[2]!.weights).toEqual({ a: 70, b: 115, c: 115 });
  });

  it('waits for the last shed to show before shedding more, then keeps shedding until drained', () => {
    const service = makeService({ policy: { shedding: { intervalSeconds: 180 } } });
    const steps = runMinutes(service, 20, incident(service, 'very-slow', 0));
    const sheds = steps.map((s) => s.state.endpoints.a!.shed);
    expect(sheds.slice(2, 9)).toEqual([0.3, 0.3, 0.3, 0.6, 0.6, 0.6, 0.9].map((x) => expect.closeTo(x, 5)));
    expect(codes(steps[3]!.decision)).toContain('SHED_INTERVAL_HOLD');
    expect(codes(steps[5]!.decision)).toContain('SHED_PROPORTIONAL');
    expect(steps[11]!.decision.transitions).toEqual([expect.objectContaining({ to: 'drained', reason: 'DRAINED' })]);
    expect(steps[11]!.weights.a).toBe(0);
  });

  describe('on a thin breach (too few requests to expect one slow)', () => {
    // a degrades on three slow minutes and sheds 20%; from minute 3 its breaches are 3 slow requests of 19.
    const service = makeService({ policy: { shedding: { intervalSeconds: 180, gain: 1, minStep: 0.1, maxStep: 0.3 } } });
    const run = (later: Health, severeAt?: number) => runMinutes(service, 10, (m) => allOk(service, { a: m < 3 ? 'slow' : m === severeAt ? 'severe' : later }));

    it('holds its shed, and stays degraded', () => {
      const steps = run('thin-slow');
      expect(steps.slice(2).map((s) => s.state.endpoints.a!.shed)).toEqual(Array(8).fill(expect.closeTo(0.2, 5)));
      expect(steps.slice(2).map((s) => s.state.endpoints.a!.status)).toEqual(Array(8).fill('degraded'));
      expect(steps[5]!.decision.reasons).toContainEqual({
        code: 'THIN_BREACH_HOLD',
        endpoint: 'a',
        message:
          'a still breaching (p99 3000 ms past trip 2000 ms) on 19 requests, too few for a healthy endpoint to have one slow request, with no severe breach in its window: holding its shed',
      });
      expect(steps[9]!.weights).toEqual(steps[2]!.weights);
    });

    it('sheds as before once a severe breach is in its window, or on a breach of enough requests', () => {
      expect(run('thin-slow', 4)[5]!.state.endpoints.a!.shed).toBeGreaterThan(0.2);
      expect(run('slow')[5]!.state.endpoints.a!.shed).toBeGreaterThan(0.2);
    });
  });

  it('drains a failing endpoint at once after M-of-N fail breaches, as an emergency exempt from the step bound', () => {
    const service = makeService({ n: 2, policy: { safety: { maxShiftPerEvaluation: 0.1 } } });
    const steps = runMinutes(service, 3, incident(service, 'fail', 0));
    expect(steps[0]!.decision.changes).toEqual([]);
    expect(steps[1]!.decision.transitions).toEqual([expect.objectContaining({ to: 'drained', reason: 'FAIL_BREACH' })]);
    expect(steps[1]!.decision.emergency).toBe(true);
    expect(steps[1]!.weights).toEqual({ a: 0, b: 200 });
    expect(steps[1]!.decision.notifications[0]).toMatchObject({ severity: 'critical', reason: 'FAIL_BREACH' });
  });

  it('drains on the first period when a fail-severity signal is far past its trip (no M of N), bounded by the safety rules', () => {
    const service = makeService({ n: 2, policy: { safety: { maxShiftPerEvaluation: 0.1 } } });
    const steps = runMinutes(service, 2, incident(service, 'fail-severe', 0));
    expect(steps[0]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'drained', reason: 'FAIL_UNAMBIGUOUS' })]);
    expect(steps[0]!.decision.emergency).toBe(true);
    expect(steps[0]!.weights).toEqual({ a: 0, b: 200 });
    expect(steps[0]!.decision.notifications[0]).toMatchObject({ severity: 'critical', reason: 'FAIL_UNAMBIGUOUS' });
  });

  it('keeps the last endpoint serving when every endpoint fails unambiguously (never all zero)', () => {
    const service = makeService({ n: 2 });
    const steps = runMinutes(service, 1, () => ({ a: 'fail-severe', b: 'fail-severe' }));
    expect(Object.values(steps[0]!.weights).some((w) => w > 0)).toBe(true);
  });
});

describe('decide: recovery', () => {
  const service = makeService({
    policy: { detection: { clearsToRecover: 3 }, dwell: { minSeconds: 300 }, recovery: { steps: [0.1, 0.5, 1], holdSeconds: 120 } },
  });
  const failThenOk = incident(service, 'fail', 0, 3);

  it('needs K consecutive clears and the dwell before recovering, then restores step by step', () => {
    const steps = runMinutes(service, 20, failThenOk);
    const status = steps.map((s) => s.state.endpoints.a!.status);
    expect(status[1]).toBe('drained');
    // Clear from minute 3; three clears by minute 5, but the dwell (5 min since minute 1) runs to minute 6.
    expect(codes(steps[5]!.decision)).toContain('DWELL_HOLD');
    expect(steps[6]!.decision.transitions).toEqual([expect.objectContaining({ from: 'drained', to: 'recovering', reason: 'CLEARS_TO_RECOVER' })]);
    expect(steps[6]!.weights.a).toBe(10);
    expect(steps[7]!.weights.a).toBe(10); // held
    expect(steps[8]!.weights.a).toBe(50);
    expect(steps[10]!.weights.a).toBe(100);
    expect(steps[12]!.decision.transitions).toEqual([expect.objectContaining({ to: 'healthy', reason: 'RECOVERY_COMPLETE' })]);
  });

  it('restarts the clear count when a period is not clear', () => {
    const pattern: Health[] = ['fail', 'fail', 'ok', 'ok', 'hold', 'ok', 'ok', 'ok', 'ok', 'ok'];
    const steps = runMinutes(service, pattern.length, (m) => allOk(service, { a: pattern[m]! }));
    expect(steps[6]!.state.endpoints.a!.status).toBe('drained'); // only two clears since the hold
    expect(steps[7]!.state.endpoints.a!.status).toBe('recovering');
  });

  it('holds a recovery step while the verdict is unknown', () => {
    const steps = runMinutes(service, 14, (m) => allOk(service, { a: m < 3 ? 'fail' : m >= 7 ? 'missing' : 'ok' }));
    expect(steps[6]!.state.endpoints.a!.status).toBe('recovering');
    expect(steps.slice(7).every((s) => s.weights.a === 10)).toBe(true);
    expect(codes(steps[9]!.decision)).toContain('UNKNOWN_HOLD');
  });

  it('sends a recovering endpoint back on any breach and doubles its dwell, up to the maximum', () => {
    const relapsing = makeService({
      policy: {
        detection: { clearsToRecover: 2 },
        dwell: { minSeconds: 120, growthFactor: 2, maxSeconds: 300 },
        recovery: { steps: [0.1, 0.5, 1], holdSeconds: 60 },
      },
    });
    const pattern = (m: number): Health => (m < 2 ? 'fail' : m === 5 || m === 11 || m === 25 ? 'slow' : 'ok');
    const steps = runMinutes(relapsing, 40, (m) => allOk(relapsing, { a: pattern(m) }));
    const failures = steps.flatMap((s) => s.decision.transitions).filter((t) => t.reason === 'RECOVERY_FAILED');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    const dwells = steps.map((s) => s.state.endpoints.a!.dwellSeconds);
    expect(Math.max(...dwells)).toBe(300);
    expect(steps.at(-1)!.state.endpoints.a!.status).toBe('healthy');
    expect(steps.at(-1)!.state.endpoints.a!.dwellSeconds).toBe(120);
  });

  it('sends a recovering endpoint that fails again straight to drained', () => {
    const steps = runMinutes(service, 12, (m) => allOk(service, { a: m < 3 || m === 9 || m === 10 ? 'fail' : 'ok' }));
    expect(steps[6]!.state.endpoints.a!.status).toBe('recovering');
    const failed = steps.flatMap((s) => s.decision.transitions).filter((t) => t.reason === 'RECOVERY_FAILED');
    expect(failed).toEqual([expect.objectContaining({ from: 'recovering', to: 'drained' })]);
  });

  it('restores a degraded endpoint in steps of what it gave up, not in one jump', () => {
    const steps = runMinutes(service, 30, incident(service, 'very-slow', 0, 3));
    const started = steps.find((s) => s.decision.transitions.some((t) => t.to === 'recovering'))!;
    // It carried 70%; the steps [0.1, 0.5, 1] of the 30% it gave up bring it to 73%, 85%, 100%.
    expect(started.state.endpoints.a!.recoveryFrom).toBeCloseTo(0.7);
    const factors = steps.filter((s) => s.state.endpoints.a!.status === 'recovering').map((s) => s.weights.a);
    expect([...new Set(factors)]).toEqual([73, 85, 100]);
    expect(steps.at(-1)!.state.endpoints.a!.status).toBe('healthy');
  });

  it('holds a recovery step while a load-proportional signal would not be clear at the next step', () => {
    const gpuService = makeService({
      n: 2,
      policy: { detection: { clearsToRecover: 2 }, dwell: { minSeconds: 0 }, recovery: { steps: [0.5, 1], holdSeconds: 0 } },
      endpoints: [
        {
          signals: [
            {
              name: 'gpu',
              source: 'metric',
              metric: { namespace: 'N', metricName: 'KVCacheUsage', statistic: 'Average' },
              unit: '%',
              trip: 95,
              clear: 80,
              scalesWithLoad: true,
            },
            {
              name: 'errors',
              source: 'metric',
              metric: { namespace: 'N', metricName: 'ErrorRate', statistic: 'Average' },
              trip: 5,
              clear: 1,
              severity: 'fail',
            },
          ],
        },
      ],
    });
    const gpuObs = (gpu: number, errors: number) => ({ signals: { gpu: { value: gpu }, errors: { value: errors } } });
    let state: ServiceState | undefined;
    let weights = { a: 100, b: 100 };
    const run = (gpu: number, errors: number, m: number) => {
      const out = decide(gpuService, {
        now: T0 + m * MINUTE,
        observations: { periodStart: T0 + m * MINUTE, endpoints: { a: gpuObs(gpu, errors), b: observe('ok') } },
        state,
        currentWeights: weights,
      });
      state = out.nextState;
      weights = out.decision.targetWeights as typeof weights;
      return out;
    };
    run(50, 40, 0);
    run(50, 40, 1); // drained
    run(0, 0, 2);
    const probe = run(0, 0, 3); // nothing to predict from at zero traffic: the first step is the probe
    expect(probe.decision.transitions).toEqual([expect.objectContaining({ to: 'recovering' })]);
    const held = run(45, 0, 4); // 45% at half its share would be ~90% at full
    expect(held.decision.reasons).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'HEADROOM_HOLD', message: expect.stringContaining('would reach about 90.0 %') })]),
    );
    expect(weights.a).toBe(50);
    const next = run(30, 0, 5); // ~60% at full: go
    expect(next.decision.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'RECOVERY_STEP' })]));
    expect(weights.a).toBe(100);
    expect(run(60, 0, 6).decision.transitions).toEqual([expect.objectContaining({ to: 'healthy', reason: 'RECOVERY_COMPLETE' })]);
  });
});

describe('decide: recovery headroom', () => {
  const service = makeService({
    n: 2,
    policy: { detection: { clearsToRecover: 2 }, dwell: { minSeconds: 0 }, recovery: { steps: [0.5, 1], holdSeconds: 0 } },
    endpoints: [{ capacity: { warmRps: 20, targetUtilization: 0.8 } }],
  });
  /** Evaluates minute by minute, a observed at `rps` and b at `otherRps` (b's rate unknown when undefined). */
  function stepper() {
    let state: ServiceState | undefined;
    const weights = { a: 100, b: 100 };
    const run = (health: Health, rps: number, m: number, otherRps?: number) => {
      const out = decide(service, {
        now: T0 + m * MINUTE,
        observations: { periodStart: T0 + m * MINUTE, endpoints: { a: observe(health, rps), b: observe('ok', otherRps) } },
        state,
        currentWeights: { ...weights },
      });
      state = out.nextState;
      Object.assign(weights, out.decision.targetWeights);
      return out;
    };
    return { run, weights };
  }

  it('holds a recovery step that would take the endpoint past its warm capacity, and takes it once the load fits', () => {
    const { run, weights } = stepper();
    run('fail-severe', 10, 0); // drained at once
    run('ok', 0, 1);
    expect(run('ok', 0, 2).decision.transitions).toEqual([expect.objectContaining({ to: 'recovering' })]); // the probe: nothing to predict from
    expect(weights.a).toBe(50);
    const held = run('ok', 10, 3); // 10 requests/s at half its share: 20 at full, past 20 × 0.8
    expect(held.decision.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'HEADROOM_HOLD',
          endpoint: 'a',
          message: expect.stringContaining('would reach about 20.0 requests/s (now 10.0), past its warm capacity of 16.0/s'),
        }),
      ]),
    );
    expect(weights.a).toBe(50);
    run('ok', 7, 4); // 14 at full: it fits
    expect(weights.a).toBe(100);
  });

  it('holds a recovery step its own quiet minute would allow while the service demand says its share will not fit', () => {
    const { run, weights } = stepper();
    run('fail-severe', 10, 0, 26); // drained at once
    run('ok', 0, 1, 36); // the service's demand: 36 requests/s
    expect(run('ok', 0, 2, 36).decision.transitions).toEqual([expect.objectContaining({ to: 'recovering' })]);
    expect(weights.a).toBe(50);
    // One quiet minute on a (5 requests/s at half its share: 10 at full, within 16), but its full
    // share of the busiest recent demand is 18 requests/s.
    const held = run('ok', 5, 3, 24);
    expect(held.decision.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'HEADROOM_HOLD',
          endpoint: 'a',
          message: expect.stringContaining("would reach about 18.0 requests/s (its share of the service's 36.0/s), past its warm capacity of 16.0/s"),
        }),
      ]),
    );
    for (const m of [4, 5, 6]) run('ok', 6, m, 18); // the 36 still within the last five periods
    expect(weights.a).toBe(50);
    run('ok', 6, 7, 18); // the busiest of the last five is 29 requests/s: 14.5 at full, it fits
    expect(weights.a).toBe(100);
  });
});

describe('decide: a recovery step a flap hold kept back', () => {
  it('writes it once the hold is over, though it moves less traffic than a rebalance must: it is a state move, not a rebalance', () => {
    const service = makeService({ policy: { recovery: { steps: [0.1, 0.5, 1], holdSeconds: 600 } } });
    const base = initialServiceState(service, T0 - 60 * MINUTE, { a: 0, b: 150, c: 150 });
    const recovering = recoveringA(base, 0);
    const state: ServiceState = { ...base, endpoints: { ...base.endpoints, a: recovering } };
    // Route 53 gives a nothing: no requests, so no percentile; its errors read clear.
    const endpoints = { a: { signals: { errors: { value: 0.1 } } }, b: observe('ok'), c: observe('ok') };
    const out = decide(service, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints }, state, currentWeights: { a: 0, b: 150, c: 150 } });
    expect(out.decision.targetWeights).toEqual({ a: 10, b: 145, c: 145 });
    expect(codes(out.decision)).not.toContain('DEADBAND_REBALANCE');
    expect(out.decision.mode).toBe('normal');
  });
});

describe('decide: a recovery on the way down to baseline', () => {
  it('sheds from what the endpoint carries when it breaches coming down: a failed recovery never raises its share', () => {
    // a degraded carrying 160% of its baseline (b drained; c had no room for a's shed), and is
    // recovering toward its baseline: its first step is 154%. It breaches there.
    const service = makeService();
    const base = initialServiceState(service, T0 - 60 * MINUTE, { a: 154, b: 0, c: 146 });
    const recovering = recoveringA(base, 1.6);
    const drained = { ...base.endpoints.b!, status: 'drained' as const, since: T0 - 30 * MINUTE, stepSince: T0 - 30 * MINUTE, shed: 1, failed: true };
    const state: ServiceState = { ...base, endpoints: { ...base.endpoints, a: recovering, b: drained } };
    const endpoints = { a: observe('slow'), b: observe('fail-severe'), c: observe('ok') };
    const out = decide(service, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints }, state, currentWeights: { a: 154, b: 0, c: 146 } });
    expect(out.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', from: 'recovering', to: 'degraded', reason: 'RECOVERY_FAILED' })]);
    const a = out.nextState.endpoints.a!;
    expect(a.shedFrom).toBeCloseTo(1.54);
    expect(a.shed).toBeGreaterThan(0);
    expect(out.decision.targetWeights.a).toBeLessThanOrEqual(154);
  });

  it('drains it there when the breach is extreme at a load it was sized for: late at any share', () => {
    const service = makeService({ endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 } }] });
    const base = initialServiceState(service, T0 - 60 * MINUTE, { a: 154, b: 0, c: 146 });
    const drained = { ...base.endpoints.b!, status: 'drained' as const, since: T0 - 30 * MINUTE, stepSince: T0 - 30 * MINUTE, shed: 1, failed: true };
    const state: ServiceState = { ...base, endpoints: { ...base.endpoints, a: recoveringA(base, 1.6), b: drained } };
    const endpoints = { a: observe('extreme', 40), b: observe('fail-severe'), c: observe('ok') };
    const out = decide(service, { now: T0, observations: { periodStart: T0 - MINUTE, endpoints }, state, currentWeights: { a: 154, b: 0, c: 146 } });
    expect(out.decision.transitions).toEqual([
      expect.objectContaining({
        endpoint: 'a',
        from: 'recovering',
        to: 'drained',
        reason: 'RECOVERY_FAILED',
        message: expect.stringMatching(/on its way down from 160%; draining it$/),
      }),
    ]);
    expect(out.nextState.endpoints.a).toEqual(expect.objectContaining({ shed: 1, failed: false }));
    expect(out.decision.targetWeights.a).toBeLessThan(154);
  });
});

describe('decide: impaired, not busy', () => {
  /** `a` severely slow (or as `health` says) at `rps` requests/s from minute 0 (warm capacity 100/s at 80%), the others ok. */
  function severeAt(
    rps: number,
    minutes: number,
    policy: NonNullable<Parameters<typeof makeService>[0]>['policy'] = {},
    health: Health | ((minute: number) => Health) = 'severe',
  ) {
    const service = makeService({ policy, endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 } }] });
    let state: ServiceState | undefined;
    let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
    return Array.from({ length: minutes }, (_, m) => {
      const endpoints = { a: observe(typeof health === 'function' ? health(m) : health, rps), b: observe('ok'), c: observe('ok') };
      const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
      state = out.nextState;
      weights = { ...out.decision.targetWeights };
      return { decision: out.decision, state, weights };
    });
  }

  it('sheds impairedStep at once when a severe breach comes at a load within the planned capacity, and says why', () => {
    const steps = severeAt(40, 2);
    expect(steps[1]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
    expect(steps[1]!.state.endpoints.a!.shed).toBeCloseTo(0.6);
    expect(steps[1]!.weights).toEqual({ a: 40, b: 130, c: 130 });
    expect(steps[1]!.decision.reasons).toContainEqual({
      code: 'SHED_IMPAIRED',
      endpoint: 'a',
      message: 'a is far too slow at 50% of its planned capacity: impaired, not busy; shedding 60% of its share at once',
    });
  });

  it('drains at once on an extreme breach at a load within its planned capacity: its requests are late at any share', () => {
    const [first] = severeAt(40, 1, {}, 'extreme');
    expect(first!.decision.transitions).toEqual([
      expect.objectContaining({
        endpoint: 'a',
        from: 'healthy',
        to: 'drained',
        reason: 'BREACH_EXTREME',
        message: expect.stringMatching(/^a drained: p99 25000 ms past trip 2000 ms \(one period at 10\.0× trip or worse\)$/),
      }),
    ]);
    expect(first!.state.endpoints.a).toEqual(expect.objectContaining({ status: 'drained', shed: 1, failed: false }));
    expect(first!.weights).toEqual({ a: 0, b: 150, c: 150 });
    expect(first!.decision.reasons).toContainEqual({
      code: 'SHED_IMPAIRED',
      endpoint: 'a',
      message:
        'a is far too slow at 50% of its planned capacity: impaired, not busy; and its breach extreme, so its requests are late at any share: draining it at once',
    });
  });

  describe('a high-resolution alarm that says how far past trip its ALARM is (`excess`)', () => {
    /** `a` with a `fast` alarm signal of excess 9 (an alarm on ten times the trip), in ALARM in the minutes `alarmed`, at `rps` requests/s; its minute p99 as `health` says. */
    function alarmedAt(rps: number, alarmed: readonly number[], health: Health = 'ok') {
      const fast = { name: 'fast', source: 'alarm', alarm: { name: 'chat-a-ttft-fast' }, excess: 9 } as const;
      const base = makeService().endpoints[0]!.signals;
      const service = makeService({ endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 }, signals: [...base, fast] as never }] });
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
      return Array.from({ length: Math.max(...alarmed) + 1 }, (_, m) => {
        const a = observe(health, rps);
        const endpoints = {
          a: { ...a, signals: { ...a.signals, fast: { alarmState: alarmed.includes(m) ? ('ALARM' as const) : ('OK' as const) } } },
          b: observe('ok'),
          c: observe('ok'),
        };
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        state = out.nextState;
        weights = { ...out.decision.targetWeights };
        return { decision: out.decision, state, weights };
      });
    }

    it('drains an endpoint at a load it was sized for at once, before its minute metrics say anything', () => {
      const [first] = alarmedAt(40, [0]);
      expect(first!.decision.transitions).toEqual([
        expect.objectContaining({
          endpoint: 'a',
          to: 'drained',
          reason: 'BREACH_EXTREME',
          message: 'a drained: fast in ALARM (one period at 10.0× trip or worse)',
        }),
      ]);
      expect(first!.weights).toEqual({ a: 0, b: 150, c: 150 });
      expect(codes(first!.decision)).toContain('SHED_IMPAIRED');
    });

    it('counts toward M of N on a busy endpoint, as a severe breach: seconds of a burst past its capacity are not proof', () => {
      const steps = alarmedAt(95, [0, 1]);
      expect(steps[0]!.decision.transitions).toEqual([]);
      expect(steps[1]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
      expect(codes(steps[1]!.decision)).not.toContain('SHED_IMPAIRED');
    });

    it('says nothing of how far without `excess`: a minimum step, M of N, whatever the load', () => {
      const service = makeService({
        endpoints: [{ signals: [...makeService().endpoints[0]!.signals, { name: 'fast', source: 'alarm', alarm: { name: 'x' } }] as never }],
      });
      const a = observe('ok', 40);
      const out = decide(service, {
        now: T0,
        observations: {
          periodStart: T0,
          endpoints: { a: { ...a, signals: { ...a.signals, fast: { alarmState: 'ALARM' as const } } }, b: observe('ok'), c: observe('ok') },
        },
        state: undefined,
        currentWeights: { a: 100, b: 100, c: 100 },
      });
      expect(out.decision.transitions).toEqual([]);
      expect(out.decision.verdicts.a!.signals.find((s) => s.signal === 'fast')).toMatchObject({ verdict: 'breach', excess: 0 });
    });
  });

  it('sheds in proportion on an extreme breach past its planned capacity: busy, it has load to give up', () => {
    const [first] = severeAt(95, 1, {}, 'extreme');
    expect(first!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'degraded', reason: 'BREACH_EXTREME' })]);
    expect(first!.state.endpoints.a!.shed).toBeCloseTo(0.3);
    expect(codes(first!.decision)).not.toContain('SHED_IMPAIRED');
  });

  it('sheds in proportion when the endpoint is near or past its planned capacity: busy, not impaired', () => {
    for (const rps of [95, 61]) {
      const steps = severeAt(rps, 2);
      expect(steps[1]!.state.endpoints.a!.shed).toBeCloseTo(0.3);
      expect(codes(steps[1]!.decision)).not.toContain('SHED_IMPAIRED');
    }
  });

  it('treats a severe breach at up to impairedLoadShare of the planned capacity as impairment', () => {
    expect(severeAt(60, 2)[1]!.state.endpoints.a!.shed).toBeCloseTo(0.6); // 75% of 80/s
    expect(severeAt(72, 2, { shedding: { impairedLoadShare: 0.9 } })[1]!.state.endpoints.a!.shed).toBeCloseTo(0.6);
  });

  it('keeps shedding impairedStep after the shed interval, so a still impaired endpoint is drained on its second shed', () => {
    const steps = severeAt(40, 6, { shedding: { impairedStep: 0.5, intervalSeconds: 180 } });
    expect(steps.map((s) => s.state.endpoints.a!.shed)).toEqual([0, 0.5, 0.5, 0.5, 1, 1].map((x) => expect.closeTo(x, 5)));
    expect(codes(steps[2]!.decision)).toContain('SHED_INTERVAL_HOLD');
    expect(steps[4]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'drained', reason: 'DRAINED' })]);
  });

  it('drains a degraded impaired endpoint at once when its breach turns extreme: no shed interval, its requests are late at any share', () => {
    const steps = severeAt(40, 3, {}, (m) => (m < 2 ? 'severe' : 'extreme'));
    expect(steps[1]!.state.endpoints.a!.shed).toBeCloseTo(0.6);
    expect(steps[2]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', from: 'degraded', to: 'drained', reason: 'DRAINED' })]);
    expect(steps[2]!.decision.reasons).toContainEqual(
      expect.objectContaining({
        code: 'SHED_IMPAIRED',
        endpoint: 'a',
        message: expect.stringMatching(/its breach extreme, so its requests are late at any share: draining it at once$/),
      }),
    );
    // Busy, the same extreme breach waits for the last shed to show (extremeIntervalSeconds).
    const busy = severeAt(95, 3, {}, (m) => (m < 2 ? 'severe' : 'extreme'));
    expect(codes(busy[2]!.decision)).toContain('SHED_INTERVAL_HOLD');
  });

  it('says SHED_IMPAIRED, not SHED_PROPORTIONAL, on a further shed that is not yet a drain', () => {
    const steps = severeAt(40, 5, { shedding: { impairedStep: 0.4, intervalSeconds: 180 } });
    expect(steps[4]!.state.endpoints.a!.shed).toBeCloseTo(0.8);
    const reason = steps[4]!.decision.reasons.find((r) => r.endpoint === 'a' && r.code.startsWith('SHED'));
    expect(reason).toEqual(
      expect.objectContaining({ code: 'SHED_IMPAIRED', message: expect.stringMatching(/^a still breaching .*shedding 80% of its share: a is far too slow/) }),
    );
  });

  describe('a recovery that fails', () => {
    const service = makeService({
      policy: { detection: { clearsToRecover: 2 }, dwell: { minSeconds: 120 }, recovery: { steps: [0.1, 0.5, 1], holdSeconds: 60 } },
      endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 } }],
    });
    /** `a` fails for two minutes, recovers to half its baseline, then shows `relapse` at `rps` requests/s. */
    function relapseAt(relapse: Health, rps: number) {
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
      for (let m = 0; m < 30; m++) {
        const halfway = weights.a === 50;
        const endpoints = { a: observe(m < 2 ? 'fail' : halfway ? relapse : 'ok', halfway ? rps : 10), b: observe('ok'), c: observe('ok') };
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        state = out.nextState;
        weights = { ...out.decision.targetWeights };
        const failed = out.decision.transitions.find((t) => t.reason === 'RECOVERY_FAILED');
        if (failed) return { failed, state: state.endpoints.a! };
      }
      throw new Error('the recovery never failed');
    }

    it('goes back one step when it is slow at the load the step brought: busy', () => {
      const { failed, state } = relapseAt('slow', 70);
      expect(failed).toEqual(expect.objectContaining({ from: 'recovering', to: 'degraded' }));
      expect(failed.message).toMatch(/back to 10%$/);
      expect(1 - state.shed).toBeCloseTo(0.1);
    });

    it('goes back to where it started when it is far too slow at a load it takes when well: impaired, the incident is back', () => {
      const { failed } = relapseAt('severe', 20);
      expect(failed).toEqual(
        expect.objectContaining({
          from: 'recovering',
          to: 'drained',
          message:
            "a recovery failed at 50% of baseline: p99 5000 ms past trip 2000 ms; back to 0%, where its recovery started: slow at a load it takes when well, not the last step's load",
        }),
      );
    });

    it('goes back to where it started on an extreme breach at any load', () => {
      expect(relapseAt('extreme', 70).failed).toEqual(expect.objectContaining({ to: 'drained', message: expect.stringContaining('an extreme breach') }));
    });
  });

  describe('a failed recovery step too small to be worth a flap', () => {
    // The probe (10% of a third of the traffic: 3%) moves under rebalanceMinShare (5%).
    const service = makeService({
      policy: { detection: { clearsToRecover: 2 }, dwell: { minSeconds: 300 }, recovery: { steps: [0.1, 0.5, 1], holdSeconds: 60 } },
    });
    type Script = (since: number) => Record<string, Health>;
    /** `a` fails for two minutes, then is ok until its probe is written; `script(minutes since the probe)` from then on. */
    function probe(script: Script, minutes = 24) {
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
      let raisedAt: number | undefined;
      const steps: { m: number; decision: Decision; weights: Record<string, number>; state: ServiceState }[] = [];
      for (let m = 0; m < minutes; m++) {
        const health = m < 2 ? allOk(service, { a: 'fail' }) : raisedAt === undefined ? allOk(service) : script(m - raisedAt);
        const endpoints = Object.fromEntries(Object.entries(health).map(([id, h]) => [id, observe(h)]));
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        if (raisedAt === undefined && weights.a === 0 && out.decision.targetWeights.a! > 0) raisedAt = m;
        state = out.nextState;
        weights = { ...out.decision.targetWeights };
        steps.push({ m, decision: out.decision, weights, state });
      }
      const failedAt = steps.find((s) => s.decision.transitions.some((t) => t.reason === 'RECOVERY_FAILED'));
      return { steps, raisedAt: raisedAt!, failedAt };
    }

    it('waits until the raise is dwell.minSeconds old to go back, holding its weight and saying when', () => {
      const { steps, raisedAt, failedAt } = probe((since) => allOk(service, { a: since >= 1 ? 'slow' : 'ok' }));
      const seen = steps[raisedAt + 1]!;
      expect(seen.decision.changes).toEqual([]);
      expect(seen.decision.reasons).toContainEqual({
        code: 'RECOVERY_FAIL_HELD',
        endpoint: 'a',
        message:
          'a recovery failed at 10% of baseline: p99 2400 ms past trip 2000 ms; back to 0% in 240 s, once its last raise is 300 s old: going back moves 3% of the traffic, too little to be worth a flap',
      });
      expect(seen.state.endpoints.a).toEqual(
        expect.objectContaining({ status: 'recovering', recoveryFailed: { at: T0 + (raisedAt + 1) * MINUTE, until: T0 + (raisedAt + 5) * MINUTE, backTo: 0 } }),
      );
      // Told once, when seen, as a warning: the region is still slow.
      expect(seen.decision.notifications).toEqual([expect.objectContaining({ reason: 'RECOVERY_FAIL_HELD', severity: 'warning' })]);
      expect(steps[raisedAt + 2]!.decision.notifications).toEqual([]);
      expect(steps.slice(raisedAt + 1, raisedAt + 5).map((s) => s.weights.a)).toEqual([10, 10, 10, 10]);
      expect(failedAt!.m).toBe(raisedAt + 5);
      expect(failedAt!.decision.transitions).toEqual([
        expect.objectContaining({
          endpoint: 'a',
          from: 'recovering',
          to: 'drained',
          message: 'a recovery failed 240 s ago at 10% of baseline; back to 0% of baseline',
        }),
      ]);
      expect(failedAt!.weights.a).toBe(0);
      expect(failedAt!.state.endpoints.a!.recoveryFailed).toBeUndefined();
      expect(failedAt!.state.endpoints.a!.dwellSeconds).toBe(600);
    });

    it('goes back at once on errors', () => {
      const { raisedAt, failedAt } = probe((since) => allOk(service, { a: since === 1 ? 'slow' : since >= 2 ? 'fail-severe' : 'ok' }));
      expect(failedAt!.m).toBe(raisedAt + 2);
      expect(failedAt!.weights.a).toBe(0);
    });

    it('goes back, once due, on the next verdict that says something: not between thresholds, not unknown', () => {
      const { raisedAt, failedAt, steps } = probe((since) =>
        allOk(service, { a: since === 1 ? 'slow' : since === 5 ? 'hold' : since === 6 ? 'missing' : since >= 7 ? 'ok' : 'slow' }),
      );
      expect(steps[raisedAt + 5]!.decision.reasons).toContainEqual(
        expect.objectContaining({
          code: 'RECOVERY_FAIL_HELD',
          message: 'a recovery failed 240 s ago; back to 0% of baseline on the next verdict that is not hold',
        }),
      );
      expect(failedAt!.m).toBe(raisedAt + 7);
    });
    it('does not carry out a step that failed before it was written', () => {
      // a's step to 50% is decided but not written (a flap hold on another endpoint kept the change
      // back, say); a is slow from the next minute. Its held failure keeps what it carries (10%).
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
      let lostAt: number | undefined;
      const after: { decision: Decision; weights: Record<string, number> }[] = [];
      for (let m = 0; m < 20; m++) {
        const health = m < 2 ? allOk(service, { a: 'fail' }) : allOk(service, { a: lostAt === undefined ? 'ok' : 'slow' });
        const endpoints = Object.fromEntries(Object.entries(health).map(([id, h]) => [id, observe(h)]));
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        state = out.nextState;
        if (lostAt === undefined && weights.a! > 0 && out.decision.targetWeights.a! > weights.a!) {
          lostAt = m;
          continue;
        }
        weights = { ...out.decision.targetWeights };
        if (lostAt !== undefined) after.push({ decision: out.decision, weights });
      }
      expect(lostAt).toBeDefined();
      expect(after[0]!.decision.reasons).toContainEqual(expect.objectContaining({ code: 'RECOVERY_FAIL_HELD', endpoint: 'a' }));
      expect(after[0]!.decision.changes).toEqual([]);
      expect(Math.max(...after.map((s) => s.weights.a!))).toBe(10);
      expect(after.at(-1)!.weights.a).toBe(0);
    });
  });

  describe('a recovery step not yet written', () => {
    // An extreme breach sheds 90% at once (a slow region, not a failing one): its steps from 10% to
    // 100% are 19%, 55%, then 100% of its baseline, each held three minutes.
    const service = makeService({
      policy: {
        detection: { clearsToRecover: 2 },
        dwell: { minSeconds: 300 },
        recovery: { steps: [0.1, 0.5, 1], holdSeconds: 180 },
        shedding: { minStep: 0.9, maxStep: 0.9 },
      },
    });
    /**
     * `a` is slow for two minutes, then ok; its step to 55% is decided and not written (a flap hold
     * on another endpoint kept the change back, say); `next` is its health the minute after, ok from
     * then on. The weights `a` is given from then on, and the decision of that minute.
     */
    function deferredStep(next: Health) {
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
      let deferredAt: number | undefined;
      const given: number[] = [];
      const decisions: Decision[] = [];
      for (let m = 0; m < 20; m++) {
        const health = m < 2 ? allOk(service, { a: 'extreme' }) : allOk(service, { a: m === (deferredAt ?? -2) + 1 ? next : 'ok' });
        const endpoints = Object.fromEntries(Object.entries(health).map(([id, h]) => [id, observe(h)]));
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        state = out.nextState;
        if (deferredAt === undefined && weights.a! > 0 && out.decision.targetWeights.a! > weights.a! && out.decision.transitions.length === 0) {
          deferredAt = m;
          continue;
        }
        weights = { ...out.decision.targetWeights };
        if (deferredAt !== undefined) {
          given.push(weights.a!);
          decisions.push(out.decision);
        }
      }
      expect(state!.endpoints.a!.failed).not.toBe(true);
      return { given, first: decisions[0]! };
    }

    it('is not written on a period that reads past trip, even unproven; the next period within trip writes it', () => {
      // 2.6 s on 50 requests: unknown (low-sample), past trip. It carries 19% a minute more.
      const { given, first } = deferredStep('low-sample-slow');
      expect(given.slice(0, 3)).toEqual([19, 55, 100]);
      expect(first.reasons).toContainEqual({
        code: 'RECOVERY_STEP_WAITS',
        endpoint: 'a',
        message: 'a recovery step to 55% of baseline waits at 19%: p99 2600 ms past trip 2000 ms, unproven; it goes out on the next period within trip',
      });
    });

    it('is written on a period within trip, between thresholds or on few requests', () => {
      for (const health of ['hold', 'low-sample-fast'] as const) {
        const { given, first } = deferredStep(health);
        expect(given.slice(0, 3)).toEqual([55, 55, 100]);
        expect(first.reasons.map((r) => r.code)).not.toContain('RECOVERY_STEP_WAITS');
      }
    });
  });

  describe('a relapse late in a recovery', () => {
    // The last step (90% → 100% of a third of the traffic: 3%) moves under rebalanceMinShare (5%).
    const service = makeService({
      policy: { detection: { clearsToRecover: 2 }, dwell: { minSeconds: 300 }, recovery: { steps: [0.5, 0.9, 1], holdSeconds: 60 } },
    });
    /** `a` fails for two minutes, recovers step by step; from the minute its last step (100%) is written, `late(minutes since)`. */
    function relapse(late: (since: number) => Health, minutes = 30) {
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
      let lastStepAt: number | undefined;
      const steps: { m: number; decision: Decision; weights: Record<string, number> }[] = [];
      for (let m = 0; m < minutes; m++) {
        const a: Health = m < 2 ? 'fail' : lastStepAt === undefined ? 'ok' : late(m - lastStepAt);
        const endpoints = Object.fromEntries(Object.entries(allOk(service, { a })).map(([id, h]) => [id, observe(h)]));
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        if (lastStepAt === undefined && m > 2 && out.decision.targetWeights.a === 100 && out.nextState.endpoints.a!.status === 'recovering') lastStepAt = m;
        state = out.nextState;
        weights = { ...out.decision.targetWeights };
        steps.push({ m, decision: out.decision, weights });
      }
      return { steps, lastStepAt: lastStepAt! };
    }

    it('sheds from where it is once its breaches turn severe, rather than wait to go back one small step', () => {
      const { steps, lastStepAt } = relapse((since) => (since >= 1 ? 'severe' : 'ok'));
      expect(steps[lastStepAt + 1]!.decision.reasons).toContainEqual(expect.objectContaining({ code: 'RECOVERY_FAIL_HELD', endpoint: 'a' }));
      const shed = steps[lastStepAt + 2]!;
      expect(shed.decision.transitions).toEqual([
        expect.objectContaining({
          endpoint: 'a',
          from: 'recovering',
          to: 'degraded',
          reason: 'RECOVERY_FAILED',
          message:
            'a recovery failed at 100% of baseline and its breaches turned severe (p99 5000 ms past trip 2000 ms; 2 severe of last 5 periods): a relapse, not a failed probe; back to 70% of baseline now',
        }),
      ]);
      expect(shed.weights.a).toBeLessThan(90);
    });

    it('still waits to go back one step when its breaches are not severe', () => {
      const { steps, lastStepAt } = relapse((since) => (since >= 1 ? 'slow' : 'ok'));
      expect(steps.slice(lastStepAt + 1, lastStepAt + 5).map((s) => s.weights.a)).toEqual([100, 100, 100, 100]);
    });
  });

  it('runs a receiver past its target utilisation, up to its warm capacity, rather than give traffic back to an endpoint late at any share', () => {
    // a is 12x its trip at 10 of its 100 requests/s, and drained; b (60/s warm, target 0.3) has room
    // at its target for 10.5 of the 35 requests/s, and at its full warm capacity for all of them.
    const service = makeService({
      n: 2,
      endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 } }, { capacity: { warmRps: 60, targetUtilization: 0.3 } }],
    });
    const endpoints = { a: observe('extreme', 10), b: observe('ok', 25) };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints }, state: undefined, currentWeights: { a: 100, b: 100 } });
    expect(out.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'drained', reason: 'BREACH_EXTREME' })]);
    expect(out.decision.targetWeights).toEqual({ a: 0, b: 200 });
    expect(out.decision.blocked).toContainEqual({
      code: 'CAPACITY_LIMITED',
      message:
        'running b past target utilisation in the busiest minutes (up to full warm capacity, or target utilisation at the mean demand), rather than giving traffic back to a: its requests are late at any share',
    });
  });

  it("plans that burst room at the mean of the last periods' demand as well as the busiest", () => {
    // As above, after a burst: the busiest of the last five minutes is 200 requests/s, their mean 68. At
    // full warm capacity in the burst b takes 30% of the traffic; at its target (48/s) of the mean, 71%.
    const service = makeService({
      n: 2,
      endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 } }, { capacity: { warmRps: 60, targetUtilization: 0.8 } }],
    });
    const endpoints = { a: observe('extreme', 10), b: observe('ok', 25) };
    const state = { ...initialServiceState(service, T0 - 60 * MINUTE), demandHistory: [200, 35, 35, 35] };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints }, state, currentWeights: { a: 100, b: 100 } });
    expect(out.nextState.demandHistory).toEqual([200, 35, 35, 35, 35]);
    // a is drained at once: b takes its share up to 71% of the traffic, and a keeps the rest. Judged
    // on the burst alone, b (at 50% already) took none of it.
    expect(out.decision.targetWeights).toEqual({ a: 59, b: 141 });
  });

  it('keeps one demand reading a period: a period judged again (an alarm between two ticks) replaces its own', () => {
    const service = makeService({ n: 2, endpoints: [{ capacity: { warmRps: 100 } }, { capacity: { warmRps: 100 } }] });
    const state = { ...initialServiceState(service, T0 - 60 * MINUTE), demandHistory: [200, 35, 35, 35, 35] };
    const at = (now: number, rps: number, previous: ServiceState) =>
      decide(service, {
        now,
        observations: { periodStart: T0, endpoints: { a: observe('ok', rps), b: observe('ok', rps) } },
        state: previous,
        currentWeights: { a: 100, b: 100 },
      }).nextState;
    const ticked = at(T0 + MINUTE, 20, state);
    expect(ticked.demandHistory).toEqual([35, 35, 35, 35, 40]);
    // The alarm's evaluation 30 s later reads the same period, fuller: it replaces that period's
    // reading, and no older period leaves the window for it. A new period is added as before.
    const again = at(T0 + MINUTE + 30_000, 22, ticked);
    expect(again.demandHistory).toEqual([35, 35, 35, 35, 44]);
    expect(at(T0 + MINUTE + 40_000, 22, { ...state, lastPeriodStart: T0 - MINUTE }).demandHistory).toEqual([35, 35, 35, 35, 44]);
  });

  it('sheds in proportion when the load is not known', () => {
    const service = makeService({ endpoints: [{ capacity: { warmRps: 100, targetUtilization: 0.8 } }] });
    const steps = runMinutes(service, 2, () => allOk(service, { a: 'severe' }));
    expect(steps[1]!.state.endpoints.a!.shed).toBeCloseTo(0.3);
  });
});

describe('decide: where shed traffic goes', () => {
  it('gives shed traffic to healthy actives in proportion to their baselines', () => {
    const service = makeService({ baselines: [100, 100, 50] });
    const steps = runMinutes(service, 3, incident(service, 'fail', 0));
    expect(steps[1]!.weights).toEqual({ a: 0, b: 167, c: 83 });
  });

  it('opens a standby only when the actives have no warm headroom', () => {
    const service = makeService({
      baselines: [100, 100, 0],
      endpoints: [
        { capacity: { warmRps: 100, targetUtilization: 1 } },
        { capacity: { warmRps: 60, targetUtilization: 1 } },
        { role: 'standby', capacity: { warmRps: 100, targetUtilization: 1 } },
      ],
    });
    const obs = (h: Record<string, Health>, rate: number) => Object.fromEntries(Object.entries(h).map(([id, x]) => [id, observe(x, rate)]));
    let state: ServiceState | undefined;
    let weights = { a: 100, b: 100, c: 0 };
    for (let m = 0; m < 2; m++) {
      const out = decide(service, {
        now: T0 + m * MINUTE,
        observations: { periodStart: T0 + m * MINUTE, endpoints: obs({ a: 'fail', b: 'ok', c: 'ok' }, 40) },
        state,
        currentWeights: weights,
      });
      state = out.nextState;
      weights = out.decision.targetWeights as typeof weights;
    }
    // Demand 120 rps: b can take 60 (50%), the standby takes the rest.
    expect(weights).toEqual({ a: 0, b: 100, c: 100 });
  });

  it('sheds less from a slow endpoint, and says so, when no other endpoint has headroom', () => {
    const service = makeService({ n: 2, endpoints: [{}, { capacity: { maxShare: 0.6 } }] });
    const steps = runMinutes(service, 4, incident(service, 'very-slow', 0));
    expect(steps[2]!.weights).toEqual({ a: 80, b: 120 });
    expect(steps[2]!.decision.blocked).toEqual([
      expect.objectContaining({ code: 'CAPACITY_LIMITED', message: expect.stringContaining('shedding less from a') }),
    ]);
  });

  it('keeps some traffic on a failing endpoint rather than push the others past their headroom, and says so', () => {
    const service = makeService({ n: 2, endpoints: [{}, { capacity: { maxShare: 0.6 } }] });
    const steps = runMinutes(service, 3, incident(service, 'fail', 0));
    expect(steps[1]!.weights).toEqual({ a: 80, b: 120 });
    expect(steps[1]!.decision.emergency).toBe(true);
    expect(steps[1]!.decision.blocked).toEqual([
      expect.objectContaining({ code: 'CAPACITY_LIMITED', message: expect.stringContaining('keeping some traffic on failing a') }),
    ]);
  });

  describe('a failing endpoint kept at some weight that serves again', () => {
    const tight = makeService({ n: 2, endpoints: [{}, { capacity: { maxShare: 0.6 } }] });
    const roomy = makeService({ n: 2 });
    /** a fails while b has no room (a kept at 80), then b has room from minute 3 and a is `after`. */
    function run(after: Health, minutes: number) {
      let state: ServiceState | undefined;
      let weights: Record<string, number> = { a: 100, b: 100 };
      return Array.from({ length: minutes }, (_, m) => {
        const service = m < 3 ? tight : roomy;
        const endpoints = { a: observe(m < 3 ? 'fail' : after), b: observe('ok') };
        const out = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints }, state, currentWeights: weights });
        state = out.nextState;
        weights = { ...out.decision.targetWeights };
        return { decision: out.decision, state, weights };
      });
    }

    it('keeps what it carries once clear, and recovers from there, though the others now have room', () => {
      const steps = run('ok', 16);
      expect(steps[2]!.weights).toEqual({ a: 80, b: 120 });
      const recovery = steps.findIndex((s) => s.decision.transitions.some((t) => t.endpoint === 'a' && t.reason === 'CLEARS_TO_RECOVER'));
      expect(recovery).toBeGreaterThan(3);
      for (const s of steps.slice(3, recovery)) expect(s.weights.a).toBe(80);
      expect(steps[recovery]!.weights.a).toBeGreaterThanOrEqual(80);
      expect(steps[recovery]!.state.endpoints.a!.recoveryFrom).toBeCloseTo(0.8);
    });

    it('is cut as soon as the others have room while it still fails', () => {
      const steps = run('fail', 5);
      expect(steps[2]!.weights.a).toBe(80);
      expect(steps[3]!.weights.a).toBe(0);
    });
  });

  it('sheds a region that took failover load from that load, not down to its bare baseline', () => {
    const service = makeService({ n: 3 });
    // a fails and is drained; b and c carry 150% of their baselines; then b runs hot (20% past trip).
    const steps = runMinutes(service, 8, (m) => allOk(service, { a: 'fail', b: m >= 3 ? 'slow' : 'ok' }));
    expect(steps[2]!.weights).toEqual({ a: 0, b: 150, c: 150 });
    const degraded = steps.find((s) => s.decision.transitions.some((t) => t.endpoint === 'b' && t.to === 'degraded'))!;
    expect(degraded.state.endpoints.b!.shedFrom).toBeCloseTo(1.5);
    expect(degraded.weights).toEqual({ a: 0, b: 120, c: 180 });
  });

  it('keeps minHealthyEndpoints serving even when their signals say drain', () => {
    const service = makeService({ n: 3, policy: { safety: { minHealthyEndpoints: 2, failStaticFraction: 1 } } });
    const steps = runMinutes(service, 3, (_m) => allOk(service, { a: 'fail', b: 'fail' }));
    const serving = Object.values(steps[2]!.weights).filter((w) => w > 0).length;
    expect(serving).toBe(2);
    expect(codes(steps[2]!.decision)).toContain('MIN_HEALTHY_ENDPOINTS');
  });

  it('never sets every weight to zero', () => {
    const service = makeService({ n: 2, policy: { safety: { failStaticFraction: 1 } } });
    const steps = runMinutes(service, 5, () => ({ a: 'fail', b: 'fail' }));
    for (const s of steps) expect(Object.values(s.weights).some((w) => w > 0)).toBe(true);
  });
});

describe('decide: fail static', () => {
  it('holds weights and notifies loudly, once, when most endpoints look bad at once', () => {
    const service = makeService();
    const steps = runMinutes(service, 8, (m) => allOk(service, m < 4 ? { a: 'fail', b: 'slow' } : {}));
    expect(steps.slice(0, 4).every((s) => s.decision.mode === 'fail-static' && s.decision.changes.length === 0)).toBe(true);
    expect(steps.flatMap((s) => s.decision.notifications).filter((n) => n.reason === 'FAIL_STATIC')).toEqual([
      expect.objectContaining({ severity: 'critical' }),
    ]);
    expect(codes(steps[4]!.decision)).toContain('FAIL_STATIC_ENDED');
    expect(steps[4]!.state.failStaticSince).toBeNull();
    expect(steps[7]!.decision.notifications).toEqual([expect.objectContaining({ reason: 'FAIL_STATIC_ENDED', severity: 'info' })]);
  });

  it('tells no one of a fail static shorter than failStaticNoticeSeconds, nor of its end', () => {
    const service = makeService();
    const steps = runMinutes(service, 5, (m) => allOk(service, m < 2 ? { a: 'fail', b: 'slow' } : {}));
    expect(steps.slice(0, 2).every((s) => s.decision.mode === 'fail-static')).toBe(true);
    expect(steps.flatMap((s) => s.decision.notifications).filter((n) => n.reason.startsWith('FAIL_STATIC'))).toEqual([]);
    expect(codes(steps[2]!.decision)).toContain('FAIL_STATIC_ENDED');
  });

  it('tells once of a fail static that keeps ending for a minute and coming back, as one', () => {
    const service = makeService();
    // Bad for two minutes, fine for one, bad for two: held four minutes in five.
    const steps = runMinutes(service, 9, (m) => allOk(service, [0, 1, 3, 4].includes(m) ? { a: 'fail', b: 'slow' } : {}));
    const told = steps.flatMap((s, m) => s.decision.notifications.map((n) => `${m} ${n.reason} ${n.severity}`));
    // Told 180 s after it began, and its end 180 s after it ended for good.
    expect(told).toEqual(['3 FAIL_STATIC critical', '8 FAIL_STATIC_ENDED info']);
    expect(steps[4]!.state.failStaticSince).toBe(steps[0]!.state.failStaticSince);
    expect(steps[5]!.state.failStaticNotice).toEqual({ since: steps[0]!.state.failStaticSince, told: true, endedAt: steps[5]!.decision.at });
  });

  it('holds when observations are missing for every endpoint (metric outage)', () => {
    const service = makeService();
    const steps = runMinutes(service, 10, () => ({}));
    expect(steps.every((s) => s.decision.mode === 'fail-static' && s.decision.changes.length === 0)).toBe(true);
    expect(steps.at(-1)!.state.endpoints.a!.status).toBe('healthy');
  });

  it('returns to baseline, within the step bound, when the policy says so', () => {
    const service = makeService({ n: 2, policy: { safety: { failStaticAction: 'baseline', maxShiftPerEvaluation: 0.25 } } });
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: {} }, state: undefined, currentWeights: { a: 200, b: 0 } });
    expect(out.decision.mode).toBe('fail-static');
    expect(out.decision.targetWeights).toEqual({ a: 150, b: 50 });
    expect(codes(out.decision)).toContain('STEP_BOUNDED');
  });
});

describe('decide: anti-flap guards on the change', () => {
  it('bounds the traffic one evaluation moves, and finishes the move later', () => {
    const service = makeService({ n: 2, policy: { safety: { maxShiftPerEvaluation: 0.1 } } });
    const steps = runMinutes(service, 8, incident(service, 'very-slow', 0), {});
    expect(steps[2]!.weights).toEqual({ a: 80, b: 120 });
    expect(steps[2]!.decision.blocked).toEqual([expect.objectContaining({ code: 'STEP_BOUNDED' })]);
    expect(steps[3]!.weights).toEqual({ a: 70, b: 130 });
  });

  it('writes the last small step back to the baseline weights, though it moves under rebalanceMinShare of the traffic', () => {
    // What a bounded step left of an incident: the rebalance deadband holds small moves elsewhere (guards.test.ts), not the one home.
    const service = makeService({ n: 2, policy: { deadbandWeight: 5 } });
    const currentWeights = { a: 106, b: 94 };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state: undefined, currentWeights });
    expect(out.decision.targetWeights).toEqual({ a: 100, b: 100 });
    expect(out.decision.changes).toEqual([
      { setIdentifier: 'a', from: 106, to: 100 },
      { setIdentifier: 'b', from: 94, to: 100 },
    ]);
    expect(codes(out.decision)).not.toContain('DEADBAND_REBALANCE');
  });

  it('writes a change under the weight deadband when it lands on the baseline weights (rebalance deadband off)', () => {
    // The weight deadband still holds any other small change (guards.test.ts); the end of an incident is written exactly.
    const service = makeService({ n: 2, policy: { deadbandWeight: 5, rebalanceMinShare: 0 } });
    const currentWeights = { a: 102, b: 98 };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state: undefined, currentWeights });
    expect(out.decision.targetWeights).toEqual({ a: 100, b: 100 });
    expect(out.decision.changes).toEqual([
      { setIdentifier: 'a', from: 102, to: 100 },
      { setIdentifier: 'b', from: 98, to: 100 },
    ]);
    expect(codes(out.decision)).not.toContain('DEADBAND_WEIGHT');
  });

  it('writes a small change that drains or restores a record, deadband or not', () => {
    const service = makeService({ n: 2, baselines: [2, 200], policy: { deadbandWeight: 5 } });
    const steps = runMinutes(service, 3, incident(service, 'fail', 0));
    expect(steps[1]!.decision.changes).toEqual(expect.arrayContaining([{ setIdentifier: 'a', from: 2, to: 0 }]));
  });

  it('blocks non-emergency changes beyond the hourly budget, and counts emergency drains without blocking them', () => {
    const service = makeService({ n: 2, policy: { changeBudget: { maxChangesPerHour: 1 } } });
    const base = initialServiceState(service, T0);
    const state: ServiceState = { ...base, recentChanges: [{ at: T0 - 10 * MINUTE, emergency: false }] };
    // A degrade shed (not an emergency) is blocked…
    let s: ServiceState | undefined = state;
    let last: ReturnType<typeof decide> | undefined;
    for (let m = 0; m < 3; m++) {
      last = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints: allOkObs(service, { a: 'slow' }) }, state: s });
      s = last.nextState;
    }
    expect(last!.decision.changes).toEqual([]);
    expect(last!.decision.blocked).toEqual([expect.objectContaining({ code: 'CHANGE_BUDGET_EXHAUSTED' })]);
    expect(last!.decision.notifications).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'CHANGE_BUDGET_EXHAUSTED' })]));
    // …a failing endpoint's drain is not, and it is counted.
    s = state;
    for (let m = 0; m < 2; m++) {
      last = decide(service, { now: T0 + m * MINUTE, observations: { periodStart: T0 + m * MINUTE, endpoints: allOkObs(service, { a: 'fail' }) }, state: s });
      s = last.nextState;
    }
    expect(last!.decision.emergency).toBe(true);
    expect(last!.decision.targetWeights.a).toBe(0);
    expect(s!.recentChanges).toHaveLength(2);
  });

  it('forgets changes older than an hour', () => {
    const service = makeService({ n: 2, policy: { changeBudget: { maxChangesPerHour: 1 } } });
    const state: ServiceState = { ...initialServiceState(service, T0), recentChanges: [{ at: T0 - 61 * MINUTE, emergency: false }] };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state, currentWeights: { a: 150, b: 50 } });
    expect(out.decision.changes).not.toEqual([]);
    expect(out.nextState.recentChanges).toEqual([{ at: T0, emergency: false, moved: { a: -1, b: 1 } }]);
  });
});

describe('decide: overrides', () => {
  const service = makeService({ n: 2 });
  const by = { by: 'arn:aws:iam::123456789012:user/oncall', reason: 'incident 42', setAt: T0 - MINUTE, announced: true };

  it('freezes: decides and records, writes nothing', () => {
    const state: ServiceState = { ...initialServiceState(service, T0), overrides: { freeze: { ...by, until: null } } };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state, currentWeights: { a: 10, b: 190 } });
    expect(out.decision.mode).toBe('frozen');
    expect(out.decision.changes).toEqual([]);
    expect(out.decision.blocked).toEqual([expect.objectContaining({ code: 'FROZEN' })]);
  });

  it('pins weights until the pin expires, then returns to policy', () => {
    const state: ServiceState = { ...initialServiceState(service, T0), overrides: { pin: { ...by, until: T0 + 10 * MINUTE, weights: { a: 0, b: 255 } } } };
    const pinned = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state, currentWeights: { a: 100, b: 100 } });
    expect(pinned.decision.mode).toBe('pinned');
    expect(pinned.decision.targetWeights).toEqual({ a: 0, b: 255 });
    const after = decide(service, {
      now: T0 + 10 * MINUTE,
      observations: { periodStart: T0 + 10 * MINUTE, endpoints: allOkObs(service) },
      state: pinned.nextState,
      currentWeights: { a: 0, b: 255 },
    });
    expect(after.decision.mode).toBe('normal');
    expect(codes(after.decision)).toContain('OVERRIDE_EXPIRED');
    expect(after.decision.notifications).toEqual([expect.objectContaining({ reason: 'OVERRIDE_EXPIRED' })]);
    expect(after.nextState.overrides).toEqual({});
    expect(after.decision.targetWeights.a).toBeGreaterThan(0);
  });

  it('drains an endpoint for maintenance, and brings it back when the drain ends', () => {
    const state: ServiceState = { ...initialServiceState(service, T0), overrides: { drains: { a: { ...by, until: T0 + 5 * MINUTE } } } };
    const during = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state });
    expect(during.decision.targetWeights).toEqual({ a: 0, b: 200 });
    expect(codes(during.decision)).toContain('MAINTENANCE_DRAIN');
    const after = decide(service, {
      now: T0 + 5 * MINUTE,
      observations: { periodStart: T0 + 5 * MINUTE, endpoints: allOkObs(service) },
      state: during.nextState,
      currentWeights: { a: 0, b: 200 },
    });
    expect(after.decision.targetWeights).toEqual({ a: 100, b: 100 });
    expect(after.nextState.overrides.drains).toBeUndefined();
  });

  it('keeps unexpired overrides and expires a freeze with an end time', () => {
    const state: ServiceState = {
      ...initialServiceState(service, T0),
      overrides: { freeze: { ...by, until: T0 }, drains: { a: { ...by, until: T0 + 60 * MINUTE }, b: { ...by, until: T0 } } },
    };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state });
    expect(out.nextState.overrides).toEqual({ drains: { a: state.overrides.drains!.a } });
  });
});

describe('decide: bookkeeping', () => {
  it('notes when Route 53 holds weights the controller did not write, and decides from them', () => {
    const service = makeService({ n: 2 });
    const state: ServiceState = { ...initialServiceState(service, T0), appliedWeights: { a: 100, b: 100 } };
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(service) }, state, currentWeights: { a: 50, b: 150 } });
    expect(codes(out.decision)).toContain('WEIGHTS_RECONCILED');
    expect(out.decision.currentWeights).toEqual({ a: 50, b: 150 });
    expect(out.decision.targetWeights).toEqual({ a: 100, b: 100 });
  });

  describe('drills: a drain its guard alarm aborts', () => {
    const service = makeService({ n: 3 });
    const guard = { name: 'chat-global-5xx', region: 'us-east-1' };
    const drilling: ServiceState = {
      ...initialServiceState(service, T0),
      appliedWeights: { a: 0, b: 0, c: 300 },
      overrides: {
        drains: {
          a: { by: 'ops', reason: 'quarterly drill', setAt: T0, until: T0 + 30 * MINUTE, guard, announced: true },
          b: { by: 'ops', reason: 'maintenance', setAt: T0, until: T0 + 30 * MINUTE, announced: true },
        },
      },
    };
    const run = (alarm: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | undefined) =>
      decide(service, {
        now: T0 + 5 * MINUTE,
        observations: { periodStart: T0 + 4 * MINUTE, endpoints: allOkObs(service) },
        state: drilling,
        currentWeights: { a: 0, b: 0, c: 300 },
        ...(alarm ? { guardAlarms: { 'us-east-1/chat-global-5xx': alarm } } : {}),
      });

    it.each(['OK', 'INSUFFICIENT_DATA', undefined] as const)('goes on while the guard alarm is %s', (alarm) => {
      const out = run(alarm);
      expect(out.nextState.overrides.drains!.a).toBeDefined();
      expect(out.decision.changes).toEqual([]);
    });

    it('ends the drill the moment the guard alarm fires: the endpoint back at once, unbounded, critical notice; other drains stay', () => {
      const out = run('ALARM');
      expect(Object.keys(out.nextState.overrides.drains!)).toEqual(['b']);
      expect(out.decision.emergency).toBe(true);
      expect(out.decision.targetWeights.a).toBeGreaterThan(0);
      expect(out.decision.reasons).toContainEqual({
        code: 'DRILL_ABORTED',
        endpoint: 'a',
        message: 'drill of a aborted: guard alarm chat-global-5xx (us-east-1) is in ALARM; a comes back at once',
      });
      expect(out.decision.notifications).toContainEqual(expect.objectContaining({ severity: 'critical', reason: 'DRILL_ABORTED' }));
      expect(out.decision.blocked.map((b) => b.code)).not.toContain('STEP_BOUNDED');
    });
  });

  describe('scheduled drills (service.drills)', () => {
    // T0 is Thursday 2026-01-01 00:00 UTC: '0 0 * * 4' fires at T0, '5 0 * * 4' five minutes later.
    const service = makeService({ n: 3 });
    const withDrill = (schedule = '0 0 * * 4') => ({
      ...service,
      drills: [{ endpoint: 'a', schedule, durationMinutes: 15, guardAlarm: { name: 'chat-global-5xx', region: 'us-east-1' } }],
    });
    const at = (
      minute: number,
      state: ServiceState | undefined,
      options: { guard?: 'OK' | 'ALARM'; health?: Record<string, Health>; weights?: Record<string, number> } = {},
    ) =>
      decide(withDrill(), {
        now: T0 + minute * MINUTE,
        observations: {
          periodStart: T0 + (minute - 1) * MINUTE,
          endpoints: Object.fromEntries(['a', 'b', 'c'].map((id) => [id, observe(options.health?.[id] ?? 'ok')])),
        },
        state,
        currentWeights: options.weights ?? { a: 100, b: 100, c: 100 },
        ...(options.guard ? { guardAlarms: { 'us-east-1/chat-global-5xx': options.guard } } : {}),
      });

    it('drains the endpoint at the scheduled time, with its guard, until the drill ends; once per scheduled time', () => {
      const start = at(1, initialServiceState(service, T0), { guard: 'OK' });
      expect(start.nextState.overrides.drains!.a).toEqual({
        by: 'drill schedule',
        reason: 'scheduled drill (0 0 * * 4 UTC)',
        setAt: T0 + MINUTE,
        until: T0 + 15 * MINUTE,
        guard: { name: 'chat-global-5xx', region: 'us-east-1' },
        announced: true,
      });
      expect(start.decision.targetWeights.a).toBe(0);
      expect(start.decision.reasons).toContainEqual(expect.objectContaining({ code: 'DRILL_STARTED', endpoint: 'a' }));
      expect(start.nextState.drillStarts).toEqual({ a: T0 });
      // Ended early by hand, it does not start again within the same scheduled time.
      const { drains: _d, ...rest } = start.nextState.overrides;
      const again = at(3, { ...start.nextState, overrides: rest }, { guard: 'OK', weights: start.decision.targetWeights });
      expect(again.nextState.overrides.drains).toBeUndefined();
      expect(again.decision.reasons.map((r) => r.code)).not.toContain('DRILL_STARTED');
      // After its window, nothing happens until the next week.
      expect(at(16, initialServiceState(service, T0)).nextState.overrides.drains).toBeUndefined();
    });

    it.each<[string, Partial<Parameters<typeof at>[2]>, ((s: ServiceState) => ServiceState) | undefined, string]>([
      ['its guard alarm is in ALARM', { guard: 'ALARM' }, undefined, 'its guard alarm is in ALARM'],
      [
        'an endpoint is not healthy',
        {},
        (s) => ({ ...s, endpoints: { ...s.endpoints, b: { ...s.endpoints.b!, status: 'degraded', shed: 0.3 } } }),
        'not every endpoint is healthy (b degraded)',
      ],
      [
        'the service is frozen',
        {},
        (s) => ({ ...s, overrides: { freeze: { by: 'ops', reason: 'launch', setAt: T0, until: null, announced: true } } }),
        'the service is frozen by ops',
      ],
    ])('skips the drill, with a warning, when %s', (_name, options, prepare, why) => {
      const base = initialServiceState(service, T0);
      const out = at(1, prepare ? prepare(base) : base, options);
      expect(out.nextState.overrides.drains).toBeUndefined();
      expect(out.decision.reasons).toContainEqual({ code: 'DRILL_SKIPPED', endpoint: 'a', message: `scheduled drill of a (0 0 * * 4 UTC) skipped: ${why}` });
      expect(out.decision.notifications).toContainEqual(expect.objectContaining({ severity: 'warning', reason: 'DRILL_SKIPPED' }));
    });
  });

  describe('drift adopted as a pin (policy.drift.action adopt)', () => {
    const service = makeService({ n: 2, policy: { drift: { action: 'adopt', adoptSeconds: 600 } } });
    const applied: ServiceState = { ...initialServiceState(service, T0), appliedWeights: { a: 100, b: 100 } };
    const run = (state: ServiceState, minute: number, currentWeights: Record<string, number>, health: Record<string, Health> = {}) =>
      decide(service, {
        now: T0 + minute * MINUTE,
        observations: { periodStart: T0 + minute * MINUTE, endpoints: { a: observe(health.a ?? 'ok'), b: observe(health.b ?? 'ok') } },
        state,
        currentWeights,
      });

    it('holds the edit as a pin, says so, and writes nothing', () => {
      const out = run(applied, 0, { a: 20, b: 180 });
      expect(out.decision.mode).toBe('pinned');
      expect(out.decision.changes).toEqual([]);
      expect(out.nextState.overrides.pin).toEqual({
        by: 'drift',
        reason: 'Route 53 weights changed outside steer53',
        setAt: T0,
        until: T0 + 10 * MINUTE,
        weights: { a: 20, b: 180 },
        announced: true,
      });
      expect(out.decision.notifications).toEqual([
        expect.objectContaining({ severity: 'warning', reason: 'DRIFT_ADOPTED', summary: expect.stringContaining('(a=20 b=180) as a pin until') }),
      ]);
      expect(out.nextState.appliedWeights).toEqual({ a: 20, b: 180 });
    });

    it('adopts a second edit in place of the first, and returns to policy when the pin ends', () => {
      const first = run(applied, 0, { a: 20, b: 180 });
      const second = run(first.nextState, 3, { a: 60, b: 140 });
      expect(second.nextState.overrides.pin).toMatchObject({ by: 'drift', weights: { a: 60, b: 140 }, until: T0 + 13 * MINUTE });
      const held = run(second.nextState, 12, { a: 60, b: 140 });
      expect(held.decision.changes).toEqual([]);
      const after = run(held.nextState, 13, { a: 60, b: 140 });
      expect(codes(after.decision)).toContain('OVERRIDE_EXPIRED');
      expect(after.decision.targetWeights).toEqual({ a: 100, b: 100 });
    });

    it('leaves a pin someone set on purpose, and a freeze, as they are', () => {
      const by = { by: 'ops', reason: 'launch', setAt: T0, until: T0 + 60 * MINUTE, announced: true };
      const pinned = run({ ...applied, overrides: { pin: { ...by, weights: { a: 50, b: 150 } } } }, 0, { a: 20, b: 180 });
      expect(pinned.nextState.overrides.pin).toMatchObject({ by: 'ops', weights: { a: 50, b: 150 } });
      expect(pinned.decision.targetWeights).toEqual({ a: 50, b: 150 });
      const frozen = run({ ...applied, overrides: { freeze: by } }, 0, { a: 20, b: 180 });
      expect(frozen.nextState.overrides.pin).toBeUndefined();
      expect(codes(frozen.decision)).not.toContain('DRIFT_ADOPTED');
    });

    it('reverts by default: decides from the edit, and policy wins', () => {
      const plain = makeService({ n: 2 });
      const out = decide(plain, {
        now: T0,
        observations: { periodStart: T0, endpoints: allOkObs(plain) },
        state: { ...initialServiceState(plain, T0), appliedWeights: { a: 100, b: 100 } },
        currentWeights: { a: 20, b: 180 },
      });
      expect(out.nextState.overrides.pin).toBeUndefined();
      expect(out.decision.targetWeights).toEqual({ a: 100, b: 100 });
    });
  });

  it('starts endpoints added to the config as healthy and drops removed ones', () => {
    const two = makeService({ n: 2 });
    const three = makeService({ n: 3 });
    const first = decide(two, { now: T0, observations: { periodStart: T0, endpoints: allOkObs(two) }, state: undefined });
    const next = decide(three, { now: T0 + MINUTE, observations: { periodStart: T0 + MINUTE, endpoints: allOkObs(three) }, state: first.nextState });
    expect(Object.keys(next.nextState.endpoints)).toEqual(['a', 'b', 'c']);
    expect(next.nextState.endpoints.c!.status).toBe('healthy');
    expect(next.decision.targetWeights).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('gives the same decision for the same inputs', () => {
    const service = makeService();
    const run = () => runMinutes(service, 30, (m) => allOk(service, { a: m % 7 < 3 ? 'slow' : 'ok', b: m > 20 ? 'fail' : 'ok' }));
    expect(run()).toEqual(run());
  });
});

describe('decide: Route 53 holding zero on every record', () => {
  it('writes baseline rather than keep an even split, even while failing static', () => {
    const service = makeService({ n: 2 });
    const out = decide(service, { now: T0, observations: { periodStart: T0, endpoints: {} }, state: undefined, currentWeights: { a: 0, b: 0 } });
    expect(out.decision.mode).toBe('fail-static');
    expect(out.decision.targetWeights).toEqual({ a: 100, b: 100 });
    expect(out.decision.blocked).toEqual([expect.objectContaining({ code: 'ALL_ZERO_WEIGHTS' })]);
  });
});
