/**
 * The CloudFormation logical ids of the resources that hold state. A changed logical id makes
 * CloudFormation create a new resource and delete the old one: a new, empty state table (the old
 * one retained but no longer used), a new notification topic without its subscriptions, a new bus
 * without the pipelines' rules, new health checks whose ids the records and the operators' runbooks
 * no longer name. Refactoring the construct must keep every one of these; change this list only
 * with a migration note for existing deployments.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { addSteer53Stacks, type Steer53Stacks } from '../../lib/steer53Stacks.js';
import { controllerAccount, newApp, richConfig } from './fixtures.js';

const StatefulTypes = [
  'AWS::DynamoDB::Table',
  'AWS::KMS::Key',
  'AWS::SNS::Topic',
  'AWS::Events::EventBus',
  'AWS::Route53::HealthCheck',
  'AWS::Route53::RecordSet',
  'AWS::SQS::Queue',
  'AWS::Logs::LogGroup',
] as const;

function statefulIds(template: Template): Record<string, string[]> {
  const ids: Record<string, string[]> = {};
  for (const type of StatefulTypes) {
    const found = Object.keys(template.findResources(type)).sort();
    if (found.length > 0) ids[type] = found;
  }
  return ids;
}

let stacks: Steer53Stacks;

beforeAll(() => {
  // Logical ids do not depend on the bundles: skip bundling.
  const app = newApp({ bundle: false });
  stacks = addSteer53Stacks(app, {
    config: richConfig,
    region: 'us-east-1',
    account: controllerAccount,
    notifications: { emails: ['oncall@example.com'] },
    managedRecords: [
      { service: 'chat', setIdentifier: 'use1', values: ['192.0.2.10'] },
      { service: 'chat', setIdentifier: 'euw1', aliasTarget: { dnsName: 'chat-euw1.elb.amazonaws.com', hostedZoneId: 'Z32O12XQLNTSW2' } },
      { service: 'embed', setIdentifier: 'a', values: ['a.embed-origin.example.org'], ttl: Duration.seconds(30) },
    ],
    staticStability: {
      healthChecks: [
        {
          service: 'chat',
          setIdentifier: 'use1',
          metricAlarm: {
            namespace: 'AWS/SageMaker',
            metricName: 'Invocation5XXErrors',
            dimensions: { EndpointName: 'chat-use1' },
            statistic: 'Sum',
            threshold: 50,
          },
        },
        { service: 'chat', setIdentifier: 'euw1', alarmName: 'chat-euw1-5xx' },
      ],
    },
  });
});

describe('Logical ids of stateful resources', () => {
  it('keeps those of the controller stack', () => {
    expect(statefulIds(Template.fromStack(stacks.controller))).toEqual({
      'AWS::DynamoDB::Table': ['ControllerState81621A42'],
      'AWS::KMS::Key': ['ControllerNotificationKeyDE1198B9'],
      'AWS::SNS::Topic': ['ControllerNotificationsFD132E6A'],
      'AWS::Events::EventBus': ['ControllerBus513A8164'],
      'AWS::Route53::HealthCheck': ['ControllerHealthCheck04EA2B8F5', 'ControllerHealthCheck17E433171'],
      'AWS::Route53::RecordSet': ['ControllerRecord0CEBB5265', 'ControllerRecord1BD78C905', 'ControllerRecord2D34C8A3A'],
      'AWS::SQS::Queue': [
        'ControllerAlarmFailureDlqF5E1C6B7',
        'ControllerAlarmQueue79C89E2A',
        'ControllerDeliveryDlqC7102D06',
        'ControllerDeploymentFailureDlq5A10F5E4',
        'ControllerNotificationDlq1256F3D9',
        'ControllerScheduleFailureDlq812A31D9',
      ],
      'AWS::Logs::LogGroup': ['ControllerAlarmLogsD8E83467', 'ControllerDeploymentLogs9D1BBEBB', 'ControllerScheduleLogs15E6F029'],
    });
  });

  it("keeps the forwarders' dead-letter queue and alarm topic", () => {
    for (const stack of stacks.forwarders)
      expect(statefulIds(Template.fromStack(stack)), stack.stackName).toEqual({
        'AWS::KMS::Key': ['ForwarderAlarmKeyFB3AFC79'],
        'AWS::SNS::Topic': ['ForwarderAlarmTopic74C76DAE'],
        'AWS::SQS::Queue': ['ForwarderDeliveryDlq7BA51892'],
      });
  });

  it("keeps the state table's and the records' replacement-free properties", () => {
    const controller = Template.fromStack(stacks.controller);
    // Changing a key schema, a table name or a record's name, type or set identifier replaces the resource too.
    controller.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TableName: Match.absent(),
    });
    expect(
      (Object.values(controller.findResources('AWS::Route53::RecordSet')) as any[]).map(
        (r) => `${r.Properties.Name} ${r.Properties.Type} ${r.Properties.SetIdentifier}`,
      ),
    ).toEqual(['chat.example.com. A use1', 'chat.example.com. A euw1', '*.embed.example.org. CNAME a']);
  });
});
