/**
 * The early phases of a decision, one at a time: the overrides in force, the deployment events,
 * and fail static. (The guards are in guards.test.ts; decide as a whole in engine.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { applyDeployments } from '../../../functions/core/deployments.js';
import { initialServiceState } from '../../../functions/core/engine.js';
import { failStaticOf, nextFailStaticNotice, verdictsOf } from '../../../functions/core/endpointStates.js';
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
    // Its end is told once it has stayed ended failStaticNoticeSeconds (below).
    ['its end is said', {}, {}, T0 - HOUR, false, ['FAIL_STATIC_ENDED'], []],
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
    type Notice = NonNullable<ServiceState['failStaticNotice']>;
    /** `since`: the fail static going on (null: none); `notice`: what the state kept of the last one. */
    function judge(service: typeof three, since: number | null, notice: Notice | undefined, endpoints: typeof bad) {
      const state = {
        ...initialServiceState(service, T0 - HOUR),
        failStaticSince: since,
        lastEvaluatedAt: T0 - MINUTE,
        ...(notice ? { failStaticNotice: notice } : {}),
      };
      const ev = evaluation(service, { state, observations: { periodStart: T0 - MINUTE, endpoints } });
      return { out: failStaticOf(ev, verdictsOf(ev).verdicts, {}), next: nextFailStaticNotice(ev, failStaticOf(ev, verdictsOf(ev).verdicts, {}).value) };
    }
    const going = (since: number, told = false): Notice => ({ since, told });

    it.each<[string, number | null, Notice | undefined, string[], Notice]>([
      ['not in its first period', null, undefined, [], { since: T0, told: false }],
      ['nor two minutes in', T0 - 2 * MINUTE, going(T0 - 2 * MINUTE), [], { since: T0 - 2 * MINUTE, told: false }],
      ['at the first evaluation 180 s in, as a critical notice', T0 - 3 * MINUTE, going(T0 - 3 * MINUTE), ['critical'], { since: T0 - 3 * MINUTE, told: true }],
      ['once: not again after that', T0 - 4 * MINUTE, going(T0 - 4 * MINUTE, true), [], { since: T0 - 4 * MINUTE, told: true }],
      [
        'at the first evaluation past 180 s, however long since the one before',
        T0 - 9 * MINUTE,
        going(T0 - 9 * MINUTE),
        ['critical'],
        { since: T0 - 9 * MINUTE, told: true },
      ],
      [
        'one back within 180 s of its end goes on from where it began: told once the two have lasted 180 s',
        null,
        { since: T0 - 4 * MINUTE, told: false, endedAt: T0 - 2 * MINUTE },
        ['critical'],
        { since: T0 - 4 * MINUTE, told: true },
      ],
      ['and not told again if it was', null, { since: T0 - 9 * MINUTE, told: true, endedAt: T0 - MINUTE }, [], { since: T0 - 9 * MINUTE, told: true }],
      ['one back later is a new one', null, { since: T0 - 20 * MINUTE, told: true, endedAt: T0 - 4 * MINUTE }, [], { since: T0, told: false }],
      // A state from before the notice was kept (layout 9): steer53 told each fail static at its start.
      ['one going on in a state from before, as told', T0 - 5 * MINUTE, undefined, [], { since: T0 - 5 * MINUTE, told: true }],
    ])('%s', (_name, since, notice, severities, next) => {
      const { out, next: kept } = judge(three, since, notice, bad);
      expect(out.value).toBe(true);
      expect(out.notifications.map((n) => n.severity)).toEqual(severities);
      expect(kept).toEqual(next);
    });

    it('says how long it has lasted when told', () => {
      expect(judge(three, T0 - 3 * MINUTE, going(T0 - 3 * MINUTE), bad).out.notifications.map((n) => n.summary)).toEqual([
        'chat.example.com: fail static for 3 min — 2 of 3 serving endpoints look bad or unknown (breaching: a, b): more likely something they share (demand, a dependency, their clients) than every region at once; holding weights',
      ]);
    });

    it('says its end at once, and keeps it', () => {
      const short = judge(three, T0 - 2 * MINUTE, going(T0 - 2 * MINUTE), good);
      expect(short.out.reasons).toEqual([{ code: 'FAIL_STATIC_ENDED', message: 'fail static ended after 2 min: observations look normal again' }]);
      expect(short.out.notifications).toEqual([]);
      expect(short.next).toEqual({ since: T0 - 2 * MINUTE, told: false, endedAt: T0 });
      const long = judge(three, T0 - 5 * MINUTE, going(T0 - 5 * MINUTE, true), good);
      expect(long.out.notifications).toEqual([]);
      expect(long.next).toEqual({ since: T0 - 5 * MINUTE, told: true, endedAt: T0 });
    });

    it('tells its end, when its start was told, once it has stayed ended 180 s: a fail static back before then goes on', () => {
      const ended = { since: T0 - 9 * MINUTE, told: true, endedAt: T0 - 2 * MINUTE };
      expect(judge(three, null, ended, good).out.notifications).toEqual([]);
      const due = judge(three, null, { ...ended, endedAt: T0 - 3 * MINUTE }, good);
      expect(due.out.reasons).toEqual([{ code: 'FAIL_STATIC_ENDED', message: 'fail static ended 3 min ago, after 6 min: observations look normal again' }]);
      expect(due.out.notifications.map((n) => n.severity)).toEqual(['info']);
      expect(due.next).toEqual({ ...ended, endedAt: T0 - 3 * MINUTE, endTold: true });
      expect(judge(three, null, { ...ended, endedAt: T0 - 4 * MINUTE, endTold: true }, good).out.notifications).toEqual([]);
      expect(judge(three, null, { ...ended, told: false, endedAt: T0 - 4 * MINUTE }, good).out.notifications).toEqual([]);
    });

    it('tells at once with failStaticNoticeSeconds 0', () => {
      const now = makeService({ n: 3, policy: { safety: { failStaticNoticeSeconds: 0 } } });
      expect(judge(now, null, undefined, bad).out.notifications.map((n) => n.severity)).toEqual(['critical']);
      expect(judge(now, T0 - MINUTE, going(T0 - MINUTE, true), bad).out.notifications).toEqual([]);
      expect(judge(now, T0 - MINUTE, going(T0 - MINUTE, true), good).out.notifications.map((n) => n.severity)).toEqual(['info']);
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

  // A 10-second latency alarm on a bursty region: quiet for half a minute, INSUFFICIENT_DATA, while the minute's metrics arrive.
  it.each<[string, boolean, boolean]>([
    ['an alarm with nothing to count beside metrics that arrived says nothing of the observations: no fail static', true, false],
    ['the same alarm with no metric of its endpoint arriving (a metric outage) is missing data', false, true],
  ])('%s', (_name, metricsArrive, failStatic) => {
    const fast = { name: 'ttft-fast', source: 'alarm' as const, alarm: { name: 'ttft-fast' } };
    const withAlarm = makeService({ n: 3, endpoints: [0, 1, 2].map(() => ({ signals: [...three.endpoints[0]!.signals, fast] })) });
    const quiet = { 'ttft-fast': { alarmState: 'INSUFFICIENT_DATA' as const } };
    // a breaches on 1,500 requests; b and c count 300, their p99 fast but too few to judge, errors clear.
    const reported = (p99: number, sampleCount: number) => ({ p99: { value: p99, sampleCount }, errors: { value: 0 } });
    const endpoints = Object.fromEntries(
      ['a', 'b', 'c'].map((id) => [id, { signals: { ...(metricsArrive ? (id === 'a' ? reported(25_000, 1500) : reported(900, 300)) : {}), ...quiet } }]),
    );
    const ev = evaluation(withAlarm, { state: initialServiceState(withAlarm, T0 - HOUR), observations: { periodStart: T0 - MINUTE, endpoints } });
    const { verdicts } = verdictsOf(ev);
    expect(verdicts.b!.verdict).toBe('unknown');
    expect(failStaticOf(ev, verdicts, {}).value).toBe(failStatic);
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
