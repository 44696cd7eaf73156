import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { PublishCommand } from '@aws-sdk/client-sns';
import { createAlarmHandler } from '../../../functions/handlers/alarm.js';
import { createScheduleHandler } from '../../../functions/handlers/schedule.js';
import { createDeploymentHandler } from '../../../functions/handlers/deployment.js';
import { createTable, startDynalite, type LocalDynamo } from './dynalite.js';
import { awsWorld, HEALTHY, route53, sns, type AwsWorld } from './awsWorld.js';
import { alarmStateChangeEvent, context, deploymentEvent, scheduledRuleEvent, snsAlarmEvent, testDeps } from '../../unit/handlers/handlerFixtures.js';
import { MINUTE } from '../../unit/app/runtimeFixtures.js';

let dynamo: LocalDynamo;
let table: string;
let world: AwsWorld;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = await createTable(dynamo);
  world = awsWorld(dynamo, table);
  world.latencyMs = HEALTHY;
});

async function items() {
  return (await dynamo.client.send(new ScanCommand({ TableName: table }))).Items ?? [];
}

describe('handlers against dynalite, with the AWS services mocked', () => {
  it('schedule: a tick writes the state item and touches no weight while all is healthy', async () => {
    const t = testDeps(async () => world.runtime());
    expect(await createScheduleHandler(t.deps)(scheduledRuleEvent(), context)).toEqual({
      status: 'evaluated',
      shard: 'shard-01',
      services: 1,
      read: 1,
      applied: 0,
      failures: 0,
    });
    const stored = await items();
    expect(stored.map((i) => [i.pk!.S, i.sk!.S, i.version!.N])).toEqual([['SERVICE#chat', 'STATE', '1']]);
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  it('alarm: a failing endpoint’s alarm, seen in two periods (EventBridge then SNS), drains it in Route 53', async () => {
    const t = testDeps(async () => world.runtime());
    const handler = createAlarmHandler(t.deps);
    await handler(alarmStateChangeEvent(), context);
    world.clock.advance(MINUTE);
    const result = await handler(snsAlarmEvent(), context);
    expect(result).toEqual({ status: 'evaluated', alarms: 1, matched: 1, evaluations: 1, failures: 0 });
    const writes = route53.commandCalls(ChangeResourceRecordSetsCommand);
    expect(writes).toHaveLength(1);
    const eu = writes[0]!.args[0].input.ChangeBatch!.Changes!.find((c) => c.ResourceRecordSet!.SetIdentifier === 'eu-west-1')!;
    expect(eu).toMatchObject({ Action: 'UPSERT', ResourceRecordSet: { Weight: 0, TTL: 30 } });
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.MessageAttributes!.severity!.StringValue).toBe('critical');
    const audit = await world.store.listAudit('chat');
    expect(audit[0]).toMatchObject({ kind: 'decision', status: 'applied', actor: 'steer53 (alarm chat-eu-west-1-5xx ALARM)' });
  });

  it('deployment: evaluates the service and records the event in its audit log, once per idempotency key', async () => {
    const t = testDeps(async () => world.runtime());
    const handler = createDeploymentHandler(t.deps);
    await handler(deploymentEvent(), context);
    await handler(deploymentEvent(), context);
    const deployments = (await items()).filter((i) => i.sk!.S!.includes('#deployment-'));
    expect(deployments).toHaveLength(1);
    expect(deployments[0]!.sk!.S).toBe('AUDIT#2026-01-01T00:10:30.000Z#deployment-deploy-42');
    expect(deployments[0]!.expiresAt!.N).toBe(String(Math.floor(Date.parse('2026-01-01T00:10:30Z') / 1000) + 90 * 24 * 3600));
  });

  it('malformed input leaves the table empty', async () => {
    const t = testDeps(async () => world.runtime());
    await createAlarmHandler(t.deps)({ source: 'aws.cloudwatch' }, context);
    await createScheduleHandler(t.deps)({ nonsense: true }, context);
    await createDeploymentHandler(t.deps)(deploymentEvent('Deployment Started', { service: 'nope' }), context);
    expect(await items()).toEqual([]);
    expect(t.errorLog).toHaveBeenCalledTimes(3);
  });
});
