import { describe, expect, it } from 'vitest';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import { CollectingShardQueue } from '../../../functions/adapters/memory/index.js';
import { judgedStart, memoryWorld, MINUTE, rawConfig, T0, testConfig } from '../app/runtimeFixtures.js';
import { context, scheduledRuleEvent, shardQueueEvent, testDeps } from './handlerFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };
const tick = (extra: Record<string, unknown> = {}) => ({
  shard: 'shard-02',
  services: ['chat'],
  scheduledAt: T0 - 3_000,
  expiresAt: T0 + 87_000,
  trigger: 'schedule rule',
  ...extra,
});

function twoZones() {
  const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
  raw.services.push({ ...structuredClone(raw.services[0]!), name: 'beta', dnsName: 'beta.example.com', hostedZoneId: 'ZOTHER1' });
  return testConfig(raw);
}

describe('Handler: schedule, with shards', () => {
  it('sends a tick of several shards to the queue and evaluates nothing itself', async () => {
    const world = memoryWorld(twoZones());
    const queue = new CollectingShardQueue();
    const t = testDeps(async () => ({ ...world.runtime(), sharding: { queue, maxServicesPerShard: 1, intervalSeconds: 60 } }));
    expect(await createScheduleHandler(t.deps)(scheduledRuleEvent(), context)).toEqual({ status: 'dispatched', services: 2, shards: 2 });
    expect(queue.sent.map((s) => [s.shard, s.services, s.scheduledAt])).toEqual([
      ['shard-01', ['chat'], T0],
      ['shard-02', ['beta'], T0],
    ]);
    expect(world.store.batchLoads).toBe(0);
  });

  it('evaluates a shard from the queue and reports its duration, lag and reads under its id', async () => {
    const world = memoryWorld();
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    expect(await createScheduleHandler(t.deps)(shardQueueEvent(tick()), context)).toEqual({
      status: 'shards',
      shards: [{ shard: 'shard-02', status: 'evaluated', read: 1, applied: 0, failures: 0 }],
    });
    expect(t.shardMetrics).toEqual([
      { metric: 'ShardDuration', shard: 'shard-02', value: 0 },
      { metric: 'ShardLag', shard: 'shard-02', value: 3_000 },
      { metric: 'ServicesRead', shard: 'shard-02', value: 1 },
      { metric: 'ServicesDeferred', shard: 'shard-02', value: 0 },
    ]);
    expect(t.counts).toContainEqual({ metric: 'Decisions', service: 'chat', value: 1 });
  });

  it('skips a shard delivered after the next tick was sent, and counts it', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    const late = tick({ scheduledAt: T0 - 3 * MINUTE, expiresAt: T0 - MINUTE });
    expect(await createScheduleHandler(t.deps)(shardQueueEvent(late), context)).toEqual({ status: 'shards', shards: [{ shard: 'shard-02', status: 'stale' }] });
    expect(t.shardMetrics).toEqual([{ metric: 'StaleShardTicks', shard: 'shard-02', value: 1 }]);
    expect((await world.store.load('chat')).version).toBe(0);
  });

  it('reports a malformed record with its path, counts it, and still evaluates the good ones', async () => {
    const world = memoryWorld();
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    const result = await createScheduleHandler(t.deps)(shardQueueEvent('{not json', tick({ shard: 'two' }), tick()), context);
    expect(result).toMatchObject({ status: 'shards', shards: [{ shard: 'shard-02', status: 'evaluated' }] });
    expect(t.errorLog).toHaveBeenCalledWith(
      'malformed shard messages: ignored, nothing changed',
      expect.objectContaining({
        problems: [
          { path: 'Records[0].body', message: expect.stringContaining('is not JSON') },
          { path: 'Records[1].body.shard', message: 'must be a shard id such as shard-01' },
        ],
      }),
    );
    expect(t.counts).toContainEqual({ metric: 'MalformedEvents', service: 'none', value: 1 });
  });

  it('refuses a shard naming services it does not know, changing nothing', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    const result = await createScheduleHandler(t.deps)(shardQueueEvent(tick({ services: ['chat', 'ghost'] })), context);
    expect(result).toEqual({ status: 'shards', shards: [{ shard: 'shard-02', status: 'unknown-services' }] });
    expect(t.errorLog).toHaveBeenCalledWith(
      'malformed shard message: ignored, nothing changed',
      expect.objectContaining({ problems: [{ path: 'services', message: 'not in the config: ghost' }] }),
    );
    expect((await world.store.load('chat')).version).toBe(0);
  });

  it('rejects an SQS event with no usable record', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    expect(await createScheduleHandler(t.deps)(shardQueueEvent('[]'), context)).toEqual({
      status: 'rejected',
      problems: [{ path: 'Records[0].body', message: expect.stringContaining('expected object') }],
    });
  });
});
