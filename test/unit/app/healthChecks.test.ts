/**
 * The records' Route 53 health checks in the evaluation: their ids read with the records, their
 * status read only for endpoints drained for failing or just restored by their check, in one call
 * per evaluation, put into the observations the engine decides on; a failed read is a gap, and the
 * evaluation goes on without them.
 */
import { describe, expect, it } from 'vitest';
import { evaluateService, planEvaluation } from '../../../functions/app/evaluateService.js';
import { checkerFailuresDue, healthCheckTurn, healthChecksDue, withHealthChecks } from '../../../functions/app/healthChecks.js';
import { observeServices } from '../../../functions/app/observe.js';
import { onTick } from '../../../functions/app/onTick.js';
import type { Runtime } from '../../../functions/app/runtime.js';
import { InMemoryHealthChecks } from '../../../functions/adapters/memory/index.js';
import { recordSetOf } from '../../../functions/app/evaluateService.js';
import { CHECKER_FAILURE_WINDOW_MS, CHECKER_RESTORE_WINDOW_MS } from '../../../functions/core/hysteresis.js';
import type { EndpointState, ServiceState } from '../../../functions/core/types.js';
import { judgedStart, memoryWorld, MINUTE, type MemoryWorld } from './runtimeFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };
/** Every endpoint of the fixture has a health check on its record: health check id by SetIdentifier. */
const IDS: Readonly<Record<string, string>> = { 'us-east-1': 'hc-use1', 'eu-west-1': 'hc-euw1', 'ap-northeast-1': 'hc-apne1' };

interface Setup {
  readonly world: MemoryWorld;
  readonly checks: InMemoryHealthChecks;
  readonly rt: Runtime;
}

/** A world evaluated once (so the service has a state), with health checks on its records and the port wired in. */
async function setup(ids: Readonly<Record<string, string>> = IDS): Promise<Setup> {
  const world = memoryWorld();
  world.feed(judgedStart(world.clock.now()), HEALTHY);
  await evaluateService(world.runtime(), world.service, { trigger: 'schedule' });
  world.clock.advance(MINUTE);
  world.feed(judgedStart(world.clock.now()), HEALTHY);
  const checks = new InMemoryHealthChecks();
  for (const [setIdentifier, id] of Object.entries(ids)) {
    world.dns.attachHealthCheck(recordSetOf(world.service), setIdentifier, id);
    checks.set(id, 'healthy');
  }
  return { world, checks, rt: { ...world.runtime(), healthChecks: checks } };
}

/** Rewrites the stored state of some endpoints, as earlier evaluations would have left it. */
async function storeEndpoints(world: MemoryWorld, endpoints: Record<string, Partial<EndpointState>>): Promise<ServiceState> {
  const stored = await world.store.load('chat');
  const state = stored.state!;
  const next: ServiceState = {
    ...state,
    endpoints: Object.fromEntries(Object.entries(state.endpoints).map(([id, e]) => [id, { ...e, ...endpoints[id] }])),
  };
  world.store.seed({ ...stored, state: next, updatedAt: stored.updatedAt ?? world.clock.now() });
  return next;
}

const drainedFailing: Partial<EndpointState> = { status: 'drained', failed: true, shed: 1 };
/** Drained for failing, its health check seen failing too (a region down): restored when the check passes, unless its checkers failed within the last minute. */
const seenFailing: Partial<EndpointState> = { ...drainedFailing, healthCheckFailed: true };

describe('Function: checkerFailuresDue', () => {
  it.each<[string, Partial<EndpointState>, boolean]>([
    ['an endpoint drained for failing, its health check not seen failing', drainedFailing, true],
    ['an endpoint drained for failing, its health check seen failing', seenFailing, true],
    ['an endpoint drained by shedding', { status: 'drained', failed: false, shed: 1 }, false],
    ['a healthy endpoint', { status: 'healthy' }, false],
  ])('%s: read = %s', async (_name, endpoint, read) => {
    const { world } = await setup();
    const state = await storeEndpoints(world, { 'eu-west-1': endpoint });
    expect(checkerFailuresDue(state, 'eu-west-1')).toBe(read);
  });

  it('reads nothing before the first state', () => {
    expect(checkerFailuresDue(undefined, 'eu-west-1')).toBe(false);
  });
});

describe('Function: healthChecksDue', () => {
  it.each<[string, Partial<EndpointState>, number, boolean]>([
    ['an endpoint drained for failing', drainedFailing, 0, true],
    ['an endpoint drained by shedding, not for failing', { status: 'drained', failed: false, shed: 1 }, 0, false],
    ['a degraded endpoint', { status: 'degraded', shed: 0.5 }, 0, false],
    ['an endpoint just restored by its health check, within its alarm-lag window', { status: 'healthy', alarmLagUntil: 1_000 }, 999, true],
    ['an endpoint whose alarm-lag window has ended', { status: 'healthy', alarmLagUntil: 1_000 }, 1_000, false],
    ['a healthy endpoint', { status: 'healthy' }, 0, false],
  ])('%s: read = %s', async (_name, endpoint, now, read) => {
    const { world } = await setup();
    const state = await storeEndpoints(world, { 'eu-west-1': endpoint });
    expect([...healthChecksDue(world.service, state, now, IDS)]).toEqual(read ? [['eu-west-1', 'hc-euw1']] : []);
  });

  it('skips an endpoint drained for failing whose record has no health check, and reads nothing before the first state', async () => {
    const { world } = await setup();
    const state = await storeEndpoints(world, { 'eu-west-1': drainedFailing });
    expect(healthChecksDue(world.service, state, 0, { 'us-east-1': 'hc-use1' }).size).toBe(0);
    expect(healthChecksDue(world.service, undefined, 0, IDS).size).toBe(0);
    expect(healthChecksDue(world.service, state, 0, undefined).size).toBe(0);
  });
});

describe('Function: withHealthChecks', () => {
  it("puts each due endpoint's verdict into its observations and leaves every other endpoint as observed", async () => {
    const { world, checks, rt } = await setup();
    const state = await storeEndpoints(world, { 'eu-west-1': drainedFailing, 'ap-northeast-1': drainedFailing });
    checks.set('hc-euw1', 'unhealthy');
    checks.set('hc-apne1', undefined);
    const now = world.clock.now();
    const observed = (await observeServices(world.metrics, [world.service], now)).get('chat')!;

    const seen = await withHealthChecks(rt, world.service, state, now, observed, IDS);

    expect(checks.reads).toEqual(['hc-euw1', 'hc-apne1']);
    // Neither reads healthy: their checkers' failures are not read (a check that fails says enough).
    expect(checks.failureReads).toEqual([]);
    expect(seen.observations.endpoints['eu-west-1']).toEqual({ ...observed.observations.endpoints['eu-west-1'], healthCheck: 'unhealthy' });
    // No verdict yet (no checker has reported): the field stays absent.
    expect(seen.observations.endpoints['ap-northeast-1']).toEqual(observed.observations.endpoints['ap-northeast-1']);
    expect(seen.observations.endpoints['us-east-1']).toEqual(observed.observations.endpoints['us-east-1']);
    expect(seen.gaps).toEqual(observed.gaps);
  });

  it("puts how many of a drained-for-failing endpoint's checkers failed within the window; a just-restored endpoint's are not read", async () => {
    const { world, checks, rt } = await setup();
    const now = world.clock.now();
    const state = await storeEndpoints(world, { 'eu-west-1': drainedFailing, 'ap-northeast-1': { status: 'healthy', alarmLagUntil: now + MINUTE } });
    // Four checkers failed within the last two minutes (one exactly at its start), two before it.
    checks.setLastFailures('hc-euw1', [
      now - 1_000,
      now - 60_000,
      now - 90_000,
      now - CHECKER_FAILURE_WINDOW_MS,
      now - CHECKER_FAILURE_WINDOW_MS - 1,
      now - 600_000,
    ]);
    checks.setLastFailures('hc-apne1', [now - 1_000]);
    const observed = (await observeServices(world.metrics, [world.service], now)).get('chat')!;

    const seen = await withHealthChecks(rt, world.service, state, now, observed, IDS);

    expect(checks.failureReads).toEqual(['hc-euw1']);
    expect(checks.reads).toEqual(['hc-euw1', 'hc-apne1']);
    expect(seen.observations.endpoints['eu-west-1']).toEqual({
      ...observed.observations.endpoints['eu-west-1'],
      healthCheck: 'healthy',
      healthCheckFailures: 4,
    });
    expect(seen.observations.endpoints['ap-northeast-1']).toEqual({ ...observed.observations.endpoints['ap-northeast-1'], healthCheck: 'healthy' });
    expect(seen.gaps).toEqual(observed.gaps);
  });

  it("counts a seen-failing endpoint's checkers over the last minute only: a check that passes again a minute or more after its checkers' last failures is not flickering", async () => {
    const { world, checks, rt } = await setup();
    const now = world.clock.now();
    const state = await storeEndpoints(world, { 'eu-west-1': seenFailing });
    checks.setLastFailures('hc-euw1', [now - 1_000, now - CHECKER_RESTORE_WINDOW_MS, now - CHECKER_RESTORE_WINDOW_MS - 1, now - 90_000]);
    const observed = (await observeServices(world.metrics, [world.service], now)).get('chat')!;

    const seen = await withHealthChecks(rt, world.service, state, now, observed, IDS);

    expect(checks.reads).toEqual(['hc-euw1']);
    expect(checks.failureReads).toEqual(['hc-euw1']);
    expect(seen.observations.endpoints['eu-west-1']).toEqual({
      ...observed.observations.endpoints['eu-west-1'],
      healthCheck: 'healthy',
      healthCheckFailures: 2,
    });
  });

  it("reads no checkers' failures of a seen-failing endpoint whose check still fails", async () => {
    const { world, checks, rt } = await setup();
    const now = world.clock.now();
    const state = await storeEndpoints(world, { 'eu-west-1': seenFailing });
    checks.set('hc-euw1', 'unhealthy');
    checks.setLastFailures('hc-euw1', [now - 1_000]);
    const observed = (await observeServices(world.metrics, [world.service], now)).get('chat')!;

    const seen = await withHealthChecks(rt, world.service, state, now, observed, IDS);

    expect(checks.failureReads).toEqual([]);
    expect(seen.observations.endpoints['eu-west-1']).toEqual({ ...observed.observations.endpoints['eu-west-1'], healthCheck: 'unhealthy' });
  });

  it("keeps the status when the checkers' failures cannot be read: a gap, and no count", async () => {
    const { world, checks, rt } = await setup();
    const state = await storeEndpoints(world, { 'eu-west-1': drainedFailing });
    const refused = 'route53:GetHealthCheckLastFailureReason on health check hc-euw1 failed: Throttling: Rate exceeded';
    checks.failCheckerReads(new Error(refused));
    checks.setLastFailures('hc-euw1', [world.clock.now()]);
    const now = world.clock.now();
    const observed = (await observeServices(world.metrics, [world.service], now)).get('chat')!;

    const seen = await withHealthChecks(rt, world.service, state, now, observed, IDS);

    expect(seen.observations.endpoints['eu-west-1']).toEqual({ ...observed.observations.endpoints['eu-west-1'], healthCheck: 'healthy' });
    expect(seen.gaps).toEqual([...observed.gaps, `health checks: ${refused}`]);
  });

  it('reads the others when one cannot be read (Route 53 refuses the read of a deleted health check): a gap for that one only', async () => {
    const { world, checks, rt } = await setup();
    const state = await storeEndpoints(world, { 'eu-west-1': drainedFailing, 'ap-northeast-1': drainedFailing });
    checks.set('hc-apne1', 'healthy');
    const refused = 'route53:GetHealthCheck on health check hc-euw1 failed: NoSuchHealthCheck: No health check exists with the specified ID.';
    checks.failReads(new Error(refused));
    const now = world.clock.now();
    const observed = (await observeServices(world.metrics, [world.service], now)).get('chat')!;

    const seen = await withHealthChecks(rt, world.service, state, now, observed, IDS);

    expect(seen.observations.endpoints['eu-west-1']).toEqual(observed.observations.endpoints['eu-west-1']);
    expect(seen.observations.endpoints['ap-northeast-1']).toEqual({ ...observed.observations.endpoints['ap-northeast-1'], healthCheck: 'healthy' });
    expect(seen.gaps).toEqual([...observed.gaps, `health checks: ${refused}`]);
  });

  it('answers the observations as they were, with no call, when nothing is due or no port is wired', async () => {
    const { world, checks, rt } = await setup();
    const state = (await world.store.load('chat')).state!;
    const observed = (await observeServices(world.metrics, [world.service], world.clock.now())).get('chat')!;
    expect(await withHealthChecks(rt, world.service, state, world.clock.now(), observed, IDS)).toBe(observed);
    const drained = await storeEndpoints(world, { 'eu-west-1': drainedFailing });
    expect(await withHealthChecks(world.runtime(), world.service, drained, world.clock.now(), observed, IDS)).toBe(observed);
    expect(await withHealthChecks(rt, world.service, drained, world.clock.now(), observed, undefined)).toBe(observed);
    expect(checks.reads).toEqual([]);
  });
});

describe('Function: evaluateService, with health checks', () => {
  it('reads no health check while no endpoint is drained for failing or just restored', async () => {
    const { world, checks, rt } = await setup();
    for (let i = 0; i < 3; i += 1) {
      world.feed(judgedStart(world.clock.now()), HEALTHY);
      await evaluateService(rt, world.service, { trigger: 'schedule' });
      world.clock.advance(MINUTE);
    }
    expect(checks.reads).toEqual([]);
  });

  it('reads the failed-drained endpoints’ checks, and the engine restores one whose check passes again', async () => {
    const { world, checks, rt } = await setup();
    await storeEndpoints(world, { 'eu-west-1': { ...drainedFailing, healthCheckFailed: true }, 'us-east-1': { status: 'drained', failed: false, shed: 1 } });

    const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });

    expect(checks.reads).toEqual(['hc-euw1']);
    expect(outcome.decision!.transitions).toContainEqual(
      expect.objectContaining({ endpoint: 'eu-west-1', from: 'drained', to: 'healthy', reason: 'HEALTH_CHECK_RESTORED' }),
    );
    expect(outcome.gaps).toEqual([]);
  });

  it("restores an endpoint drained for failing, its check never failing, once its checkers' last failures are all older than the window", async () => {
    const { world, checks, rt } = await setup();
    const now = world.clock.now();
    // Drained an hour ago (its dwell over); its checkers last saw it fail 3 and 10 minutes ago.
    await storeEndpoints(world, { 'eu-west-1': { ...drainedFailing, since: now - 3_600_000, stepSince: now - 3_600_000 } });
    checks.setLastFailures('hc-euw1', [now - 180_000, now - 600_000]);

    const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });

    expect(checks.failureReads).toEqual(['hc-euw1']);
    expect(outcome.decision!.transitions).toContainEqual(
      expect.objectContaining({ endpoint: 'eu-west-1', from: 'drained', to: 'healthy', reason: 'CHECKERS_CLEAR_RESTORED' }),
    );
    expect((await world.store.load('chat')).state!.endpoints['eu-west-1']).toMatchObject({ status: 'healthy', failed: false });
  });

  it('goes on without them when the read fails: a warning, a gap, no healthCheck observed, and the evaluation completes', async () => {
    const { world, checks, rt } = await setup();
    await storeEndpoints(world, { 'eu-west-1': { ...drainedFailing, healthCheckFailed: true } });
    checks.failReads(new Error('route53:GetHealthCheckStatus on health check hc-euw1 failed: Throttling: Rate exceeded'));

    const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });

    expect(['applied', 'unchanged']).toContain(outcome.status);
    expect(outcome.gaps).toEqual(['health checks: route53:GetHealthCheckStatus on health check hc-euw1 failed: Throttling: Rate exceeded']);
    expect(outcome.decision!.transitions.filter((t) => t.reason === 'HEALTH_CHECK_RESTORED')).toEqual([]);
    expect(world.log.lines.filter((l) => l.level === 'warn').map((l) => [l.message, l.extra[0]])).toContainEqual([
      'could not read a Route 53 health check; deciding without it',
      {
        service: 'chat',
        endpoints: ['eu-west-1'],
        healthCheckId: 'hc-euw1',
        error: 'route53:GetHealthCheckStatus on health check hc-euw1 failed: Throttling: Rate exceeded',
      },
    ]);
    expect((await world.store.load('chat')).state!.endpoints['eu-west-1']).toMatchObject({ status: 'drained', failed: true });
  });

  it('takes the ids from the records as read now: a check attached outside steer53 is read, a record without one is not', async () => {
    const { world, checks, rt } = await setup({ 'us-east-1': 'hc-use1' });
    await storeEndpoints(world, { 'eu-west-1': { ...drainedFailing, healthCheckFailed: true }, 'us-east-1': drainedFailing });
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    // us-east-1's check is read; eu-west-1's record has none yet: nothing asked for it.
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(checks.reads).toEqual(['hc-use1']);

    // Someone attaches a health check to eu-west-1's record (in the console, or their own stack).
    await storeEndpoints(world, { 'eu-west-1': { ...drainedFailing, healthCheckFailed: true } });
    world.dns.attachHealthCheck(recordSetOf(world.service), 'eu-west-1', 'hc-theirs');
    checks.set('hc-theirs', 'healthy');
    const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(checks.reads.at(-1)).toBe('hc-theirs');
    expect(outcome.decision!.transitions).toContainEqual(
      expect.objectContaining({ endpoint: 'eu-west-1', from: 'drained', to: 'healthy', reason: 'HEALTH_CHECK_RESTORED' }),
    );
  });

  it('reports a failed read as a gap of the dry run too', async () => {
    const { world, checks, rt } = await setup();
    await storeEndpoints(world, { 'eu-west-1': drainedFailing });
    checks.failReads(new Error('AccessDenied'));
    const plan = await planEvaluation(rt, world.service);
    expect(plan.gaps).toEqual(['health checks: AccessDenied']);
    expect(plan.healthChecks).toEqual({});
  });

  it('reads them in a tick too, once for the service, and in the dry run', async () => {
    const { world, checks, rt } = await setup();
    await storeEndpoints(world, { 'eu-west-1': drainedFailing });
    checks.set('hc-euw1', 'unhealthy');
    const plan = await planEvaluation(rt, world.service);
    expect(plan.gaps).toEqual([]);
    expect(plan.healthChecks).toEqual({ 'eu-west-1': 'unhealthy' });
    expect(checks.reads).toEqual(['hc-euw1']);
    const tick = await onTick(rt);
    expect(tick.failures).toEqual([]);
    expect(checks.reads).toEqual(['hc-euw1', 'hc-euw1']);
  });
});

describe('Function: healthCheckTurn', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `hc-${i}`);

  it('reads every due check when they fit the budget, duplicates counted once', () => {
    expect(healthCheckTurn(['hc-a', 'hc-b', 'hc-a'], 2, 7)).toBeUndefined();
  });

  it('gives each due check one turn in every ⌈due / budget⌉ ticks, never more than the budget at once', () => {
    // 10 due, 3 a tick: 4 turns, of 3, 3, 2 and 2 checks.
    const turns = [0, 1, 2, 3].map((minute) => [...healthCheckTurn(ids, 3, minute)!]);
    expect(turns.map((t) => t.length).sort()).toEqual([2, 2, 3, 3]);
    expect(turns.flat().sort()).toEqual([...ids].sort());
    expect(healthCheckTurn(ids, 3, 4)).toEqual(healthCheckTurn(ids, 3, 0));
  });

  it('is the same whatever order the checks come in', () => {
    expect(healthCheckTurn([...ids].reverse(), 3, 1)).toEqual(healthCheckTurn(ids, 3, 1));
  });
});

describe('A tick with more health checks due than it reads', () => {
  it('reads them in turns: one a tick with a budget of one, the other the tick after', async () => {
    const { world, checks, rt } = await setup();
    await storeEndpoints(world, { 'eu-west-1': drainedFailing, 'ap-northeast-1': drainedFailing });
    checks.set('hc-euw1', 'unhealthy');
    checks.set('hc-apne1', 'unhealthy');
    const budgeted: Runtime = { ...rt, options: { ...rt.options, healthCheckReadsPerTick: 1 } };

    expect((await onTick(budgeted)).failures).toEqual([]);
    expect(checks.reads).toHaveLength(1);
    world.clock.advance(MINUTE);
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    expect((await onTick(budgeted)).failures).toEqual([]);

    expect([...checks.reads].sort()).toEqual(['hc-apne1', 'hc-euw1']);
  });

  it("reads every due check when the budget allows, and the checkers' failures of those that read healthy", async () => {
    const { world, checks, rt } = await setup();
    await storeEndpoints(world, { 'eu-west-1': drainedFailing, 'ap-northeast-1': seenFailing });
    await onTick({ ...rt, options: { ...rt.options, healthCheckReadsPerTick: 2 } });
    expect([...checks.reads].sort()).toEqual(['hc-apne1', 'hc-euw1']);
    // Both read healthy: each one's checkers are read too (ap-northeast-1's, seen failing, over the last minute).
    expect([...checks.failureReads].sort()).toEqual(['hc-apne1', 'hc-euw1']);
  });
});
