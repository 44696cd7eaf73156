/**
 * Who may publish to the topics that alarms notify. A topic policy replaces SNS's default policy,
 * so every service that publishes must be named in it (or its notifications are refused), and
 * each is named only for the controller's own alarms and rules (or any account could use the
 * service to post to the on-call topic). The forwarders' alarms notify a topic of their own.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MetricNames, rejectMalformed, type HandlerDeps } from '../../functions/handlers/edge.js';
import { ControllerMetrics, MalformedEventsService } from '../../lib/controllerMetrics.js';
import { addSteer53Stacks, type Steer53Stacks } from '../../lib/steer53Stacks.js';
import { asArray, controllerAccount, fullDeployment, identityStatements, newApp } from './fixtures.js';

type Json = Record<string, any>;

let stacks: Steer53Stacks;
let controller: Template;

beforeAll(() => {
  stacks = addSteer53Stacks(newApp({ bundle: false }), fullDeployment);
  controller = Template.fromStack(stacks.controller);
});

const resources = (template: Template, type: string) => Object.entries(template.findResources(type)) as [string, Json][];
const topicPolicyStatements = (template: Template): Json[] =>
  resources(template, 'AWS::SNS::TopicPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
const alarmArn = (region: string, account: string, name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:cloudwatch:${region}:${account}:alarm:${name}`]],
});
const tlsOnly = (topicId: string) => ({
  Sid: 'AllowPublishThroughSSLOnly',
  Effect: 'Deny',
  Principal: '*',
  Action: 'sns:Publish',
  Resource: { Ref: topicId },
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe("The controller's topic", () => {
  const topicId = () => controller.getResourceId('AWS::SNS::Topic');
  const notifyingAlarms = () => resources(controller, 'AWS::CloudWatch::Alarm').filter(([, a]) => (a.Properties.AlarmActions ?? []).length > 0);

  it('lets CloudWatch publish for exactly the alarms that notify it, from this account, EventBridge for exactly the rules that target it, and nothing else', () => {
    const alarmNames = notifyingAlarms().map(([, a]) => a.Properties.AlarmName as string);
    expect(alarmNames).toHaveLength(10);
    const rulesTargetingTopic = resources(controller, 'AWS::Events::Rule').filter(([, r]) => r.Properties.Targets.some((t: Json) => t.Arn?.Ref === topicId()));
    expect(rulesTargetingTopic).toHaveLength(1);
    expect(topicPolicyStatements(controller)).toEqual([
      tlsOnly(topicId()),
      {
        Sid: 'RuleMayNotifyForwarderAlarmsToTopic',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId() },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [rulesTargetingTopic[0]![0], 'Arn'] } } },
      },
      {
        Sid: 'AlarmsOfThisControllerMayNotify',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId() },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: { 'aws:SourceArn': alarmNames.map((name) => alarmArn('us-east-1', controllerAccount, name)) },
        },
      },
    ]);
  });

  it('names every alarm it notifies in the policy and creates each after the policy', () => {
    const policyId = controller.getResourceId('AWS::SNS::TopicPolicy');
    for (const [id, alarm] of notifyingAlarms()) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId() }]);
      expect(alarm.Properties.OKActions, id).toEqual([{ Ref: topicId() }]);
      expect(alarm.DependsOn, id).toContain(policyId);
    }
    // The health-check alarm backs Route 53, not the on-call topic.
    const healthAlarm = resources(controller, 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties.AlarmName === 'steer53-health-chat-use1')!;
    expect(healthAlarm[1].Properties.AlarmActions).toBeUndefined();
  });

  it('lets only the three handler roles publish through an identity policy, and to this topic only', () => {
    const publishing = identityStatements(controller).filter(({ statement }) =>
      asArray<string>(statement.Action).some((a) => a === '*' || a === 'sns:*' || a === 'sns:Publish'),
    );
    expect(publishing.map(({ policy, statement }) => [policy, statement])).toEqual([
      [expect.stringMatching(/^ControllerControllerPolicy/), { Sid: 'Notify', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: topicId() } }],
    ]);
  });

  it('lets CloudWatch and EventBridge use its key to publish, and nothing in the key policy lets another account in', () => {
    const [, key] = resources(controller, 'AWS::KMS::Key')[0]!;
    const statements = key.Properties.KeyPolicy.Statement as Json[];
    expect(statements.map((s) => s.Principal)).toEqual([
      { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${controllerAccount}:root`]] } },
      { Service: 'cloudwatch.amazonaws.com' },
      { Service: 'events.amazonaws.com' },
    ]);
    for (const statement of statements.slice(1)) expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });
});

describe('The MalformedEvents alarm', () => {
  it('fires on one malformed event in a minute and notifies when it fires and clears', () => {
    const topicRef = { Ref: controller.getResourceId('AWS::SNS::Topic') };
    controller.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'steer53-malformed-events',
      Namespace: 'steer53',
      MetricName: 'MalformedEvents',
      Dimensions: [{ Name: 'service', Value: 'none' }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    });
  });

  it('reads the metric the handlers count when they reject a malformed event', () => {
    const counts: Array<[string, string]> = [];
    const deps = { logger: { error: () => undefined }, counter: { count: (metric: string, service: string) => counts.push([metric, service]) } };
    rejectMalformed(deps as unknown as HandlerDeps, 'alarm event', []);
    expect(counts).toEqual([[ControllerMetrics.malformedEvents, MalformedEventsService]]);
    expect(MetricNames.MALFORMED_EVENTS).toBe(ControllerMetrics.malformedEvents);
  });
});

describe("A forwarder's alarm topic", () => {
  it.each(['Steer53-forwarder-eu-west-1', 'Steer53-forwarder-ap-northeast-1-333333333333'])(
    '%s: the dead-letter alarm notifies a topic of its own region, which CloudWatch may publish to for that alarm only',
    (stackName) => {
      const stack = stacks.forwarders.find((s) => s.stackName === stackName)!;
      const template = Template.fromStack(stack);
      const topicId = template.getResourceId('AWS::SNS::Topic');
      const alarmName = `steer53-forwarder-${stack.region}-dlq-not-empty`;
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: alarmName, AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] });
      expect(topicPolicyStatements(template)).toEqual([
        tlsOnly(topicId),
        {
          Sid: 'AlarmsOfThisControllerMayNotify',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: topicId },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnEquals: { 'aws:SourceArn': [alarmArn(stack.region, stack.account, alarmName)] },
          },
        },
      ]);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [template.getResourceId('AWS::KMS::Key'), 'Arn'] } });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      // The controller's subscribers hear of it directly.
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topicId } });
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'https',
        Endpoint: 'https://hooks.example.com/steer53',
        TopicArn: { Ref: topicId },
      });
      expect(Object.values(template.toJSON().Outputs as Json).map((o: Json) => o.Value)).toContainEqual({ Ref: topicId });
    },
  );
});
