import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InMemoryDnsWeights, InMemoryMetrics, InMemoryStateStore, ManualClock } from '../../../functions/adapters/memory/index.js';
import { RecordNotFoundError, StateVersionConflictError } from '../../../functions/ports/errors.js';
import { recordSetKey } from '../../../functions/ports/dnsWeights.js';
import { initialServiceState } from '../../../functions/core/engine.js';
import type { ResolvedMetricQuery } from '../../../functions/ports/metrics.js';
import { testConfig, T0 } from '../app/runtimeFixtures.js';

const chat = { hostedZoneId: 'Z1', dnsName: 'chat.example.com', recordType: 'A' };
const service = testConfig().services[0]!;

describe('Class: InMemoryDnsWeights', () => {
  it('writes weights, logs each change with the clock time, and leaves unchanged records out', async () => {
    const clock = new ManualClock(T0);
    const dns = new InMemoryDnsWeights({ clock });
    dns.defineRecordSet(chat, { a: 100, b: 100 });
    expect(await dns.writeWeights([{ record: chat, weights: { a: 40, b: 100 } }], 'c1')).toEqual({ changeIds: ['/change/C000001'] });
    expect(dns.weightsOf(chat)).toEqual({ a: 40, b: 100 });
    expect(dns.changeLog).toEqual([{ changeId: '/change/C000001', at: T0, comment: 'c1', record: chat, from: { a: 100 }, to: { a: 40 } }]);
    expect(await dns.writeWeights([{ record: chat, weights: { a: 40 } }], 'noop')).toEqual({ changeIds: [] });
    expect(dns.changeLog).toHaveLength(1);
  });

  it('is all or nothing: a batch naming a missing record changes nothing', async () => {
    const dns = new InMemoryDnsWeights();
    dns.defineRecordSet(chat, { a: 100 });
    await expect(dns.writeWeights([{ record: chat, weights: { a: 1, ghost: 1 } }], 'x')).rejects.toThrow(RecordNotFoundError);
    expect(dns.weightsOf(chat)).toEqual({ a: 100 });
  });

  it('lets a test edit weights behind the controller’s back (drift) and fail writes (faults)', async () => {
    const dns = new InMemoryDnsWeights();
    dns.defineRecordSet(chat, { a: 100, b: 100 });
    dns.editWeights(chat, { b: 0 });
    expect((await dns.readWeights(chat)).weights).toEqual({ a: 100, b: 0 });
    expect(dns.changeLog).toEqual([]);
    dns.failNextWrites(new Error('throttled'));
    await expect(dns.writeWeights([{ record: chat, weights: { a: 1 } }], 'x')).rejects.toThrow('throttled');
    expect((await dns.writeWeights([{ record: chat, weights: { a: 1 } }], 'x')).changeIds).toHaveLength(1);
  });

  it('tells the health checks attached to its records in every read, as the Route 53 adapter does', async () => {
    const dns = new InMemoryDnsWeights();
    dns.defineRecordSet(chat, { a: 100, b: 100, ['__proto__']: 100 });
    expect(await dns.readWeights(chat)).not.toHaveProperty('healthChecks');
    dns.attachHealthCheck(chat, 'a', 'hc-a');
    dns.attachHealthCheck(chat, '__proto__', 'hc-proto');
    const expected = Object.fromEntries([
      ['a', 'hc-a'],
      ['__proto__', 'hc-proto'],
    ]);
    expect((await dns.readWeights(chat)).healthChecks).toEqual(expected);
    expect(Object.hasOwn((await dns.readWeights(chat)).healthChecks!, '__proto__')).toBe(true);
    expect((await dns.readZone(chat.hostedZoneId, [chat])).get(recordSetKey(chat))).toEqual({ weights: dns.weightsOf(chat), healthChecks: expected });
    // A write keeps them (it changes only the weights); detaching removes one; redefining the records removes all.
    await dns.writeWeights([{ record: chat, weights: { a: 1 } }], 'x');
    expect((await dns.readWeights(chat)).healthChecks).toEqual(expected);
    dns.attachHealthCheck(chat, 'a', undefined);
    expect((await dns.readWeights(chat)).healthChecks).toEqual(Object.fromEntries([['__proto__', 'hc-proto']]));
    dns.defineRecordSet(chat, { a: 100 });
    expect(await dns.readWeights(chat)).not.toHaveProperty('healthChecks');
    expect(() => dns.attachHealthCheck(chat, 'ghost', 'hc-g')).toThrow(RecordNotFoundError);
  });
});

describe('Class: InMemoryMetrics', () => {
  const query: ResolvedMetricQuery = {
    namespace: 'N',
    metricName: 'M',
    dimensions: { b: '2', a: '1' },
    statistic: 'p99',
    periodSeconds: 60,
    region: 'eu-west-1',
  };

  it('answers only periods wholly inside the window, oldest first, with SampleCount for percentiles', async () => {
    const metrics = new InMemoryMetrics();
    for (const [i, v] of [
      [2, 30],
      [0, 10],
      [1, 20],
      [3, 40],
    ] as const)
      metrics.record(query, T0 + i * 60_000, { value: v, sampleCount: 1000 + i });
    const series = (
      await metrics.fetchMetrics([{ key: 'k', query: { ...query, dimensions: { a: '1', b: '2' } } }], {
        startTime: T0 + 60_000,
        endTime: T0 + 3 * 60_000 + 30_000,
      })
    ).get('k')!;
    expect(series).toEqual({
      values: [
        { timestamp: T0 + 60_000, value: 20 },
        { timestamp: T0 + 120_000, value: 30 },
      ],
      sampleCounts: [
        { timestamp: T0 + 60_000, value: 1001 },
        { timestamp: T0 + 120_000, value: 1002 },
      ],
      complete: true,
    });
  });

  it('answers exactly the fed periods inside the window, whatever order they were fed in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 60 }),
        fc.integer({ min: -5, max: 210 }),
        fc.integer({ min: 0, max: 50 }),
        async (minutes, from, length) => {
          const metrics = new InMemoryMetrics();
          for (const m of minutes) metrics.record(query, T0 + m * 60_000, { value: m });
          const window = { startTime: T0 + from * 60_000, endTime: T0 + (from + length) * 60_000 };
          const got = (await metrics.fetchMetrics([{ key: 'k', query }], window)).get('k')!.values.map((d) => d.value);
          const expected = minutes.filter((m) => m >= from && m + 1 <= from + length).sort((a, b) => a - b);
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers an Average with its SampleCount only when the request asks it (a per-request share)', async () => {
    const metrics = new InMemoryMetrics();
    const share = { ...query, metricName: 'Error', statistic: 'Average' };
    metrics.record(share, T0, { value: 0.17, sampleCount: 1600 });
    const window = { startTime: T0, endTime: T0 + 60_000 };
    expect((await metrics.fetchMetrics([{ key: 'k', query: share, sampleCount: true }], window)).get('k')).toEqual({
      values: [{ timestamp: T0, value: 0.17 }],
      sampleCounts: [{ timestamp: T0, value: 1600 }],
      complete: true,
    });
    expect((await metrics.fetchMetrics([{ key: 'k', query: share }], window)).get('k')).not.toHaveProperty('sampleCounts');
  });

  it('treats a percentile fed without sample counts as having enough samples (no SampleCount series)', async () => {
    const metrics = new InMemoryMetrics();
    metrics.record(query, T0, { value: 1 });
    expect((await metrics.fetchMetrics([{ key: 'k', query }], { startTime: T0, endTime: T0 + 60_000 })).get('k')).toEqual({
      values: [{ timestamp: T0, value: 1 }],
      complete: true,
    });
  });

  it('feeds by service, endpoint and signal name, and names what is missing', () => {
    const metrics = new InMemoryMetrics();
    metrics.recordSignal(service, 'eu-west-1', 'p99-latency', T0, { value: 1 });
    expect(() => metrics.recordSignal(service, 'mars-1', 'p99-latency', T0, { value: 1 })).toThrow('service chat has no endpoint "mars-1"');
    expect(() => metrics.recordSignal(service, 'eu-west-1', 'nope', T0, { value: 1 })).toThrow('has no signal "nope"');
    expect(() => metrics.recordSignal(service, 'eu-west-1', 'error-alarm', T0, { value: 1 })).toThrow('is an alarm: use setAlarmState');
  });

  it('holds alarm states by name and region or by ARN', async () => {
    const metrics = new InMemoryMetrics();
    metrics.setAlarmState({ name: 'x', region: 'eu-west-1' }, 'ALARM');
    const states = await metrics.fetchAlarmStates([
      { key: 'byName', name: 'x', region: 'eu-west-1' },
      { key: 'byArn', arn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x', region: 'us-east-1' },
      { key: 'otherRegion', name: 'x', region: 'us-east-1' },
    ]);
    expect(Object.fromEntries(states)).toEqual({ byName: 'ALARM', byArn: 'ALARM' });
  });
});

describe('Class: InMemoryStateStore', () => {
  const write = { state: initialServiceState(service, T0), pending: null, driftSignature: null, blockedSignature: null, updatedAt: T0 };

  it('has the same versioned-write contract as the DynamoDB store', async () => {
    const store = new InMemoryStateStore();
    expect(await store.save('chat', 0, write)).toBe(1);
    await expect(store.save('chat', 0, write)).rejects.toThrow(StateVersionConflictError);
    expect(await store.save('chat', 1, write)).toBe(2);
  });

  it('hands out copies: changing a loaded state changes nothing stored', async () => {
    const store = new InMemoryStateStore();
    await store.save('chat', 0, write);
    const loaded = await store.load('chat');
    (loaded.state as { appliedWeights: unknown }).appliedWeights = { a: 1 };
    expect((await store.load('chat')).state!.appliedWeights).toBeNull();
  });

  it('loads many services at once, an unreadable item failing only its own service', async () => {
    const store = new InMemoryStateStore();
    await store.save('chat', 0, write);
    store.seedItem({ service: 'broken', schemaVersion: 99, version: 3 });
    const loaded = await store.loadMany(['chat', 'broken', 'never']);
    expect((loaded.get('chat') as { version: number }).version).toBe(1);
    expect(loaded.get('broken')).toMatchObject({ name: 'UnsupportedStateVersionError' });
    expect((loaded.get('never') as { version: number }).version).toBe(0);
    expect(store.batchLoads).toBe(1);
  });
});
