import { readFileSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { mapNativeDeployment } from '../../functions/app/nativeDeployments.js';
import { nativeDeploymentPatterns, type EventPatternJson } from '../../lib/eventRouting.js';
import { nativeDeploymentSourcesOf } from '../../lib/nativeDeploymentRouting.js';
import { TrafficController } from '../../lib/trafficController.js';
import { rawConfig, testConfig } from '../unit/app/runtimeFixtures.js';
import { newStack } from './fixtures.js';

function config() {
  const raw = structuredClone(rawConfig) as { services: { endpoints: Record<string, unknown>[] }[] };
  raw.services[0]!.endpoints[1]!.deploymentSources = {
    ecsServices: ['arn:aws:ecs:us-west-2:111122223333:service/default/servicetest', 'arn:aws:ecs:eu-west-1:111122223333:service/inference/chat'],
    codeDeployDeploymentGroups: [{ application: 'myApplication', deploymentGroup: 'myDeploymentGroup' }],
    sagemakerEndpoints: ['sample-endpoint'],
    codePipelines: ['myPipeline'],
  };
  return testConfig(raw);
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/native-events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** EventBridge's matching for the pattern subset the rules use: value lists, nested objects, arrays matching any element. */
function matches(pattern: EventPatternJson, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) return (Array.isArray(actual) ? actual : [actual]).some((v) => expected.includes(v));
    return typeof actual === 'object' && actual !== null && matches(expected as EventPatternJson, actual as Record<string, unknown>);
  });
}

describe('Function: nativeDeploymentSourcesOf', () => {
  it('turns each endpoint’s deploymentSources into sources, by the region the events are published in', () => {
    expect(nativeDeploymentSourcesOf(config())).toEqual([
      { service: 'chat', setIdentifier: 'eu-west-1', ecsServiceArns: ['arn:aws:ecs:eu-west-1:111122223333:service/inference/chat'], region: 'eu-west-1' },
      { service: 'chat', setIdentifier: 'eu-west-1', ecsServiceArns: ['arn:aws:ecs:us-west-2:111122223333:service/default/servicetest'], region: 'us-west-2' },
      {
        service: 'chat',
        setIdentifier: 'eu-west-1',
        codeDeployApplications: ['myApplication'],
        codeDeployDeploymentGroups: ['myDeploymentGroup'],
        region: 'eu-west-1',
      },
      { service: 'chat', setIdentifier: 'eu-west-1', sageMakerEndpointNames: ['sample-endpoint'], region: 'eu-west-1' },
      { service: 'chat', setIdentifier: 'eu-west-1', pipelineNames: ['myPipeline'], region: 'eu-west-1' },
    ]);
  });

  it('is empty for a config that names no deployment source', () => {
    expect(nativeDeploymentSourcesOf(testConfig())).toEqual([]);
  });

  it.each([
    'ecs-deployment-in-progress',
    'ecs-deployment-completed',
    'ecs-deployment-failed',
    'codedeploy-deployment-success',
    'sagemaker-endpoint-deployment-updating',
    'codepipeline-execution-started',
    'codepipeline-execution-failed',
  ])('what is routed is what is mapped: the rules match %s, and the handler maps it to the endpoint', (name) => {
    const event = fixture(name);
    const patterns = nativeDeploymentPatterns(nativeDeploymentSourcesOf(config()));
    expect(patterns.some((p) => matches(p, event))).toBe(true);
    expect(mapNativeDeployment(event, config())).toMatchObject({ kind: 'mapped', deployments: [{ service: 'chat', endpoint: 'eu-west-1' }] });
  });

  it('routes nothing of a service no endpoint names', () => {
    const event = { ...fixture('ecs-deployment-completed'), resources: ['arn:aws:ecs:us-west-2:111122223333:service/default/other'] };
    expect(nativeDeploymentPatterns(nativeDeploymentSourcesOf(config())).some((p) => matches(p, event))).toBe(false);
  });
});

describe('TrafficController: native deployment rules from the config', () => {
  it("routes each endpoint's deploymentSources: local ones on the default bus, other regions' through the controller's bus", () => {
    const stack = newStack({ bundle: false, region: 'eu-west-1' });
    new TrafficController(stack, 'Controller', { config: config() });
    const template = Template.fromStack(stack);
    // On the default bus (no EventBusName): the controller's own region.
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.absent(),
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        resources: ['arn:aws:ecs:eu-west-1:111122223333:service/inference/chat'],
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.absent(),
      EventPattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint Deployment State Change'], detail: { EndpointName: ['sample-endpoint'] } },
    });
    // Forwarded from us-west-2 onto the controller's bus.
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        resources: ['arn:aws:ecs:us-west-2:111122223333:service/default/servicetest'],
      },
    });
  });
});
