import { describe, expect, it } from 'vitest';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { runTickBench } from '../../sim/bench/tick/tickRun.js';
import { FakeAws } from '../../sim/bench/tick/fakeAws.js';
import { VirtualTime } from '../../sim/bench/tick/virtualTime.js';
import { monthlyCost } from '../../sim/bench/tick/costModel.js';
import { AssumedLatencyMs } from '../../sim/bench/tick/awsFigures.js';
import { ALARM_QUEUE_BATCH, ALARM_QUEUE_CONCURRENCY, ALARM_TIMEOUT_SECONDS, runAlarmStorm } from '../../sim/bench/tick/alarmStorm.js';
import { AlarmQueueDelivery, asyncSettings } from '../../lib/handlerFunctions.js';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' };
const quietWorld = { metric: () => undefined, alarmState: () => undefined };

describe('bench:tick', () => {
  it('reads each zone once, the states in batches, every service on the first tick and a fifth of them after, within every limit', async () => {
    const run = await runTickBench({ services: 30, endpoints: 3, zones: 3, shardSize: 10 });
    expect(run.shards.map((s) => [s.id, s.services.length, s.zones])).toEqual([
      ['shard-01', 10, ['ZBENCH0000']],
      ['shard-02', 10, ['ZBENCH0001']],
      ['shard-03', 10, ['ZBENCH0002']],
    ]);
    const [first, ...steady] = run.ticks;
    expect(first!.calls).toEqual({
      'dynamodb:BatchGetItem': 3,
      // 30 states, and each shard's claim of its minute.
      'dynamodb:PutItem': 33,
      'route53:ListResourceRecordSets': 3,
      // Per shard, per region: one call of 40 queries (10 services × p99, its SampleCount, GPU, load).
      'cloudwatch:GetMetricData': 9,
      'cloudwatch:DescribeAlarms': 9,
    });
    expect(first!.servicesRead).toBe(30);
    expect(first!.metricsRequested).toBe(30 * 3 * 4);
    expect(steady).toHaveLength(5);
    expect(steady.reduce((sum, t) => sum + t.servicesRead, 0)).toBe(30);
    for (const tick of run.ticks) {
      expect(tick.throttled).toEqual({});
      expect(tick.overBatchLimits).toBe(0);
      expect(tick.failures).toBe(0);
      for (const shard of tick.shards) expect(shard.simulatedSeconds).toBeGreaterThan(shard.ioSeconds);
    }
    // Waiting on AWS: the slowest region's GetMetricData (300 ms) while the zone is read, the states and the writes.
    expect(first!.shards[0]!.ioSeconds).toBeGreaterThanOrEqual(0.3);
    expect(first!.shards[0]!.ioSeconds).toBeLessThan(1);
  });

  it('gives the same calls on every run (virtual time, seeded jitter)', async () => {
    const a = await runTickBench({ services: 12, endpoints: 2, zones: 2, incident: 0.5 });
    const b = await runTickBench({ services: 12, endpoints: 2, zones: 2, incident: 0.5 });
    expect(a.ticks.map((t) => [t.calls, t.shards.map((s) => s.ioSeconds)])).toEqual(b.ticks.map((t) => [t.calls, t.shards.map((s) => s.ioSeconds)]));
    // The services in an incident are read every minute, and shed once M of N periods breached.
    expect(
      a.ticks
        .map((t) => t.servicesRead)
        .slice(1)
        .every((n) => n >= 6),
    ).toBe(true);
    expect(a.ticks.some((t) => (t.calls['route53:ChangeResourceRecordSets'] ?? 0) > 0)).toBe(true);
  });
});

describe('bench:tick in a region outage', () => {
  it('drains the region on the first tick, then reads the drained records’ health checks in turns, within the budget a tick', async () => {
    const run = await runTickBench({ services: 30, endpoints: 3, zones: 3, shardSize: 10, outage: true, healthCheckReadsPerTick: 2 });
    const [first, ...after] = run.ticks;
    expect(first!.calls['route53:ChangeResourceRecordSets']).toBe(3);
    expect(first!.calls['route53:GetHealthCheckStatus']).toBeUndefined();
    // 10 drained records a shard, 2 read a tick: each shard reads 2, every tick, and each check once in 5 ticks.
    for (const tick of after) expect(tick.calls['route53:GetHealthCheckStatus']).toBe(3 * 2);
    expect(after.reduce((sum, t) => sum + t.calls['route53:GetHealthCheckStatus']!, 0)).toBe(30);
    for (const tick of run.ticks) {
      expect(tick.throttled).toEqual({});
      expect(tick.failures).toBe(0);
      expect(tick.skipped).toBe(0);
    }
  });

  it('reads every one of them each tick when the budget allows, and keeps the region drained while its checks fail', async () => {
    const run = await runTickBench({ services: 30, endpoints: 3, zones: 3, shardSize: 10, outage: true, healthCheckReadsPerTick: 10 });
    for (const tick of run.ticks.slice(1)) {
      expect(tick.calls['route53:GetHealthCheckStatus']).toBe(30);
      expect(tick.calls['route53:ChangeResourceRecordSets']).toBeUndefined();
    }
  });
});

describe('bench:tick --alarm-storm', () => {
  const fleet = { services: 40, endpoints: 3, zones: 4 };

  it('queued: screens and evaluates each batch once, drains every service, never more than --max-concurrency invocations at once', async () => {
    const storm = await runAlarmStorm({ ...fleet, delivery: 'queued', batch: 15, maxConcurrency: 2 });
    expect(storm.alarms).toBe(40);
    // 40 messages in batches of at most 15: 15, 15, 10, two of them at once.
    expect(storm.invocations).toBe(3);
    expect(storm.peakConcurrency).toBe(2);
    expect(storm.screening).toEqual({ acted: 40, ignored: {}, refused: {} });
    expect(storm.evaluations).toEqual({ applied: 40 });
    expect(storm.evaluationFailures).toEqual({});
    expect(storm.failedInvocations).toBe(0);
    expect([storm.drained, storm.notDrained, storm.servicesWritten]).toEqual([40, 0, 40]);
    // One DescribeAlarms per invocation to confirm its batch (one region), then one per other region to observe it.
    expect(storm.calls['cloudwatch:DescribeAlarms']).toBe(3 * 3);
    expect(storm.throttled).toEqual({});
    expect(storm.overBatchLimits).toBe(0);
    expect(storm.pastTimeout).toBe(0);
    expect(storm.lastWriteSeconds).not.toBeNull();
  });

  it('direct: one invocation per alarm, all at once; what DescribeAlarms throttles is left unconfirmed, and only what it confirms is drained', async () => {
    const storm = await runAlarmStorm({ ...fleet, delivery: 'direct' });
    expect(storm.invocations).toBe(40);
    expect(storm.peakConcurrency).toBe(40);
    const unconfirmed = storm.screening.ignored.unconfirmed ?? 0;
    expect(storm.screening.acted + unconfirmed).toBe(40);
    expect(storm.screening.refused).toEqual({});
    // 9 DescribeAlarms a second (a burst of 9) in the region, three attempts each: at most 27 states confirmed.
    expect(storm.throttled['cloudwatch:DescribeAlarms']).toBeGreaterThan(0);
    expect(unconfirmed).toBeGreaterThanOrEqual(40 - 27);
    expect(storm.drained).toBeLessThanOrEqual(storm.screening.acted);
    expect(storm.drained + storm.notDrained).toBe(40);
    expect(storm.drained).toBeGreaterThan(0);
  });

  it('queued: a batch spanning more hosted zones than its Route 53 share reads before the deadline fails, and leaves its services to the tick (nothing delivered again)', async () => {
    // 40 services in 20 zones, one batch of 40: 20 ListResourceRecordSets at 0.5 a second (10% of 10, split by 2) cannot end within 30 s.
    const storm = await runAlarmStorm({ services: 40, endpoints: 3, zones: 20, delivery: 'queued', batch: 40, maxConcurrency: 2 });
    expect(storm.invocations).toBe(1);
    expect(storm.screening.acted).toBe(40);
    expect(storm.notDrained).toBeGreaterThan(0);
    expect(storm.drained + storm.notDrained).toBe(40);
    expect(Object.keys(storm.evaluationFailures).every((name) => name.endsWith('RateBudgetExhaustedError'))).toBe(true);
    // Out of its own share: the next tick reads those services (woken by their alarms), the queue does not deliver them again.
    expect(storm.redelivered).toBe(0);
    expect(storm.failedInvocations).toBe(0);
    // Paced, not throttled: the pacer refused the calls it could not make in time.
    expect(storm.throttled).toEqual({});
  });

  it('--with-tick, queued: the tick’s shards run with the queue on the same account, and every service ends drained by one or the other', async () => {
    const storm = await runAlarmStorm({ ...fleet, delivery: 'queued', tick: { atSeconds: 0 } });
    const tick = storm.tick!;
    expect([storm.drained, storm.notDrained]).toEqual([40, 0]);
    expect(tick.allDrained).toBe(true);
    expect(tick.drainsByAlarm + tick.drainsByTick).toBe(40);
    expect(tick.lastDrainSeconds).not.toBeNull();
    // The first tick fires with the storm, and its one shard (40 services) read services and wrote drains.
    expect(tick.ticks[0]!.firedSeconds).toBe(0);
    expect(tick.ticks[0]!.shards.map((s) => [s.id, s.services, s.skipped])).toEqual([['shard-01', 40, 0]]);
    expect(tick.ticks[0]!.read).toBeGreaterThan(0);
    expect(tick.drainsByTick).toBeGreaterThan(0);
    expect(tick.ticks.length).toBeLessThanOrEqual(tick.maxTicks);
    // The account's calls are the alarm function's and the ticks' shards', every one.
    const ops = Object.keys(tick.accountCalls);
    const byShards = (op: string) => tick.ticks.reduce((sum, t) => sum + t.shards.reduce((n, s) => n + (s.calls[op] ?? 0), 0), 0);
    for (const op of ops) expect((storm.calls[op] ?? 0) + byShards(op)).toBe(tick.accountCalls[op]);
    // Without --with-tick, no tick runs.
    expect((await runAlarmStorm({ ...fleet, delivery: 'queued' })).tick).toBeUndefined();
  });

  it('gives each invocation the alarm function’s timeout as its deadline', () => {
    expect(ALARM_TIMEOUT_SECONDS).toBe(asyncSettings.alarm.timeout.toSeconds());
    expect([ALARM_QUEUE_BATCH, ALARM_QUEUE_CONCURRENCY]).toEqual([AlarmQueueDelivery.batchSize, AlarmQueueDelivery.maxConcurrency]);
  });
});

describe('Class: FakeAws', () => {
  function fakeRoute53() {
    const time = new VirtualTime(0);
    const fake = new FakeAws(time, quietWorld);
    fake.defineZone('Z1', [{ Name: 'a.example.com.', Type: 'A', SetIdentifier: 'x', Weight: 1, TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] }]);
    const client = fake.attach(new Route53Client({ region: 'us-east-1', credentials, maxAttempts: 1 }), 'route53', 'us-east-1');
    return { time, fake, client };
  }

  it('throttles a burst past the account’s Route 53 bucket (50 requests, 10 a second), as Route 53 does', async () => {
    const { time, fake, client } = fakeRoute53();
    const results = await time.run(() =>
      Promise.allSettled(Array.from({ length: 60 }, () => client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' })))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
    expect(fake.throttled.get('route53:ListResourceRecordSets')).toBe(10);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.name).toBe('Throttling');
  });

  it('refuses a change batch over 32,000 value characters (an UPSERT counting twice) and counts it', async () => {
    const { time, fake, client } = fakeRoute53();
    const changes = Array.from({ length: 101 }, (_, i) => ({
      Action: 'UPSERT' as const,
      ResourceRecordSet: {
        Name: `n${i}.example.com.`,
        Type: 'CNAME' as const,
        SetIdentifier: 'x',
        Weight: 1,
        TTL: 60,
        ResourceRecords: [{ Value: 'x'.repeat(160) }],
      },
    }));
    const error = await time.run(() =>
      client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z1', ChangeBatch: { Changes: changes } })).catch((e: unknown) => e),
    );
    expect((error as Error).name).toBe('InvalidChangeBatch');
    expect(fake.overBatchLimits).toBe(1);
  });

  it('answers after the call’s latency on the virtual clock', async () => {
    const { time, client } = fakeRoute53();
    await time.run(() => client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' })));
    expect(time.now()).toBe(AssumedLatencyMs['route53:ListResourceRecordSets']);
  });
});

describe('Function: monthlyCost', () => {
  it('prices a month of ticks: $0.01 per 1,000 metrics, $0.30 a custom metric, Lambda by GB-second, DynamoDB by unit, $3 a dashboard past 3, $0.10 an alarm', () => {
    const cost = monthlyCost(
      {
        calls: { 'cloudwatch:DescribeAlarms': 10, 'route53:ListResourceRecordSets': 20 },
        metricsRequested: 4000,
        readUnits: 100,
        writeUnits: 200,
        servicesRead: 200,
        shardSeconds: [2],
      },
      { services: 1000, endpoints: 5, shards: 1, memoryMb: 1024, ticksPerMonth: 1000, dashboards: 1001, alarmSignals: 5000 },
    );
    expect(cost.cloudWatchReads).toBeCloseTo(1000 * (4000 * 0.00001 + 10 * 0.00001), 10);
    expect(cost.customMetrics).toBeCloseTo((1000 * 6 + 4) * 0.3, 10);
    expect(cost.lambda).toBeCloseTo(1000 * (0.2e-6 + 2 * 0.0000133334), 10);
    expect(cost.dynamoDb).toBeCloseTo(1000 * (100 * 0.125e-6 + 200 * 0.625e-6), 10);
    expect(cost.route53).toBe(0);
    expect(cost.dashboards).toBeCloseTo(998 * 3, 10);
    expect(cost.alarmSignals).toBeCloseTo(500, 10);
    const { total, ...parts } = cost;
    expect(total).toBeCloseTo(
      Object.values(parts).reduce((a, b) => a + b, 0),
      10,
    );
  });

  it('charges no dashboard while the free three cover them, and nothing for what is not given', () => {
    const cost = monthlyCost(
      { calls: {}, metricsRequested: 0, readUnits: 0, writeUnits: 0, servicesRead: 0, shardSeconds: [] },
      { services: 2, endpoints: 1, shards: 1, memoryMb: 512, dashboards: 3 },
    );
    expect(cost.dashboards).toBe(0);
    expect(cost.alarmSignals).toBe(0);
  });
});
