import { describe, expect, it } from 'vitest';
import { decide } from '../../../functions/core/engine.js';
import type { EndpointObservations, ServiceState, Weights } from '../../../functions/core/types.js';
import { FAILING_CHECKERS_TO_HOLD, initialEndpointState, relievedByRestore } from '../../../functions/core/hysteresis.js';
import { evaluateEndpoint } from '../../../functions/core/verdicts.js';
import { signalSchema } from '../../../functions/core/config.js';
import { codes, makeService, MINUTE, T0, type Step } from '../../support/engineFixtures.js';

/** Three endpoints judged on p99 and a fail-severity 5xx alarm, as the shipped policies are. */
const service = makeService({
  endpoints: ['a', 'b', 'c'].map((id) => ({
    signals: [
      { name: 'p99', source: 'metric', metric: { namespace: 'Inference', metricName: 'Latency', statistic: 'p99' }, unit: 'ms', trip: 2000, clear: 1500 },
      { name: 'errors', source: 'alarm', alarm: { name: `chat-${id}-5xx` }, severity: 'fail' },
    ],
  })),
});

/** One endpoint's minute: its p99 (null: it reports nothing, it is down), its 5xx alarm, its record's health check. */
interface Minute {
  readonly p99?: number | null;
  readonly alarm?: 'OK' | 'ALARM';
  readonly check?: 'healthy' | 'unhealthy';
  /** How many of its health check's checkers failed lately, when read. */
  readonly failures?: number;
}

function observations(m: Minute): EndpointObservations {
  const p99 = m.p99 === undefined ? 900 : m.p99;
  return {
    signals: { ...(p99 === null ? {} : { p99: { value: p99, sampleCount: 5000 } }), errors: { alarmState: m.alarm ?? 'OK' } },
    ...(m.check ? { healthCheck: m.check } : {}),
    ...(m.failures === undefined ? {} : { healthCheckFailures: m.failures }),
  };
}

/** Runs the engine once a minute; `at(minute)` gives each endpoint's minute (the others are well, with healthy checks). */
function run(minutes: number, at: (m: number) => Partial<Record<'a' | 'b' | 'c', Minute>>): Step[] {
  let state: ServiceState | undefined;
  let weights: Weights = { a: 100, b: 100, c: 100 };
  const steps: Step[] = [];
  for (let m = 0; m < minutes; m++) {
    const now = T0 + m * MINUTE;
    const given = at(m);
    const endpoints = Object.fromEntries(['a', 'b', 'c'].map((id) => [id, observations(given[id as 'a'] ?? { check: 'healthy' })]));
    const { decision, nextState } = decide(service, { now, observations: { periodStart: now - MINUTE, endpoints }, state, currentWeights: weights });
    state = nextState;
    weights = { ...decision.targetWeights };
    steps.push({ decision, state, weights, minute: m });
  }
  return steps;
}

const down: Minute = { p99: null, alarm: 'ALARM', check: 'unhealthy' };
/** Back and serving, its health check passing, its 5xx alarm not yet caught up. */
const backAlarmLagging: Minute = { alarm: 'ALARM', check: 'healthy' };
/** a's 5xx alarm fires at minute 0 (its checkers have not yet counted three failures), it is down until minute 12, then back. */
const BACK = 12;
const outage = (m: number, after: Minute = backAlarmLagging): Minute => (m === 0 ? backAlarmLagging : m < BACK ? down : after);

describe('decide: a failure the Route 53 health check saw ends as it sees it', () => {
  it('is not held behind its own drain when the check was not read passing at it: a short hard outage comes back as health checks bring it back', () => {
    // The runtime reads no check of a healthy endpoint: at minute 0 its alarm drains it, its check unread.
    const unread = (m: number): Minute => (m === 0 ? { alarm: 'ALARM' } : m < 4 ? down : { check: 'healthy' });
    const steps = run(6, (m) => ({ a: unread(m) }));
    expect(steps[0]!.state.endpoints.a!.checkPassedAtDrain).toBeUndefined();
    expect(steps[4]!.decision.transitions).toEqual([expect.objectContaining({ reason: 'HEALTH_CHECK_RESTORED' })]);
    expect(codes(steps[4]!.decision)).not.toContain('FLAP_HOLD');
    expect(steps[4]!.weights).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('restores the endpoint at once, at its full share, when its health check passes again', () => {
    const steps = run(BACK + 2, (m) => ({ a: outage(m) }));
    expect(steps[0]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'drained', reason: 'FAIL_UNAMBIGUOUS' })]);
    expect(steps[1]!.state.endpoints.a!.healthCheckFailed).toBe(true);
    expect(steps[BACK - 1]!.weights.a).toBe(0);
    expect(steps[BACK]!.decision.transitions).toEqual([
      expect.objectContaining({
        endpoint: 'a',
        from: 'drained',
        to: 'healthy',
        reason: 'HEALTH_CHECK_RESTORED',
        message: expect.stringContaining('its Route 53 health check passes again'),
      }),
    ]);
    expect(steps[BACK]!.weights).toEqual({ a: 100, b: 100, c: 100 });
    expect(steps[BACK]!.state.endpoints.a!.healthCheckFailed).toBeUndefined();
    expect(steps[BACK]!.decision.notifications).toEqual([expect.objectContaining({ reason: 'HEALTH_CHECK_RESTORED', severity: 'info' })]);
  });

  it('is not restored while its check flickers: passing again with enough of its checkers failing within the last minute; restored once few do', () => {
    // Failing most of its requests from minute 0: its check fails at minutes 1-5, passes at 6 with
    // 12 of its checkers failing in the last minute, fails at 7, passes at 8 with 11; its errors end,
    // and at 12 its check passes with 2 (their last failures before the end, still within the minute).
    const flickers = (m: number): Minute =>
      m === 0
        ? backAlarmLagging
        : m === 6
          ? { alarm: 'ALARM', check: 'healthy', failures: 12 }
          : m === 8
            ? { alarm: 'ALARM', check: 'healthy', failures: 11 }
            : m < BACK
              ? down
              : { ...backAlarmLagging, failures: 2 };
    const steps = run(BACK + 1, (m) => ({ a: flickers(m) }));
    for (const m of [6, 8]) {
      expect(steps[m]!.decision.transitions).toEqual([]);
      expect(steps[m]!.weights.a).toBe(0);
    }
    expect(steps[6]!.decision.reasons).toContainEqual({
      code: 'CHECKERS_FAILING_HOLD',
      endpoint: 'a',
      message: "a's health check passes again, but 12 of its checkers saw it fail within 60 s: its check flickers; stays drained",
    });
    expect(steps[6]!.state.endpoints.a).toMatchObject({ status: 'drained', failed: true, healthCheckFailed: true });
    expect(steps[BACK]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'healthy', reason: 'HEALTH_CHECK_RESTORED' })]);
    expect(FAILING_CHECKERS_TO_HOLD).toBeGreaterThan(2);
  });

  it('is held by the flap guard like any other move back: a failure shorter than the dwell comes back when the dwell is over', () => {
    const short = (m: number): Minute => (m === 0 ? backAlarmLagging : m < 4 ? down : { check: 'healthy' });
    const steps = run(11, (m) => ({ a: short(m) }));
    // Its check was read as passing when its alarm drained it (minute 0): that drain took its clients away.
    expect(steps[0]!.state.endpoints.a).toMatchObject({ status: 'drained', checkPassedAtDrain: true });
    expect(steps[4]!.decision.transitions).toEqual([expect.objectContaining({ reason: 'HEALTH_CHECK_RESTORED' })]);
    expect(codes(steps[4]!.decision)).toContain('FLAP_HOLD');
    expect(steps[9]!.weights.a).toBe(0);
    expect(steps[10]!.weights).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('is written without the reversal of a survivor that moved up for another’s shed since: that survivor keeps its share until its dwell is over', () => {
    // b breaches at minutes 5-9 (carrying a's traffic) and sheds to c at minute 7; a's check passes at minute 12.
    const steps = run(18, (m) => ({
      a: outage(m, m < 14 ? backAlarmLagging : { check: 'healthy' }),
      b: { p99: m >= 5 && m < 10 ? 2600 : 900, check: 'healthy' },
    }));
    expect(steps[7]!.weights).toEqual({ a: 0, b: 105, c: 195 });
    expect(steps[BACK]!.decision.transitions).toEqual(expect.arrayContaining([expect.objectContaining({ endpoint: 'a', reason: 'HEALTH_CHECK_RESTORED' })]));
    // c keeps 65%; b goes to its planned third; a gets what b gives up, not the nothing a whole hold would give it.
    expect(codes(steps[BACK]!.decision)).toContain('FLAP_HOLD_KEPT');
    expect(steps[BACK]!.weights).toEqual({ a: 5, b: 100, c: 195 });
    expect(steps[16]!.weights).toEqual({ a: 5, b: 100, c: 195 });
    // c's move up was at minute 7: at minute 17 its dwell is over and the rest goes out.
    expect(steps[17]!.weights).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('takes the 5xx alarm still in ALARM for CloudWatch lag for one detection window, and says so', () => {
    const steps = run(BACK + 4, (m) => ({ a: m < BACK + 3 ? outage(m) : { check: 'healthy' } }));
    for (const step of steps.slice(BACK + 1, BACK + 3)) {
      expect(step.weights.a).toBe(100);
      expect(step.decision.transitions).toEqual([]);
      expect(codes(step.decision)).toContain('ALARM_LAG_HOLD');
      expect(step.decision.verdicts.a!.signals.find((s) => s.signal === 'errors')).toMatchObject({ verdict: 'unknown', unknownCause: 'alarm-lag' });
    }
    // Once the alarm has caught up (OK), the window ends: a later ALARM is new failure.
    expect(steps[BACK + 3]!.state.endpoints.a!.alarmLagUntil).toBeUndefined();
  });

  it('drains again when the alarm fires anew after catching up', () => {
    const steps = run(BACK + 4, (m) => ({ a: m === BACK + 1 ? { check: 'healthy' } : outage(m) }));
    expect(steps[BACK]!.weights.a).toBe(100);
    expect(steps[BACK + 2]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'drained', reason: expect.stringMatching(/^FAIL_/) })]);
    // It passes its health check throughout this failure: nothing restores it but its evidence.
    expect(steps[BACK + 3]!.weights.a).toBe(0);
  });

  it('drains again when the alarm stays in ALARM past the time clients take to come back and a detection window (errors under load, not lag)', () => {
    const steps = run(BACK + 9, (m) => ({ a: outage(m) }));
    // Restored at BACK; clients take shedding.intervalSeconds (3 minutes) to come back, and the
    // window is 5 periods: the 7 minutes after are lag, the eighth is failure.
    expect(steps.slice(BACK + 1, BACK + 8).every((s) => s.weights.a === 100)).toBe(true);
    expect(steps[BACK + 7]!.decision.reasons.find((r) => r.code === 'ALARM_LAG_HOLD')?.message).toContain('60 s more');
    expect(steps[BACK + 8]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'drained', reason: expect.stringMatching(/^FAIL_/) })]);
  });

  it('does not restore an endpoint whose health check passed all through its failure (5xx on inference, health path fine)', () => {
    const steps = run(BACK + 2, () => ({ a: backAlarmLagging }));
    expect(steps.flatMap((s) => s.decision.transitions).map((t) => t.reason)).toEqual(['FAIL_UNAMBIGUOUS']);
    expect(steps.at(-1)!.weights.a).toBe(0);
  });

  it('does nothing new where the health check is not read', () => {
    const noCheck = ({ check: _check, ...rest }: Minute): Minute => rest;
    const steps = run(BACK + 2, (m) => ({ a: noCheck(outage(m)) }));
    expect(steps.flatMap((s) => s.decision.transitions).map((t) => t.reason)).toEqual(['FAIL_UNAMBIGUOUS']);
    expect(steps.at(-1)!.weights.a).toBe(0);
  });
});

/** The transition of `a` restored at once because its checkers no longer see failures. */
const checkersRestored = (message: string) => ({ endpoint: 'a', from: 'drained', to: 'healthy', reason: 'CHECKERS_CLEAR_RESTORED', message });

describe('decide: a region drained for failing whose health checkers still see failures', () => {
  // a fails part of its requests: its 5xx alarm drains it, its health check passes all through (a
  // checker turns only after failures in a row), and once drained its alarm has too few requests to
  // stay in ALARM. Its checkers still see some checks fail until minute 20.
  const partial =
    (failures: (m: number) => number | undefined) =>
    (m: number): { a: Minute } => {
      const count = failures(m);
      if (m === 0) return { a: { alarm: 'ALARM', check: 'healthy' } };
      return { a: count === undefined ? { check: 'healthy' } : { check: 'healthy', failures: count } };
    };
  const restores = (steps: Step[]) => steps.flatMap((s) => s.decision.transitions.filter((t) => t.to === 'recovering').map(() => s.minute));

  it('holds its recovery while enough of its checkers failed lately, and says so; it recovers once they fail less', () => {
    const steps = run(
      26,
      partial((m) => (m < 20 ? FAILING_CHECKERS_TO_HOLD + 3 : 1)),
    );
    const unheld = run(
      26,
      partial(() => undefined),
    );
    const first = restores(unheld)[0]!;
    expect(first).toBeLessThan(20);
    expect(restores(steps)[0]).toBe(20);
    expect(steps[first]!.decision.reasons).toContainEqual(
      expect.objectContaining({
        code: 'CHECKERS_FAILING_HOLD',
        endpoint: 'a',
        message: expect.stringMatching(
          new RegExp(`^a clear for \\d+ periods but ${FAILING_CHECKERS_TO_HOLD + 3} of its health checkers saw it fail within 120 s: stays drained$`),
        ),
      }),
    );
    expect(steps[first]!.weights.a).toBe(0);
  });

  it('recovers as before when fewer checkers failed (a region failing a few percent: its probes cost less than they save)', () => {
    const steps = run(
      26,
      partial(() => FAILING_CHECKERS_TO_HOLD - 1),
    );
    expect(restores(steps)).toEqual(
      restores(
        run(
          26,
          partial(() => undefined),
        ),
      ),
    );
    expect(steps.flatMap((s) => codes(s.decision))).not.toContain('CHECKERS_FAILING_HOLD');
  });

  it('restores it at once, at its full share, in the first period none of its checkers failed (its dwell over, nothing breaching), and relieves its survivors', () => {
    const steps = run(
      26,
      partial((m) => (m < 20 ? FAILING_CHECKERS_TO_HOLD + 3 : 0)),
    );
    expect(restores(steps)).toEqual([]);
    expect(steps[19]!.weights.a).toBe(0);
    expect(steps[20]!.decision.transitions).toEqual([
      checkersRestored(
        'a restored: none of its health checkers saw it fail within 120 s and its signals are clear, so its errors have stopped; back at its full share',
      ),
    ]);
    expect(steps[20]!.weights).toEqual({ a: 100, b: 100, c: 100 });
    expect(steps[20]!.decision.notifications).toEqual([expect.objectContaining({ reason: 'CHECKERS_CLEAR_RESTORED', severity: 'info' })]);
  });

  it.each<[string, (m: number) => Partial<Record<'a' | 'b' | 'c', Minute>>]>([
    // The failures not read (a throttle, a record without a check): nothing known, nothing restored.
    ['its checkers not read', partial(() => undefined)],
    ['one checker failing lately', partial(() => 1)],
    ['its 5xx alarm still in ALARM', (m) => ({ a: { alarm: 'ALARM', check: 'healthy', ...(m === 0 ? {} : { failures: 0 }) } })],
  ])('does not restore it at once with %s', (_name, at) => {
    const steps = run(26, at);
    expect(steps.flatMap((s) => s.decision.transitions).map((t) => t.reason)).not.toContain('CHECKERS_CLEAR_RESTORED');
  });

  describe('its 5xx alarm still in ALARM on the few requests it serves drained', () => {
    // a's checkers see its failures until minute 20, then none; its 5xx alarm, counting the few
    // requests a drained region keeps, stays in ALARM until `alarmUntil` (CloudWatch keeps an
    // alarm's state on missing datapoints), and so does anything else given in `also`.
    const lagging =
      (alarmUntil: number, seen = true, also: Minute = {}) =>
      (m: number): { a: Minute } => ({
        a: {
          check: 'healthy',
          alarm: m < alarmUntil ? 'ALARM' : 'OK',
          ...(m === 0 ? {} : { failures: m < 20 && seen ? FAILING_CHECKERS_TO_HOLD + 3 : 0 }),
          ...(m >= 20 ? also : {}),
        },
      });
    const restoredAt = (steps: Step[]) => steps.filter((s) => s.decision.transitions.some((t) => t.reason === 'CHECKERS_CLEAR_RESTORED')).map((s) => s.minute);

    it('is restored once its checkers, which saw it fail, no longer do; the alarm is taken for lag for one detection window, and said so', () => {
      const steps = run(30, lagging(26));
      expect(steps[19]!.state.endpoints.a).toMatchObject({ status: 'drained', checkersSawFailure: true });
      expect(restoredAt(steps)).toEqual([20]);
      expect(steps[20]!.decision.transitions).toEqual([
        checkersRestored(
          "a restored: its health checkers saw it fail while drained and none has within 120 s, so its errors have stopped; errors still in ALARM on the few requests a drained region serves, taken for CloudWatch's lag for 480 s; back at its full share",
        ),
      ]);
      expect(steps[20]!.weights).toEqual({ a: 100, b: 100, c: 100 });
      expect(steps[20]!.state.endpoints.a!.checkersSawFailure).toBeUndefined();
      for (const step of steps.slice(21, 26)) {
        expect(step.weights.a).toBe(100);
        expect(step.decision.reasons).toContainEqual(
          expect.objectContaining({
            code: 'ALARM_LAG_HOLD',
            endpoint: 'a',
            message: expect.stringMatching(/^a: errors still in ALARM just after it was restored: taken for CloudWatch's lag/),
          }),
        );
      }
      expect(steps.flatMap((s) => s.decision.transitions).map((t) => t.reason)).toEqual(['FAIL_UNAMBIGUOUS', 'CHECKERS_CLEAR_RESTORED']);
    });

    it('drains again when the alarm is still in ALARM after the lag window (its errors did not stop)', () => {
      const steps = run(30, lagging(40));
      expect(restoredAt(steps)).toEqual([20]);
      expect(steps.slice(20, 28).every((s) => s.weights.a === 100)).toBe(true);
      expect(steps[28]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', to: 'drained', reason: expect.stringMatching(/^FAIL_/) })]);
    });

    it.each<[string, ReturnType<typeof lagging>, number[]]>([
      // Restored as before, once the alarm is OK.
      ['its checkers never seen failing (they may not check what fails)', lagging(26, false), [26]],
      ['its latency breaching too', lagging(26, true, { p99: 5000 }), []],
    ])('is not restored while the alarm is in ALARM with %s', (_name, at, restored) => {
      const steps = run(30, at);
      expect(restoredAt(steps)).toEqual(restored);
      expect(steps[25]!.weights.a).toBe(0);
      expect(steps[25]!.state.endpoints.a!.alarmLagUntil).toBeUndefined();
    });
  });

  it('waits for its dwell (600 s from its drain at minute 0)', () => {
    const steps = run(
      12,
      partial(() => 0),
    );
    const restored = steps.filter((s) => s.decision.transitions.some((t) => t.reason === 'CHECKERS_CLEAR_RESTORED')).map((s) => s.minute);
    expect(restored).toEqual([10]);
    expect(steps[9]!.weights.a).toBe(0);
  });

  it('is not read into an endpoint that is not drained for failing', () => {
    const healthyFailing = run(3, () => ({ a: { check: 'healthy', failures: 16 } }));
    expect(healthyFailing.flatMap((s) => codes(s.decision))).not.toContain('CHECKERS_FAILING_HOLD');
    expect(healthyFailing.at(-1)!.weights.a).toBe(100);
  });
});

describe('decide: a region drained for errors whose error rate still reads past clear', () => {
  // As above, with a per-request error rate too (policies/chat-3-regions.yaml): drained, the region
  // keeps a few requests (cached answers), too few to prove its errors go on, enough to show them.
  const withRate = makeService({
    endpoints: ['a', 'b', 'c'].map((id) => ({
      signals: [
        { name: 'p99', source: 'metric', metric: { namespace: 'Inference', metricName: 'Latency', statistic: 'p99' }, unit: 'ms', trip: 2000, clear: 1500 },
        {
          name: 'error-rate',
          source: 'metric',
          metric: { namespace: 'Inference', metricName: 'Error', statistic: 'Average' },
          perRequest: true,
          unit: '%',
          scale: 100,
          trip: 5,
          clear: 1,
          severity: 'fail',
        },
        { name: 'errors', source: 'alarm', alarm: { name: `chat-${id}-5xx` }, severity: 'fail' },
      ],
    })),
  });
  /**
   * a's minutes: its alarm drains it at minute 0, on a fifth of its 900 requests failing (an alarm on
   * a few requests would be set aside: FEW_REQUESTS_HOLD); from then, drained, its checkers see no
   * failure and its error rate reads `share(m)` of 20 requests.
   */
  function drainedWithRate(minutes: number, share: (m: number) => number): Step[] {
    let state: ServiceState | undefined;
    let weights: Weights = { a: 100, b: 100, c: 100 };
    const steps: Step[] = [];
    for (let m = 0; m < minutes; m++) {
      const now = T0 + m * MINUTE;
      const endpoints = Object.fromEntries(
        ['a', 'b', 'c'].map((id) => {
          const a = id === 'a';
          const errors = { alarmState: a && m === 0 ? 'ALARM' : 'OK' } as const;
          const rate = a && m === 0 ? { value: 0.2, sampleCount: 900 } : { value: a ? share(m) : 0, sampleCount: a ? 20 : 3000 };
          const obs: EndpointObservations = {
            signals: { p99: { value: 900, sampleCount: a ? 20 : 3000 }, 'error-rate': rate, errors },
            healthCheck: 'healthy',
            ...(a && m > 0 ? { healthCheckFailures: 0 } : {}),
          };
          return [id, obs];
        }),
      );
      const { decision, nextState } = decide(withRate, { now, observations: { periodStart: now - MINUTE, endpoints }, state, currentWeights: weights });
      state = nextState;
      weights = { ...decision.targetWeights };
      steps.push({ decision, state, weights, minute: m });
    }
    return steps;
  }
  const restoredAt = (steps: Step[]) => steps.filter((s) => s.decision.transitions.some((t) => t.reason === 'CHECKERS_CLEAR_RESTORED')).map((s) => s.minute);

  it('takes its error rate still reading the outage just after a health-check restore for CloudWatch lag, and says so', () => {
    // a down until minute 12: its health check fails, its rate reads its refused requests (all failed);
    // back at 12, the rate's minutes are the outage's for two more minutes, then its own.
    let state: ServiceState | undefined;
    let weights: Weights = { a: 100, b: 100, c: 100 };
    const steps: Step[] = [];
    for (let m = 0; m < 16; m++) {
      const now = T0 + m * MINUTE;
      const stale = m < 14;
      const a: EndpointObservations = {
        signals: {
          'error-rate': { value: stale ? 1 : 0, sampleCount: stale ? 4 : 900 },
          errors: { alarmState: 'OK' },
          ...(m < 12 ? {} : { p99: { value: 900, sampleCount: 900 } }),
        },
        healthCheck: m < 12 ? 'unhealthy' : 'healthy',
      };
      const well: EndpointObservations = {
        signals: { p99: { value: 900, sampleCount: 3000 }, 'error-rate': { value: 0, sampleCount: 3000 }, errors: { alarmState: 'OK' } },
        healthCheck: 'healthy',
      };
      const { decision, nextState } = decide(withRate, {
        now,
        observations: { periodStart: now - MINUTE, endpoints: { a, b: well, c: well } },
        state,
        currentWeights: weights,
      });
      state = nextState;
      weights = { ...decision.targetWeights };
      steps.push({ decision, state, weights, minute: m });
    }
    expect(steps[0]!.weights.a).toBe(0);
    expect(steps[12]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', reason: 'HEALTH_CHECK_RESTORED' })]);
    expect(steps[13]!.weights.a).toBe(100);
    expect(steps[13]!.decision.reasons).toContainEqual(
      expect.objectContaining({
        code: 'ALARM_LAG_HOLD',
        endpoint: 'a',
        message: expect.stringMatching(/^a: error-rate still reading failure just after it was restored/),
      }),
    );
    expect(steps[15]!.state.endpoints.a!.alarmLagUntil).toBeUndefined();
    expect(steps.flatMap((s) => s.decision.transitions).map((t) => t.reason)).toEqual(['FAIL_UNAMBIGUOUS', 'HEALTH_CHECK_RESTORED']);
  });

  it('is not restored at once while its error rate reads past clear, however unproven; it is once it reads clear', () => {
    // 2 of 20 requests failing (10%) proves nothing against a 5% trip (P = 26%), but the errors have not stopped.
    const steps = drainedWithRate(16, (m) => (m < 13 ? 0.1 : 0));
    expect(steps[10]!.state!.endpoints.a!.status).toBe('drained');
    expect(restoredAt(steps)).toEqual([13]);
    expect(restoredAt(drainedWithRate(16, () => 0))).toEqual([10]);
  });
});

describe('decide: relief pending', () => {
  it('does not degrade an endpoint slow from load within shedding.intervalSeconds of a cut in its share; it does after', () => {
    // a is restored at BACK, which cuts b's share; b is slow (load) from the minute before.
    const steps = run(BACK + 4, (m) => ({ a: outage(m), ...(m >= BACK - 1 ? { b: { p99: 2400, check: 'healthy' as const } } : {}) }));
    expect(steps[BACK]!.weights.b).toBeLessThan(steps[BACK - 1]!.weights.b!);
    // Third breach of five at BACK + 1, 60 s after the cut: waits.
    expect(codes(steps[BACK + 1]!.decision)).toContain('RELIEF_HOLD');
    expect(steps[BACK + 1]!.decision.reasons.find((r) => r.code === 'RELIEF_HOLD')!.message).toContain('its share was cut 60 s ago');
    expect(steps[BACK + 2]!.state.endpoints.b!.status).toBe('healthy');
    // 180 s after the cut, still slow: its minutes now show the cut.
    expect(steps[BACK + 3]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'b', to: 'degraded', reason: 'M_OF_N_BREACH' })]);
  });

  it('does not wait when the breach is not load the cut relieves (an extreme breach)', () => {
    const steps = run(BACK + 3, (m) => ({ a: outage(m), ...(m === BACK + 1 ? { b: { p99: 60_000, check: 'healthy' as const } } : {}) }));
    expect(steps[BACK + 1]!.decision.transitions).toEqual([expect.objectContaining({ endpoint: 'b', to: 'degraded', reason: 'BREACH_EXTREME' })]);
  });
});

describe('decide: a survivor relieved by the restore', () => {
  it('is healthy again at its baseline share when the region whose traffic it carried is back', () => {
    // b runs slow (2.4 s p99, past its 2 s trip) from minute 3 to 8 while it carries a's share, then well.
    const steps = run(BACK + 9, (m) => ({ a: outage(m, { check: 'healthy' }), ...(m >= 3 && m < 9 ? { b: { p99: 2400, check: 'healthy' as const } } : {}) }));
    const degraded = steps.find((s) => s.decision.transitions.some((t) => t.endpoint === 'b' && t.to === 'degraded'))!;
    expect(degraded.state.endpoints.b!.shedFrom).toBeCloseTo(1.5);
    expect(steps[BACK - 1]!.state.endpoints.b!.status).toBe('degraded');
    expect(steps[BACK]!.decision.transitions).toEqual([
      expect.objectContaining({ endpoint: 'a', to: 'healthy', reason: 'HEALTH_CHECK_RESTORED' }),
      {
        endpoint: 'b',
        from: 'degraded',
        to: 'healthy',
        reason: 'LOAD_RELIEVED',
        message: 'b relieved: it degraded carrying 150% of its baseline while a was drained, and a is back; at its baseline share again',
      },
    ]);
    expect(steps[BACK]!.state.endpoints.b).toEqual(expect.objectContaining({ status: 'healthy', shed: 0, shedFrom: 1 }));
    expect(steps[BACK]!.decision.notifications).toContainEqual(expect.objectContaining({ reason: 'LOAD_RELIEVED', severity: 'info' }));
    // b's shed (to 30%, under its baseline third) was less than the dwell before: the restore, raising
    // b back, waits for the flap guard, then lands on the baseline.
    expect(codes(steps[BACK]!.decision)).toContain('FLAP_HOLD');
    expect(steps.at(-1)!.weights).toEqual({ a: 100, b: 100, c: 100 });
  });
});

describe('relievedByRestore', () => {
  const degraded = { ...initialEndpointState(T0, service.policy), status: 'degraded' as const, shed: 0.3 };
  it('relieves only a survivor that degraded carrying more than its baseline, not one that failed', () => {
    expect(relievedByRestore('b', { ...degraded, shedFrom: 1.5 }, service.policy, T0, ['a'])?.state).toMatchObject({ status: 'healthy', shed: 0, shedFrom: 1 });
    // Slow at its own share: its slowness was not the failed region's traffic.
    expect(relievedByRestore('b', { ...degraded, shedFrom: 1 }, service.policy, T0, ['a'])).toBeUndefined();
    expect(relievedByRestore('b', degraded, service.policy, T0, ['a'])).toBeUndefined();
    expect(relievedByRestore('b', { ...degraded, status: 'drained', shedFrom: 1.5 }, service.policy, T0, ['a'])).toBeUndefined();
    expect(relievedByRestore('b', { ...degraded, shedFrom: 1.5, failed: true }, service.policy, T0, ['a'])).toBeUndefined();
  });
});

describe('evaluateEndpoint: alarm lag', () => {
  const endpoint = service.endpoints[0]!;
  it('sets a fail-severity alarm in ALARM aside, and judges the endpoint on its other signals', () => {
    const obs = observations({ alarm: 'ALARM', p99: 900 });
    expect(evaluateEndpoint(endpoint.signals, obs).verdict).toBe('breach');
    const lagging = evaluateEndpoint(endpoint.signals, obs, { alarmLag: true });
    expect(lagging).toMatchObject({ verdict: 'clear', failing: false });
    expect(evaluateEndpoint(endpoint.signals, observations({ alarm: 'ALARM', p99: 2600 }), { alarmLag: true })).toMatchObject({
      verdict: 'breach',
      failing: false,
    });
  });

  it('sets a per-request error rate still breaching aside too (its minute from before the return), and keeps its reading', () => {
    const rate = signalSchema.parse({
      name: 'error-rate',
      source: 'metric',
      metric: { namespace: 'Inference', metricName: 'Error', statistic: 'Average' },
      perRequest: true,
      trip: 0.05,
      clear: 0.01,
      severity: 'fail',
    });
    const down = { signals: { 'error-rate': { value: 1, sampleCount: 4 }, errors: { alarmState: 'ALARM' as const } } };
    expect(evaluateEndpoint([rate, ...endpoint.signals], down).failing).toBe(true);
    const lagging = evaluateEndpoint([rate, ...endpoint.signals], down, { alarmLag: true });
    expect(lagging.failing).toBe(false);
    expect(lagging.signals[0]).toMatchObject({ verdict: 'unknown', unknownCause: 'alarm-lag', value: 1, sampleCount: 4, perRequest: true });
    // A rate measured on its value alone is no minute CloudWatch is late with: judged as always.
    const byValue = signalSchema.parse({ ...rate, perRequest: undefined });
    expect(evaluateEndpoint([byValue], { signals: { 'error-rate': { value: 1 } } }, { alarmLag: true }).failing).toBe(true);
  });
});
