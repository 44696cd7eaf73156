import { describe, expect, it } from 'vitest';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import { InMemoryTickClaims } from '../../../functions/adapters/memory/index.js';
import { judgedStart, memoryWorld, MINUTE, T0 } from '../app/runtimeFixtures.js';
import { context, shardPayload, testDeps } from './handlerFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };

function shardWorld() {
  const world = memoryWorld();
  world.feed(judgedStart(T0), HEALTHY);
  const claims = new InMemoryTickClaims();
  const t = testDeps(async () => ({ ...world.runtime(), tickClaims: claims }));
  return { world, t, handler: createScheduleHandler(t.deps) };
}

describe('Handler: schedule, one shard', () => {
  it('evaluates the shard’s services and reports its duration, lag and reads under its id', async () => {
    const { world, t, handler } = shardWorld();
    expect(await handler(shardPayload(), context)).toEqual({ status: 'evaluated', shard: 'shard-02', services: 1, read: 1, applied: 0, failures: 0 });
    expect(t.shardMetrics).toEqual([
      { metric: 'ShardDuration', shard: 'shard-02', value: 0 },
      { metric: 'ShardLag', shard: 'shard-02', value: 3_000 },
      { metric: 'ServicesRead', shard: 'shard-02', value: 1 },
      { metric: 'ServicesDeferred', shard: 'shard-02', value: 0 },
    ]);
    expect((await world.store.load('chat')).version).toBe(1);
  });

  it('reads a shard’s quiet services at their cadence, unlike services an operator names', async () => {
    const { world, handler } = shardWorld();
    await handler(shardPayload(), context);
    let result: Awaited<ReturnType<typeof handler>>;
    let minute = 0;
    do {
      minute += 1;
      world.clock.advance(MINUTE);
      result = await handler(shardPayload({ scheduledTime: new Date(world.clock.now()).toISOString() }), context);
    } while (result.status === 'evaluated' && result.read === 1);
    expect(result).toMatchObject({ status: 'evaluated', read: 0 });
    expect(minute).toBeLessThanOrEqual(5);
    expect(await handler({ services: ['chat'] }, context)).toMatchObject({ status: 'evaluated', read: 1 });
  });

  it('evaluates a shard once per minute, however often it is delivered, and counts the duplicate', async () => {
    const { world, t, handler } = shardWorld();
    await handler(shardPayload(), context);
    expect(await handler(shardPayload(), context)).toEqual({ status: 'duplicate', shard: 'shard-02' });
    expect(t.shardMetrics.at(-1)).toEqual({ metric: 'DuplicateShardTicks', shard: 'shard-02', value: 1 });
    expect((await world.store.load('chat')).version).toBe(1);
  });

  it('skips a shard that starts after the next tick fired, and counts it', async () => {
    const { world, t, handler } = shardWorld();
    const late = shardPayload({ scheduledTime: new Date(T0 - 2 * MINUTE).toISOString() });
    expect(await handler(late, context)).toEqual({ status: 'stale', shard: 'shard-02' });
    expect(t.shardMetrics).toEqual([{ metric: 'StaleShardTicks', shard: 'shard-02', value: 1 }]);
    expect((await world.store.load('chat')).version).toBe(0);
  });

  it.each([
    ['a shard without services', { services: undefined }, [{ path: 'services', message: 'shard shard-02 names no services' }]],
    ['a shard id of another form', { shard: 'two' }, [{ path: 'shard', message: 'must be a shard id such as shard-01' }]],
    ['services the config does not have', { services: ['chat', 'ghost'] }, [{ path: 'services', message: 'no service "ghost" in the config (known: chat)' }]],
  ])('rejects %s, changing nothing', async (_, extra, problems) => {
    const { world, handler } = shardWorld();
    const payload = Object.fromEntries(Object.entries(shardPayload(extra)).filter(([, v]) => v !== undefined));
    expect(await handler(payload, context)).toEqual({ status: 'rejected', problems });
    expect((await world.store.load('chat')).version).toBe(0);
  });
});
