import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DefaultTickCostModel, estimateShardSeconds, planShards, shardSizeFor } from '../../../functions/app/shardPlan.js';
import { runScheduledTick } from '../../../functions/app/scheduledTick.js';
import { InMemoryTickClaims } from '../../../functions/adapters/memory/index.js';
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
      ['shard-01', 90, ['ZONE0', 'ZONE1', 'ZONE2']],
      ['shard-02', 100, ['ZONE3']],
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

describe('Function: estimateShardSeconds, with rollouts', () => {
  it('counts the canary statistic each endpoint is read at besides its signals (two queries with its SampleCount)', () => {
    const plain = fleet([200], 5);
    const withRollouts = plain.map((s) => ({ ...s, policy: { ...s.policy, rollout: { ...s.policy.rollout, mode: 'canary' as const } } }));
    expect(estimateShardSeconds(withRollouts)).toBeGreaterThan(estimateShardSeconds(plain));
    const sameStatistic = withRollouts.map((s) => ({
      ...s,
      policy: { ...s.policy, rollout: { ...s.policy.rollout, canary: { ...s.policy.rollout.canary, statistic: 'p99' } } },
    }));
    expect(estimateShardSeconds(sameStatistic)).toBe(estimateShardSeconds(plain));
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

describe('Function: runScheduledTick', () => {
  const shard = { id: 'shard-02', staleAfterMs: 90_000 };
  const healthy = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };

  it('evaluates a shard’s services at their cadence, once per shard and minute however often it is delivered', async () => {
    const world = memoryWorld();
    world.feed(judgedStart(T0), healthy);
    const rt = { ...world.runtime(), tickClaims: new InMemoryTickClaims() };
    const request = { trigger: 'schedule', services: world.config.services, scheduledAt: T0 - 2_000, shard };
    const first = await runScheduledTick(rt, request);
    expect(first).toMatchObject({ kind: 'evaluated', shard: 'shard-02', lagMs: 2_000, durationMs: 0 });
    expect(first.kind === 'evaluated' && first.tick.polling[0]!.reason).toBe('FIRST_EVALUATION');
    expect(await runScheduledTick(rt, { ...request, scheduledAt: T0 - 1_000 })).toEqual({ kind: 'duplicate', shard: 'shard-02', lagMs: 1_000 });
    expect(world.store.batchLoads).toBe(1);
    // The next minute is a tick of its own.
    world.clock.advance(MINUTE);
    expect((await runScheduledTick(rt, { ...request, scheduledAt: T0 + MINUTE })).kind).toBe('evaluated');
  });

  it('skips a shard that starts after the next tick fired, claiming and touching nothing', async () => {
    const world = memoryWorld();
    const claims = new InMemoryTickClaims();
    const outcome = await runScheduledTick(
      { ...world.runtime(), tickClaims: claims },
      { trigger: 's', services: world.config.services, scheduledAt: T0 - 2 * MINUTE, shard },
    );
    expect(outcome).toEqual({ kind: 'stale', shard: 'shard-02', lagMs: 2 * MINUTE });
    expect(world.store.batchLoads).toBe(0);
    expect(await claims.claim('shard-02', T0 - 2 * MINUTE)).toBe(true);
  });

  it('evaluates a tick of every service as the one shard, with no claim', async () => {
    const world = memoryWorld();
    world.feed(judgedStart(T0), healthy);
    const rt = { ...world.runtime(), tickClaims: new InMemoryTickClaims() };
    for (let i = 0; i < 2; i += 1)
      expect(await runScheduledTick(rt, { trigger: 's', services: world.config.services })).toMatchObject({ kind: 'evaluated', shard: 'shard-01', lagMs: 0 });
  });
});
