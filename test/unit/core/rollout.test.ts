import { describe, expect, it } from 'vitest';
import { policySchema } from '../../../functions/core/config.js';
import { decide } from '../../../functions/core/engine.js';
import { addPoint, type LoadProfile } from '../../../functions/core/loadModel.js';
import { advanceRollout, applyDeployment, judgePeriod, type PeriodJudgement } from '../../../functions/core/rollout.js';
import type {
  DeploymentIgnoredReason,
  DeploymentPhase,
  DeploymentSignal,
  EndpointObservations,
  IgnoredDeploymentWhy,
  RolloutState,
  ServiceState,
} from '../../../functions/core/types.js';
import type { RolloutPolicy } from '../../../functions/core/config.js';
import { evaluateEndpoint } from '../../../functions/core/verdicts.js';
import { deployDay, makeService, MINUTE, T0 } from '../../support/engineFixtures.js';

const canaryPolicy = policySchema.parse({
  rollout: { mode: 'canary', canary: { steps: [0.1, 0.5, 1], holdSeconds: 120, maxExtensions: 1, statistic: 'p99', maxLatencyRatio: 1.2, minSamples: 200 } },
}).rollout;
const drainPolicy = policySchema.parse({
  rollout: { mode: 'drain-during-deploy', canary: { steps: [0.1, 0.5, 1], holdSeconds: 120, statistic: 'p99', maxLatencyRatio: 1.2, minSamples: 200 } },
}).rollout;

let keys = 0;
function event(phase: DeploymentPhase, at: number, version = 'v2', key?: string): DeploymentSignal {
  return { endpoint: 'a', version, phase, at, idempotencyKey: key ?? `k${keys++}`, pipelineExecutionId: 'exec-1' };
}

function applyAll(events: readonly DeploymentSignal[], policy = drainPolicy): { rollout: RolloutState | undefined; codes: string[]; events: string[] } {
  let rollout: RolloutState | undefined;
  const codes: string[] = [];
  const out: string[] = [];
  for (const e of events) {
    const step = applyDeployment(rollout, e, policy, 1, e.at, 'chat.example.com');
    rollout = step.rollout;
    codes.push(...step.reasons.map((r) => r.code));
    out.push(...step.events.map((x) => x.type));
  }
  return { rollout, codes, events: out };
}

describe('applyDeployment: phase orders, duplicates and late events', () => {
  it.each<[string, DeploymentPhase[], string | undefined, string[]]>([
    ['started drains the endpoint while it deploys', ['started'], 'deploying', ['DEPLOYMENT_STARTED']],
    ['started then succeeded starts the canary', ['started', 'succeeded'], 'canary', ['DEPLOYMENT_STARTED', 'CANARY_STEP']],
    [
      'succeeded before started starts the canary anyway, and the late started is ignored',
      ['succeeded', 'started'],
      'canary',
      ['CANARY_STEP', 'DEPLOYMENT_IGNORED'],
    ],
    ['started then failed waits for the rollback at 0', ['started', 'failed'], 'rolling-back', ['DEPLOYMENT_STARTED', 'DEPLOYMENT_FAILED']],
    [
      'failed then rolled back ends the rollout',
      ['started', 'failed', 'rolled-back'],
      undefined,
      ['DEPLOYMENT_STARTED', 'DEPLOYMENT_FAILED', 'DEPLOYMENT_ROLLED_BACK'],
    ],
    ['rolled back with nothing in progress is ignored', ['rolled-back'], undefined, ['DEPLOYMENT_IGNORED']],
    ['failed with nothing in progress is ignored', ['failed'], undefined, ['DEPLOYMENT_IGNORED']],
    ['a second succeeded is ignored', ['started', 'succeeded', 'succeeded'], 'canary', ['DEPLOYMENT_STARTED', 'CANARY_STEP', 'DEPLOYMENT_IGNORED']],
    ['a second failed is ignored', ['started', 'failed', 'failed'], 'rolling-back', ['DEPLOYMENT_STARTED', 'DEPLOYMENT_FAILED', 'DEPLOYMENT_IGNORED']],
    [
      'abort during the canary requests a rollback',
      ['started', 'succeeded', 'abort'],
      'rolling-back',
      ['DEPLOYMENT_STARTED', 'CANARY_STEP', 'ROLLBACK_REQUESTED'],
    ],
    [
      'promote during the canary ends it as a success',
      ['started', 'succeeded', 'promote'],
      undefined,
      ['DEPLOYMENT_STARTED', 'CANARY_STEP', 'ROLLOUT_SUCCEEDED'],
    ],
    ['abort with nothing in progress is ignored', ['abort'], undefined, ['DEPLOYMENT_IGNORED']],
    [
      'promote while rolling back is ignored',
      ['started', 'failed', 'promote'],
      'rolling-back',
      ['DEPLOYMENT_STARTED', 'DEPLOYMENT_FAILED', 'DEPLOYMENT_IGNORED'],
    ],
  ])('%s', (_name, phases, phase, codes) => {
    const result = applyAll(phases.map((p, i) => event(p, T0 + i * 1000)));
    expect(result.rollout?.phase).toBe(phase);
    expect(result.codes).toEqual(codes);
  });

  it('ignores a duplicate delivery by its idempotency key, from the keys the state remembers', () => {
    const service = makeService({ n: 2, policy: { rollout: { mode: 'drain-during-deploy' } } });
    const started = event('started', T0, 'v2', 'same');
    const observations = { periodStart: T0, endpoints: {} };
    const first = decide(service, { now: T0, observations, state: undefined, deployments: [started] });
    const again = decide(service, { now: T0 + 5, observations, state: first.nextState, deployments: [{ ...started, at: T0 + 5 }] });
    expect(first.nextState.deploymentKeys).toEqual(['same']);
    expect(again.decision.reasons.filter((r) => r.endpoint === 'a')).toEqual([
      expect.objectContaining({ code: 'DEPLOYMENT_IGNORED', why: 'duplicate', idempotencyKey: 'same' }),
    ]);
    expect(again.nextState.rollouts).toEqual(first.nextState.rollouts);
  });

  it('ignores an event older than the last one applied to the same version', () => {
    const result = applyAll([event('started', T0 + 10_000), event('failed', T0)]);
    expect(result.rollout?.phase).toBe('deploying');
    expect(result.codes).toEqual(['DEPLOYMENT_STARTED', 'DEPLOYMENT_IGNORED']);
  });

  it('lets a new version supersede one in progress, returning to where the first began', () => {
    const first = applyDeployment(undefined, event('started', T0), drainPolicy, 0.7, T0, 'x').rollout;
    const second = applyDeployment(first, event('started', T0 + 1000, 'v3'), drainPolicy, 0, T0 + 1000, 'x').rollout;
    expect(second).toMatchObject({ version: 'v3', phase: 'deploying', preDeployFactor: 0.7 });
  });

  it('records but does not act when the rollout mode is none', () => {
    const none = policySchema.parse({}).rollout;
    expect(applyAll([event('started', T0)], none)).toMatchObject({ rollout: undefined, codes: ['DEPLOYMENT_IGNORED'] });
  });

  it('restores the pre-deploy weight at once on failure when the policy says restore', () => {
    const restore = { ...drainPolicy, onFailure: 'restore' as const };
    expect(applyAll([event('started', T0), event('failed', T0 + 1)], restore).rollout).toBeUndefined();
  });
});

describe('applyDeployment: more orders', () => {
  it.each<[string, DeploymentSignal[], RolloutPolicy, string | undefined, string[]]>([
    ['canary mode keeps the endpoint serving while it deploys', [event('started', T0)], canaryPolicy, 'deploying', ['DEPLOYMENT_STARTED']],
    [
      'a second started of the same version is ignored',
      [event('started', T0), event('started', T0 + 1)],
      canaryPolicy,
      'deploying',
      ['DEPLOYMENT_STARTED', 'DEPLOYMENT_IGNORED'],
    ],
    [
      'failed for another version is ignored',
      [event('started', T0), event('failed', T0 + 1, 'v9')],
      canaryPolicy,
      'deploying',
      ['DEPLOYMENT_STARTED', 'DEPLOYMENT_IGNORED'],
    ],
    [
      'abort while rolling back is ignored',
      [event('started', T0), event('failed', T0 + 1), event('abort', T0 + 2)],
      canaryPolicy,
      'rolling-back',
      ['DEPLOYMENT_STARTED', 'DEPLOYMENT_FAILED', 'DEPLOYMENT_IGNORED'],
    ],
    ['promote with nothing in progress is ignored', [event('promote', T0)], canaryPolicy, undefined, ['DEPLOYMENT_IGNORED']],
    [
      'an operator abort ends a canary at once when the policy restores',
      [event('succeeded', T0), { ...event('abort', T0 + 1), by: 'alice' }],
      { ...canaryPolicy, onFailure: 'restore' },
      undefined,
      ['CANARY_STEP', 'ROLLBACK_REQUESTED'],
    ],
  ])('%s', (_name, events, policy, phase, codes) => {
    const result = applyAll(events, policy);
    expect(result.rollout?.phase).toBe(phase);
    expect(result.codes).toEqual(codes);
  });

  it('names who did it', () => {
    const anonymous = { endpoint: 'a', version: 'v2', phase: 'started' as const, at: T0, idempotencyKey: 'k' };
    const step = applyDeployment(undefined, anonymous, canaryPolicy, 1, T0, 'x');
    expect(step.reasons[0]!.message).toContain('(the pipeline)');
    expect(step.rollout?.pipelineExecutionId).toBeUndefined();
  });

  it('remembers the newest 64 idempotency keys of the service', () => {
    const service = makeService({ n: 2, policy: { rollout: { mode: 'canary' } } });
    const deployments = Array.from({ length: 70 }, (_, i) => event('started', T0 + i, `v${i + 10}`, `key-${i}`));
    const out = decide(service, { now: T0 + MINUTE, observations: { periodStart: T0, endpoints: {} }, state: undefined, deployments });
    expect(out.nextState.deploymentKeys).toEqual(deployments.slice(-64).map((d) => d.idempotencyKey));
  });
});

describe('advanceRollout: steps, evidence and expiry', () => {
  const canary = (over: Partial<RolloutState> = {}): RolloutState => ({
    version: 'v2',
    phase: 'canary',
    since: T0,
    lastEventAt: T0,
    step: 0,
    stepSince: T0,
    extensions: 0,
    preDeployFactor: 1,
    ...over,
  });
  /** A period judged at this latency ratio (canary over what is expected of it); the limit is 1.2. */
  const at = (ratio: number, errors = false): PeriodJudgement => ({
    outcome: errors || ratio > 1.2 ? 'fail' : 'pass',
    why: `${ratio}×`,
    ratio,
    ...(errors ? { errors } : {}),
  });
  const advance = (rollout: RolloutState, minutes: number, judgement: PeriodJudgement | null, failing = false) =>
    advanceRollout({ endpoint: 'a', rollout, policy: canaryPolicy, now: T0 + minutes * MINUTE, judgement, failing, dnsName: 'x' });
  /** A step that has seen these ratios, then is judged at its hold's end with one more. */
  const judged = (ratios: number[], last: PeriodJudgement | null, over: Partial<RolloutState> = {}) => {
    let rollout = canary(over);
    for (const r of ratios) rollout = advance(rollout, 1, at(r)).rollout!;
    return advance(rollout, 2, last);
  };

  it('holds a step until its hold time has passed, counting evidence', () => {
    const r = advance(canary(), 1, at(1));
    expect(r.rollout).toMatchObject({ step: 0, ratios: { n: 1, sum: 1, sumSquares: 1 } });
    expect(r.reasons).toEqual([]);
  });

  it('moves to the next step when the mean latency is clearly within the limit, and succeeds after the last', () => {
    const second = judged([1.0, 1.05], at(0.95));
    expect(second.rollout).toMatchObject({ step: 1, extensions: 0 });
    expect(second.rollout?.ratios).toBeUndefined();
    expect(second.reasons[0]!.message).toContain('passed (latency 1.00× ± 0.03');
    const done = judged([1.0, 1.05], at(0.95), { step: 2 });
    expect(done.rollout).toBeUndefined();
    expect(done.events).toEqual([expect.objectContaining({ type: 'Rollout Succeeded', version: 'v2' })]);
  });

  it('requests a rollback when the mean latency is clearly over the limit', () => {
    const r = judged([1.4, 1.3], at(1.35));
    expect(r.rollout?.phase).toBe('rolling-back');
    expect(r.events).toEqual([expect.objectContaining({ type: 'Rollback Requested', reason: expect.stringContaining('latency 1.35× ± 0.03') })]);
  });

  it('decides on the mean of the periods, not on a majority of them', () => {
    // Two periods just under the limit and one far over: most passed, but the canary is slower.
    expect(judged([1.19, 1.18], at(1.9)).rollout).toMatchObject({ extensions: 1 });
    expect(judged([1.19, 1.18], at(1.9), { extensions: 2 }).events).toEqual([expect.objectContaining({ type: 'Rollback Requested' })]);
  });

  it('extends a step too close to call, keeping its evidence, then decides on the mean', () => {
    const close = judged([1.12, 1.27], at(1.12));
    expect(close.rollout).toMatchObject({ extensions: 1, judgeAt: T0 + 4 * MINUTE, ratios: { n: 3 } });
    expect(close.reasons[0]).toMatchObject({ code: 'CANARY_INCONCLUSIVE', message: expect.stringContaining('too close to call') });
    // Still too close to call once the extensions are spent: the policy's onInconclusive decides.
    expect(judged([1.12, 1.27], at(1.12), { extensions: 2 }).events).toEqual([
      expect.objectContaining({ type: 'Rollback Requested', reason: expect.stringContaining('still too close to call') }),
    ]);
  });

  it('goes by the mean of a step still too close to call when the policy passes inconclusive steps', () => {
    const lenient = { ...canaryPolicy, canary: { ...canaryPolicy.canary, onInconclusive: 'pass' as const } };
    const decideOn = (ratios: number[]) => {
      let rollout = canary({ extensions: 2 });
      for (const r of ratios)
        rollout = advanceRollout({ endpoint: 'a', rollout, policy: lenient, now: T0 + MINUTE, judgement: at(r), failing: false, dnsName: 'x' }).rollout!;
      return advanceRollout({ endpoint: 'a', rollout, policy: lenient, now: T0 + 2 * MINUTE, judgement: null, failing: false, dnsName: 'x' });
    };
    expect(decideOn([1.12, 1.27, 1.12]).rollout).toMatchObject({ step: 1 });
    expect(decideOn([1.22, 1.3, 1.12]).events).toEqual([expect.objectContaining({ type: 'Rollback Requested' })]);
  });

  it('extends a step judged on a single period', () => {
    expect(advance(canary(), 2, at(1)).rollout).toMatchObject({ extensions: 1, ratios: { n: 1 } });
  });

  it('fails a step when most of its periods had more errors than the control allows', () => {
    const r = judged([1, 1], at(1, true), { errorFails: 1 });
    expect(r.events).toEqual([expect.objectContaining({ type: 'Rollback Requested', reason: expect.stringContaining('2 of 3 periods with more errors') })]);
  });

  it('rolls back at once when the canary fails its own fail-severity signals', () => {
    expect(advance(canary(), 0.5, null, true).events).toEqual([expect.objectContaining({ type: 'Rollback Requested' })]);
  });

  it('extends a step with too little evidence, then fails it rather than pass on nothing', () => {
    const extended = advance(canary(), 2, { outcome: 'inconclusive', why: 'few samples' });
    expect(extended.rollout).toMatchObject({ extensions: 1, stepSince: T0, judgeAt: T0 + 4 * MINUTE });
    expect(extended.reasons[0]?.code).toBe('CANARY_INCONCLUSIVE');
    const failed = advance(canary({ extensions: 2 }), 2, { outcome: 'inconclusive', why: 'few samples' });
    expect(failed.events).toEqual([expect.objectContaining({ type: 'Rollback Requested', reason: expect.stringContaining('no usable evidence') })]);
  });

  it('passes an inconclusive step when the policy allows it', () => {
    const lenient = { ...canaryPolicy, canary: { ...canaryPolicy.canary, onInconclusive: 'pass' as const } };
    const r = advanceRollout({
      endpoint: 'a',
      rollout: canary({ extensions: 2 }),
      policy: lenient,
      now: T0 + 2 * MINUTE,
      judgement: null,
      failing: false,
      dnsName: 'x',
    });
    expect(r.rollout).toMatchObject({ step: 1 });
    expect(r.reasons[0]!.message).toContain('passed on no evidence, as the policy allows');
  });

  it('times out a deployment that reports no outcome, and a rollback that never comes', () => {
    const deploying = canary({ phase: 'deploying' });
    expect(advance(deploying, 59, null).rollout).toBe(deploying);
    expect(advance(deploying, 60, null)).toMatchObject({ rollout: undefined, reasons: [expect.objectContaining({ code: 'DEPLOYMENT_TIMED_OUT' })] });
    expect(advance(canary({ phase: 'rolling-back' }), 61, null).rollout).toBeUndefined();
  });
});

describe('judgePeriod with a named latency signal and an error signal', () => {
  const policy = policySchema.parse({
    rollout: {
      mode: 'canary',
      canary: { latencySignal: 'p99', errorSignal: 'errors', maxErrorDelta: 0.5, statistic: 'p99', maxLatencyRatio: 1.2, minSamples: 200 },
    },
  }).rollout;
  const service = makeService({ n: 2 });
  const signals = service.endpoints[0]!.signals;
  const v = (p99: number | null, errors: number) =>
    evaluateEndpoint(signals, { signals: { p99: { value: p99, sampleCount: 5000 }, errors: { value: errors } } });

  it.each<[string, number | null, number, string]>([
    ['fails a canary with more errors than the control allows', 900, 2, 'fail'],
    ['passes errors within the allowed delta', 900, 0.5, 'pass'],
    ['is inconclusive without a canary latency datapoint', null, 0, 'inconclusive'],
  ])('%s', (_name, p99, errors, outcome) => {
    expect(judgePeriod('a', { a: v(p99, errors), b: v(900, 0.2) }, { a: 0.1, b: 0.9 }, ['b'], policy).outcome).toBe(outcome);
  });

  it('is inconclusive when the canary has no verdict at all', () => {
    expect(judgePeriod('a', { b: v(900, 0) }, { a: 0.1, b: 0.9 }, ['b'], policy).outcome).toBe('inconclusive');
  });
});

describe('judgePeriod', () => {
  const service = makeService({ n: 3 });
  const signals = service.endpoints[0]!.signals;
  const verdicts = (p99: Record<string, [number, number]>) =>
    Object.fromEntries(
      Object.entries(p99).map(([id, [value, n]]) => [id, evaluateEndpoint(signals, { signals: { p99: { value, sampleCount: n }, errors: { value: 0 } } })]),
    );
  const shares = { a: 0.1, b: 0.45, c: 0.45 };

  it.each<[string, Record<string, [number, number]>, string]>([
    ['passes a canary as fast as the control', { a: [950, 500], b: [900, 5000], c: [1000, 5000] }, 'pass'],
    ['fails a canary 40% slower than the control', { a: [1330, 500], b: [900, 5000], c: [1000, 5000] }, 'fail'],
    ['is inconclusive when the canary has too few samples', { a: [1330, 50], b: [900, 5000], c: [1000, 5000] }, 'inconclusive'],
    ['is inconclusive without a control', { a: [950, 500], b: [900, 10], c: [1000, 10] }, 'inconclusive'],
  ])('%s', (_name, p99, outcome) => {
    expect(judgePeriod('a', verdicts(p99), shares, ['b', 'c'], canaryPolicy).outcome).toBe(outcome);
  });
});

describe('decide with deployments', () => {
  const service = makeService({
    n: 3,
    policy: {
      rollout: { mode: 'drain-during-deploy', canary: { steps: [0.1, 0.5, 1], holdSeconds: 120, statistic: 'p99', maxLatencyRatio: 1.2, minSamples: 200 } },
    },
  });

  /** Runs minute by minute; `canaryP99` is the canary's p99 once deployed; `events[minute]` are delivered then. */
  function run(minutes: number, canaryP99: number, events: Record<number, DeploymentPhase[]>, samples = 5000) {
    let state: ServiceState | undefined;
    let weights = { a: 100, b: 100, c: 100 } as Record<string, number>;
    const out = [];
    for (let m = 0; m < minutes; m++) {
      const now = T0 + m * MINUTE;
      const obs = (id: string): EndpointObservations => ({
        signals: { p99: { value: id === 'a' && m > 3 ? canaryP99 : 950, sampleCount: id === 'a' ? samples : 5000 }, errors: { value: 0.1 } },
      });
      const deployments = (events[m] ?? []).map((phase) => ({ ...event(phase, now), endpoint: 'a' }));
      const { decision, nextState } = decide(service, {
        now,
        observations: { periodStart: now - MINUTE, endpoints: { a: obs('a'), b: obs('b'), c: obs('c') } },
        state,
        currentWeights: weights,
        deployments,
      });
      state = nextState;
      weights = { ...decision.targetWeights };
      out.push({ m, decision, state, weights });
    }
    return out;
  }

  it('drains the endpoint while it deploys, ramps the good version through every step, and reports success', () => {
    const steps = run(16, 960, { 1: ['started'], 3: ['succeeded'] });
    expect(steps[1]!.weights.a).toBe(0);
    expect(steps[3]!.weights).toEqual({ a: 10, b: 145, c: 145 }); // 10% of its baseline; the rest to the others
    expect(steps[5]!.decision.reasons.map((r) => r.code)).toContain('CANARY_STEP');
    const success = steps.find((s) => s.decision.rolloutEvents.length > 0)!;
    expect(success.decision.rolloutEvents).toEqual([
      expect.objectContaining({ type: 'Rollout Succeeded', endpoint: 'a', version: 'v2', pipelineExecutionId: 'exec-1' }),
    ]);
    expect(steps.at(-1)!.weights).toEqual({ a: 100, b: 100, c: 100 });
    expect(steps.at(-1)!.state.rollouts).toEqual({});
  });

  it('rolls a regressed version back at the first step: it never serves more than the first step, and the pipeline is told', () => {
    const steps = run(12, 1330, { 1: ['started'], 3: ['succeeded'] });
    const maxShare = Math.max(...steps.slice(3).map((s) => s.weights.a! / (s.weights.a! + s.weights.b! + s.weights.c!)));
    expect(maxShare).toBeLessThanOrEqual(10 / 300 + 0.001);
    const rollback = steps.find((s) => s.decision.rolloutEvents.length > 0)!;
    expect(rollback.m).toBe(5);
    expect(rollback.decision.rolloutEvents).toEqual([expect.objectContaining({ type: 'Rollback Requested', version: 'v2' })]);
    expect(rollback.decision.notifications).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'critical', reason: 'ROLLBACK_REQUESTED' })]));
    expect(steps.at(-1)!.weights.a).toBe(0);
  });

  it('returns the endpoint once the pipeline reports the rollback', () => {
    const steps = run(12, 1330, { 1: ['started'], 3: ['succeeded'], 8: ['rolled-back'] });
    expect(steps[8]!.weights.a).toBe(100);
    expect(steps[8]!.state.rollouts).toEqual({});
  });

  it('fails a canary that never gets enough traffic to judge, after its extensions', () => {
    const steps = run(14, 950, { 1: ['started'], 3: ['succeeded'] }, 20);
    const reasons = steps.flatMap((s) => s.decision.reasons.map((r) => r.code));
    expect(reasons.filter((c) => c === 'CANARY_INCONCLUSIVE')).toHaveLength(2);
    expect(steps.flatMap((s) => s.decision.rolloutEvents)).toEqual([expect.objectContaining({ type: 'Rollback Requested' })]);
  });

  it('keeps a late duplicate a duplicate after its rollout has ended', () => {
    const started = { ...event('started', T0), endpoint: 'a' };
    const first = decide(service, { now: T0, observations: { periodStart: T0, endpoints: {} }, state: undefined, deployments: [started] });
    const rolledBack = decide(service, {
      now: T0 + MINUTE,
      observations: { periodStart: T0 + MINUTE, endpoints: {} },
      state: first.nextState,
      deployments: [{ ...event('rolled-back', T0 + MINUTE), endpoint: 'a' }],
    });
    expect(rolledBack.nextState.rollouts).toEqual({});
    const late = decide(service, {
      now: T0 + 2 * MINUTE,
      observations: { periodStart: T0 + 2 * MINUTE, endpoints: {} },
      state: rolledBack.nextState,
      deployments: [started],
    });
    expect(late.nextState.rollouts).toEqual({});
    expect(late.decision.reasons).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'DEPLOYMENT_IGNORED', message: expect.stringContaining('duplicate') })]),
    );
  });

  it('judges a step with a hold shorter than the observation lag, by extending it without losing evidence', () => {
    // Observations describe the period that ended ~90 s before now: a 60 s hold has no evidence at first.
    const short = makeService({
      n: 3,
      policy: {
        rollout: { mode: 'canary', canary: { steps: [0.5, 1], holdSeconds: 60, maxExtensions: 3, statistic: 'p99', maxLatencyRatio: 1.2, minSamples: 200 } },
      },
    });
    let state: ServiceState | undefined;
    let weights: Record<string, number> = { a: 100, b: 100, c: 100 };
    const codes: string[] = [];
    for (let m = 0; m < 12; m++) {
      const now = T0 + m * MINUTE;
      const obs = { signals: { p99: { value: 950, sampleCount: 5000 }, errors: { value: 0.1 } } };
      const out = decide(short, {
        now,
        observations: { periodStart: now - 150_000, endpoints: { a: obs, b: obs, c: obs } },
        state,
        currentWeights: weights,
        deployments: m === 0 ? [{ ...event('succeeded', now), endpoint: 'a' }] : [],
      });
      state = out.nextState;
      weights = { ...out.decision.targetWeights };
      codes.push(...out.decision.reasons.map((r) => r.code), ...out.decision.rolloutEvents.map((e) => e.type));
    }
    expect(codes).toContain('Rollout Succeeded');
    expect(codes).not.toContain('Rollback Requested');
  });

  it('ignores a deployment event for an endpoint the service does not have', () => {
    const out = decide(service, {
      now: T0,
      observations: { periodStart: T0, endpoints: {} },
      state: undefined,
      deployments: [{ ...event('started', T0), endpoint: 'zz' }],
    });
    expect(out.decision.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'DEPLOYMENT_IGNORED' })]));
  });
});

describe("judgePeriod at the canary's load", () => {
  const service = makeService({ n: 3 });
  const signals = service.endpoints[0]!.signals;
  const verdict = (p99: number) => evaluateEndpoint(signals, { signals: { p99: { value: p99, sampleCount: 5000 }, errors: { value: 0 } } });
  const shares = { a: 0.06, b: 0.47, c: 0.47 };
  const DAY = 24 * 60 * MINUTE;
  /** A day of an endpoint at latency = intercept + 150 ms per unit of utilisation, load swinging 0.2–0.8. */
  const learned = (intercept: number, points = 1440) => {
    let profile: LoadProfile | undefined;
    for (let i = 0; i < points; i++) {
      const u = 0.5 + 0.3 * Math.sin((2 * Math.PI * i) / 1440);
      profile = addPoint(profile, u, intercept + 150 * u + (((i * 7919) % 21) - 10), T0 + i * MINUTE, DAY);
    }
    return profile!;
  };
  const profiles = { a: learned(280), b: learned(240), c: learned(320) };
  let steady: LoadProfile | undefined;
  for (let i = 0; i < 30; i++) steady = addPoint(steady, 0.4, 300 + (i % 3), T0 + i * MINUTE, DAY);
  // The canary at 4% utilisation, the controls at 70%: on its line the canary is 286 ms, the controls 345 and 425.
  const utilisation = { a: 0.04, b: 0.7, c: 0.7 };

  it('fails a canary 40% slower than its own line at its load, which the controls as they run would hide', () => {
    const slow = { a: verdict(286 * 1.4), b: verdict(345), c: verdict(425) };
    expect(judgePeriod('a', slow, shares, ['b', 'c'], canaryPolicy).outcome).toBe('pass');
    const judged = judgePeriod('a', slow, shares, ['b', 'c'], canaryPolicy, { utilisation, profiles });
    expect(judged).toMatchObject({ outcome: 'fail', why: expect.stringContaining("the control at the canary's 4% utilisation: 286ms") });
    expect(judged.outcome !== 'inconclusive' && judged.ratio).toBeCloseTo(1.4, 1);
  });

  it('passes a canary on its line, and scales the expectation by how the controls run against theirs', () => {
    expect(judgePeriod('a', { a: verdict(286), b: verdict(345), c: verdict(425) }, shares, ['b', 'c'], canaryPolicy, { utilisation, profiles })).toMatchObject({
      outcome: 'pass',
      ratio: expect.closeTo(1, 1),
    });
    // A minute of long prompts: everything 25% slower, the canary too. Still a pass.
    const heavy = judgePeriod('a', { a: verdict(286 * 1.25), b: verdict(345 * 1.25), c: verdict(425 * 1.25) }, shares, ['b', 'c'], canaryPolicy, {
      utilisation,
      profiles,
    });
    expect(heavy).toMatchObject({ outcome: 'pass', why: expect.stringContaining('controls at 1.25× their lines') });
  });

  it('compares against the endpoints as they were when the rollout began, when it has that reference', () => {
    const reference = { a: learned(280), b: learned(240), c: learned(320) };
    const drifted = { a: learned(380), b: learned(340), c: learned(420) };
    const judged = judgePeriod('a', { a: verdict(286), b: verdict(345), c: verdict(425) }, shares, ['b', 'c'], canaryPolicy, {
      utilisation,
      profiles: drifted,
      reference,
    });
    expect(judged).toMatchObject({ outcome: 'pass', ratio: expect.closeTo(1, 1) });
  });

  it.each<[string, Parameters<typeof judgePeriod>[5], string]>([
    ['the canary has no request rate', { utilisation: { ...utilisation, a: null }, profiles }, 'no request rate for the canary'],
    ["the canary's endpoint learned too little before its deploy", { utilisation, profiles: { ...profiles, a: learned(280, 5) } }, '5 periods of a'],
    ['load never varied', { utilisation, profiles: { a: steady, b: steady, c: steady } }, 'not varied enough'],
    [
      'no control has a learned line',
      { utilisation, profiles: { a: profiles.a, b: learned(240, 5), c: learned(320, 5) } },
      'no control endpoint with a learned line',
    ],
  ])('falls back to the controls as they run, and says why, when %s', (_name, load, why) => {
    const judged = judgePeriod('a', { a: verdict(286), b: verdict(345), c: verdict(425) }, shares, ['b', 'c'], canaryPolicy, load);
    expect(judged).toMatchObject({ outcome: 'pass', why: expect.stringContaining(`not load-matched: `) });
    expect(judged.why).toContain(why);
  });

  it('judges against the canary’s own line, unscaled, when no endpoint serves as a control; inconclusive without a line either', () => {
    // Every other endpoint degraded or deploying: no control at all.
    const slow = judgePeriod('a', { a: verdict(286 * 1.4), b: verdict(345), c: verdict(425) }, shares, [], canaryPolicy, { utilisation, profiles });
    expect(slow).toMatchObject({
      outcome: 'fail',
      why: expect.stringContaining("a's own line at the canary's 4% utilisation: 286ms (no control to scale it by)"),
    });
    expect(judgePeriod('a', { a: verdict(290), b: verdict(345), c: verdict(425) }, shares, [], canaryPolicy, { utilisation, profiles }).outcome).toBe('pass');
    expect(judgePeriod('a', { a: verdict(290), b: verdict(345), c: verdict(425) }, shares, [], canaryPolicy)).toEqual({
      outcome: 'inconclusive',
      why: 'no control endpoint with enough samples',
    });
  });

  it('does not scale the expectation by controls past their planned utilisation: off their lines, they run slow from queues', () => {
    // b and c carry the canary's share at 85%, within the loads their lines were learned on but
    // past their planned 80%, and run 20% above their lines; the canary is 25% above its own.
    const hot = { ...utilisation, b: 0.85, c: 0.85 };
    const onLine = (intercept: number) => intercept + 150 * 0.85;
    const verdicts = { a: verdict(286 * 1.25), b: verdict(onLine(240) * 1.2), c: verdict(onLine(320) * 1.2) };
    expect(judgePeriod('a', verdicts, shares, ['b', 'c'], canaryPolicy, { utilisation: hot, profiles }).outcome).toBe('pass');
    const judged = judgePeriod('a', verdicts, shares, ['b', 'c'], canaryPolicy, { utilisation: hot, profiles, knees: { a: 0.8, b: 0.8, c: 0.8 } });
    expect(judged).toMatchObject({
      outcome: 'fail',
      why: expect.stringContaining(
        "a's own line at the canary's 4% utilisation: 286ms (b past planned utilisation, c past planned utilisation: off their lines)",
      ),
    });
    // One control below its knee still scales it.
    const mixed = judgePeriod('a', verdicts, shares, ['b', 'c'], canaryPolicy, {
      utilisation: { ...hot, b: 0.7 },
      profiles,
      knees: { a: 0.8, b: 0.8, c: 0.8 },
    });
    expect(mixed.why).toContain('controls at');
  });

  it('does not scale the expectation by controls outside the loads their lines were learned on', () => {
    // Learned over a day swinging 0.3-0.5 (the line holds over 25%-53%), b and c now carry the
    // canary's share at 70%, where a convex latency curve runs 20% above the straight line.
    const narrow = (intercept: number) => {
      let profile: LoadProfile | undefined;
      for (let i = 0; i < 1440; i++)
        profile = addPoint(
          profile,
          0.4 + 0.1 * Math.sin((2 * Math.PI * i) / 1440),
          intercept + 150 * (0.4 + 0.1 * Math.sin((2 * Math.PI * i) / 1440)) + (((i * 7919) % 21) - 10),
          T0 + i * MINUTE,
          DAY,
        );
      return profile!;
    };
    const lines = { a: narrow(280), b: narrow(240), c: narrow(320) };
    const onLine = (intercept: number) => intercept + 150 * 0.7;
    const verdicts = { a: verdict(286 * 1.25), b: verdict(onLine(240) * 1.2), c: verdict(onLine(320) * 1.2) };
    const judged = judgePeriod('a', verdicts, shares, ['b', 'c'], canaryPolicy, { utilisation, profiles: lines });
    expect(judged).toMatchObject({
      outcome: 'fail',
      why: expect.stringContaining(
        "a's own line at the canary's 4% utilisation: 286ms (b at 70% (learned on 25%-53%), c at 70% (learned on 25%-53%): off their lines)",
      ),
    });
    // Below them alike (a quiet night): the straight line would be extrapolated the other way.
    const quiet = judgePeriod('a', verdicts, shares, ['b', 'c'], canaryPolicy, { utilisation: { ...utilisation, b: 0.1, c: 0.1 }, profiles: lines });
    expect(quiet.why).toContain('(b at 10% (learned on 25%-53%), c at 10% (learned on 25%-53%): off their lines)');
    // Within the loads it was learned on, the same control scales the expectation (and so hides the slow canary).
    const within = judgePeriod('a', verdicts, shares, ['b', 'c'], canaryPolicy, { utilisation: { ...utilisation, b: 0.5, c: 0.5 }, profiles: lines });
    expect(within.why).toContain('controls at');
  });

  it("falls back when the line is too uncertain at the canary's load", () => {
    let noisy: LoadProfile | undefined;
    for (let i = 0; i < 20; i++) noisy = addPoint(noisy, 0.4 + (i % 2) * 0.02, 300 + (i % 3) * 200, T0 + i * MINUTE, DAY);
    const judged = judgePeriod('a', { a: verdict(286), b: verdict(345), c: verdict(425) }, shares, ['b', 'c'], canaryPolicy, {
      utilisation,
      profiles: { a: noisy, b: noisy, c: noisy },
    });
    expect(judged.why).toMatch(/not load-matched: the expectation at 4% utilisation is ±\d+% uncertain/);
  });
});

describe('decide learns latency against load, and judges a canary at its own load', () => {
  // Three endpoints of 100 requests/s warm capacity; latency = network + 250 ms × (1 + 0.6 × utilisation).
  const network: Record<string, number> = { a: 80, b: 40, c: 120 };
  const service = makeService({
    n: 3,
    policy: {
      rollout: { mode: 'drain-during-deploy', canary: { steps: [0.1, 0.5, 1], holdSeconds: 300, statistic: 'p99', maxLatencyRatio: 1.2, minSamples: 200 } },
    },
    endpoints: ['a', 'b', 'c'].map(() => ({ capacity: { warmRps: 100 }, load: { namespace: 'Inference', metricName: 'Requests', statistic: 'Sum' } })),
  });

  /** A day of traffic swinging ±30% around 150 requests/s, then `after` more minutes with a deployment of `a` whose new version is `slowdown` slower. */
  function day(slowdown: number, after = 30) {
    return deployDay(
      service,
      ({ id, rate, u, deployed, wobble }) => {
        const service = 250 * (1 + 0.6 * u) * (id === 'a' && deployed ? slowdown : 1);
        return {
          signals: { p99: { value: (network[id]! + service) * wobble, sampleCount: Math.round(rate * 60) }, errors: { value: 0.1 } },
          requestRate: rate,
        };
      },
      after,
    );
  }

  it('rolls back a version 40% slower at the first step, though at 10% it answers faster than the busy controls', () => {
    const steps = day(1.4);
    const rollback = steps.find((s) => s.decision.rolloutEvents.length > 0)!;
    expect(rollback.decision.rolloutEvents).toEqual([expect.objectContaining({ type: 'Rollback Requested', reason: expect.stringContaining('step 1 (10%)') })]);
    const judged = rollback.decision.reasons.find((r) => r.code === 'ROLLBACK_REQUESTED')!.message;
    // The controls carry the canary's share past the loads their lines were learned on (a day
    // swinging 35%-65%): the canary is judged on its own line.
    expect(judged).toMatch(/a's own line at the canary's \d+% utilisation: \d+ms \(b at 7\d% \(learned on 2\d%-[67]\d%\), c at 7\d% .*: off their lines\)/);
    // What it was compared with: controls running much busier, and slower, than the canary.
    const canaryP99 = rollback.decision.verdicts.a!.signals[0]!.value!;
    expect(canaryP99).toBeLessThan(rollback.decision.verdicts.c!.signals[0]!.value!);
    expect(Math.max(...steps.map((s) => s.weights.a! / (s.weights.a! + s.weights.b! + s.weights.c!)))).toBeLessThanOrEqual(10 / 210 + 1e-9);
  });

  it('ramps a version as fast as the old one through every step', () => {
    const steps = day(1, 40);
    expect(steps.flatMap((s) => s.decision.rolloutEvents)).toEqual([expect.objectContaining({ type: 'Rollout Succeeded' })]);
  });

  it('learns only from endpoints running normally, once a period, and starts a promoted version afresh', () => {
    const steps = day(1, 40);
    const atStart = steps[0]!.state;
    // A day of points, decayed with a day's half-life: over a thousand still count.
    expect(atStart.loadProfiles!.a!.n).toBeGreaterThan(1000);
    // The canary's line stays as it was while it deploys; the others keep learning.
    const during = steps[10]!.state;
    expect(during.loadProfiles!.a).toEqual(steps[1]!.state.loadProfiles!.a);
    expect(during.loadProfiles!.b!.at).toBeGreaterThan(steps[1]!.state.loadProfiles!.b!.at);
    // The reference taken when the deployment started is kept into the canary.
    expect(steps[5]!.state.rollouts!.a!.loadReference).toEqual(steps[0]!.state.rollouts!.a!.loadReference);
    const promoted = steps.findIndex((s) => s.decision.rolloutEvents.length > 0);
    expect(steps[promoted]!.state.loadProfiles.a).toBeUndefined();
    expect(steps[promoted + 1]!.state.loadProfiles!.a!.n).toBe(1);
  });

  it('does not count one period twice when a deployment event evaluates it again', () => {
    const ok = { signals: { p99: { value: 300, sampleCount: 5000 }, errors: { value: 0 } }, requestRate: 50 };
    const observations = { periodStart: T0 - MINUTE, endpoints: { a: ok, b: ok, c: ok } };
    const first = decide(service, { now: T0, observations, state: undefined });
    const again = decide(service, { now: T0 + 1000, observations, state: first.nextState, deployments: [{ ...event('started', T0 + 1000), endpoint: 'b' }] });
    expect(first.nextState.loadProfiles!.a!.n).toBe(1);
    expect(again.nextState.loadProfiles!.a!.n).toBe(1);
  });

  it('keeps no profiles for a service without rollouts', () => {
    const plain = makeService({ n: 1, endpoints: [{ capacity: { warmRps: 100 } }] });
    const out = decide(plain, {
      now: T0,
      observations: {
        periodStart: T0 - MINUTE,
        endpoints: { a: { signals: { p99: { value: 300, sampleCount: 5000 }, errors: { value: 0 } }, requestRate: 50 } },
      },
      state: undefined,
    });
    expect(out.nextState.loadProfiles).toEqual({});
  });
});

describe('Function: applyDeployment — an ignored event says why, as data', () => {
  it.each<[string, DeploymentSignal[], RolloutPolicy, IgnoredDeploymentWhy, DeploymentIgnoredReason['rollout'], string]>([
    ['mode none', [event('started', T0)], policySchema.parse({}).rollout, 'rollout-mode-none', undefined, 'rollout mode is none: recorded, weights untouched'],
    [
      'late news for the version',
      [event('started', T0 + 10), event('failed', T0)],
      drainPolicy,
      'out-of-order',
      undefined,
      'older than the last event applied to v2 (out of order)',
    ],
    [
      'a second started',
      [event('started', T0), event('started', T0 + 1)],
      drainPolicy,
      'already-in-phase',
      { version: 'v2', phase: 'deploying' },
      'already deploying',
    ],
    [
      'a second succeeded',
      [event('succeeded', T0), event('succeeded', T0 + 1)],
      drainPolicy,
      'already-in-phase',
      { version: 'v2', phase: 'canary' },
      'already canary',
    ],
    ['failed with nothing in progress', [event('failed', T0)], drainPolicy, 'no-rollout', undefined, 'no rollout in progress'],
    [
      'failed for another version',
      [event('started', T0), event('failed', T0 + 1, 'v9')],
      drainPolicy,
      'other-version',
      { version: 'v2', phase: 'deploying' },
      'the rollout in progress is v2',
    ],
    [
      'failed while rolling back',
      [event('started', T0), event('failed', T0 + 1), event('failed', T0 + 2)],
      drainPolicy,
      'rolling-back',
      { version: 'v2', phase: 'rolling-back' },
      'already rolling back',
    ],
    [
      'promote while rolling back',
      [event('started', T0), event('failed', T0 + 1), event('promote', T0 + 2)],
      drainPolicy,
      'rolling-back',
      { version: 'v2', phase: 'rolling-back' },
      'rolling back: promote the next deployment instead',
    ],
  ])('%s', (_name, events, policy, why, rollout, text) => {
    let state: RolloutState | undefined;
    let last: ReturnType<typeof applyDeployment> | undefined;
    for (const e of events) {
      last = applyDeployment(state, e, policy, 1, e.at, 'chat.example.com');
      state = last.rollout;
    }
    const ignored = events.at(-1)!;
    expect(last!.reasons).toEqual([
      {
        code: 'DEPLOYMENT_IGNORED',
        endpoint: 'a',
        version: ignored.version,
        phase: ignored.phase,
        idempotencyKey: ignored.idempotencyKey,
        why,
        ...(rollout ? { rollout } : {}),
        message: `a ${ignored.phase} ${ignored.version}: ${text}`,
      },
    ]);
  });

  it('names the event that moved a rollout on the reasons it gave, and none on those time gave', () => {
    const started = event('started', T0, 'v2', 'k-start');
    const step = applyDeployment(undefined, started, drainPolicy, 1, T0, 'chat.example.com');
    expect(step.reasons).toEqual([
      expect.objectContaining({ code: 'DEPLOYMENT_STARTED', endpoint: 'a', version: 'v2', idempotencyKey: 'k-start', phase: 'started' }),
    ]);
    const timedOut = advanceRollout({
      endpoint: 'a',
      rollout: step.rollout!,
      policy: drainPolicy,
      now: T0 + 10 * 3600_000,
      judgement: null,
      failing: false,
      dnsName: 'x',
    });
    expect(timedOut.reasons).toEqual([
      { code: 'DEPLOYMENT_TIMED_OUT', endpoint: 'a', version: 'v2', message: expect.stringContaining('no outcome of the deployment') },
    ]);
  });
});
