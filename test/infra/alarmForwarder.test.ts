import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AlarmForwarder, AlarmForwarderStack } from '../../lib/alarmForwarder.js';
import { addSteer53Stacks } from '../../lib/steer53Stacks.js';
import { newApp, richConfig } from './fixtures.js';

const busArn = 'arn:aws:events:us-east-1:111111111111:event-bus/steer53';

describe('Class: AlarmForwarder', () => {
  it.each([
    [
      'a malformed bus ARN',
      { controllerEventBusArn: 'steer53', alarmNames: ['a'] },
      'controllerEventBusArn "steer53" is not an event bus ARN (arn:aws:events:region:account:event-bus/name).',
    ],
    [
      'nothing to forward',
      { controllerEventBusArn: busArn, alarmNames: [] },
      'An AlarmForwarder needs alarmNames, nativeDeploymentSources or healthAlarms: with none it does nothing.',
    ],
  ])('rejects %s', (_name, props, sentence) => {
    const stack = new Stack(new App(), 'Forwarder', { env: { region: 'eu-west-1' } });
    expect(() => new AlarmForwarder(stack, 'F', props)).toThrow(sentence);
  });

  it('forwards through one role that may put events only on the controller bus', () => {
    const stack = new AlarmForwarderStack(new App(), 'Forwarder', { env: { region: 'eu-west-1' }, controllerEventBusArn: busArn, alarmNames: ['a', 'b'] });
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::IAM::Role'))).toHaveLength(1);
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: [{ Action: 'events:PutEvents', Effect: 'Allow', Resource: busArn }] } });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: ['a', 'b', 'steer53-forwarder-eu-west-1-dlq-not-empty'] },
      },
    });
  });
});

describe('addSteer53Stacks', () => {
  it("creates the health-check alarm of a remote endpoint in its region's forwarder and deploys that first", () => {
    const stacks = addSteer53Stacks(newApp({ bundle: false }), {
      config: richConfig,
      region: 'us-east-1',
      account: '111111111111',
      managedRecords: [{ service: 'chat', setIdentifier: 'euw1', values: ['192.0.2.20'] }],
      staticStability: {
        healthChecks: [
          {
            service: 'chat',
            setIdentifier: 'euw1',
            metricAlarm: {
              namespace: 'AWS/SageMaker',
              metricName: 'Invocation5XXErrors',
              dimensions: { EndpointName: 'chat-euw1' },
              statistic: 'Sum',
              threshold: 50,
            },
          },
        ],
      },
    });
    const forwarder = stacks.forwarders.find((f) => f.region === 'eu-west-1')!;
    Template.fromStack(forwarder).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'steer53-health-chat-euw1',
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Statistic: 'Sum',
      Threshold: 50,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const controller = Template.fromStack(stacks.controller);
    controller.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: { Type: 'CLOUDWATCH_METRIC', AlarmIdentifier: { Name: 'steer53-health-chat-euw1', Region: 'eu-west-1' } },
    });
    expect(Object.keys(controller.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'steer53-health-chat-euw1' } }))).toHaveLength(0);
    expect(stacks.controller.dependencies).toContain(forwarder);
  });

  it('still rejects a percentile health-check alarm for a remote endpoint', () => {
    expect(() =>
      addSteer53Stacks(newApp({ bundle: false }), {
        config: richConfig,
        region: 'us-east-1',
        account: '111111111111',
        managedRecords: [{ service: 'chat', setIdentifier: 'euw1', values: ['192.0.2.20'] }],
        staticStability: {
          healthChecks: [
            { service: 'chat', setIdentifier: 'euw1', metricAlarm: { namespace: 'AWS/SageMaker', metricName: 'ModelLatency', statistic: 'p99', threshold: 1 } },
          ],
        },
      }),
    ).toThrow('staticStability.healthChecks[0].metricAlarm.statistic "p99" is a percentile;');
  });

  it('asks for the controller account when alarms live in another account', () => {
    expect(() => addSteer53Stacks(newApp({ bundle: false }), { config: richConfig, region: 'us-east-1' })).toThrow(
      "Alarms in account 333333333333 (ap-northeast-1) are forwarded to the controller's bus, whose ARN needs the controller's account: give it with -c account=123456789012.",
    );
  });
});
