/**
 * Props validation: every invalid or conflicting combination is one exact sentence, all reported
 * at once, before any resource exists. Bundling is skipped: these tests are about props alone.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { TrafficController } from '../../lib/trafficController.js';
import { TrafficControllerPropsError, type TrafficControllerProps } from '../../lib/trafficControllerProps.js';
import { minimalConfig, newStack, richConfig } from './fixtures.js';

function build(props: Partial<TrafficControllerProps>, options: { region?: string } = {}): void {
  new TrafficController(newStack({ bundle: false, ...options }), 'Controller', { config: richConfig, ...props });
}

describe('Class: TrafficController', () => {
  describe('props validation', () => {
    it.each<[string, Partial<TrafficControllerProps>, string]>([
      ['a malformed email', { notifications: { emails: ['oncall'] } }, 'notifications.emails[0] "oncall" is not an email address.'],
      [
        'a plain-HTTP webhook',
        { notifications: { httpsUrls: ['http://hooks.example.com'] } },
        'notifications.httpsUrls[0] "http://hooks.example.com" must be an https:// URL (SNS delivers over TLS only here).',
      ],
      ['the default bus as name', { name: 'default' }, 'name "default" is the account\'s default event bus; steer53 needs a custom bus of its own.'],
      ['a name with spaces', { name: 'my controller' }, 'name "my controller" must be 1–64 letters, digits, dashes or underscores, starting with a letter.'],
      [
        'a short account id',
        { deploymentEventPublishers: { accountIds: ['1234'] } },
        'deploymentEventPublishers.accountIds[0] "1234" is not a 12-digit AWS account id.',
      ],
      [
        'a non-IAM principal',
        { deploymentEventPublishers: { principalArns: ['arn:aws:s3:::bucket'] } },
        'deploymentEventPublishers.principalArns[0] "arn:aws:s3:::bucket" is not an IAM role or user ARN.',
      ],
      ['a bad forwarder account', { forwarderAccountIds: ['x'] }, 'forwarderAccountIds[0] "x" is not a 12-digit AWS account id.'],
      [
        'an unknown service',
        { nativeDeploymentSources: [{ service: 'nope', setIdentifier: 'use1', pipelineNames: ['p'] }] },
        'nativeDeploymentSources[0] names service "nope", which is not in the config.',
      ],
      [
        'an unknown endpoint',
        { nativeDeploymentSources: [{ service: 'chat', setIdentifier: 'nope', pipelineNames: ['p'] }] },
        'nativeDeploymentSources[0] names endpoint "nope" of service "chat", which has no such endpoint.',
      ],
      [
        'a mapping without sources',
        { nativeDeploymentSources: [{ service: 'chat', setIdentifier: 'use1' }] },
        'nativeDeploymentSources[0] maps no deployment source: give ecsServiceArns, codeDeployApplications, sageMakerEndpointNames or pipelineNames.',
      ],
      [
        'a cluster ARN for a service ARN',
        { nativeDeploymentSources: [{ service: 'chat', setIdentifier: 'use1', ecsServiceArns: ['arn:aws:ecs:us-east-1:111111111111:cluster/inference'] }] },
        'nativeDeploymentSources[0].ecsServiceArns[0] "arn:aws:ecs:us-east-1:111111111111:cluster/inference" is not an ECS service ARN (arn:aws:ecs:region:account:service/cluster/service).',
      ],
      [
        'deployment groups without applications',
        { nativeDeploymentSources: [{ service: 'chat', setIdentifier: 'use1', pipelineNames: ['p'], codeDeployDeploymentGroups: ['g'] }] },
        'nativeDeploymentSources[0].codeDeployDeploymentGroups needs codeDeployApplications (a deployment group belongs to an application).',
      ],
      [
        'a bad source region',
        { nativeDeploymentSources: [{ service: 'chat', setIdentifier: 'use1', pipelineNames: ['p'], region: 'europe' }] },
        'nativeDeploymentSources[0].region "europe" is not an AWS region.',
      ],
      [
        'a record with values and alias',
        {
          managedRecords: [
            { service: 'chat', setIdentifier: 'use1', values: ['192.0.2.1'], aliasTarget: { dnsName: 'x.elb.amazonaws.com', hostedZoneId: 'Z1' } },
          ],
        },
        'managedRecords[0] needs exactly one of values or aliasTarget.',
      ],
      [
        'a record with neither',
        { managedRecords: [{ service: 'chat', setIdentifier: 'use1' }] },
        'managedRecords[0] needs exactly one of values or aliasTarget.',
      ],
      [
        'a TTL on an alias',
        {
          managedRecords: [
            { service: 'chat', setIdentifier: 'use1', aliasTarget: { dnsName: 'x.elb.amazonaws.com', hostedZoneId: 'Z1' }, ttl: Duration.seconds(30) },
          ],
        },
        "managedRecords[0].ttl cannot be set with aliasTarget (an alias record takes its target's TTL).",
      ],
      [
        'a record listed twice',
        {
          managedRecords: [
            { service: 'chat', setIdentifier: 'use1', values: ['192.0.2.1'] },
            { service: 'chat', setIdentifier: 'use1', values: ['192.0.2.2'] },
          ],
        },
        'managedRecords[1] repeats the record of chat/use1.',
      ],
      [
        'two values for a CNAME',
        { managedRecords: [{ service: 'embed', setIdentifier: 'a', values: ['a.example.org', 'b.example.org'] }] },
        'managedRecords[0].values holds 2 values, but a CNAME record holds exactly one.',
      ],
      [
        'an unknown managed record',
        { managedRecords: [{ service: 'chat', setIdentifier: 'x', values: ['192.0.2.1'] }] },
        'managedRecords[0] names endpoint "x" of service "chat", which has no such endpoint.',
      ],
      [
        'a health check on an adopted record',
        { staticStability: { healthChecks: [{ service: 'chat', setIdentifier: 'use1', alarmName: 'a' }] } },
        'staticStability.healthChecks[0] is for chat/use1, whose record is adopted; health checks are attached only to managedRecords (list the record there).',
      ],
      [
        'a health check with both alarm sources',
        {
          managedRecords: [{ service: 'chat', setIdentifier: 'use1', values: ['192.0.2.1'] }],
          staticStability: {
            healthChecks: [
              { service: 'chat', setIdentifier: 'use1', alarmName: 'a', metricAlarm: { namespace: 'n', metricName: 'm', statistic: 'Sum', threshold: 1 } },
            ],
          },
        },
        'staticStability.healthChecks[0] needs exactly one of alarmName, metricAlarm or http.',
      ],
      [
        'an HTTP health check Route 53 would refuse',
        {
          managedRecords: [{ service: 'chat', setIdentifier: 'use1', values: ['192.0.2.1'] }],
          staticStability: {
            healthChecks: [
              {
                service: 'chat',
                setIdentifier: 'use1',
                http: { fqdn: 'not a host', path: 'health', port: 70000, requestIntervalSeconds: 15 as 10, failureThreshold: 11 },
              },
            ],
          },
        },
        [
          'staticStability.healthChecks[0].http.fqdn "not a host" is not a host name.',
          'staticStability.healthChecks[0].http.path "health" must start with / and be at most 255 characters.',
          'staticStability.healthChecks[0].http.port 70000 must be an integer from 1 to 65535.',
          "staticStability.healthChecks[0].http.requestIntervalSeconds 15 must be 10 or 30 (Route 53's two intervals).",
          'staticStability.healthChecks[0].http.failureThreshold 11 must be an integer from 1 to 10.',
        ].join('\n  - '),
      ],
      [
        'a health check on a percentile alarm',
        {
          managedRecords: [{ service: 'chat', setIdentifier: 'use1', values: ['192.0.2.1'] }],
          staticStability: {
            healthChecks: [
              {
                service: 'chat',
                setIdentifier: 'use1',
                metricAlarm: { namespace: 'AWS/SageMaker', metricName: 'ModelLatency', statistic: 'p99', threshold: 2e6 },
              },
            ],
          },
        },
        'staticStability.healthChecks[0].metricAlarm.statistic "p99" is a percentile; Route 53 health checks cannot use alarms on percentile statistics (use Average, Maximum, Minimum, Sum or SampleCount).',
      ],
      [
        'an unknown statistic',
        {
          managedRecords: [{ service: 'chat', setIdentifier: 'use1', values: ['192.0.2.1'] }],
          staticStability: {
            healthChecks: [{ service: 'chat', setIdentifier: 'use1', metricAlarm: { namespace: 'n', metricName: 'm', statistic: 'Median', threshold: 1 } }],
          },
        },
        'staticStability.healthChecks[0].metricAlarm.statistic "Median" must be one of Average, Maximum, Minimum, Sum or SampleCount.',
      ],
      [
        'an alarm created away from its endpoint',
        {
          managedRecords: [{ service: 'chat', setIdentifier: 'euw1', values: ['192.0.2.1'] }],
          staticStability: {
            healthChecks: [{ service: 'chat', setIdentifier: 'euw1', metricAlarm: { namespace: 'n', metricName: 'm', statistic: 'Sum', threshold: 1 } }],
          },
        },
        'staticStability.healthChecks[0].metricAlarm would create the alarm in us-east-1, but endpoint chat/euw1 is in eu-west-1; create the alarm in eu-west-1 and give its alarmName.',
      ],
      [
        'a sub-minute schedule',
        { evaluationInterval: Duration.seconds(30) },
        'evaluationInterval must be a whole number of minutes, at least 1 (EventBridge schedules have one-minute resolution).',
      ],
      [
        'a fractional-minute schedule',
        { evaluationInterval: Duration.seconds(90) },
        'evaluationInterval must be a whole number of minutes, at least 1 (EventBridge schedules have one-minute resolution).',
      ],
      ['too little memory', { memorySize: 64 }, 'memorySize 64 must be a whole number of MB from 128 to 10240.'],
    ])('rejects %s', (_name, props, sentence) => {
      expect(() => build(props)).toThrow(sentence);
    });

    it('reports every problem at once, one sentence each', () => {
      let error: unknown;
      try {
        build({ notifications: { emails: ['x'] }, memorySize: 1, name: 'default' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TrafficControllerPropsError);
      expect((error as TrafficControllerPropsError).problems).toEqual([
        'notifications.emails[0] "x" is not an email address.',
        'name "default" is the account\'s default event bus; steer53 needs a custom bus of its own.',
        'memorySize 1 must be a whole number of MB from 128 to 10240.',
      ]);
      expect((error as Error).message).toBe(
        'TrafficController props are not valid:\n  - notifications.emails[0] "x" is not an email address.\n  - name "default" is the account\'s default event bus; steer53 needs a custom bus of its own.\n  - memorySize 1 must be a whole number of MB from 128 to 10240.',
      );
    });

    it('needs a known region when alarms must be routed by region', () => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Agnostic');
      expect(() => new TrafficController(stack, 'Controller', { config: richConfig })).toThrow(
        "The stack needs an explicit region (env.region): alarm and deployment events are published in their own region, and routing them depends on whether that is the controller's.",
      );
    });

    it('accepts an environment-agnostic stack when nothing is routed by region', () => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Agnostic');
      expect(() => new TrafficController(stack, 'Controller', { config: minimalConfig })).not.toThrow();
    });

    it('accepts valid props without creating anything twice', () => {
      expect(() =>
        build({
          name: 'steer53-prod',
          notifications: { emails: ['oncall@example.com'], httpsUrls: ['https://hooks.example.com/x'] },
          evaluationInterval: Duration.minutes(2),
          memorySize: 1024,
        }),
      ).not.toThrow();
    });
  });
});
