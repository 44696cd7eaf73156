import { describe, expect, it } from 'vitest';
import { evaluateService, planEvaluation } from '../../../functions/app/evaluateService.js';
import type { Runtime } from '../../../functions/app/runtime.js';
import { InMemoryCapacity } from '../../../functions/adapters/memory/index.js';
import { capacityRequestedDetailSchema } from '../../../functions/events/controllerEvents.js';
import type { CapacityAsk, CapacityTarget } from '../../../functions/ports/capacity.js';
import { editableRawConfig, judgedStart, memoryWorld, MINUTE, T0, testConfig, type MemoryWorld } from './runtimeFixtures.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1'] as const;
/** Requests per second each region serves at baseline (70 in all), and its warm capacity. */
const LOAD: Record<string, number> = { 'us-east-1': 36, 'eu-west-1': 21.5, 'ap-northeast-1': 12.5 };
const WARM: Record<string, number> = { 'us-east-1': 60, 'eu-west-1': 35, 'ap-northeast-1': 20 };
const BASELINES: Record<string, number> = { 'us-east-1': 100, 'eu-west-1': 60, 'ap-northeast-1': 35 };

/** The test service with request-count load queries, warm capacities, and an Auto Scaling group behind eu-west-1 (10 instances, up to 30). */
function capacityWorld(provider: Record<string, unknown> = { kind: 'ec2-asg', autoScalingGroupName: 'chat-eu' }) {
  const raw = editableRawConfig();
  for (const e of raw.services[0]!.endpoints) {
    const id = e.setIdentifier;
    e.baselineWeight = BASELINES[id];
    e.load = { namespace: 'Chat', metricName: 'RequestCount', dimensions: { Region: id }, statistic: 'Sum' };
    e.capacity = { warmRps: WARM[id], ...(id === 'eu-west-1' ? { scaling: { provider, maxInstances: 30 } } : {}) };
  }
  const world = memoryWorld(testConfig(raw));
  const capacity = new InMemoryCapacity({ clock: world.clock });
  capacity.define('chat', 'eu-west-1', 10);
  return { world, capacity };
}

/** One period: latency healthy everywhere that serves, load as given (a region that is down reports none). */
function feed(world: MemoryWorld, at: number, down: readonly string[] = []): void {
  const start = judgedStart(at);
  world.feed(start, Object.fromEntries(REGIONS.map((id) => [id, down.includes(id) ? null : 900])));
  for (const id of REGIONS) if (!down.includes(id)) world.metrics.recordSignal(world.service, id, 'load', start, { value: LOAD[id]! * 60 });
}

/** One healthy evaluation at T0 (demand is known from then on), then us-east-1 hard down from T0 + 1 min, its error alarm in ALARM. */
async function usDown(world: MemoryWorld, rt: Runtime): Promise<void> {
  feed(world, T0);
  await evaluateService(rt, world.service, { trigger: 'schedule' });
  world.clock.set(T0 + MINUTE);
  feed(world, T0 + MINUTE, ['us-east-1']);
  world.metrics.setAlarmState({ name: 'chat-us-east-1-5xx', region: 'us-east-1' }, 'ALARM');
}

/** Records the order of capacity asks and Route 53 writes. */
function ordered(world: MemoryWorld, capacity: InMemoryCapacity, calls: string[]): Runtime {
  const rt = world.runtime();
  return {
    ...rt,
    capacity: {
      read: (t: CapacityTarget) => capacity.read(t),
      request: async (t: CapacityTarget, ask: CapacityAsk) => {
        calls.push(`capacity ${t.endpoint} ${ask.desired}`);
        await capacity.request(t, ask);
      },
    },
    dns: {
      readZone: (z, records) => world.dns.readZone(z, records),
      readWeights: (r) => world.dns.readWeights(r),
      writeWeights: async (writes, comment) => {
        calls.push('route53');
        return world.dns.writeWeights(writes, comment);
      },
    },
  };
}

describe('the capacity handshake through evaluateService', () => {
  it('asks eu-west-1 for instances before the weights that move us-east-1 away are written, and tells it', async () => {
    const { world, capacity } = capacityWorld();
    const calls: string[] = [];
    const rt = ordered(world, capacity, calls);
    feed(world, T0);
    expect((await evaluateService(rt, world.service, { trigger: 'schedule' })).decision!.capacityRequests).toEqual([]);
    world.clock.set(T0 + MINUTE);
    feed(world, T0 + MINUTE, ['us-east-1']);
    world.metrics.setAlarmState({ name: 'chat-us-east-1-5xx', region: 'us-east-1' }, 'ALARM');
    const outcome = await evaluateService(rt, world.service, { trigger: 'alarm chat-us-east-1-5xx' });
    const [ask] = outcome.decision!.capacityRequests;
    expect(ask).toMatchObject({ endpoint: 'eu-west-1', direction: 'out', from: 10, inService: 10, reason: 'CAPACITY_REQUESTED' });
    expect(calls).toEqual([`capacity eu-west-1 ${ask!.to}`, 'route53']);
    expect(capacity.log.map((l) => [l.endpoint, l.ask.desired, l.ask.direction, l.ask.decisionId])).toEqual([
      ['eu-west-1', ask!.to, 'out', outcome.decisionId],
    ]);
    const events = world.events.events.filter((e) => e.detailType === 'Capacity Requested');
    expect(events.map((e) => capacityRequestedDetailSchema.parse(e.detail))).toEqual([
      {
        service: 'chat',
        dnsName: 'chat.example.com',
        recordType: 'A',
        hostedZoneId: world.service.hostedZoneId,
        at: new Date(T0 + MINUTE).toISOString(),
        trigger: 'alarm chat-us-east-1-5xx',
        decisionId: outcome.decisionId,
        endpoint: 'eu-west-1',
        region: 'eu-west-1',
        provider: 'ec2-asg',
        direction: 'out',
        desired: ask!.to,
        inService: 10,
        reason: ask!.message,
      },
    ]);
    const notice = world.notifier.notices.at(-1)!;
    expect(notice.decision?.capacityRequests).toHaveLength(1);
    expect((await world.store.load('chat')).state!.capacity['eu-west-1']).toMatchObject({ base: 10, asked: ask!.to, askedAt: T0 + MINUTE });
  });

  it('a generic provider publishes nothing more: its request is the event', async () => {
    const { world, capacity } = capacityWorld({ kind: 'generic', inService: { namespace: 'Chat', metricName: 'ReadyReplicas', statistic: 'Maximum' } });
    const rt = { ...world.runtime(), capacity };
    await usDown(world, rt);
    const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(outcome.decision!.capacityRequests).toHaveLength(1);
    expect(capacity.log).toHaveLength(1);
    expect(world.events.events.filter((e) => e.detailType === 'Capacity Requested')).toEqual([]);
  });

  it('a failed ask is reported, the decision stands, and the next evaluation asks again', async () => {
    const { world, capacity } = capacityWorld();
    const rt = { ...world.runtime(), capacity };
    await usDown(world, rt);
    capacity.failRequests(new Error('Rate exceeded'));
    const first = await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(first.tellFailures).toContainEqual({ channel: 'publish', message: 'capacity request for eu-west-1: Rate exceeded' });
    expect(capacity.log).toEqual([]);
    const asked = (await world.store.load('chat')).state!.capacity['eu-west-1']!.asked!;
    world.clock.set(T0 + 2 * MINUTE);
    feed(world, T0 + 2 * MINUTE, ['us-east-1']);
    const second = await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(second.decision!.capacityRequests).toEqual([expect.objectContaining({ from: 10, to: asked, reason: 'CAPACITY_REQUESTED' })]);
    expect(capacity.fleet('chat', 'eu-west-1').desired).toBe(asked);
  });

  it('a provider that cannot be read is left out: nothing asked, a warning logged, the reason said', async () => {
    const { world, capacity } = capacityWorld();
    const rt = { ...world.runtime(), capacity };
    await usDown(world, rt);
    capacity.failReads(new Error('AccessDenied'));
    const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(outcome.decision!.capacityRequests).toEqual([]);
    expect(outcome.decision!.reasons).toContainEqual(expect.objectContaining({ code: 'CAPACITY_UNREAD', endpoint: 'eu-west-1' }));
    expect(world.log.lines.find((l) => l.level === 'warn' && l.message.includes('capacity'))?.extra).toEqual([
      { service: 'chat', gaps: ['capacity of eu-west-1: AccessDenied'] },
    ]);
  });

  it('reads no provider while the service is quiet, and reads them the evaluation an endpoint turns bad', async () => {
    const { world, capacity } = capacityWorld();
    let reads = 0;
    const counting = {
      read: (t: CapacityTarget) => {
        reads += 1;
        return capacity.read(t);
      },
      request: (t: CapacityTarget, a: CapacityAsk) => capacity.request(t, a),
    };
    const rt = { ...world.runtime(), capacity: counting };
    feed(world, T0);
    await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(reads).toBe(0);
    world.clock.set(T0 + MINUTE);
    feed(world, T0 + MINUTE, ['us-east-1']);
    world.metrics.setAlarmState({ name: 'chat-us-east-1-5xx', region: 'us-east-1' }, 'ALARM');
    const outcome = await evaluateService(rt, world.service, { trigger: 'schedule' });
    expect(reads).toBe(1);
    expect(outcome.decision!.capacityRequests).toHaveLength(1);
  });

  it('the dry run shows the capacity it would ask for, and asks nothing', async () => {
    const { world, capacity } = capacityWorld();
    await usDown(world, world.runtime());
    const plan = await planEvaluation({ ...world.runtime(), capacity }, world.service);
    expect(plan.decision.capacityRequests).toEqual([expect.objectContaining({ endpoint: 'eu-west-1', direction: 'out' })]);
    expect(capacity.log).toEqual([]);
  });
});
