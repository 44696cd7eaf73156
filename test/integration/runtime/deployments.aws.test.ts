/**
 * Deployment events through the deployment handler, against dynalite (state, audit and the
 * Powertools idempotency records in the one table) with Route 53, CloudWatch, SNS and EventBridge
 * mocked: every phase order, duplicates, native AWS events, and the schedule carrying a canary on.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createDeploymentHandler, deploymentIdempotencyStore, IDEMPOTENCY_PARTITION } from '../../../functions/handlers/deployment.js';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import { createTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { awsWorld, eventbridge, HEALTHY, route53, type AwsWorld } from './awsWorld.js';
import { context, deploymentEvent, scheduledRuleEvent, testDeps } from '../../unit/handlers/handlerFixtures.js';
import { MINUTE, rawConfig, testConfig } from '../../unit/app/runtimeFixtures.js';

let dynamo: LocalDynamo;
let table: string;
let world: AwsWorld;

const ECS_SERVICE = 'arn:aws:ecs:us-west-2:111122223333:service/default/servicetest';

function rolloutConfig() {
  const raw = structuredClone(rawConfig) as { services: { policy: Record<string, unknown>; endpoints: Record<string, unknown>[] }[] };
  raw.services[0]!.policy.rollout = { mode: 'drain-during-deploy', canary: { steps: [0.1, 0.5, 1], holdSeconds: 300, minSamples: 100 } };
  raw.services[0]!.endpoints[1]!.deploymentSources = { ecsServices: [ECS_SERVICE] };
  return testConfig(raw);
}

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = await createTable(dynamo);
  world = awsWorld(dynamo, table, rolloutConfig());
  world.latencyMs = HEALTHY;
});

function handler() {
  const t = testDeps(async () => world.runtime());
  return { t, handle: createDeploymentHandler({ ...t.deps, idempotency: () => deploymentIdempotencyStore({ tableName: table, client: dynamo.client }) }) };
}

const iso = (ms: number) => new Date(ms).toISOString();
const DETAIL_TYPE = {
  started: 'Deployment Started',
  succeeded: 'Deployment Succeeded',
  failed: 'Deployment Failed',
  'rolled-back': 'Deployment Rolled Back',
  abort: 'Rollout Abort Requested',
  promote: 'Rollout Promote Requested',
} as const;
type Phase = keyof typeof DETAIL_TYPE;

/** The event a pipeline (or, for abort and promote, the CLI) puts, at the world's time now. */
function eventFor(phase: Phase, key: string, version = 'v2') {
  const base = deploymentEvent(DETAIL_TYPE[phase], { idempotencyKey: key, version });
  const detail =
    phase === 'abort' || phase === 'promote'
      ? { service: 'chat', endpoint: 'eu-west-1', reason: 'looked at the dashboards', by: 'arn:aws:iam::123456789012:user/alice', idempotencyKey: key }
      : base.detail;
  return { ...base, id: `event-${key}`, time: iso(world.clock.now()), detail };
}

function euWeight(): number | undefined {
  return world.records.find((r) => r.SetIdentifier === 'eu-west-1')?.Weight;
}

function published(): string[] {
  return eventbridge.commandCalls(PutEventsCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => e.DetailType!));
}

async function items() {
  return (await dynamo.client.send(new ScanCommand({ TableName: table }))).Items ?? [];
}

describe('Deployment handler against dynalite: phase orders', () => {
  it.each<[string, Phase[], number, string[]]>([
    ['started drains the endpoint while it deploys', ['started'], 0, []],
    ['started then succeeded ramps it in at the first canary step', ['started', 'succeeded'], 10, []],
    ['succeeded before started starts the canary anyway; the late started changes nothing', ['succeeded', 'started'], 10, []],
    ['started then failed keeps it at 0 until it is rolled back', ['started', 'failed'], 0, []],
    ['failed then rolled back returns it to its pre-deploy weight', ['started', 'failed', 'rolled-back'], 100, []],
    ['an abort during the canary requests a rollback', ['started', 'succeeded', 'abort'], 0, ['Rollback Requested']],
    ['an abort, then the rollback, restores it', ['started', 'succeeded', 'abort', 'rolled-back'], 100, ['Rollback Requested']],
    ['a promote during the canary ends it at full share', ['started', 'succeeded', 'promote'], 100, ['Rollout Succeeded']],
    ['rolled back with nothing in progress changes nothing', ['rolled-back'], 100, []],
  ])('%s', async (_name, phases, weight, rolloutEvents) => {
    const { handle } = handler();
    for (const [i, phase] of phases.entries()) {
      world.clock.advance(MINUTE);
      const result = await handle(eventFor(phase, `deploy-${i}-${phase}`), context);
      expect(result.status).toBe('applied');
    }
    expect(euWeight()).toBe(weight);
    expect(published().filter((t) => t === 'Rollback Requested' || t === 'Rollout Succeeded')).toEqual(rolloutEvents);
    const audit = await world.store.listAudit('chat', { limit: 100 });
    expect(audit.filter((a) => a.kind === 'deployment').map((a) => a.detail?.phase)).toEqual([...phases].reverse());
  });

  it('records who aborted, and why, in the audit log, and tells the pipeline which run to roll back', async () => {
    const { handle } = handler();
    for (const phase of ['started', 'succeeded', 'abort'] as const) {
      world.clock.advance(MINUTE);
      await handle(eventFor(phase, `k-${phase}`), context);
    }
    const [abort] = (await world.store.listAudit('chat')).filter((a) => a.kind === 'deployment');
    expect(abort).toMatchObject({
      actor: 'operator arn:aws:iam::123456789012:user/alice (account 123456789012)',
      status: 'applied',
      detail: { phase: 'abort', version: 'v2', reason: 'looked at the dashboards' },
    });
    const entry = eventbridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .find((e) => e.DetailType === 'Rollback Requested')!;
    expect(entry.Source).toBe('steer53');
    expect(JSON.parse(entry.Detail!)).toMatchObject({
      service: 'chat',
      endpoint: 'eu-west-1',
      version: 'v2',
      pipelineExecutionId: 'exec-1',
      onFailure: 'drain',
      reason: 'aborted by arn:aws:iam::123456789012:user/alice',
    });
  });
});

describe('Deployment handler against dynalite: duplicates', () => {
  it('applies a duplicate delivery once: the second returns the first result and writes nothing', async () => {
    const { handle } = handler();
    world.clock.advance(MINUTE);
    const first = await handle(eventFor('started', 'deploy-42'), context);
    const writes = route53.commandCalls(ChangeResourceRecordSetsCommand).length;
    const stored = (await items()).length;
    world.clock.advance(MINUTE);
    // Redelivered with another EventBridge id (the pipeline put it twice), same idempotency key.
    const again = await handle({ ...eventFor('started', 'deploy-42'), id: 'another-id' }, context);
    expect(again).toEqual({ ...first, services: [{ ...(first as { services: readonly object[] }).services[0], duplicate: true }] });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(writes);
    expect(await items()).toHaveLength(stored);
    const idempotency = (await items()).filter((i) => i.pk!.S === IDEMPOTENCY_PARTITION);
    expect(idempotency).toHaveLength(1);
    expect(idempotency[0]!.status!.S).toBe('COMPLETED');
  });

  it('a late duplicate of a started, after its rollout has ended, does not drain the endpoint again', async () => {
    const { handle } = handler();
    for (const phase of ['started', 'succeeded', 'promote'] as const) {
      world.clock.advance(MINUTE);
      await handle(eventFor(phase, `late-${phase}`), context);
    }
    expect(euWeight()).toBe(100);
    world.clock.advance(MINUTE);
    await handle(eventFor('started', 'late-started'), context);
    expect(euWeight()).toBe(100);
  });

  it('refuses one idempotency key reused for a different event, changing nothing', async () => {
    const { handle, t } = handler();
    world.clock.advance(MINUTE);
    await handle(eventFor('started', 'reused'), context);
    const writes = route53.commandCalls(ChangeResourceRecordSetsCommand).length;
    const result = await handle(eventFor('failed', 'reused'), context);
    expect(result).toMatchObject({ status: 'rejected', problems: [{ path: 'detail.idempotencyKey' }] });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(writes);
    expect(t.counts).toContainEqual({ metric: 'MalformedEvents', service: 'none', value: 1 });
  });
});

describe('Deployment handler against dynalite: native ECS events, as AWS documents them', () => {
  function ecs(name: string, at: number, deploymentId = 'ecs-svc/123') {
    const event = JSON.parse(readFileSync(new URL(`../../fixtures/native-events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown> & {
      detail: Record<string, unknown>;
    };
    return { ...event, id: `${name}-${at}`, time: iso(at), detail: { ...event.detail, deploymentId } };
  }

  it('in progress drains the mapped endpoint; completed ramps the canary in', async () => {
    const { handle } = handler();
    world.clock.advance(MINUTE);
    expect(await handle(ecs('ecs-deployment-in-progress', world.clock.now()), context)).toMatchObject({
      status: 'applied',
      services: [{ service: 'chat', records: [{ endpoint: 'eu-west-1', phase: 'started', version: 'ecs-svc/123', applied: true }] }],
    });
    expect(euWeight()).toBe(0);
    world.clock.advance(MINUTE);
    await handle(ecs('ecs-deployment-completed', world.clock.now()), context);
    expect(euWeight()).toBe(10);
  });

  it('failed, then the circuit breaker rolls back and completes: the endpoint waits at 0, then is restored', async () => {
    const { handle } = handler();
    const steps: [string, string, number][] = [
      ['ecs-deployment-in-progress', 'ecs-svc/123', 0],
      ['ecs-deployment-failed', 'ecs-svc/123', 0],
      ['ecs-deployment-rollback-in-progress', 'ecs-svc/124', 0],
      ['ecs-deployment-completed', 'ecs-svc/124', 100],
    ];
    for (const [name, id, weight] of steps) {
      world.clock.advance(MINUTE);
      await handle(ecs(name, world.clock.now(), id), context);
      expect(euWeight()).toBe(weight);
    }
    const audit = (await world.store.listAudit('chat', { limit: 100 })).filter((a) => a.kind === 'deployment');
    expect(audit.map((a) => a.detail?.status)).toEqual([
      'SERVICE_DEPLOYMENT_COMPLETED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
    ]);
    expect(audit[0]).toMatchObject({ actor: 'ECS service default/servicetest (account 111122223333)', detail: { phase: 'rolled-back' } });
  });

  it('an ECS event of a service no endpoint maps is ignored with a debug line', async () => {
    const { handle, t } = handler();
    const other = { ...ecs('ecs-deployment-completed', world.clock.now()), resources: ['arn:aws:ecs:us-west-2:111122223333:service/default/other'] };
    expect(await handle(other, context)).toEqual({
      status: 'ignored',
      reason: "aws.ecs ECS Deployment State Change: no endpoint's deploymentSources names it",
    });
    expect(t.debugLog).toHaveBeenCalled();
    expect(await items()).toEqual([]);
  });
});

describe('The schedule carries a canary on', () => {
  it('judges each step against the control on every tick and publishes Rollout Succeeded when the last passes', async () => {
    const { handle } = handler();
    world.clock.advance(MINUTE);
    await handle(eventFor('started', 's1'), context);
    world.clock.advance(MINUTE);
    await handle(eventFor('succeeded', 's2'), context);
    const tick = createScheduleHandler(testDeps(async () => world.runtime()).deps);
    const weights: (number | undefined)[] = [];
    for (let minute = 0; minute < 20 && !published().includes('Rollout Succeeded'); minute += 1) {
      world.clock.advance(MINUTE);
      await tick(scheduledRuleEvent(), context);
      weights.push(euWeight());
    }
    expect(published()).toContain('Rollout Succeeded');
    expect(euWeight()).toBe(100);
    // Through the steps in order, never above a step before it was judged.
    expect(weights.filter((w, i) => w !== weights[i - 1])).toEqual([10, 50, 100]);
    const entry = eventbridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .find((e) => e.DetailType === 'Rollout Succeeded')!;
    expect(JSON.parse(entry.Detail!)).toMatchObject({
      endpoint: 'eu-west-1',
      version: 'v2',
      trigger: 'schedule arn:aws:events:us-east-1:123456789012:rule/steer53-tick',
      reason: expect.stringContaining('every canary step passed against the control'),
    });
  });
});
