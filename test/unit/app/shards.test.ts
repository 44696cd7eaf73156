import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DefaultTickCostModel, estimateShardSeconds, planShards, shardSizeFor } from '../../../functions/app/shardPlan.js';
import { dispatchTick, runShard } from '../../../functions/app/shardedTick.js';
import { CollectingShardQueue } from '../../../functions/adapters/memory/index.js';
import { shardTickKey } from '../../../functions/ports/shardQueue.js';
import type { ServiceConfig } from '../../../functions/core/config.js';
import { judgedStart, memoryWorld, MINUTE, rawConfig, T0, testConfig } from './runtimeFixtures.js';

/** `counts[z]` services in hosted zone z, named svc-<z>-<i>. */
function fleet(counts: readonly number[], endpoints = 3): ServiceConfig[] {
  const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
  const base = raw.services[0]! as { endpoints: unknown[] };
  raw.services = counts.flatMap((count, z) =>
    Array.from({ length: count }, (_, i) => ({
      ...structuredClone(base),
      endpoints: structuredClone(base.endpoints).slice(0, endpoints),
      name: `svc-${z}-${i}`,
      dnsName: `svc-${z}-${i}.example.com`,
      hostedZoneId: `ZONE${z}`,
    })),
  );
  return testConfig(raw).services;
}

describe('Function: planShards', () => {
  it('keeps hosted zones whole where they fit, and splits only a zone larger than a shard', () => {
    const shards = planShards(fleet([30, 30, 30, 130]), 100);
    expect(shards.map((s) => [s.id, s.services.length, s.zones])).toEqual([
      ['shard-01', 100, ['ZONE3']],
      ['shard-02', 90, ['ZONE0', 'ZONE1', 'ZONE2']],
      ['shard-03', 30, ['ZONE3']],
    ]);
  });

  it('puts every service in exactly one shard, never more than the size, for any fleet', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 60 }), (counts, size) => {
        const services = fleet(counts, 1);
        const shards = planShards(services, size);
        const placed = shards.flatMap((s) => s.services);
        expect(placed.sort()).toEqual(services.map((s) => s.name).sort());
        for (const shard of shards) expect(shard.services.length).toBeLessThanOrEqual(size);
        // As few shards as the sizes allow, give or take the packing.
        expect(shards.length).toBeLessThanOrEqual(Math.ceil(services.length / size) + counts.length);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a shard size below one', () => {
    expect(() => planShards(fleet([1]), 0)).toThrow('a shard holds at least one service, got 0');
  });
});

describe('Function: estimateShardSeconds', () => {
  it('grows with the services read, and counts Route 53 pages against the shard’s share of the rate', () => {
    const small = estimateShardSeconds(fleet([10], 5));
    const large = estimateShardSeconds(fleet([200], 5));
    expect(large).toBeGreaterThan(small);
    // 60 zones read by a shard allowed 1 request a second with a burst of 5: about 55 s of pacing.
    const paced = estimateShardSeconds(
      fleet(
        Array.from({ length: 60 }, () => 1),
        1,
      ),
      { ...DefaultTickCostModel, route53: { perSecond: 1, burst: 5 } },
    );
    expect(paced).toBeGreaterThan(55);
  });
});

describe('Function: shardSizeFor', () => {
  it('picks the largest shard the estimate finishes within the target, sharing the account’s Route 53 rate between the shards', () => {
    const services = fleet(
      Array.from({ length: 20 }, () => 50),
      5,
    );
    const size = shardSizeFor(services, 20);
    const shards = planShards(services, size);
    const byName = new Map(services.map((s) => [s.name, s]));
    const share = { perSecond: 10 / shards.length, burst: Math.max(1, 50 / shards.length) };
    for (const shard of shards) {
      expect(
        estimateShardSeconds(
          shard.services.map((n) => byName.get(n)!),
          { ...DefaultTickCostModel, route53: share },
          true,
        ),
      ).toBeLessThanOrEqual(20);
    }
    // One size larger does not fit.
    expect(size).toBeLessThan(services.length);
  });
});

describe('Function: dispatchTick', () => {
  const services = testConfig(
    (() => {
      const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
      raw.services.push({ ...structuredClone(raw.services[0]!), name: 'beta', dnsName: 'beta.example.com', hostedZoneId: 'ZOTHER1' });
      return raw;
    })(),
  );

  it('evaluates the tick in the invocation when there is no queue, or one shard', async () => {
    const world = memoryWorld(services);
    world.feed(judgedStart(T0), { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
    const queue = new CollectingShardQueue();
    const one = await dispatchTick(
      { ...world.runtime(), sharding: { queue, maxServicesPerShard: 10, intervalSeconds: 60 } },
      { trigger: 's', services: services.services },
    );
    expect(one.kind).toBe('inline');
    expect(queue.sent).toEqual([]);
    expect((await dispatchTick(world.runtime(), { trigger: 's', services: services.services })).kind).toBe('inline');
  });

  it('sends one message per shard, the asked services with their shard, once per shard and minute however often the schedule fires', async () => {
    const world = memoryWorld(services);
    const queue = new CollectingShardQueue();
    const rt = { ...world.runtime(), sharding: { queue, maxServicesPerShard: 1, intervalSeconds: 60 } };
    const request = { trigger: 'schedule rule', services: services.services, asked: ['beta'], scheduledAt: T0 };
    const outcome = await dispatchTick(rt, request);
    await dispatchTick(rt, { ...request, scheduledAt: T0 + 5_000 });
    expect(outcome).toMatchObject({ kind: 'dispatched', shards: [{ id: 'shard-01' }, { id: 'shard-02' }] });
    expect(queue.sent).toEqual([
      { shard: 'shard-01', services: ['chat'], scheduledAt: T0, expiresAt: T0 + 90_000, trigger: 'schedule rule' },
      { shard: 'shard-02', services: ['beta'], scheduledAt: T0, expiresAt: T0 + 90_000, trigger: 'schedule rule', asked: ['beta'] },
    ]);
    expect(shardTickKey(queue.sent[0]!)).toBe('shard-01@2026-01-01T00:10');
    // Nothing was evaluated by the dispatching invocation.
    expect(world.store.batchLoads).toBe(0);
  });
});

describe('Function: runShard', () => {
  it('evaluates the shard’s services as a tick, with its lag behind the schedule', async () => {
    const world = memoryWorld();
    world.feed(judgedStart(T0), { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
    const outcome = await runShard(world.runtime(), {
      shard: 'shard-01',
      services: ['chat'],
      scheduledAt: T0 - 2_000,
      expiresAt: T0 + 88_000,
      trigger: 'schedule',
    });
    expect(outcome).toMatchObject({ kind: 'evaluated', shard: 'shard-01', lagMs: 2_000, durationMs: 0 });
    expect(outcome.kind === 'evaluated' && outcome.tick.outcomes[0]!.status).toBe('unchanged');
    expect((await world.store.listAudit('chat')).length).toBe(0);
    expect((await world.store.load('chat')).version).toBe(1);
  });

  it('skips a shard that starts after the next tick was sent, touching nothing', async () => {
    const world = memoryWorld();
    const outcome = await runShard(world.runtime(), {
      shard: 'shard-02',
      services: ['chat'],
      scheduledAt: T0 - 2 * MINUTE,
      expiresAt: T0 - 30_000,
      trigger: 'schedule',
    });
    expect(outcome).toEqual({ kind: 'stale', shard: 'shard-02', lagMs: 2 * MINUTE });
    expect(world.store.batchLoads).toBe(0);
  });

  it('refuses a shard naming services the config does not have, touching nothing', async () => {
    const world = memoryWorld();
    const outcome = await runShard(world.runtime(), {
      shard: 'shard-01',
      services: ['chat', 'ghost'],
      scheduledAt: T0,
      expiresAt: T0 + MINUTE,
      trigger: 'schedule',
    });
    expect(outcome).toEqual({ kind: 'unknown-services', shard: 'shard-01', unknown: ['ghost'] });
    expect(world.store.batchLoads).toBe(0);
  });
});
