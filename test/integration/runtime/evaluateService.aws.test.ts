import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { evaluateService, type EvaluationOutcome } from '../../../functions/app/evaluateService.js';
import { onTick } from '../../../functions/app/onTick.js';
import { createTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { awsWorld, cloudwatch, eventbridge, EU_SLOW, HEALTH_CHECK, HEALTHY, route53, sns, TOPIC, type AwsWorld } from './awsWorld.js';
import { MINUTE, rawConfig, testConfig } from '../../unit/app/runtimeFixtures.js';

let dynamo: LocalDynamo;
let world: AwsWorld;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  world = awsWorld(dynamo, await createTable(dynamo));
});

async function evaluate(latency: Record<string, number>, rt = world.runtime()): Promise<EvaluationOutcome> {
  world.latencyMs = latency;
  const outcome = await evaluateService(rt, world.config.services[0]!, { trigger: 'schedule' });
  world.clock.advance(MINUTE);
  return outcome;
}

describe('evaluateService against dynalite with Route 53, CloudWatch, SNS and EventBridge mocked', () => {
  it('asks CloudWatch one call per region for the p99 with its SampleCount, and alarms per region', async () => {
    await evaluate(HEALTHY);
    const calls = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    for (const input of calls) {
      expect(input.MetricDataQueries!.map((q) => [q.Id, q.MetricStat!.Stat, q.MetricStat!.Period])).toEqual([
        ['m0', 'p99', 60],
        ['m0n', 'SampleCount', 60],
      ]);
      // The judged period (00:08–00:09 at 00:10:30 with a 60 s delay), the one before it (judged
      // instead should the newest not be published yet), and nothing still filling.
      expect([input.StartTime!.toISOString(), input.EndTime!.toISOString()]).toEqual(['2026-01-01T00:07:00.000Z', '2026-01-01T00:09:00.000Z']);
    }
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames)).toEqual([
      ['chat-us-east-1-5xx'],
      ['chat-eu-west-1-5xx'],
      ['chat-ap-northeast-1-5xx'],
    ]);
  });

  it('asks a p99 past its trip again with its percentile rank at the trip, in one more call for that region', async () => {
    await evaluate(EU_SLOW);
    const calls = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!);
    expect(calls).toHaveLength(4);
    expect(calls[3]!.map((q) => [q.Id, q.MetricStat!.Stat, q.MetricStat!.Metric!.Dimensions!.find((d) => d.Name === 'EndpointName')!.Value])).toEqual([
      ['m0', 'p99', 'chat-eu-west-1'],
      ['m0n', 'SampleCount', 'chat-eu-west-1'],
      // The trip (2,000 ms) in the metric's unit (µs): the share of requests at or below it.
      ['m0r0', 'PR(:2000000)', 'chat-eu-west-1'],
    ]);
  });

  it('writes one UPSERT batch for the zone, every record field preserved, then records and tells', async () => {
    await evaluate(EU_SLOW);
    await evaluate(EU_SLOW);
    const before = structuredClone(world.records);
    const outcome = await evaluate(EU_SLOW);
    expect(outcome.status).toBe('applied');

    const calls = route53.commandCalls(ChangeResourceRecordSetsCommand);
    expect(calls).toHaveLength(1);
    // One read per evaluation: the write reuses what the read listed (Route 53 throttles every call).
    expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(3);
    const expectedChanges = outcome.decision!.changes.map((c) => ({
      Action: 'UPSERT',
      ResourceRecordSet: { ...before.find((r) => r.SetIdentifier === c.setIdentifier)!, Weight: c.to },
    }));
    expect(calls[0]!.args[0].input).toEqual({
      HostedZoneId: 'Z0123456789EXAMPLE',
      ChangeBatch: { Comment: `steer53 chat decision ${outcome.decisionId}`, Changes: expectedChanges },
    });
    for (const change of calls[0]!.args[0].input.ChangeBatch!.Changes!) {
      expect(change.ResourceRecordSet).toMatchObject({ TTL: 30, HealthCheckId: HEALTH_CHECK });
      expect(change.ResourceRecordSet!.ResourceRecords).toHaveLength(2);
    }

    const stored = await world.store.load('chat');
    // Two holds, then the intent and its confirmation.
    expect(stored).toMatchObject({ version: 4, pending: null });
    expect(stored.state!.appliedWeights).toEqual(Object.fromEntries(world.records.map((r) => [r.SetIdentifier!, r.Weight!])));
    const audit = await world.store.listAudit('chat');
    expect(audit[0]).toMatchObject({ id: outcome.decisionId, kind: 'decision', status: 'applied', changeIds: ['/change/C1'] });

    const publish = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    const eu = outcome.decision!.changes.find((c) => c.setIdentifier === 'eu-west-1')!;
    expect(publish).toMatchObject({ TopicArn: TOPIC, Subject: `[steer53] chat.example.com: eu-west-1 100->${eu.to} (p99 2.6 s > 2.0 s, 3 of 3 min)` });
    expect(publish.MessageAttributes).toEqual({
      service: { DataType: 'String', StringValue: 'chat' },
      severity: { DataType: 'String', StringValue: 'warning' },
      reason: { DataType: 'String', StringValue: 'M_OF_N_BREACH' },
      kind: { DataType: 'String', StringValue: 'traffic-shifted' },
    });
    const entries = eventbridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries!;
    expect(entries.map((e) => [e.Source, e.DetailType, e.EventBusName])).toEqual([['steer53', 'Traffic Shifted', 'default']]);
    expect(JSON.parse(entries[0]!.Detail!)).toMatchObject({ service: 'chat', decisionId: outcome.decisionId, changeIds: ['/change/C1'] });
  });

  it('a tick over two services in the same regions shares CloudWatch calls: one per region, each metric once', async () => {
    const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
    raw.services.push({ ...structuredClone(raw.services[0]!), name: 'chat-beta', dnsName: 'beta.chat.example.com' });
    world = awsWorld(dynamo, await createTable(dynamo), testConfig(raw));
    world.latencyMs = HEALTHY;
    const tick = await onTick(world.runtime());
    expect(tick.outcomes.map((o) => o.status)).toEqual(['unchanged', 'unchanged']);
    const calls = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!.length);
    expect(calls).toEqual([2, 2, 2]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(3);
  });

  it('a tick writes every service of a hosted zone in one ChangeResourceRecordSets call', async () => {
    const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
    raw.services.push({ ...structuredClone(raw.services[0]!), name: 'chat-beta', dnsName: 'beta.chat.example.com' });
    world = awsWorld(dynamo, await createTable(dynamo), testConfig(raw));
    world.latencyMs = EU_SLOW;
    let last: Awaited<ReturnType<typeof onTick>> | undefined;
    for (let i = 0; i < 3; i += 1) {
      last = await onTick(world.runtime());
      world.clock.advance(MINUTE);
    }
    expect(last!.outcomes.map((o) => [o.service, o.status]).sort()).toEqual([
      ['chat', 'applied'],
      ['chat-beta', 'applied'],
    ]);
    const calls = route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    const names = new Set(calls[0]!.ChangeBatch!.Changes!.map((c) => c.ResourceRecordSet!.Name));
    expect(names).toEqual(new Set(['chat.example.com.', 'beta.chat.example.com.']));
    const ids = Object.fromEntries(last!.outcomes.map((o) => [o.service, o.decisionId]));
    expect(calls[0]!.ChangeBatch!.Comment).toMatch(
      new RegExp(`^steer53 decisions (chat:${ids.chat} chat-beta:${ids['chat-beta']}|chat-beta:${ids['chat-beta']} chat:${ids.chat})$`),
    );
    for (const service of ['chat', 'chat-beta']) {
      expect((await world.store.listAudit(service))[0]).toMatchObject({ id: ids[service], status: 'applied', changeIds: ['/change/C1'] });
    }
  });

  it('a failed zone write leaves every service of the zone with its intent recorded, and reports each', async () => {
    const raw = structuredClone(rawConfig) as { services: Record<string, unknown>[] };
    raw.services.push({ ...structuredClone(raw.services[0]!), name: 'chat-beta', dnsName: 'beta.chat.example.com' });
    world = awsWorld(dynamo, await createTable(dynamo), testConfig(raw));
    world.latencyMs = EU_SLOW;
    await onTick(world.runtime());
    world.clock.advance(MINUTE);
    await onTick(world.runtime());
    world.clock.advance(MINUTE);
    world.failNextChange = Object.assign(new Error('User is not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const tick = await onTick(world.runtime());
    expect(tick.failures.map((f) => [f.service, f.error.name]).sort()).toEqual([
      ['chat', 'AwsCallError'],
      ['chat-beta', 'AwsCallError'],
    ]);
    for (const service of ['chat', 'chat-beta']) {
      const stored = await world.store.load(service);
      expect(stored.pending).not.toBeNull();
      expect((await world.store.listAudit(service))[0]).toMatchObject({ id: stored.pending!.decisionId, status: 'failed' });
    }
    expect(world.records.every((r) => r.Weight === 100)).toBe(true);
  });

  describe('faults', () => {
    it('retries Route 53 throttling with backoff and applies the change', async () => {
      await evaluate(EU_SLOW);
      await evaluate(EU_SLOW);
      world.throttles = 2;
      const outcome = await evaluate(EU_SLOW);
      expect(outcome.status).toBe('applied');
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(3);
      expect(world.sleeps).toEqual([100, 200]);
      expect((await world.store.load('chat')).pending).toBeNull();
    });

    it('repairs a crash between the recorded intent and the Route 53 write on the next run', async () => {
      const rt = world.runtime({ options: { intentLeaseSeconds: 90 } });
      await evaluate(EU_SLOW, rt);
      await evaluate(EU_SLOW, rt);
      world.failNextChange = new Error('Task timed out after 30.00 seconds');
      await expect(evaluate(EU_SLOW, rt)).rejects.toThrow('Task timed out');
      const pending = (await world.store.load('chat')).pending!;
      expect(pending).not.toBeNull();
      expect(world.records.map((r) => r.Weight)).toEqual([100, 100, 100]);

      // Within the lease the intent may still be in flight: stand aside.
      expect((await evaluate(EU_SLOW, rt)).status).toBe('busy');

      world.clock.advance(MINUTE);
      const outcome = await evaluate(EU_SLOW, rt);
      expect(outcome.repaired?.decisionId).toBe(pending.decisionId);
      const calls = route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!);
      expect(calls[1]!.Comment).toBe(`steer53 chat decision ${pending.decisionId}`);
      expect(Object.fromEntries(calls[1]!.Changes!.map((c) => [c.ResourceRecordSet!.SetIdentifier, c.ResourceRecordSet!.Weight]))).toEqual(pending.to);
      for (const [id, weight] of Object.entries(pending.to)) expect(world.records.find((r) => r.SetIdentifier === id)!.Weight).toBe(weight);
      const stored = await world.store.load('chat');
      expect(stored.pending).toBeNull();
      const entry = (await world.store.listAudit('chat', { limit: 100 })).find((e) => e.id === pending.decisionId)!;
      expect(entry).toMatchObject({ status: 'applied', changeIds: ['/change/C1'], detail: { completedBy: 'schedule' } });
    });

    it('never shifts away from healthy endpoints when CloudWatch returns partial or no data', async () => {
      await evaluate(HEALTHY);
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', Timestamps: [], Values: [], StatusCode: 'InternalError' }] });
      for (let i = 0; i < 4; i += 1) await evaluate(EU_SLOW);
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
      for (let i = 0; i < 4; i += 1) await evaluate(EU_SLOW);
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
      expect(world.records.map((r) => r.Weight)).toEqual([100, 100, 100]);
    });

    it('keeps the decision and the DNS change when SNS fails, and records the failure', async () => {
      sns.on(PublishCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } }));
      const tick = async () => {
        world.latencyMs = EU_SLOW;
        const t = await onTick(world.runtime());
        world.clock.advance(MINUTE);
        return t;
      };
      await tick();
      await tick();
      const { outcomes } = await tick();
      expect(outcomes[0]!.status).toBe('applied');
      expect(outcomes[0]!.tellFailures).toEqual([
        {
          channel: 'notify',
          message: 'sns:Publish on arn:aws:sns:us-east-1:123456789012:steer53-notifications failed: InternalErrorException: Service Unavailable',
        },
      ]);
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
      const audit = await world.store.listAudit('chat');
      expect(audit.map((e) => [e.kind, e.status])).toEqual(
        expect.arrayContaining([
          ['decision', 'applied'],
          ['notification-failed', 'failed'],
        ]),
      );
      expect(world.log.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual(['notification failed; the decision stands']);
    });
  });
});
