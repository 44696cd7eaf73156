import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AlarmForwarder, AlarmForwarderStack } from '../../lib/alarmForwarder.js';
import { addSteer53Stacks } from '../../lib/steer53Stacks.js';
import { newApp, richConfig } from './fixtures.js';

const busArn = 'arn:aws:events:us-east-1:111111111111:event-bus/steer53';

describe('Class: AlarmForwarder', () => {
  it.each([
    ['a malformed bus ARN', { controllerEventBusArn: 'steer53', alarmNames: ['a'] }, 'controllerEventBusArn "steer53" is not an event bus ARN (arn:aws:events:region:account:event-bus/name).'],
    ['nothing to forward', { controllerEventBusArn: busArn, alarmNames: [] }, 'An AlarmForwarder needs alarmNames or nativeDeploymentSources: with neither it forwards nothing.'],
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
      EventPattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: ['a', 'b', 'steer53-forwarder-eu-west-1-dlq-not-empty'] } },
    });
  });
});

describe('addSteer53Stacks', () => {
  it('asks for the controller account when alarms live in another account', () => {
    expect(() => addSteer53Stacks(newApp({ bundle: false }), { config: richConfig, region: 'us-east-1' })).toThrow(
      "Alarms in account 333333333333 (ap-northeast-1) are forwarded to the controller's bus, whose ARN needs the controller's account: give it with -c account=123456789012.",
    );
  });
});
