import { describe, expect, it, vi } from 'vitest';
import { EmfCounter } from '../../../functions/handlers/edge.js';
import { createAlarmHandler } from '../../../functions/handlers/alarm.js';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import { createDeploymentHandler } from '../../../functions/handlers/deployment.js';
import { AwsCallError, Route53RetriesExhaustedError } from '../../../functions/adapters/aws/errors.js';
import { RateBudgetExhaustedError } from '../../../functions/adapters/aws/pacing.js';
import { judgedStart, memoryWorld, MINUTE, T0 } from '../app/runtimeFixtures.js';
import { alarmStateChangeEvent, context, deploymentEvent, scheduledRuleEvent, schedulerPayload, snsAlarmEvent, sqsEvent, testDeps } from './handlerFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };

/** Route 53 throttling the listing, after the SDK's retries. */
function throttled(): AwsCallError {
  return new AwsCallError(
    { operation: 'route53:ListResourceRecordSets', target: 'hosted zone Z' },
    Object.assign(new Error('slow down'), { name: 'Throttling' }),
    true,
  );
}

/** The world's DNS with every zone read failing (an alarm's services are read as a tick reads them: a zone at a time). */
function zoneReadsFailing(world: ReturnType<typeof memoryWorld>, error: Error) {
  return {
    ...world.dns,
    readWeights: world.dns.readWeights.bind(world.dns),
    readZone: async () => {
      throw error;
    },
    writeWeights: world.dns.writeWeights.bind(world.dns),
  };
}

describe('Handler: alarm', () => {
  it.each([
    ['EventBridge alarm state change', alarmStateChangeEvent()],
    ['SNS-wrapped alarm notification', snsAlarmEvent()],
  ])('evaluates the alarm’s service at once from an %s', async (_, event) => {
    const world = memoryWorld();
    // CloudWatch holds what the event says: the handler confirms it before acting.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    const result = await createAlarmHandler(t.deps)(event, context);
    expect(result).toEqual({ status: 'evaluated', alarms: 1, matched: 1, evaluations: 1, failures: 0 });
    const stored = await world.store.load('chat');
    expect(stored.state!.endpoints['eu-west-1']!.history.at(-1)!.verdict).toBe('fail');
    // A fail-severity alarm has counted its own M of N: the region drains on this one event.
    expect(stored.state!.endpoints['eu-west-1']!.status).toBe('drained');
    expect(t.counts).toContainEqual({ metric: 'Decisions', service: 'chat', value: 1 });
  });

  it('acts on the good records of an SNS batch and reports the bad ones', async () => {
    const world = memoryWorld();
    // CloudWatch holds what the event says: the handler confirms it before acting.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    const event = snsAlarmEvent();
    const bad = structuredClone(event.Records[0]!);
    bad.Sns.Message = 'not json';
    event.Records.push(bad);
    expect(await createAlarmHandler(t.deps)(event, context)).toEqual({ status: 'evaluated', alarms: 1, matched: 1, evaluations: 1, failures: 0 });
    expect(t.errorLog).toHaveBeenCalledWith(
      'malformed records in the SNS alarm batch: ignored, nothing changed',
      expect.objectContaining({ problems: [{ path: 'Records[1].Sns.Message', message: 'is not JSON (expected a CloudWatch alarm notification)' }] }),
    );
  });

  it('matches an SNS notification without an ARN by name alone when its region is a display name', async () => {
    const world = memoryWorld();
    // CloudWatch holds what the event says: the handler confirms it before acting.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    const event = snsAlarmEvent();
    const message = JSON.parse(event.Records[0]!.Sns.Message) as Record<string, unknown>;
    delete message.AlarmArn;
    event.Records[0]!.Sns.Message = JSON.stringify(message);
    expect(await createAlarmHandler(t.deps)(event, context)).toMatchObject({ status: 'evaluated', matched: 1 });
  });

  it('drains a failing endpoint on the first ALARM of a fail-severity alarm and holds it while the alarm stays', async () => {
    const world = memoryWorld();
    // CloudWatch holds what the event says: the handler confirms it before acting.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    const t = testDeps(async () => world.runtime());
    const handler = createAlarmHandler(t.deps);
    const key = { hostedZoneId: 'Z0123456789EXAMPLE', dnsName: 'chat.example.com', recordType: 'A' } as const;
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    await handler(alarmStateChangeEvent(), context);
    expect(world.dns.weightsOf(key)['eu-west-1']).toBe(0);
    world.clock.advance(MINUTE);
    world.feed(judgedStart(world.clock.now()), HEALTHY);
    await handler(alarmStateChangeEvent(), context);
    const held = world.dns.weightsOf(key);
    expect(held['eu-west-1']).toBe(0);
    // One record changed: the drained one. The others keep their weights (their shares grow with it).
    expect(held).toEqual({ 'us-east-1': 100, 'eu-west-1': 0, 'ap-northeast-1': 100 });
    expect(t.counts).toContainEqual({ metric: 'WeightChanges', service: 'chat', value: 1 });
    // The Weight gauge after the drain is what Route 53 holds.
    expect(t.gauges.slice(-3)).toEqual(Object.entries(held).map(([endpoint, value]) => ({ metric: 'Weight', service: 'chat', endpoint, value })));
  });

  it.each([
    ['an alarm no signal names', alarmStateChangeEvent('someone-elses-alarm')],
    ['the right alarm name in another region', alarmStateChangeEvent('chat-eu-west-1-5xx', 'ALARM', 'us-west-2')],
    ['an alarm configuration change', { ...alarmStateChangeEvent(), 'detail-type': 'CloudWatch Alarm Configuration Change' }],
  ])('ignores %s with a debug log and changes nothing', async (_, event) => {
    const world = memoryWorld();
    // CloudWatch holds what the event says: the handler confirms it before acting.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    const t = testDeps(async () => world.runtime());
    const result = await createAlarmHandler(t.deps)(event, context);
    expect(result.status).toBe('ignored');
    expect(t.debugLog).toHaveBeenCalled();
    expect(t.errorLog).not.toHaveBeenCalled();
    expect((await world.store.load('chat')).version).toBe(0);
  });

  it('fails the invocation when the evaluation failed for a reason a retry can fix', async () => {
    const world = memoryWorld();
    // CloudWatch holds what the event says: the handler confirms it before acting.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    const t = testDeps(async () => ({ ...world.runtime(), dns: zoneReadsFailing(world, throttled()) }));
    await expect(createAlarmHandler(t.deps)(alarmStateChangeEvent(), context)).rejects.toThrow('may succeed on retry');
    expect(t.counts).toContainEqual({ metric: 'Errors', service: 'chat', value: 1 });
  });

  it('does not fail the invocation for an error a retry cannot fix (logged and counted)', async () => {
    const world = memoryWorld();
    // CloudWatch holds what the event says: the handler confirms it before acting.
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.dns.defineRecordSet({ hostedZoneId: 'Z0123456789EXAMPLE', dnsName: 'chat.example.com', recordType: 'A' }, { 'us-east-1': 100 });
    const t = testDeps(async () => world.runtime());
    const result = await createAlarmHandler(t.deps)(alarmStateChangeEvent(), context);
    expect(result).toMatchObject({ status: 'evaluated', failures: 1 });
    expect(t.errorLog).toHaveBeenCalledWith(
      'evaluation failed',
      expect.objectContaining({ steer53Service: 'chat', errorName: 'RecordNotFoundError', retryable: false }),
    );
  });
});

describe('Handler: alarm, from the alarm queue (SQS)', () => {
  /** The three bodies the queue can hold for one alarm change: an EventBridge event, an SNS envelope, the raw alarm JSON. */
  function bodies() {
    const sns = snsAlarmEvent().Records[0]!.Sns;
    return [alarmStateChangeEvent(), { Type: 'Notification', MessageId: sns.MessageId, TopicArn: sns.TopicArn, Message: sns.Message }, sns.Message];
  }

  it('evaluates the batch’s service once, whatever form each record holds, and returns no record to the queue', async () => {
    const world = memoryWorld();
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    const result = await createAlarmHandler(t.deps)(sqsEvent(bodies()), context);
    expect(result).toEqual({ status: 'evaluated', alarms: 3, matched: 3, evaluations: 1, failures: 0, batchItemFailures: [] });
    expect((await world.store.load('chat')).state!.endpoints['eu-west-1']!.status).toBe('drained');
    // One read confirms the batch's three changes; one reads the service's other alarms (this one's state is the event's).
    expect(world.metrics.alarmCalls).toBe(2);
    expect(world.metrics.alarmReads.map((a) => a.name)).toEqual([
      'chat-eu-west-1-5xx',
      'chat-eu-west-1-5xx',
      'chat-eu-west-1-5xx',
      'chat-us-east-1-5xx',
      'chat-ap-northeast-1-5xx',
    ]);
    expect(world.dns.writeCalls).toBe(1);
  });

  it('returns to the queue only the records whose evaluation may succeed on retry, and does not fail the invocation', async () => {
    const world = memoryWorld();
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    const t = testDeps(async () => ({ ...world.runtime(), dns: zoneReadsFailing(world, throttled()) }));
    // The second record names no signal: nothing to retry for it.
    const event = sqsEvent([alarmStateChangeEvent(), alarmStateChangeEvent('someone-elses-alarm')]);
    const result = await createAlarmHandler(t.deps)(event, context);
    expect(result).toMatchObject({ status: 'evaluated', matched: 1, failures: 1, batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect((await world.store.load('chat')).version).toBe(0);
  });

  it('leaves to the next tick, not the queue, the services its own share of the rates could not reach', async () => {
    const world = memoryWorld();
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    const outOfBudget = new Route53RetriesExhaustedError(
      { operation: 'route53:ListResourceRecordSets', target: 'hosted zone Z' },
      new RateBudgetExhaustedError('route53:ListResourceRecordSets', 40_000),
      1,
    );
    const t = testDeps(async () => ({ ...world.runtime(), dns: zoneReadsFailing(world, outOfBudget) }));
    const result = await createAlarmHandler(t.deps)(sqsEvent([alarmStateChangeEvent()]), context);
    expect(result).toMatchObject({ status: 'evaluated', failures: 1, batchItemFailures: [] });
    // Invoked directly, it does not fail the invocation for it either (no retry storm).
    await expect(createAlarmHandler(t.deps)(alarmStateChangeEvent(), context)).resolves.toMatchObject({ status: 'evaluated', failures: 1 });
  });

  it('returns to the queue the records whose alarm state could not be read, to act when delivered again', async () => {
    const world = memoryWorld();
    world.metrics.failNextCalls(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const t = testDeps(async () => world.runtime());
    const event = sqsEvent([alarmStateChangeEvent(), alarmStateChangeEvent('chat-us-east-1-5xx', 'ALARM', 'us-east-1')]);
    const result = await createAlarmHandler(t.deps)(event, context);
    expect(result).toMatchObject({ status: 'ignored', batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) });
    expect((await world.store.load('chat')).version).toBe(0);
  });

  it('acts on the good records and logs the malformed ones, which are not retried (they never will be alarm changes)', async () => {
    const world = memoryWorld();
    world.metrics.setAlarmState({ name: 'chat-eu-west-1-5xx', region: 'eu-west-1' }, 'ALARM');
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    const result = await createAlarmHandler(t.deps)(sqsEvent([alarmStateChangeEvent(), 'not json', { Type: 'Notification', Message: '{}' }]), context);
    expect(result).toMatchObject({ status: 'evaluated', alarms: 1, matched: 1, batchItemFailures: [] });
    const logged = t.errorLog.mock.calls.find((call: unknown[]) => call[0] === 'malformed records in the SQS alarm batch: ignored, nothing changed');
    expect((logged![1] as { problems: { path: string }[] }).problems.map((p) => p.path)).toEqual([
      'Records[1].body',
      'Records[2].body.Message.AlarmName',
      'Records[2].body.Message.AWSAccountId',
      'Records[2].body.Message.NewStateValue',
      'Records[2].body.Message.StateChangeTime',
    ]);
  });

  it('rejects a batch with no alarm change at all, changing nothing', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    const result = await createAlarmHandler(t.deps)(sqsEvent(['[]']), context);
    expect(result).toEqual({ status: 'rejected', problems: [{ path: 'Records[0].body', message: 'expected an alarm state change object, got an array' }] });
    expect((await world.store.load('chat')).version).toBe(0);
  });

  it('ignores a batch of alarm configuration changes', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    const config = { ...alarmStateChangeEvent(), 'detail-type': 'CloudWatch Alarm Configuration Change' };
    expect(await createAlarmHandler(t.deps)(sqsEvent([config]), context)).toEqual({
      status: 'ignored',
      reason: 'CloudWatch event "CloudWatch Alarm Configuration Change" is not an alarm state change',
    });
  });
});

describe('Class: EmfCounter', () => {
  it('writes one EMF document per count with the steer53 service as the `service` dimension, and gauges per endpoint', () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const counter = new EmfCounter('steer53');
      counter.count('Decisions', 'chat', 2);
      counter.gauge('Weight', 'chat', 'eu-west-1', 40);
    } finally {
      write.mockRestore();
    }
    const docs = lines.map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } } & Record<string, unknown>);
    expect(docs).toHaveLength(2);
    expect(docs[0]!._aws.CloudWatchMetrics).toEqual([{ Namespace: 'steer53', Dimensions: [['service']], Metrics: [{ Name: 'Decisions', Unit: 'Count' }] }]);
    expect(docs[0]).toMatchObject({ service: 'chat', Decisions: 2 });
    expect(docs[1]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'endpoint']]);
    expect(docs[1]).toMatchObject({ service: 'chat', endpoint: 'eu-west-1', Weight: 40 });
  });
});

describe('Handler: schedule', () => {
  it.each([
    ['classic scheduled rule event', scheduledRuleEvent()],
    ['EventBridge Scheduler payload', schedulerPayload()],
    ['empty EventBridge Scheduler payload', {}],
  ])('evaluates every service on a %s', async (_, event) => {
    const world = memoryWorld();
    world.feed(judgedStart(T0), HEALTHY);
    const t = testDeps(async () => world.runtime());
    expect(await createScheduleHandler(t.deps)(event, context)).toEqual({
      status: 'evaluated',
      shard: 'shard-01',
      services: 1,
      read: 1,
      applied: 0,
      failures: 0,
    });
    expect((await world.store.load('chat')).version).toBe(1);
    // A tick evaluated here is its one shard: its time, its lag and its reads are reported.
    expect(t.shardMetrics.map((m) => [m.metric, m.shard])).toEqual([
      ['ShardDuration', 'shard-01'],
      ['ShardLag', 'shard-01'],
      ['ServicesRead', 'shard-01'],
      ['ServicesDeferred', 'shard-01'],
    ]);
  });

  it('evaluates only the services a Scheduler payload names', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    expect(await createScheduleHandler(t.deps)({ services: ['chat'] }, context)).toMatchObject({ status: 'evaluated', services: 1 });
    const rejected = await createScheduleHandler(t.deps)({ services: ['nope'] }, context);
    expect(rejected).toEqual({ status: 'rejected', problems: [{ path: 'services', message: 'no service "nope" in the config (known: chat)' }] });
  });

  it('counts notification failures per service and still succeeds', async () => {
    const world = memoryWorld();
    world.notifier.failWith(new Error('SNS down'));
    const t = testDeps(async () => world.runtime());
    const handler = createScheduleHandler(t.deps);
    const slow = { 'us-east-1': 900, 'eu-west-1': 2600, 'ap-northeast-1': 900 };
    let last: unknown;
    for (let i = 0; i < 3; i += 1) {
      world.feed(judgedStart(world.clock.now()), slow);
      last = await handler(scheduledRuleEvent(), context);
      world.clock.advance(MINUTE);
    }
    expect(last).toMatchObject({ status: 'evaluated', applied: 1 });
    expect(t.counts).toContainEqual({ metric: 'NotificationFailures', service: 'chat', value: 1 });
    // The use case logs through the runtime's log (the handler's logger in Lambda).
    expect(world.log.lines).toContainEqual({
      level: 'error',
      message: 'notification failed; the decision stands',
      extra: [expect.objectContaining({ service: 'chat', error: 'SNS down' })],
    });
  });

  it('gives an intent the invocation’s deadline as its lease, so the next tick can repair a crash', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    const handler = createScheduleHandler(t.deps);
    const slow = { 'us-east-1': 900, 'eu-west-1': 2600, 'ap-northeast-1': 900 };
    for (let i = 0; i < 3; i += 1) {
      if (i === 2) world.dns.failNextWrites(new Error('Task timed out'));
      world.feed(judgedStart(world.clock.now()), slow);
      await handler(scheduledRuleEvent(), context);
      if (i < 2) world.clock.advance(MINUTE);
    }
    // context.getRemainingTimeInMillis() is 30 s; 5 s margin.
    expect((await world.store.load('chat')).pending!.leaseUntil).toBe(world.clock.now() + 35_000);
    world.clock.advance(MINUTE);
    world.feed(judgedStart(world.clock.now()), slow);
    await handler(scheduledRuleEvent(), context);
    expect((await world.store.load('chat')).pending).toBeNull();
    expect(world.dns.changeLog).toHaveLength(1);
    expect(t.counts).toContainEqual({ metric: 'RepairedChanges', service: 'chat', value: 1 });
  });

  it('fails the invocation when the config cannot be loaded (nothing can be evaluated)', async () => {
    const t = testDeps(async () => {
      throw new Error('steer53.config.json is not valid');
    });
    await expect(createScheduleHandler(t.deps)(scheduledRuleEvent(), context)).rejects.toThrow('not valid');
  });
});

describe('Handler: deployment', () => {
  // Rollout behaviour through this handler: test/unit/handlers/deploymentHandler.test.ts and
  // test/integration/runtime/deployments.aws.test.ts.
  it.each(['Deployment Started', 'Deployment Succeeded', 'Deployment Failed', 'Deployment Rolled Back'])(
    'evaluates the service with "%s" and records it in the audit log',
    async (detailType) => {
      const world = memoryWorld();
      const t = testDeps(async () => world.runtime());
      const result = await createDeploymentHandler(t.deps)(deploymentEvent(detailType, { idempotencyKey: detailType }), context);
      expect(result).toMatchObject({
        status: 'applied',
        services: [{ service: 'chat', status: 'evaluated', records: [{ endpoint: 'eu-west-1', auditId: `deployment-${detailType}` }] }],
      });
      const entry = (await world.store.listAudit('chat')).find((a) => a.kind === 'deployment');
      expect(entry).toMatchObject({ kind: 'deployment', at: T0, detail: { detailType, version: 'v42', pipelineExecutionId: 'exec-1' } });
    },
  );

  it('ignores a native deployment event (ECS) that no endpoint maps, without recording it or calling it malformed', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    const ecs = {
      ...deploymentEvent(),
      source: 'aws.ecs',
      'detail-type': 'ECS Deployment State Change',
      detail: { eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', deploymentId: 'ecs-svc/123' },
    };
    expect(await createDeploymentHandler(t.deps)(ecs, context)).toEqual({
      status: 'ignored',
      reason: "aws.ecs ECS Deployment State Change: no endpoint's deploymentSources names it",
    });
    expect(t.errorLog).not.toHaveBeenCalled();
    expect(t.debugLog).toHaveBeenCalled();
    expect(await world.store.listAudit('chat')).toEqual([]);
  });

  it('records a duplicate delivery once: the engine knows its key, and the first delivery’s entry stands', async () => {
    const world = memoryWorld();
    const t = testDeps(async () => world.runtime());
    const handler = createDeploymentHandler(t.deps);
    await handler(deploymentEvent(), context);
    const again = await handler({ ...deploymentEvent(), id: 'another-delivery-id' }, context);
    expect(again).toMatchObject({ status: 'applied', services: [{ records: [{ applied: false, outcome: expect.stringContaining('duplicate') }] }] });
    expect((await world.store.listAudit('chat')).filter((a) => a.kind === 'deployment')).toEqual([
      // What the engine made of the first delivery (rollout mode none here), not "duplicate".
      expect.objectContaining({ status: 'recorded', summary: expect.stringContaining('rollout mode is none') }),
    ]);
  });
});
