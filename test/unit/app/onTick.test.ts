import { describe, expect, it } from 'vitest';
import { onTick, type TickOutcome } from '../../../functions/app/onTick.js';
import { onAlarm, onAlarms } from '../../../functions/app/onAlarm.js';
import { PollReasons, pollDecision } from '../../../functions/app/pollingCadence.js';
import { recordSetOf } from '../../../functions/app/evaluateService.js';
import { AwsCallError } from '../../../functions/adapters/aws/errors.js';
import { RateBudgetExhaustedError } from '../../../functions/adapters/aws/pacing.js';
import type { DnsWeights } from '../../../functions/ports/dnsWeights.js';
import { judgedStart, memoryWorld, MINUTE, rawConfig, testConfig, type MemoryWorld } from './runtimeFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };

/** The fixture's service, and copies of it under other names: `zones[i]` is the hosted zone of copy i. */
function services(zones: readonly string[]) {
  const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
  const base = raw.services[0]!;
  raw.services = zones.map((zone, i) => ({ ...structuredClone(base), name: `svc-${i}`, dnsName: `svc-${i}.example.com`, hostedZoneId: zone }));
  return testConfig(raw);
}

/** Feeds healthy latency for every service of the world for the period judged now. */
function feedAll(world: MemoryWorld): void {
  for (const s of world.config.services) {
    for (const [id, ms] of Object.entries(HEALTHY))
      world.metrics.recordSignal(s, id, 'p99-latency', judgedStart(world.clock.now()), { value: ms * 1000, sampleCount: 5000 });
  }
}

/** Ticks, a minute apart, until the service is quiet and the next minute is not its turn. */
async function untilTheNextMinuteWaits(world: MemoryWorld): Promise<void> {
  const rt = world.runtime();
  for (let minute = 0; minute < 20; minute += 1) {
    world.clock.advance(MINUTE);
    feedAll(world);
    await onTick(rt);
    const stored = await world.store.load(world.service.name);
    if (pollDecision(world.service, stored, world.clock.now() + MINUTE).reason === PollReasons.QUIET_WAIT) return;
  }
  throw new Error('the service never waited for its turn');
}

describe('Function: onTick', () => {
  it('reads every state in one batch and each hosted zone once, never a service on its own', async () => {
    const world = memoryWorld(services(['ZONEA1', 'ZONEA1', 'ZONEA1', 'ZONEB2']));
    feedAll(world);
    const tick = await onTick(world.runtime());
    expect(tick.outcomes).toHaveLength(4);
    expect(world.store.batchLoads).toBe(1);
    expect(world.dns.zoneReadCalls).toBe(2);
    expect(world.dns.readCalls).toBe(0);
    expect(world.metrics.metricCalls).toBe(1);
  });

  it('completes the services of a zone several at a time, after their one change batch', async () => {
    const world = memoryWorld(services(['ZONEA1', 'ZONEA1', 'ZONEA1', 'ZONEA1']));
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    feedAll(world);
    let written = false;
    let inFlight = 0;
    let most = 0;
    const dns: DnsWeights = {
      readWeights: (record) => world.dns.readWeights(record),
      readZone: (zone, records) => world.dns.readZone(zone, records),
      writeWeights: async (writes, comment) => {
        const out = await world.dns.writeWeights(writes, comment);
        written = true;
        return out;
      },
    };
    // Saves after the zone's write are the completions: count how many are in flight at once.
    const store = new Proxy(world.store, {
      get(target, prop) {
        if (prop !== 'save') {
          const value = Reflect.get(target, prop);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (...args: Parameters<typeof target.save>) => {
          if (!written) return target.save(...args);
          inFlight += 1;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setImmediate(resolve));
          try {
            return await target.save(...args);
          } finally {
            inFlight -= 1;
          }
        };
      },
    });
    const tick = await onTick(world.runtime({ dns, store }));
    expect(tick.outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(world.dns.writeCalls).toBe(1);
    expect(most).toBe(4);
  });

  it('reads a quiet service only on its turn: the periods between cost no CloudWatch, Route 53 or state write', async () => {
    const world = memoryWorld();
    const rt = world.runtime();
    feedAll(world);
    await onTick(rt);
    const reads: boolean[] = [];
    for (let minute = 1; minute <= 10; minute += 1) {
      world.clock.advance(MINUTE);
      feedAll(world);
      const [metricCalls, zoneReads, saves] = [world.metrics.metricCalls, world.dns.zoneReadCalls, world.store.saves];
      const tick = await onTick(rt);
      const read = tick.polling[0]!.due;
      reads.push(read);
      expect([world.metrics.metricCalls - metricCalls, world.dns.zoneReadCalls - zoneReads, world.store.saves - saves]).toEqual(read ? [1, 1, 1] : [0, 0, 0]);
      if (!read) expect(tick.polling[0]!.reason).toBe(PollReasons.QUIET_WAIT);
    }
    expect(reads.filter(Boolean)).toHaveLength(2);
  });

  it('reads a quiet service off its turn when one of its alarms has left OK, though no alarm event came (an alarm storm)', async () => {
    const world = memoryWorld();
    const rt = world.runtime();
    await untilTheNextMinuteWaits(world);

    // The region fails; its alarm event never reaches the alarm function.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.clock.advance(MINUTE);
    feedAll(world);
    const reads = world.metrics.alarmCalls;
    const tick = await onTick(rt);
    expect(tick.polling[0]).toMatchObject({ due: true, reason: PollReasons.ALARM_NOT_OK, endpoint: 'eu-west-1' });
    expect(world.dns.weightsOf(recordSetOf(world.service))['eu-west-1']).toBe(0);
    // One read of the quiet service's alarms, taken as known: not read again to evaluate it.
    expect(world.metrics.alarmCalls - reads).toBe(1);
  });

  it('keeps the quiet cadence when the alarms of the quiet services cannot be read', async () => {
    const world = memoryWorld();
    const rt = world.runtime();
    await untilTheNextMinuteWaits(world);
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.metrics.failNextCalls(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    world.clock.advance(MINUTE);
    feedAll(world);
    const tick = await onTick(rt);
    expect(tick.polling[0]!.due).toBe(false);
    expect(world.log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('could not be read') }));
  });

  it('catches an incident that starts between two quiet reads through the alarm fast path, and reads the service every period from then on', async () => {
    const world = memoryWorld();
    const rt = world.runtime();
    feedAll(world);
    await onTick(rt);
    // Move to a period the quiet service is not read in.
    let tick: TickOutcome;
    do {
      world.clock.advance(MINUTE);
      feedAll(world);
      tick = await onTick(rt);
    } while (tick.polling[0]!.due);
    const alarmAt = world.clock.now();
    const historyBefore = (await world.store.load('chat')).state!.endpoints['eu-west-1']!.history.map((h) => h.periodStart);

    // eu-west-1's 5xx alarm (a fail-severity signal) fires: the alarm handler evaluates at once.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    const alarmed = await onAlarm(rt, { alarmName: 'chat-eu-west-1-5xx', region: 'eu-west-1', state: 'ALARM' });
    expect(alarmed.outcomes[0]!.decision!.verdicts['eu-west-1']!.verdict).toBe('breach');
    // A fail-severity alarm in ALARM is unambiguous: the region drains on this one event.
    expect(alarmed.outcomes[0]!.status).toBe('applied');
    expect(world.dns.weightsOf(recordSetOf(world.service))['eu-west-1']).toBe(0);

    // The next tick reads it although it is not its quiet turn.
    world.clock.advance(MINUTE);
    feedAll(world);
    tick = await onTick(rt);
    expect(tick.polling[0]).toMatchObject({ due: true, reason: PollReasons.ENDPOINT_NOT_HEALTHY, endpoint: 'eu-west-1' });
    expect(world.dns.weightsOf(recordSetOf(world.service))['eu-west-1']).toBe(0);

    // The skipped periods left no verdict behind: only the periods judged are in the history.
    const history = (await world.store.load('chat')).state!.endpoints['eu-west-1']!.history.map((h) => h.periodStart);
    expect(history).toEqual([...historyBefore, judgedStart(alarmAt), judgedStart(alarmAt + MINUTE)].slice(-3));
    // And a drained service is read every period.
    world.clock.advance(MINUTE);
    feedAll(world);
    expect((await onTick(rt)).polling[0]).toMatchObject({ due: true, reason: PollReasons.ENDPOINT_NOT_HEALTHY, endpoint: 'eu-west-1' });
  });

  it('reads the services a schedule payload names, whatever their cadence', async () => {
    const world = memoryWorld();
    const rt = world.runtime();
    feedAll(world);
    await onTick(rt);
    let tick: TickOutcome;
    do {
      world.clock.advance(MINUTE);
      tick = await onTick(rt);
    } while (tick.polling[0]!.due);
    feedAll(world);
    tick = await onTick(rt, { asked: ['chat'] });
    expect(tick.polling[0]).toMatchObject({ due: true, reason: PollReasons.ASKED });
    expect(tick.outcomes).toHaveLength(1);
  });

  it("fails only the services of a zone that cannot be read, with the zone's error", async () => {
    const world = memoryWorld(services(['ZONEA1', 'ZONEB2']));
    feedAll(world);
    const throttled = new AwsCallError(
      { operation: 'route53:ListResourceRecordSets', target: 'hosted zone ZONEB2' },
      Object.assign(new Error('slow down'), { name: 'Throttling' }),
      true,
    );
    const dns: DnsWeights = {
      readWeights: (r) => world.dns.readWeights(r),
      writeWeights: (w, c) => world.dns.writeWeights(w, c),
      readZone: async (zone, records) => {
        if (zone === 'ZONEB2') throw throttled;
        return world.dns.readZone(zone, records);
      },
    };
    const tick = await onTick(world.runtime({ dns }));
    expect(tick.outcomes.map((o) => o.service)).toEqual(['svc-0']);
    expect(tick.failures).toEqual([{ service: 'svc-1', error: throttled }]);
  });

  it('evaluates a service whose state cannot be read, so that it fails with the error rather than being skipped', async () => {
    const world = memoryWorld(services(['ZONEA1', 'ZONEA1']));
    world.store.seedItem({ service: 'svc-1', schemaVersion: 99, version: 4 });
    feedAll(world);
    const tick = await onTick(world.runtime());
    expect(tick.polling.find((p) => p.service === 'svc-1')).toMatchObject({ due: true, reason: PollReasons.STATE_UNREADABLE });
    expect(tick.failures.map((f) => [f.service, f.error.name])).toEqual([['svc-1', 'UnsupportedStateVersionError']]);
    expect(tick.outcomes.map((o) => o.service)).toEqual(['svc-0']);
  });

  it('fails every service, and reads nothing else, when the table cannot be read at all', async () => {
    const world = memoryWorld(services(['ZONEA1', 'ZONEA1']));
    const down = new AwsCallError(
      { operation: 'dynamodb:BatchGetItem', target: 'table t' },
      Object.assign(new Error('down'), { name: 'InternalServerError' }),
      true,
    );
    const store = { ...world.store, load: world.store.load.bind(world.store), loadMany: async () => Promise.reject(down) };
    const tick = await onTick(world.runtime({ store: store as never }));
    expect(tick.failures.map((f) => [f.service, f.error])).toEqual([
      ['svc-0', down],
      ['svc-1', down],
    ]);
    expect(world.metrics.metricCalls).toBe(0);
    expect(world.dns.zoneReadCalls).toBe(0);
  });
});

describe('Function: onAlarms', () => {
  const euAlarm = { alarmName: 'chat-eu-west-1-5xx', region: 'eu-west-1', state: 'ALARM' as const };

  it('evaluates every service a batch of alarms names once, as a tick does: one state read, one change batch per zone', async () => {
    // The copies of the fixture service share its alarm names: one alarm names all three.
    const world = memoryWorld(services(['ZONEA1', 'ZONEA1', 'ZONEB2']));
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    feedAll(world);
    const batch = await onAlarms(world.runtime(), [euAlarm, euAlarm]);
    expect(batch.matches.map((m) => m.map((x) => x.service))).toEqual([
      ['svc-0', 'svc-1', 'svc-2'],
      ['svc-0', 'svc-1', 'svc-2'],
    ]);
    expect(batch.outcomes.map((o) => [o.service, o.status])).toEqual(
      expect.arrayContaining([
        ['svc-0', 'applied'],
        ['svc-1', 'applied'],
        ['svc-2', 'applied'],
      ]),
    );
    expect(world.store.batchLoads).toBe(1);
    expect(world.dns.writeCalls).toBe(2);
    for (const service of world.config.services) expect(world.dns.weightsOf(recordSetOf(service))['eu-west-1']).toBe(0);
    // Each service's notice names the alarm that triggered it, once.
    expect(world.notifier.notices.map((n) => n.trigger)).toEqual([
      'alarm chat-eu-west-1-5xx ALARM',
      'alarm chat-eu-west-1-5xx ALARM',
      'alarm chat-eu-west-1-5xx ALARM',
    ]);
  });

  it('reads and writes its zones one after another, the fullest first: when the share runs out, whole zones are done and the rest fail fast, retryable', async () => {
    const world = memoryWorld(services(['ZONEB2', 'ZONEA1', 'ZONEA1']));
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    feedAll(world);
    const read: string[] = [];
    const dns: DnsWeights = {
      readWeights: (record) => world.dns.readWeights(record),
      readZone: async (zone, records) => {
        read.push(zone);
        if (read.length > 1) throw new RateBudgetExhaustedError('route53:ListResourceRecordSets', 40_000);
        return world.dns.readZone(zone, records);
      },
      writeWeights: (writes, comment) => world.dns.writeWeights(writes, comment),
    };
    const batch = await onAlarms(world.runtime({ dns }), [euAlarm]);
    expect(read).toEqual(['ZONEA1', 'ZONEB2']);
    expect(batch.outcomes.map((o) => [o.service, o.status]).sort()).toEqual([
      ['svc-1', 'applied'],
      ['svc-2', 'applied'],
    ]);
    expect(batch.failures.map((f) => [f.service, f.error.name])).toEqual([['svc-0', 'RateBudgetExhaustedError']]);
    // Its zone was written before the next was read.
    expect(world.dns.writeCalls).toBe(1);
  });

  it('takes the later of two changes of the same signal in a batch', async () => {
    const world = memoryWorld();
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    feedAll(world);
    const batch = await onAlarms(world.runtime(), [euAlarm, { ...euAlarm, state: 'OK' }]);
    // The OK that came last counts, not the ALARM CloudWatch reports: nothing drains.
    expect(batch.outcomes[0]!.decision!.verdicts['eu-west-1']!.verdict).toBe('clear');
    expect(world.dns.weightsOf(recordSetOf(world.service))['eu-west-1']).toBe(100);
  });

  it('evaluates nothing for alarms no signal names', async () => {
    const world = memoryWorld();
    const batch = await onAlarms(world.runtime(), [{ alarmName: 'not-ours', region: 'eu-west-1', state: 'ALARM' }]);
    expect(batch).toEqual({ matches: [[]], outcomes: [], failures: [] });
    expect(world.store.batchLoads).toBe(0);
  });
});
