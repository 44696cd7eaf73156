/**
 * The early phases of a decision, one at a time: the overrides in force, the deployment events,
 * and fail static. (The guards are in guards.test.ts; decide as a whole in engine.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { applyDeployments } from '../../../functions/core/deployments.js';
import { initialServiceState } from '../../../functions/core/engine.js';
import { failStaticOf, verdictsOf } from '../../../functions/core/endpointStates.js';
import { applyOverrides } from '../../../functions/core/overrides.js';
import type { DeploymentSignal, Overrides, ServiceState, Weights } from '../../../functions/core/types.js';
import { evaluation, makeService, MINUTE, observe, T0, type Health } from '../../support/engineFixtures.js';

const HOUR = 60 * MINUTE;
const service = makeService({ n: 2, policy: { drift: { action: 'adopt', adoptSeconds: 1800 } } });
const by = (until: number | null) => ({ by: 'alice', reason: 'incident 42', setAt: T0 - HOUR, until, announced: true });
/** An override as the CLI (or a hand-written table item) leaves it: not told yet. */
const fresh = (until: number | null) => ({ by: 'alice', reason: 'incident 42', setAt: T0 - HOUR, until });
const DAY = 24 * HOUR;
const guard = { name: 'chat-5xx', region: 'us-east-1' };

function stateWith(overrides: Overrides, applied: Weights = { a: 100, b: 100 }): ServiceState {
  return { ...initialServiceState(service, T0 - HOUR, applied), overrides };
}

describe('Function: applyOverrides', () => {
  it.each<[string, Overrides, { current?: Weights; alarm?: boolean }, Overrides, string[], string[]]>([
    [
      'keeps the overrides whose time has not come',
      { freeze: by(T0 + 1), drains: { a: by(null) } },
      {},
      { freeze: by(T0 + 1), drains: { a: by(null) } },
      [],
      [],
    ],
    [
      'ends a freeze, a pin and a drain whose time is up, each said and told',
      { freeze: by(T0), pin: { ...by(T0 - 1), weights: { a: 1 } }, drains: { a: by(T0), b: by(T0 + 1) } },
      {},
      { drains: { b: by(T0 + 1) } },
      ['OVERRIDE_EXPIRED', 'OVERRIDE_EXPIRED', 'OVERRIDE_EXPIRED'],
      ['info', 'info', 'info'],
    ],
    [
      'ends a drill the minute its guard alarm is in ALARM',
      { drains: { a: { ...by(T0 + HOUR), guard } } },
      { alarm: true },
      {},
      ['DRILL_ABORTED'],
      ['critical'],
    ],
    [
      'lets a drill run while its guard alarm is quiet',
      { drains: { a: { ...by(T0 + HOUR), guard } } },
      {},
      { drains: { a: { ...by(T0 + HOUR), guard } } },
      [],
      [],
    ],
    [
      'decides from weights set outside steer53, and adopts them as a pin for a while',
      {},
      { current: { a: 150, b: 50 } },
      {
        pin: { by: 'drift', reason: 'Route 53 weights changed outside steer53', setAt: T0, until: T0 + 1800_000, weights: { a: 150, b: 50 }, announced: true },
      },
      ['WEIGHTS_RECONCILED', 'DRIFT_ADOPTED'],
      ['warning'],
    ],
    [
      'tells an override the CLI (or a direct table write) set, once, with its end',
      { freeze: fresh(T0 + HOUR), drains: { a: fresh(T0 + HOUR) } },
      {},
      { freeze: by(T0 + HOUR), drains: { a: by(T0 + HOUR) } },
      ['OVERRIDE_SET', 'OVERRIDE_SET'],
      ['warning', 'warning'],
    ],
    [
      'caps an override without an end, or longer than 7 days, at 7 days after it was set',
      { freeze: fresh(null), pin: { ...fresh(T0 + 30 * DAY), weights: { a: 1 } } },
      {},
      { freeze: by(T0 - HOUR + 7 * DAY), pin: { ...by(T0 - HOUR + 7 * DAY), weights: { a: 1 } } },
      ['OVERRIDE_SET', 'OVERRIDE_SET'],
      ['warning', 'warning'],
    ],
    [
      'tells an override an operator lifted, once, and keeps the others in force',
      { freeze: by(T0 + HOUR), lifted: [{ what: 'drain' as const, endpoint: 'a', by: 'alice', reason: 'patched early', at: T0 - HOUR }] },
      {},
      { freeze: by(T0 + HOUR) },
      ['OVERRIDE_LIFTED'],
      ['info'],
    ],
    [
      'counts 7 days from now for an override written into the table with a setAt in the future',
      { freeze: { ...fresh(null), setAt: T0 + 365 * DAY } },
      {},
      { freeze: { ...by(T0 + 7 * DAY), setAt: T0 } },
      ['OVERRIDE_SET'],
      ['warning'],
    ],
    [
      'ends an override 7 days after it was set, whatever its until says',
      { freeze: { ...by(null), setAt: T0 - 7 * DAY }, pin: { ...by(T0 + DAY), setAt: T0 - 7 * DAY, weights: { a: 1 } } },
      {},
      {},
      ['OVERRIDE_EXPIRED', 'OVERRIDE_EXPIRED'],
      ['info', 'info'],
    ],
    [
      'adopts nothing while an operator holds the service',
      { freeze: by(null) },
      { current: { a: 150, b: 50 } },
      { freeze: by(null) },
      ['WEIGHTS_RECONCILED'],
      [],
    ],
  ])('%s', (_name, overrides, { current, alarm }, expected, reasons, severities) => {
    const ev = evaluation(service, {
      state: stateWith(overrides),
      currentWeights: current ?? { a: 100, b: 100 },
      ...(alarm ? { guardAlarms: { 'us-east-1/chat-5xx': 'ALARM' as const } } : {}),
    });
    const out = applyOverrides(ev);
    expect(out.value.overrides).toEqual(expected);
    expect(out.value.abortedDrills).toEqual(alarm ? ['a'] : []);
    expect(out.reasons.map((r) => r.code)).toEqual(reasons);
    expect(out.notifications.map((n) => n.severity)).toEqual(severities);
  });
});

describe('Function: applyDeployments', () => {
  const signal = (endpoint: string, key: string, at: number): DeploymentSignal => ({ endpoint, version: 'v2', phase: 'started', at, idempotencyKey: key });
  const rollouts = makeService({ n: 2, policy: { rollout: { mode: 'drain-during-deploy' } } });

  it.each<[string, string[], DeploymentSignal[], string[], { why?: string; idempotencyKey: string }[], string[]]>([
    ['applies events oldest first and remembers their keys', [], [signal('b', 'k2', T0), signal('a', 'k1', T0 - 1)], ['k1', 'k2'], [], ['a', 'b']],
    ['ignores a key applied before, even after its rollout ended', ['k1'], [signal('a', 'k1', T0)], ['k1'], [{ why: 'duplicate', idempotencyKey: 'k1' }], []],
    [
      'ignores, and remembers, an event for an endpoint the service does not have',
      [],
      [signal('z', 'k3', T0)],
      ['k3'],
      [{ why: 'unknown-endpoint', idempotencyKey: 'k3' }],
      [],
    ],
  ])('%s', (_name, known, deployments, keys, ignored, inProgress) => {
    const ev = evaluation(rollouts, { state: { ...initialServiceState(rollouts, T0 - HOUR), deploymentKeys: known }, deployments });
    const out = applyDeployments(ev);
    expect(out.value.deploymentKeys).toEqual(keys);
    expect(Object.keys(out.value.rollouts)).toEqual(inProgress);
    expect(out.reasons.filter((r) => r.code === 'DEPLOYMENT_IGNORED')).toEqual(ignored.map((i) => expect.objectContaining(i)));
  });
});

describe('Function: failStaticOf', () => {
  const three = makeService({ n: 3 });
  it.each<[string, Record<string, Health>, Overrides, number | null, boolean, string[], string[]]>([
    ['one bad endpoint of three is an incident, not fail static', { a: 'slow', b: 'ok', c: 'ok' }, {}, null, false, [], []],
    // Told once it has lasted failStaticNoticeSeconds (180 s): not at its first period.
    ['two of three bad or unknown at once is fail static, said at once', { a: 'slow', b: 'missing', c: 'ok' }, {}, null, true, ['FAIL_STATIC'], []],
    ['while it lasts, it is said but not told again', { a: 'slow', b: 'missing', c: 'ok' }, {}, T0 - HOUR, true, ['FAIL_STATIC'], []],
    ['an endpoint drained for maintenance does not count', { a: 'missing', b: 'ok', c: 'slow' }, { drains: { a: by(null) } }, null, false, [], []],
    // A quiet small region's p99 proves nothing either way: that is thin data, not broken observations.
    ['unknown only for too few samples does not count', { a: 'slow', b: 'low-sample-slow', c: 'ok' }, {}, null, false, [], []],
    ['unknown for too few samples with data missing too does', { a: 'slow', b: 'missing', c: 'low-sample-slow' }, {}, null, true, ['FAIL_STATIC'], []],
    ['its end is said and told', {}, {}, T0 - HOUR, false, ['FAIL_STATIC_ENDED'], ['info']],
  ])('%s', (_name, health, overrides, since, failStatic, reasons, severities) => {
    const endpoints = Object.fromEntries(['a', 'b', 'c'].map((id) => [id, observe(health[id] ?? 'ok')]));
    const state = { ...initialServiceState(three, T0 - HOUR), failStaticSince: since, lastEvaluatedAt: T0 - MINUTE };
    const ev = evaluation(three, { state, observations: { periodStart: T0 - MINUTE, endpoints } });
    const out = failStaticOf(ev, verdictsOf(ev).verdicts, overrides);
    expect(out.value).toBe(failStatic);
    expect(out.reasons.map((r) => r.code)).toEqual(reasons);
    expect(out.notifications.map((n) => n.severity)).toEqual(severities);
  });

  describe('told once it has lasted failStaticNoticeSeconds', () => {
    const bad = Object.fromEntries(['a', 'b', 'c'].map((id) => [id, observe(id === 'c' ? 'ok' : 'slow')]));
    const good = Object.fromEntries(['a', 'b', 'c'].map((id) => [id, observe('ok')]));
    function judge(service: typeof three, since: number | null, lastEvaluatedAt: number | null, endpoints: typeof bad) {
      const state = { ...initialServiceState(service, T0 - HOUR), failStaticSince: since, lastEvaluatedAt };
      const ev = evaluation(service, { state, observations: { periodStart: T0 - MINUTE, endpoints } });
      return failStaticOf(ev, verdictsOf(ev).verdicts, {});
    }

    it.each<[string, number | null, number | null, string[]]>([
      ['not in its first period', null, T0 - MINUTE, []],
      ['nor two minutes in', T0 - 2 * MINUTE, T0 - MINUTE, []],
      ['at the first evaluation 180 s in, as a critical notice', T0 - 3 * MINUTE, T0 - MINUTE, ['critical']],
      ['once: not again after that', T0 - 4 * MINUTE, T0 - MINUTE, []],
      ['at the first evaluation past 180 s when none came between', T0 - 5 * MINUTE, T0 - 4 * MINUTE, ['critical']],
    ])('%s', (_name, since, last, severities) => {
      const out = judge(three, since, last, bad);
      expect(out.value).toBe(true);
      expect(out.notifications.map((n) => n.severity)).toEqual(severities);
    });

    it('says how long it has lasted when told', () => {
      expect(judge(three, T0 - 3 * MINUTE, T0 - MINUTE, bad).notifications.map((n) => n.summary)).toEqual([
        'chat.example.com: fail static for 3 min — 2 of 3 serving endpoints look bad or unknown (breaching: a, b): more likely something they share (demand, a dependency, their clients) than every region at once; holding weights',
      ]);
    });

    it('tells its end only when its start was told; says it either way', () => {
      const short = judge(three, T0 - 2 * MINUTE, T0 - MINUTE, good);
      expect(short.reasons.map((r) => r.code)).toEqual(['FAIL_STATIC_ENDED']);
      expect(short.notifications).toEqual([]);
      expect(judge(three, T0 - 5 * MINUTE, T0 - MINUTE, good).notifications.map((n) => n.severity)).toEqual(['info']);
    });

    it('tells at once with failStaticNoticeSeconds 0', () => {
      const now = makeService({ n: 3, policy: { safety: { failStaticNoticeSeconds: 0 } } });
      expect(judge(now, null, T0 - MINUTE, bad).notifications.map((n) => n.severity)).toEqual(['critical']);
      expect(judge(now, T0 - MINUTE, T0 - MINUTE, bad).notifications).toEqual([]);
    });
  });

  // A bursty service's quiet minute: no request, so no latency to time; its other metric still reports.
  it.each<[string, Record<string, number | null | undefined>, boolean, boolean?]>([
    ['endpoints whose load counted no request this period are quiet, not unobserved: no fail static', { a: 0, b: 0, c: 0 }, false],
    ['the same missing percentiles with the load missing too are missing data', { a: null, b: null, c: undefined }, true],
    ['a load counted in an earlier period proves nothing of this one', { a: 0, b: null, c: null }, true],
    ['requests counted and no latency for them is missing data', { a: 0, b: 120, c: 120 }, true],
    ['no request and its other metric missing too is a region not reporting (down), not a quiet one', { a: 0, b: 0, c: 0 }, true, true],
  ])('%s', (_name, counted, failStatic, silent = false) => {
    const endpoints = Object.fromEntries(
      ['a', 'b', 'c'].map((id) => [
        id,
        { signals: silent ? {} : { errors: { value: 0 } }, requestRate: 2, ...(counted[id] === undefined ? {} : { requestsInPeriod: counted[id] }) },
      ]),
    );
    const ev = evaluation(three, { state: initialServiceState(three, T0 - HOUR), observations: { periodStart: T0 - MINUTE, endpoints } });
    const { verdicts } = verdictsOf(ev);
    expect(Object.values(verdicts).map((v) => v.verdict)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(failStaticOf(ev, verdicts, {}).value).toBe(failStatic);
  });

  it.each<[string, Record<string, Health>, string]>([
    [
      'says which endpoints breach and which have no data, and blames the observations when data is missing',
      { a: 'slow', b: 'missing', c: 'ok' },
      '2 of 3 serving endpoints look bad or unknown (breaching: a; no data: b): more likely the observations than every region; holding weights',
    ],
    [
      'blames what the endpoints share when every one of them breaches with data',
      { a: 'slow', b: 'very-slow', c: 'ok' },
      '2 of 3 serving endpoints look bad or unknown (breaching: a, b): more likely something they share (demand, a dependency, their clients) than every region at once; holding weights',
    ],
  ])('%s', (_name, health, message) => {
    // Told at once (failStaticNoticeSeconds 0), so that its first period's notice says it.
    const atOnce = makeService({ n: 3, policy: { safety: { failStaticNoticeSeconds: 0 } } });
    const endpoints = Object.fromEntries(['a', 'b', 'c'].map((id) => [id, observe(health[id] ?? 'ok')]));
    const ev = evaluation(atOnce, { state: initialServiceState(atOnce, T0 - HOUR), observations: { periodStart: T0 - MINUTE, endpoints } });
    const out = failStaticOf(ev, verdictsOf(ev).verdicts, {});
    expect(out.reasons).toEqual([{ code: 'FAIL_STATIC', message }]);
    expect(out.notifications.map((n) => n.summary)).toEqual([`chat.example.com: fail static — ${message}`]);
  });

  it('a breach is a breach however few requests the load counted', () => {
    const endpoints = { a: { ...observe('slow'), requestsInPeriod: 0 }, b: { ...observe('slow'), requestsInPeriod: 0 }, c: observe('ok') };
    const ev = evaluation(three, { state: initialServiceState(three, T0 - HOUR), observations: { periodStart: T0 - MINUTE, endpoints } });
    expect(failStaticOf(ev, verdictsOf(ev).verdicts, {}).value).toBe(true);
  });

  // A recovery's first step a flap hold kept back: recovering, but Route 53 still gives it nothing.
  it.each<[string, Weights, 'clear' | 'unknown', boolean]>([
    [
      'an endpoint Route 53 gives no traffic has no percentile to read: judged as a drained one, it does not tip fail static',
      { a: 0, b: 100, c: 100 },
      'clear',
      false,
    ],
    ['the same missing percentile on an endpoint that is given traffic is missing data', { a: 10, b: 100, c: 100 }, 'unknown', true],
  ])('%s', (_name, current, verdict, failStatic) => {
    const endpoints = { a: { signals: { errors: { value: 0.1 } } }, b: observe('slow'), c: observe('ok') };
    const ev = evaluation(three, {
      state: initialServiceState(three, T0 - HOUR),
      currentWeights: current,
      observations: { periodStart: T0 - MINUTE, endpoints },
    });
    const { verdicts } = verdictsOf(ev);
    expect(verdicts.a!.verdict).toBe(verdict);
    expect(failStaticOf(ev, verdicts, {}).value).toBe(failStatic);
  });
});
