import { describe, expect, it } from 'vitest';
import { PollReasons, pollDecision } from '../../../functions/app/pollingCadence.js';
import { initialServiceState } from '../../../functions/core/engine.js';
import { stepEndpoint } from '../../../functions/core/hysteresis.js';
import type { EndpointState, EndpointVerdict, ServiceState } from '../../../functions/core/types.js';
import type { StoredServiceState } from '../../../functions/ports/stateStore.js';
import { editableRawConfig, MINUTE, T0, testConfig } from './runtimeFixtures.js';

const service = testConfig().services[0]!;
const PERIOD = Math.floor(T0 / MINUTE) * MINUTE;

/** A quiet service's state: every endpoint healthy, its last verdict clear, read a minute ago. */
function quietState(overrides: Partial<ServiceState> = {}, endpoint: Partial<EndpointState> = {}): ServiceState {
  const base = initialServiceState(service, T0 - 10 * MINUTE);
  const endpoints = Object.fromEntries(
    Object.entries(base.endpoints).map(([id, e]) => [id, { ...e, history: [{ periodStart: PERIOD - 3 * MINUTE, verdict: 'clear' as const }], ...endpoint }]),
  );
  return { ...base, endpoints, lastEvaluatedAt: T0 - MINUTE, lastPeriodStart: PERIOD - 3 * MINUTE, ...overrides };
}

function stored(state: ServiceState | undefined, extra: Partial<StoredServiceState> = {}): StoredServiceState {
  return { service: 'chat', version: state ? 3 : 0, state, pending: null, driftSignature: null, blockedSignature: null, updatedAt: T0 - MINUTE, ...extra };
}

/** The first minute at or after `from` when the quiet service's turn comes, and the one when it does not. */
function turnAndWait(from: number): { turn: number; wait: number } {
  const minutes = Array.from({ length: 5 }, (_, i) => from + i * MINUTE);
  const decisions = minutes.map((t) => pollDecision(service, stored(quietState({ lastEvaluatedAt: t - MINUTE })), t));
  return { turn: minutes[decisions.findIndex((d) => d.due)]!, wait: minutes[decisions.findIndex((d) => !d.due)]! };
}

describe('Function: pollDecision', () => {
  const pending = {
    decisionId: 'd',
    recordedAt: T0,
    record: { hostedZoneId: 'Z', dnsName: 'chat.example.com', recordType: 'A' },
    from: {},
    to: {},
    decision: {} as never,
    trigger: 'schedule',
  };
  const { wait } = turnAndWait(T0);

  it.each([
    ['a service never evaluated', stored(undefined), PollReasons.FIRST_EVALUATION, undefined],
    ['a recorded change waiting to be completed', stored(quietState(), { pending }), PollReasons.PENDING_CHANGE, undefined],
    ['a service failing static', stored(quietState({ failStaticSince: T0 - 5 * MINUTE })), PollReasons.FAIL_STATIC, undefined],
    ['a rollout in progress', stored(quietState({ rollouts: { 'eu-west-1': {} as never } })), PollReasons.ROLLOUT_IN_PROGRESS, 'eu-west-1'],
    [
      'a freeze in force',
      stored(quietState({ overrides: { freeze: { by: 'a', reason: 'r', setAt: T0, until: null } } })),
      PollReasons.OVERRIDE_IN_FORCE,
      undefined,
    ],
    ['a degraded endpoint', stored(quietState({}, { status: 'degraded' })), PollReasons.ENDPOINT_NOT_HEALTHY, 'us-east-1'],
    [
      'a signal between clear and trip (near trip)',
      stored(quietState({}, { history: [{ periodStart: PERIOD - 3 * MINUTE, verdict: 'hold' }] })),
      PollReasons.VERDICT_NOT_CLEAR,
      'us-east-1',
    ],
    [
      'an endpoint without usable data',
      stored(quietState({}, { history: [{ periodStart: PERIOD - 3 * MINUTE, verdict: 'unknown' }] })),
      PollReasons.VERDICT_NOT_CLEAR,
      'us-east-1',
    ],
  ])('reads %s every period', (_, state, reason, endpoint) => {
    const decision = pollDecision(service, state, wait);
    expect(decision).toEqual({ service: 'chat', due: true, reason, ...(endpoint ? { endpoint } : {}) });
  });

  it('reads every period a service with an endpoint no alarm can wake', () => {
    const raw = editableRawConfig();
    raw.services[0]!.endpoints[2]!.signals = raw.services[0]!.endpoints[2]!.signals.filter((s) => s.source !== 'alarm');
    const noAlarm = testConfig(raw).services[0]!;
    expect(pollDecision(noAlarm, stored(quietState()), wait)).toEqual({
      service: 'chat',
      due: true,
      reason: PollReasons.NO_ALARM_FAST_PATH,
      endpoint: 'ap-northeast-1',
    });
  });

  it('reads every period while a drill is due before the next quiet read, or in progress', () => {
    const raw = editableRawConfig();
    const inThreeMinutes = new Date(T0 + 3 * MINUTE);
    raw.services[0]!.drills = [
      { endpoint: 'eu-west-1', schedule: `${inThreeMinutes.getUTCMinutes()} ${inThreeMinutes.getUTCHours()} * * *`, guardAlarm: { name: 'guard' } },
    ];
    const drilled = testConfig(raw).services[0]!;
    expect(pollDecision(drilled, stored(quietState()), T0)).toMatchObject({ due: true, reason: PollReasons.DRILL_DUE, endpoint: 'eu-west-1' });
    expect(pollDecision(drilled, stored(quietState()), T0 + 10 * MINUTE)).toMatchObject({ due: true, reason: PollReasons.DRILL_DUE });
    expect(pollDecision(drilled, stored(quietState()), T0 + 30 * MINUTE).reason).not.toBe(PollReasons.DRILL_DUE);
  });

  it('reads a quiet service once in each run of five periods, on its turn', () => {
    const decisions = Array.from({ length: 10 }, (_, i) =>
      pollDecision(service, stored(quietState({ lastEvaluatedAt: T0 + (i - 1) * MINUTE })), T0 + i * MINUTE),
    );
    expect(decisions.filter((d) => d.due).map((d) => d.reason)).toEqual([PollReasons.QUIET_TURN, PollReasons.QUIET_TURN]);
    const turns = decisions.flatMap((d, i) => (d.due ? [i] : []));
    expect(turns[1]! - turns[0]!).toBe(5);
    expect(decisions.filter((d) => !d.due).every((d) => d.reason === PollReasons.QUIET_WAIT)).toBe(true);
  });

  it('reads a quiet service at once when its turn was missed', () => {
    expect(pollDecision(service, stored(quietState({ lastEvaluatedAt: wait - 6 * MINUTE })), wait)).toMatchObject({
      due: true,
      reason: PollReasons.QUIET_OVERDUE,
    });
  });

  it('reads every service every period when the quiet interval is one period', () => {
    const raw = editableRawConfig();
    raw.services[0]!.policy = { ...(raw.services[0]!.policy as object), polling: { quietIntervalSeconds: 60 } };
    expect(pollDecision(testConfig(raw).services[0]!, stored(quietState()), wait)).toEqual({ service: 'chat', due: true, reason: PollReasons.EVERY_PERIOD });
  });

  it('spreads 1,000 quiet services evenly over the interval', () => {
    const counts = Array.from({ length: 5 }, (_, minute) => {
      const now = PERIOD + minute * MINUTE;
      return Array.from({ length: 1000 }, (_, i) =>
        pollDecision({ ...service, name: `svc-${i}` }, stored(quietState({ lastEvaluatedAt: now - MINUTE })), now),
      ).filter((d) => d.due).length;
    });
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const count of counts) expect(count).toBeGreaterThan(150);
    for (const count of counts) expect(count).toBeLessThan(250);
  });
});

describe('The engine across periods a slow cadence skipped', () => {
  const policy = { ...service.policy, detection: { ...service.policy.detection, clearsToRecover: 3 }, dwell: { ...service.policy.dwell, minSeconds: 0 } };
  const clear: EndpointVerdict = { verdict: 'clear', failing: false, excess: 0, signals: [] };
  const degraded: EndpointState = { ...initialServiceState(service, T0).endpoints['us-east-1']!, status: 'degraded', shed: 0.3, since: T0 - 60 * MINUTE };

  /** Steps the endpoint through clear verdicts at the given periods. */
  function clearsAt(periods: readonly number[]) {
    let state = degraded;
    const moves: (string | undefined)[] = [];
    for (const periodStart of periods) {
      const result = stepEndpoint({ endpoint: 'us-east-1', state, verdict: clear, periodStart, fresh: true, now: periodStart + 2 * MINUTE, policy });
      state = result.state;
      moves.push(result.transition?.reason);
    }
    return { state, moves };
  }

  it('counts a skipped period as no evidence: clears five periods apart never make K consecutive clears', () => {
    const { state, moves } = clearsAt([0, 5, 10, 15, 20].map((m) => PERIOD + m * MINUTE));
    expect(moves.every((m) => m === undefined)).toBe(true);
    expect(state.status).toBe('degraded');
    // Only the periods judged are in the history (the newest three it keeps): none for the minutes between.
    expect(state.history.map((h) => (h.periodStart - PERIOD) / MINUTE)).toEqual([10, 15, 20]);
  });

  it('while K clears in consecutive periods start the recovery', () => {
    const { moves } = clearsAt([0, 1, 2].map((m) => PERIOD + m * MINUTE));
    expect(moves).toEqual([undefined, undefined, 'CLEARS_TO_RECOVER']);
  });
});
