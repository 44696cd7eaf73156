/**
 * Shared fixtures for the CDK tests: validated configs, an app built the way bin/app.ts builds
 * it, and helpers to read templates. Bundling runs the real local esbuild (milliseconds per
 * function); tests that only check props validation skip it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { validateConfig } from '../../functions/config/loadConfig.js';
import type { Config, ConfigInput } from '../../functions/core/config.js';
import type { Steer53StacksOptions } from '../../lib/steer53Stacks.js';

/** Two services in two zones, endpoints in three regions, alarms local, remote and in another account. */
export const richConfigInput: ConfigInput = {
  version: 1,
  services: [
    {
      name: 'chat',
      dnsName: 'Chat.Example.com.',
      recordType: 'A',
      hostedZoneId: 'Z0123456789CHAT',
      endpoints: [
        {
          setIdentifier: 'use1',
          region: 'us-east-1',
          baselineWeight: 100,
          signals: [
            { name: 'p99', source: 'sagemaker-model-latency', endpointName: 'chat-use1', trip: 2000, clear: 1500 },
            { name: '5xx', source: 'alarm', alarm: { name: 'chat-use1-5xx' }, severity: 'fail' },
          ],
        },
        {
          setIdentifier: 'euw1',
          region: 'eu-west-1',
          baselineWeight: 100,
          signals: [
            {
              name: 'p99',
              source: 'sagemaker-model-latency',
              endpointName: 'chat-euw1',
              trip: 2000,
              clear: 1500,
              accountRoleArn: 'arn:aws:iam::222222222222:role/steer53-metrics-reader',
            },
            { name: '5xx', source: 'alarm', alarm: { name: 'chat-euw1-5xx' }, severity: 'fail' },
          ],
        },
        {
          setIdentifier: 'apne1',
          region: 'ap-northeast-1',
          baselineWeight: 50,
          signals: [
            { name: 'gpu', source: 'sagemaker-gpu-utilization', endpointName: 'chat-apne1', gpuCount: 8, trip: 95, clear: 80 },
            { name: '5xx', source: 'alarm', alarm: { arn: 'arn:aws:cloudwatch:ap-northeast-1:333333333333:alarm:chat-apne1-5xx' }, severity: 'fail' },
          ],
        },
      ],
    },
    {
      name: 'embed',
      dnsName: '*.embed.example.org',
      recordType: 'CNAME',
      hostedZoneId: 'Z0123456789EMBED',
      endpoints: [
        {
          setIdentifier: 'a',
          region: 'us-east-1',
          baselineWeight: 10,
          signals: [{ name: 'ttft', source: 'time-to-first-token', namespace: 'vLLM', trip: 800, clear: 500 }],
        },
        {
          setIdentifier: 'b',
          region: 'us-east-1',
          baselineWeight: 10,
          signals: [{ name: 'ttft', source: 'time-to-first-token', namespace: 'vLLM', trip: 800, clear: 500 }],
        },
      ],
    },
  ],
};

export const richConfig: Config = validateConfig(richConfigInput, 'richConfigInput');

/** The smallest valid config: one service, one endpoint, one metric signal. */
export const minimalConfig: Config = validateConfig(
  {
    services: [
      {
        name: 'solo',
        dnsName: 'solo.example.com',
        hostedZoneId: 'Z0123456789SOLO',
        endpoints: [
          {
            setIdentifier: 'one',
            region: 'us-east-1',
            baselineWeight: 1,
            signals: [{ name: 'p99', source: 'sagemaker-model-latency', endpointName: 'solo', trip: 2, clear: 1 }],
          },
        ],
      },
    ],
  },
  'minimalConfig',
);

/** One service whose four endpoints each name a capacity provider of another kind, in two regions. */
export const capacityConfig: Config = validateConfig(
  {
    services: [
      {
        name: 'gen',
        dnsName: 'gen.example.com',
        hostedZoneId: 'Z0123456789GEN',
        endpoints: [
          ['sm', 'us-east-1', { kind: 'sagemaker-variant', endpointName: 'Gen-USE1' }],
          ['ecs', 'eu-west-1', { kind: 'ecs-service', cluster: 'gpu', service: 'vllm' }],
          ['asg', 'eu-west-1', { kind: 'ec2-asg', autoScalingGroupName: 'vllm-g5' }],
          [
            'eks',
            'us-east-1',
            {
              kind: 'generic',
              inService: {
                namespace: 'Karpenter',
                metricName: 'ReadyGpuNodes',
                statistic: 'Maximum',
                accountRoleArn: 'arn:aws:iam::555555555555:role/steer53-reader',
              },
            },
          ],
        ].map(([setIdentifier, region, provider]) => ({
          setIdentifier,
          region,
          baselineWeight: 10,
          capacity: { warmRps: 50, scaling: { provider, maxInstances: 8 } },
          signals: [{ name: 'ttft', source: 'time-to-first-token', namespace: 'vLLM', trip: 800, clear: 500 }],
        })),
      },
    ],
  },
  'capacityConfig',
);

export const controllerAccount = '111111111111';

/**
 * A deployment that uses every option of the construct: subscriptions, publishers by account and
 * by principal, native deployment sources (local and remote), managed records of each kind, and
 * health checks on a created and on a named alarm; alarms local, in another region and in another
 * account, so it has both kinds of forwarder.
 */
export const fullDeployment: Steer53StacksOptions = {
  config: richConfig,
  region: 'us-east-1',
  account: controllerAccount,
  notifications: { emails: ['oncall@example.com'], httpsUrls: ['https://hooks.example.com/steer53'] },
  deploymentEventPublishers: { accountIds: ['444444444444'], principalArns: ['arn:aws:iam::111111111111:role/release-pipeline'] },
  nativeDeploymentSources: [
    { service: 'chat', setIdentifier: 'use1', ecsServiceArns: ['arn:aws:ecs:us-east-1:111111111111:service/inference/chat'] },
    { service: 'chat', setIdentifier: 'use1', codeDeployApplications: ['chat-app'], codeDeployDeploymentGroups: ['chat-use1'] },
    { service: 'chat', setIdentifier: 'euw1', sageMakerEndpointNames: ['chat-euw1'] },
    { service: 'embed', setIdentifier: 'a', pipelineNames: ['embed-release'] },
  ],
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
};

/** An app whose assembly goes to a fresh temp directory. */
export function newApp(options: { bundle?: boolean } = {}): App {
  return new App({
    outdir: mkdtempSync(join(tmpdir(), 'steer53-cdk-')),
    // An empty bundling list skips asset bundling: for tests about props alone.
    context: options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {},
  });
}

/** A stack in the controller's account and region, for construct-level tests. */
export function newStack(options: { bundle?: boolean; region?: string } = {}): Stack {
  return new Stack(newApp(options), 'Test', { env: { account: controllerAccount, region: options.region ?? 'us-east-1' } });
}

type Json = Record<string, any>;

/** Every IAM policy statement in a template (identity policies), with the logical id of its policy. */
export function identityStatements(template: Template): Array<{ policy: string; statement: Json }> {
  const out: Array<{ policy: string; statement: Json }> = [];
  for (const [policy, resource] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const statement of (resource as Json).Properties.PolicyDocument.Statement as Json[]) out.push({ policy, statement });
  }
  for (const [role, resource] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const inline of ((resource as Json).Properties.Policies ?? []) as Json[]) {
      for (const statement of inline.PolicyDocument.Statement as Json[]) out.push({ policy: role, statement });
    }
  }
  return out;
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
