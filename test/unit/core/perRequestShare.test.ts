import { describe, expect, it } from 'vitest';
import { signalSchema } from '../../../functions/core/config.js';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import type { EndpointObservations } from '../../../functions/core/types.js';
import { makeService, MINUTE, T0 } from '../../support/engineFixtures.js';
import { initialEndpointState } from '../../../functions/core/hysteresis.js';
import { periodTails, pooledBreach } from '../../../functions/core/pooledTails.js';
import { binomialUpperTail } from '../../../functions/core/tailEvidence.js';
import { evaluateEndpoint, evaluateSignal, needsTraffic } from '../../../functions/core/verdicts.js';

/** A per-request error metric (1 failed, 0 not), its Average the share: trip 5%, clear 1%. */
const share = {
  name: 'error-rate',
  source: 'metric',
  metric: { namespace: 'Chat/Inference', metricName: 'Error', statistic: 'Average' },
  unit: '%',
  scale: 100,
  trip: 5,
  clear: 1,
  severity: 'fail',
} as const;
const errorRate = signalSchema.parse({ ...share, perRequest: true });
/** The same metric judged on its value alone (no perRequest). */
const byValue = signalSchema.parse(share);

describe('a per-request share judged on its count', () => {
  it('takes one failure in five requests as no proof of a 5% trip, where the value alone is a severe breach', () => {
    // P(≥ 1 of 5 fail | 5% fail) = 23%: an endpoint at its trip does this in about one minute of four.
    expect(binomialUpperTail(5, 1, 0.05)).toBeGreaterThan(0.2);
    expect(evaluateSignal(byValue, { value: 0.2, sampleCount: 5 })).toMatchObject({ verdict: 'breach', severe: true });
    expect(evaluateSignal(errorRate, { value: 0.2, sampleCount: 5 })).toMatchObject({ verdict: 'hold', perRequest: true });
  });

  it('is a breach when the failures prove the share past trip, severe only when they prove twice trip', () => {
    // 12% of 375 requests (45 failed): past 5% beyond doubt; past 10% not proven (P = 12%).
    expect(evaluateSignal(errorRate, { value: 0.12, sampleCount: 375 })).toMatchObject({
      verdict: 'breach',
      severe: false,
      tail: { samples: 375, worse: 45, allowed: 0.05 },
    });
    // 17% of 1,600 (272 failed): past 10% beyond doubt, so one period drains (FAIL_UNAMBIGUOUS).
    expect(evaluateSignal(errorRate, { value: 0.17, sampleCount: 1600 })).toMatchObject({ verdict: 'breach', severe: true });
    // Every one of 40 requests failing is severe on its count.
    expect(evaluateSignal(errorRate, { value: 1, sampleCount: 40 })).toMatchObject({ verdict: 'breach', severe: true });
  });

  it('keeps the Schmitt trigger on the safe side: clear under clear, hold between', () => {
    expect(evaluateSignal(errorRate, { value: 0.004, sampleCount: 2000 }).verdict).toBe('clear');
    expect(evaluateSignal(errorRate, { value: 0.03, sampleCount: 2000 }).verdict).toBe('hold');
    // 6% of 2,000 is not proven past 5% at 99% (P = 2.5%): held, not a breach.
    expect(evaluateSignal(errorRate, { value: 0.06, sampleCount: 2000 }).verdict).toBe('hold');
  });

  it('measures excess on the value, as any signal', () => {
    expect(evaluateSignal(errorRate, { value: 0.15, sampleCount: 2000 }).excess).toBeCloseTo(2);
  });

  it('is judged on its value when no count came with it', () => {
    expect(evaluateSignal(errorRate, { value: 0.2 })).toMatchObject({ verdict: 'breach', severe: true });
  });

  it('needs traffic: with no requests it has no datapoint, set aside for a drained endpoint', () => {
    const missing = evaluateSignal(errorRate, undefined);
    expect(missing).toMatchObject({ verdict: 'unknown', unknownCause: 'missing', perRequest: true });
    expect(needsTraffic(missing)).toBe(true);
    expect(needsTraffic(evaluateSignal(byValue, undefined))).toBe(false);
    const gpu = signalSchema.parse({ name: 'gpu', source: 'metric', metric: { namespace: 'N', metricName: 'GPU', statistic: 'Average' }, trip: 95, clear: 80 });
    const drained = evaluateEndpoint([errorRate, gpu], { signals: { gpu: { value: 3 } } }, { drained: true });
    expect(drained.verdict).toBe('clear');
    expect(evaluateEndpoint([errorRate, gpu], { signals: { gpu: { value: 3 } } }).verdict).toBe('unknown');
  });

  it('speaks for a quiet alarm beside it only when its trip share expects ten failures in its count: 200 requests at 5%, not a canary’s 30', () => {
    const fast = signalSchema.parse({ name: 'ttft-fast', source: 'alarm', alarm: { name: 'y' } });
    const quiet = { [fast.name]: { alarmState: 'INSUFFICIENT_DATA' as const } };
    const clearOn = (requests: number) => evaluateEndpoint([errorRate, fast], { signals: { 'error-rate': { value: 0, sampleCount: requests }, ...quiet } });
    expect(clearOn(30).verdict).toBe('unknown');
    expect(clearOn(199).verdict).toBe('unknown');
    expect(clearOn(200).verdict).toBe('clear');
  });
});

describe('perRequest in the config', () => {
  const base = {
    name: 'e',
    source: 'metric',
    metric: { namespace: 'N', metricName: 'Error', statistic: 'Average' },
    perRequest: true,
    trip: 0.05,
    clear: 0.01,
  };

  it('accepts a share of requests, with or without a scale to percent', () => {
    expect(signalSchema.safeParse(base).success).toBe(true);
    expect(signalSchema.safeParse({ ...base, scale: 100, trip: 5, clear: 1 }).success).toBe(true);
  });

  it.each([
    [
      'a statistic other than Average',
      { metric: { ...base.metric, statistic: 'Sum' } },
      'metric.statistic',
      'must be Average with perRequest (the share of requests that failed)',
    ],
    ['lower-is-worse', { direction: 'lower-is-worse', trip: 0.05, clear: 0.1 }, 'direction', 'must be higher-is-worse with perRequest'],
    ['a trip that is not a share once scaled', { trip: 5, clear: 1 }, 'trip', 'must be a share of requests between 0 and 1 once divided by scale (1); it is 5'],
  ])('rejects %s, saying where', (_name, change, path, message) => {
    const result = signalSchema.safeParse({ ...base, ...change });
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === path);
    expect(issue?.message).toBe(message);
  });

  it('is absent from a signal that does not set it', () => {
    expect('perRequest' in byValue).toBe(false);
  });
});

describe('an error alarm in ALARM on the few requests its error rate counted', () => {
  const alarm = signalSchema.parse({ name: 'error-alarm', source: 'alarm', alarm: { name: 'x-5xx' }, severity: 'fail' });
  const firing = { 'error-alarm': { alarmState: 'ALARM' as const } };
  const judged = (share: number, requests: number) =>
    evaluateEndpoint([errorRate, alarm], { signals: { 'error-rate': { value: share, sampleCount: requests }, ...firing } });

  it('is set aside when the share counted too few requests to prove its trip and did not: one error among 16', () => {
    const few = judged(1 / 16, 16);
    expect(few.verdict).toBe('hold');
    expect(few.failing).toBe(false);
    expect(few.signals[1]).toMatchObject({ verdict: 'unknown', unknownCause: 'few-requests', sampleCount: 16 });
    // 199 requests cannot expect ten failures at 5% either.
    expect(judged(0, 199).verdict).toBe('clear');
  });

  it('stands on 200 requests or more, even where the share reads below trip (the alarm reads newer minutes)', () => {
    expect(judged(0.035, 1218)).toMatchObject({ verdict: 'breach', failing: true });
    expect(judged(0, 200)).toMatchObject({ verdict: 'breach', failing: true });
  });

  it('stands where the share proves its trip on few requests, every one failing', () => {
    expect(judged(1, 16)).toMatchObject({ verdict: 'breach', failing: true });
  });

  it('with no datapoint of the share yet, is set aside only when the busiest recent minute had too few requests', () => {
    const unpublished = (requestRate: number | null) => evaluateEndpoint([errorRate, alarm], { signals: firing, requestRate });
    expect(unpublished(40 / 60).signals[1]).toMatchObject({ unknownCause: 'few-requests', sampleCount: 40 });
    expect(unpublished(1200 / 60)).toMatchObject({ verdict: 'breach', failing: true });
    expect(unpublished(null)).toMatchObject({ verdict: 'breach', failing: true });
  });

  it('stands on a drained endpoint, whose few requests are by design', () => {
    const drained = evaluateEndpoint([errorRate, alarm], { signals: { 'error-rate': { value: 1 / 16, sampleCount: 16 }, ...firing } }, { drained: true });
    expect(drained).toMatchObject({ verdict: 'breach', failing: true });
  });

  it('says so in a FEW_REQUESTS_HOLD, and holds the endpoint where it is', () => {
    const service = makeService({ endpoints: ['a', 'b', 'c'].map(() => ({ signals: [{ ...share, perRequest: true }, alarm] })) });
    const quiet = (failed: number): EndpointObservations => ({
      signals: { 'error-rate': { value: failed / 16, sampleCount: 16 }, 'error-alarm': { alarmState: failed > 0 ? 'ALARM' : 'OK' } },
    });
    const { decision } = decide(service, {
      now: T0,
      observations: { periodStart: T0 - MINUTE, endpoints: { a: quiet(1), b: quiet(0), c: quiet(0) } },
      state: undefined,
      currentWeights: { a: 100, b: 100, c: 100 },
    });
    expect(decision.targetWeights).toEqual({ a: 100, b: 100, c: 100 });
    expect(decision.transitions).toEqual([]);
    expect(decision.reasons).toContainEqual({
      code: 'FEW_REQUESTS_HOLD',
      endpoint: 'a',
      message:
        'a: error-alarm in ALARM on a period of 16 requests (1 failed): too few for error-rate to prove its trip of 5.00%; held as a few errors, not failure',
    });
  });
});

describe('decide: a region failing a sixth of its requests', () => {
  const service = makeService({ endpoints: ['a', 'b', 'c'].map(() => ({ signals: [{ ...share, perRequest: true }] })) });
  const minute = (failed: number): EndpointObservations => ({ signals: { 'error-rate': { value: failed, sampleCount: 1600 } } });

  /** One evaluation, a failing `failed` of its 1,600 requests, the others none. */
  const once = (failed: number) =>
    decide(service, {
      now: T0,
      observations: { periodStart: T0 - MINUTE, endpoints: { a: minute(failed), b: minute(0), c: minute(0) } },
      state: undefined,
      currentWeights: { a: 100, b: 100, c: 100 },
    }).decision;

  it('drains it on one minute whose count proves the share past twice its trip, and says how many failed', () => {
    const decision = once(0.17);
    expect(decision.targetWeights.a).toBe(0);
    expect(decision.transitions).toEqual([
      expect.objectContaining({
        endpoint: 'a',
        reason: 'FAIL_UNAMBIGUOUS',
        message: expect.stringContaining('error-rate 17.0 % past trip 5.00 % (272 of 1600 requests failed)'),
      }),
    ]);
  });

  it('waits for a second minute when one proves only the trip', () => {
    const decision = once(0.07);
    expect(decision.targetWeights.a).toBe(100);
    expect(decision.transitions).toEqual([]);
  });
});

describe('decide: where a failing region’s traffic goes when the others are short of room', () => {
  // Two regions of 60 warm requests/s planned at half of it; 50 requests/s arrive, 25 at each.
  const service = makeService({
    n: 2,
    endpoints: ['a', 'b'].map(() => ({ signals: [{ ...share, perRequest: true }], capacity: { warmRps: 60, targetUtilization: 0.5 } })),
  });
  const minute = (failed: number, check: 'healthy' | 'unhealthy' | null = null): EndpointObservations => ({
    signals: { 'error-rate': { value: failed, sampleCount: 1500 } },
    requestRate: 25,
    ...(check ? { healthCheck: check } : {}),
  });
  /** `check`: a's health check as read (null: not read). */
  const once = (failed: number, check: 'healthy' | 'unhealthy' | null = 'healthy') =>
    decide(service, {
      now: T0,
      observations: { periodStart: T0 - MINUTE, endpoints: { a: minute(failed, check), b: minute(0) } },
      state: undefined,
      currentWeights: { a: 100, b: 100 },
    }).decision;

  it('keeps on one failing a few percent what the other cannot take at its target utilisation', () => {
    // a, drained for failing, fails 7% of its 1,500 requests: past its trip, not proven past a tenth (P = 15%).
    expect(binomialUpperTail(1500, 105, 0.1)).toBeGreaterThan(0.01);
    const base = initialServiceState(service, T0 - 10 * MINUTE, { a: 100, b: 100 });
    const state = { ...base, endpoints: { ...base.endpoints, a: { ...base.endpoints.a!, status: 'drained' as const, failed: true } } };
    const decision = decide(service, {
      now: T0,
      observations: { periodStart: T0 - MINUTE, endpoints: { a: minute(0.07, 'healthy'), b: minute(0) } },
      state,
      currentWeights: { a: 100, b: 100 },
    }).decision;
    // b takes 30 of the 50 requests/s (60% of the traffic); a keeps the rest.
    expect(decision.targetWeights).toEqual({ a: 80, b: 120 });
  });

  it('runs the other up to its full warm capacity in the busiest minute when the count proves more than a tenth of its requests fail', () => {
    const decision = once(0.2);
    expect(decision.transitions).toEqual([expect.objectContaining({ endpoint: 'a', reason: 'FAIL_UNAMBIGUOUS' })]);
    // b's 60 warm requests/s take all 50.
    expect(decision.targetWeights).toEqual({ a: 0, b: 200 });
    expect(decision.blocked.map((b) => b.message)).toEqual([
      'running b past target utilisation in the busiest minutes (up to full warm capacity), rather than giving traffic back to a: more than a tenth of its requests fail',
    ]);
  });

  it('runs the other into its burst room first when the count proves more than a quarter of its requests fail', () => {
    // 27% of 1,500: past a quarter at 99% confidence? No (P = 4%); 30% is.
    expect(binomialUpperTail(1500, 405, 0.25)).toBeGreaterThan(0.01);
    expect(binomialUpperTail(1500, 450, 0.25)).toBeLessThan(0.01);
    expect(once(0.27).blocked.map((b) => b.message)).toEqual([
      'running b past target utilisation in the busiest minutes (up to full warm capacity), rather than giving traffic back to a: more than a tenth of its requests fail',
    ]);
    const decision = once(0.3);
    expect(decision.targetWeights).toEqual({ a: 0, b: 200 });
    expect(decision.blocked.map((b) => b.message)).toEqual([
      'running b past target utilisation in the busiest minutes (up to full warm capacity, or target utilisation at the mean demand), rather than giving traffic back to a: more than a quarter of its requests fail',
    ]);
  });

  it('keeps as before on one whose health check fails or is not read: what a record left out of the answers keeps moves no client', () => {
    // What it keeps is what it serves the moment its check passes again.
    for (const failed of [0.2, 0.3]) {
      expect(once(failed, 'unhealthy').targetWeights).toEqual({ a: 80, b: 120 });
      expect(once(failed, null).targetWeights).toEqual({ a: 80, b: 120 });
    }
  });
});

describe('a recovering endpoint: its shares pooled since its step', () => {
  const policy = makeService().policy;
  it('fails its step on minutes of failures none of which proves the share past trip alone: 5, 4 and 5 of 40', () => {
    const minutes = [5, 4, 5].map((failed, i) => {
      const verdict = evaluateEndpoint([errorRate], { signals: { 'error-rate': { value: failed / 40, sampleCount: 40 } } });
      expect(verdict.verdict).not.toBe('breach');
      return { periodStart: T0 + (i + 1) * MINUTE, verdict: verdict.verdict, ...periodTails(verdict) };
    });
    const state = { ...initialEndpointState(T0, policy), status: 'recovering' as const, since: T0, stepSince: T0, recoveryStep: 1, history: minutes };
    // 14 of 120 (11.7%) against 5%: P = 0.3%; 5 of 40 alone, P = 4.8%.
    expect(pooledBreach(state, policy.detection)).toEqual({ signal: 'error-rate', periods: 3, samples: 120, worse: 14, allowed: 0.05 });
  });
});
