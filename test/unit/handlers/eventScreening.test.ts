/**
 * Who and what may move traffic: the alarm and deployment handlers against stale, replayed,
 * suppressed, future-dated and foreign events, and every documented delivery form.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { createAlarmHandler } from '../../../functions/handlers/alarm.js';
import { createDeploymentHandler } from '../../../functions/handlers/deployment.js';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import { AwsCallError } from '../../../functions/adapters/aws/errors.js';
import { ACCOUNT, editableRawConfig, judgedStart, memoryWorld, MINUTE, T0, testConfig, type MemoryWorld } from '../app/runtimeFixtures.js';
import { alarmStateChangeEvent, context, deploymentEvent, snsAlarmEvent, testDeps } from './handlerFixtures.js';

const HEALTHY = { 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 };
const ALARM = { name: 'chat-eu-west-1-5xx', region: 'eu-west-1' };
const FOREIGN = '999988887777';

function fixture(folder: string, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${folder}/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** A world whose eu-west-1 error alarm is in `state` as DescribeAlarms sees it. */
function alarmWorld(state: 'OK' | 'ALARM', raw = editableRawConfig()): MemoryWorld {
  const world = memoryWorld(testConfig(raw));
  world.feed(judgedStart(world.clock.now()), HEALTHY);
  world.metrics.setAlarmState(ALARM, state);
  return world;
}

/** What a case may have changed: state writes (by version), audit entries, Route 53 changes, notices. */
async function footprint(world: MemoryWorld) {
  return {
    version: (await world.store.load('chat')).version,
    audit: (await world.store.listAudit('chat')).length,
    dns: world.dns.changeLog.length,
    notices: world.notifier.notices.length,
  };
}
const untouched = { version: 0, audit: 0, dns: 0, notices: 0 };

const eu = (w: MemoryWorld) =>
  w.dns.weightsOf({ hostedZoneId: w.service.hostedZoneId, dnsName: w.service.dnsName, recordType: w.service.recordType })['eu-west-1'];

describe('Alarm events: stale, replayed, suppressed, foreign', () => {
  it('a replayed ALARM while CloudWatch says OK moves nothing (DescribeAlarms is asked once, and acted on)', async () => {
    const world = alarmWorld('OK');
    const t = testDeps(async () => world.runtime());
    const handler = createAlarmHandler(t.deps);
    for (let i = 0; i < 3; i += 1) {
      expect(await handler(alarmStateChangeEvent(), context)).toEqual({ status: 'ignored', reason: 'the event says ALARM, CloudWatch says OK now' });
      world.clock.advance(MINUTE);
    }
    expect(await footprint(world)).toEqual(untouched);
    expect(world.metrics.alarmReads).toEqual(
      Array.from({ length: 3 }, () => ({ key: '0', name: ALARM.name, region: ALARM.region, arn: expect.stringContaining(ALARM.name) })),
    );
  });

  it('a 2019-dated ALARM delivered twice is refused as too old, even while CloudWatch says ALARM', async () => {
    const world = alarmWorld('ALARM');
    const t = testDeps(async () => world.runtime());
    const old = { ...alarmStateChangeEvent(), time: '2019-10-02T17:04:40Z' };
    for (let i = 0; i < 2; i += 1) {
      expect(await createAlarmHandler(t.deps)(old, context)).toMatchObject({ status: 'refused', refusals: [{ code: 'EVENT_TOO_OLD' }] });
    }
    expect(await footprint(world)).toEqual(untouched);
    expect(world.metrics.alarmCalls).toBe(0);
    expect(t.counts).toEqual([
      { metric: 'MalformedEvents', service: 'none', value: 1 },
      { metric: 'MalformedEvents', service: 'none', value: 1 },
    ]);
  });

  it('an ALARM dated beyond the clock skew is refused', async () => {
    const world = alarmWorld('ALARM');
    const t = testDeps(async () => world.runtime());
    const future = { ...alarmStateChangeEvent(), time: new Date(T0 + 10 * MINUTE).toISOString() };
    expect(await createAlarmHandler(t.deps)(future, context)).toMatchObject({ status: 'refused', refusals: [{ code: 'EVENT_FROM_FUTURE' }] });
    expect(await footprint(world)).toEqual(untouched);
  });

  it('a composite whose actions are suppressed moves nothing, though CloudWatch holds ALARM', async () => {
    const raw = editableRawConfig();
    raw.services[0]!.endpoints[1]!.signals[1] = { name: 'error-alarm', source: 'alarm', alarm: { name: 'ServiceAggregatedAlarm' }, severity: 'fail' };
    const world = alarmWorld('ALARM', raw);
    world.metrics.setAlarmState({ name: 'ServiceAggregatedAlarm', region: 'eu-west-1' }, 'ALARM');
    const t = testDeps(async () => world.runtime());
    const sample = fixture('alarm-events', 'eventbridge-composite-suppressed') as { detail: Record<string, unknown> };
    const event = { ...sample, time: new Date(T0).toISOString(), region: 'eu-west-1', account: ACCOUNT };
    expect(await createAlarmHandler(t.deps)(event, context)).toEqual({
      status: 'ignored',
      reason: "the composite alarm's actions are suppressed (WaitPeriod)",
    });
    expect(await footprint(world)).toEqual(untouched);
  });

  it('an ALARM put from another account, naming our alarm, is refused and drains nothing', async () => {
    const world = alarmWorld('ALARM');
    const t = testDeps(async () => world.runtime());
    const foreign = { ...alarmStateChangeEvent(), account: FOREIGN };
    expect(await createAlarmHandler(t.deps)(foreign, context)).toMatchObject({
      status: 'refused',
      refusals: [
        {
          code: 'ACCOUNT_NOT_ALLOWED',
          message: `the event comes from account ${FOREIGN}, which may not act on alarm chat-eu-west-1-5xx (allowed: ${ACCOUNT})`,
        },
      ],
    });
    expect(await footprint(world)).toEqual(untouched);
    expect(t.errorLog).toHaveBeenCalledWith('refused alarm event: nothing changed', expect.objectContaining({ code: 'ACCOUNT_NOT_ALLOWED', account: FOREIGN }));
  });

  it('an alarm the config names by ARN in another account acts when fresh (DescribeAlarms here cannot see it), not when replayed', async () => {
    const raw = editableRawConfig();
    const arn = `arn:aws:cloudwatch:eu-west-1:${FOREIGN}:alarm:chat-eu-west-1-5xx`;
    raw.services[0]!.endpoints[1]!.signals[1] = { name: 'error-alarm', source: 'alarm', alarm: { arn }, severity: 'fail' };
    const world = alarmWorld('OK', raw);
    const t = testDeps(async () => world.runtime());
    const event = { ...alarmStateChangeEvent(), account: FOREIGN, resources: [arn] };
    expect(await createAlarmHandler(t.deps)(event, context)).toMatchObject({ status: 'evaluated', matched: 1 });
    expect(world.metrics.alarmReads.map((r) => r.key)).not.toContain('0');
    world.clock.advance(3 * MINUTE);
    expect(await createAlarmHandler(t.deps)(event, context)).toMatchObject({ status: 'ignored' });
  });

  it('fails safe when DescribeAlarms fails: nothing acts, nothing is retried, the next tick reads the alarm again', async () => {
    const world = alarmWorld('ALARM');
    world.metrics.failNextCalls(new AwsCallError({ operation: 'cloudwatch:DescribeAlarms', target: 'eu-west-1' }, 'Throttling: Rate exceeded', true));
    const t = testDeps(async () => world.runtime());
    const warnLog = vi.spyOn(t.logger, 'warn');
    const result = await createAlarmHandler(t.deps)(alarmStateChangeEvent(), context);
    expect(result).toMatchObject({ status: 'ignored', reason: expect.stringContaining('its current state could not be read') });
    expect(await footprint(world)).toEqual(untouched);
    expect(warnLog).toHaveBeenCalledWith(
      'alarm event not acted on: its state could not be confirmed',
      expect.objectContaining({ alarmName: 'chat-eu-west-1-5xx', detail: expect.stringContaining('Throttling: Rate exceeded') }),
    );
  });

  it.each([
    ['EventBridge', () => alarmStateChangeEvent()],
    ['SNS, with SigningCertUrl and UnsubscribeUrl that are not URLs', () => snsAlarmEvent()],
    [
      'a Lambda alarm action (alarmData at the top level, no envelope)',
      () => ({
        ...fixture('alarm-events', 'lambda-action-metric'),
        alarmArn: `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:chat-eu-west-1-5xx`,
        accountId: ACCOUNT,
        region: 'eu-west-1',
        time: new Date(T0).toISOString().replace('Z', '+0000'),
        alarmData: { ...(fixture('alarm-events', 'lambda-action-metric').alarmData as object), alarmName: 'chat-eu-west-1-5xx' },
      }),
    ],
  ])('a confirmed ALARM delivered by %s drains the failing endpoint', async (form, make) => {
    const world = alarmWorld('ALARM');
    const t = testDeps(async () => world.runtime());
    const event = make() as Record<string, unknown>;
    if (form.startsWith('SNS')) {
      const sns = (event as { Records: { Sns: Record<string, unknown> }[] }).Records[0]!.Sns;
      sns.SigningCertUrl = 'EXAMPLE';
      sns.UnsubscribeUrl = 'EXAMPLE';
    }
    const handler = createAlarmHandler(t.deps);
    for (let i = 0; i < 2; i += 1) {
      world.feed(judgedStart(world.clock.now()), HEALTHY);
      expect(await handler(event, context)).toMatchObject({ status: 'evaluated', matched: 1 });
      world.clock.advance(MINUTE);
    }
    expect(eu(world)).toBe(0);
  });
});

describe('Schedule: every documented form', () => {
  it.each([
    ['a scheduled rule', fixture('schedule-events', 'scheduled-rule')],
    ['Scheduler’s default payload (detail is the string "{}")', fixture('schedule-events', 'scheduler-default')],
    [
      'Scheduler’s default envelope with an object detail naming services',
      { ...fixture('schedule-events', 'scheduler-default'), detail: { services: ['chat'] } },
    ],
    ['a Scheduler input of context attributes', fixture('schedule-events', 'scheduler-context-attributes')],
  ])('ticks on %s', async (_, event) => {
    const world = alarmWorld('OK');
    const t = testDeps(async () => world.runtime());
    expect(await createScheduleHandler(t.deps)(event, context)).toMatchObject({ status: 'evaluated', services: 1 });
  });

  it('refuses a Scheduler detail that is not JSON, saying which form it expected', async () => {
    const world = alarmWorld('OK');
    const t = testDeps(async () => world.runtime());
    expect(await createScheduleHandler(t.deps)({ ...fixture('schedule-events', 'scheduler-default'), detail: 'nope' }, context)).toEqual({
      status: 'rejected',
      problems: [{ path: 'detail', message: 'is a string that is not JSON (as a scheduled event: Scheduler sends "{}")' }],
    });
  });
});

/** A world whose service drains eu-west-1 while it deploys, with native sources on two endpoints. */
function deployWorld(publishers: string[] = [], principalArns: string[] = []): MemoryWorld {
  const raw = editableRawConfig();
  raw.services[0]!.policy = { ...(raw.services[0]!.policy as object), rollout: { mode: 'drain-during-deploy' } };
  raw.services[0]!.deploymentPublishers = { accounts: publishers, principalArns };
  // One SageMaker endpoint name in two regions (names are regional), one pipeline deploying two endpoints.
  raw.services[0]!.endpoints[0]!.deploymentSources = { sagemakerEndpoints: ['sample-endpoint'], codePipelines: ['myPipeline'] };
  raw.services[0]!.endpoints[1]!.deploymentSources = { sagemakerEndpoints: ['sample-endpoint'], codePipelines: ['myPipeline'] };
  const world = memoryWorld(testConfig(raw));
  world.feed(judgedStart(world.clock.now()), HEALTHY);
  return world;
}

describe('Deployment events: publishers, time, fan-out', () => {
  it('a STARTED dated 2099 is refused; the real SUCCEEDED five minutes later is applied, not dropped as out of order', async () => {
    const world = deployWorld();
    const t = testDeps(async () => world.runtime());
    const handler = createDeploymentHandler(t.deps);
    const future = { ...deploymentEvent('Deployment Started', { idempotencyKey: 'future' }), time: '2099-01-01T00:00:00Z' };
    expect(await handler(future, context)).toMatchObject({ status: 'refused', refusals: [{ code: 'EVENT_FROM_FUTURE' }] });
    expect(await footprint(world)).toEqual(untouched);
    world.clock.advance(5 * MINUTE);
    const succeeded = { ...deploymentEvent('Deployment Succeeded', { idempotencyKey: 'real' }), time: new Date(world.clock.now()).toISOString() };
    expect(await handler(succeeded, context)).toMatchObject({ status: 'applied', services: [{ records: [{ phase: 'succeeded', applied: true }] }] });
    // Never drained by the forged start; the real outcome starts the canary at its first step (5% of
    // its baseline), though nothing is known this period yet: that cut is the pipeline's move.
    expect(eu(world)).toBe(5);
    expect((await world.store.load('chat')).state!.rollouts['eu-west-1']).toMatchObject({ phase: 'canary', version: 'v42' });
  });

  it('a pipeline event from an account the service does not list is refused; listed, it applies and the audit says which account', async () => {
    const foreign = { ...deploymentEvent(), account: FOREIGN };
    const closed = deployWorld();
    const t1 = testDeps(async () => closed.runtime());
    expect(await createDeploymentHandler(t1.deps)(foreign, context)).toMatchObject({
      status: 'refused',
      refusals: [{ code: 'ACCOUNT_NOT_ALLOWED', message: `the event comes from account ${FOREIGN}, which may not act on service chat (allowed: ${ACCOUNT})` }],
    });
    expect(await footprint(closed)).toEqual(untouched);

    const open = deployWorld([FOREIGN]);
    const t2 = testDeps(async () => open.runtime());
    expect(await createDeploymentHandler(t2.deps)(foreign, context)).toMatchObject({ status: 'applied' });
    const [entry] = (await open.store.listAudit('chat')).filter((a) => a.kind === 'deployment');
    expect(entry).toMatchObject({ actor: `pipeline exec-1 (account ${FOREIGN})`, detail: { callerAccount: FOREIGN } });
  });

  it('a principal the service lists admits its account (the bus policy admits that principal only)', async () => {
    const world = deployWorld([], [`arn:aws:iam::${FOREIGN}:role/release`]);
    const t = testDeps(async () => world.runtime());
    expect(await createDeploymentHandler(t.deps)({ ...deploymentEvent(), account: FOREIGN }, context)).toMatchObject({ status: 'applied' });
  });

  it('one native event naming two endpoints applies to both, each under its own key', async () => {
    const world = deployWorld();
    const t = testDeps(async () => world.runtime());
    const started = { ...fixture('native-events', 'codepipeline-execution-started'), account: ACCOUNT, time: new Date(T0).toISOString() };
    const result = await createDeploymentHandler(t.deps)(started, context);
    expect(result).toMatchObject({
      status: 'applied',
      services: [
        {
          records: [
            { endpoint: 'us-east-1', applied: true },
            { endpoint: 'eu-west-1', applied: true },
          ],
        },
      ],
    });
    const records = (result as unknown as { services: { records: { idempotencyKey: string }[] }[] }).services[0]!.records;
    expect(records.map((r) => r.idempotencyKey.split('/').at(-1))).toEqual(['us-east-1', 'eu-west-1']);
    const state = (await world.store.load('chat')).state!;
    expect(Object.keys(state.rollouts).sort()).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('the event’s region picks the endpoint among those naming the same (regional) SageMaker endpoint', async () => {
    const world = deployWorld(['111122223333']);
    const t = testDeps(async () => world.runtime());
    const updating = { ...fixture('native-events', 'sagemaker-endpoint-deployment-updating'), region: 'eu-west-1', time: new Date(T0).toISOString() };
    expect(await createDeploymentHandler(t.deps)(updating, context)).toMatchObject({
      status: 'applied',
      services: [{ records: [{ endpoint: 'eu-west-1', phase: 'started', applied: true }] }],
    });
  });

  it('a native event from an account the service does not list is refused', async () => {
    const world = deployWorld();
    const t = testDeps(async () => world.runtime());
    const updating = { ...fixture('native-events', 'sagemaker-endpoint-deployment-updating'), time: new Date(T0).toISOString() };
    expect(await createDeploymentHandler(t.deps)(updating, context)).toMatchObject({ status: 'refused', refusals: [{ code: 'ACCOUNT_NOT_ALLOWED' }] });
    expect(await footprint(world)).toEqual(untouched);
  });
});
