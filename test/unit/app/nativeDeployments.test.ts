import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mapNativeDeployment, resolveNative, type NativeDeployment } from '../../../functions/app/nativeDeployments.js';
import type { RolloutState } from '../../../functions/core/types.js';
import { nativeDeploymentEventSchemas } from '../../../functions/events/nativeDeploymentEvents.js';
import { rawConfig, testConfig } from './runtimeFixtures.js';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/native-events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function withDetail(event: Record<string, unknown>, detail: Record<string, unknown>): Record<string, unknown> {
  return { ...event, detail: { ...(event.detail as Record<string, unknown>), ...detail } };
}

/** The test config with eu-west-1 deployed by every kind of native source the fixtures name. */
function mappedConfig() {
  const raw = structuredClone(rawConfig) as { services: { endpoints: Record<string, unknown>[] }[] };
  raw.services[0]!.endpoints[1]!.deploymentSources = {
    ecsServices: ['arn:aws:ecs:us-west-2:111122223333:service/default/servicetest'],
    codeDeployDeploymentGroups: [{ application: 'myApplication', deploymentGroup: 'myDeploymentGroup' }],
    sagemakerEndpoints: ['sample-endpoint'],
    codePipelines: ['myPipeline'],
  };
  return testConfig(raw);
}

describe('Native deployment events: the shapes AWS documents', () => {
  it.each([
    ['ecs-deployment-in-progress', 'ECS'],
    ['ecs-deployment-rollback-in-progress', 'ECS'],
    ['ecs-deployment-completed', 'ECS'],
    ['ecs-deployment-failed', 'ECS'],
    ['codedeploy-deployment-success', 'CODE_DEPLOY'],
    ['sagemaker-endpoint-deployment-updating', 'SAGEMAKER'],
    ['sagemaker-endpoint-deployment-capacity-update', 'SAGEMAKER'],
    ['codepipeline-execution-started', 'CODE_PIPELINE'],
    ['codepipeline-execution-succeeded', 'CODE_PIPELINE'],
    ['codepipeline-execution-failed', 'CODE_PIPELINE'],
  ] as const)('%s parses with its schema', (name, kind) => {
    expect(nativeDeploymentEventSchemas[kind].safeParse(fixture(name)).success).toBe(true);
  });
});

describe('Function: mapNativeDeployment', () => {
  const config = mappedConfig();
  const codeDeploy = fixture('codedeploy-deployment-success');
  it.each<[string, Record<string, unknown>, string, string]>([
    ['ECS in progress: started', fixture('ecs-deployment-in-progress'), 'started', 'ecs-svc/123'],
    ['ECS rollback in progress: a rollback started', fixture('ecs-deployment-rollback-in-progress'), 'rollback-started', 'ecs-svc/123'],
    ['ECS completed: succeeded', fixture('ecs-deployment-completed'), 'succeeded', 'ecs-svc/123'],
    ['ECS failed (circuit breaker): failed', fixture('ecs-deployment-failed'), 'failed', 'ecs-svc/123'],
    ['CodeDeploy START: started', withDetail(codeDeploy, { state: 'START' }), 'started', 'd-123456789'],
    ['CodeDeploy SUCCESS: succeeded', codeDeploy, 'succeeded', 'd-123456789'],
    ['CodeDeploy FAILURE: failed', withDetail(codeDeploy, { state: 'FAILURE' }), 'failed', 'd-123456789'],
    ['CodeDeploy STOP: failed', withDetail(codeDeploy, { state: 'STOP' }), 'failed', 'd-123456789'],
    [
      'SageMaker UPDATING a new config: started, as the pending config',
      fixture('sagemaker-endpoint-deployment-updating'),
      'started',
      'sample-endpoint-config-2',
    ],
    [
      'SageMaker IN_SERVICE: succeeded, as the config in service',
      withDetail(fixture('sagemaker-endpoint-deployment-capacity-update'), { EndpointStatus: 'IN_SERVICE' }),
      'succeeded',
      'sample-endpoint-config-1',
    ],
    [
      'SageMaker ROLLING_BACK: a rollback started',
      withDetail(fixture('sagemaker-endpoint-deployment-updating'), { EndpointStatus: 'ROLLING_BACK' }),
      'rollback-started',
      'sample-endpoint-config-2',
    ],
    [
      'SageMaker FAILED: failed',
      withDetail(fixture('sagemaker-endpoint-deployment-updating'), { EndpointStatus: 'FAILED' }),
      'failed',
      'sample-endpoint-config-2',
    ],
    ['CodePipeline STARTED: started', fixture('codepipeline-execution-started'), 'started', '12345678-1234-5678-abcd-12345678abcd'],
    ['CodePipeline SUCCEEDED: succeeded', fixture('codepipeline-execution-succeeded'), 'succeeded', '12345678-1234-5678-abcd-12345678abcd'],
    ['CodePipeline FAILED: failed', fixture('codepipeline-execution-failed'), 'failed', '12345678-1234-5678-abcd-12345678abcd'],
    [
      'CodePipeline STOPPED: failed',
      withDetail(fixture('codepipeline-execution-failed'), { state: 'STOPPED' }),
      'failed',
      '12345678-1234-5678-abcd-12345678abcd',
    ],
  ])('%s', (_name, event, phase, version) => {
    const mapping = mapNativeDeployment(event, config);
    expect(mapping?.kind).toBe('mapped');
    const deployments = (mapping as { deployments: readonly NativeDeployment[] }).deployments;
    expect(deployments).toEqual([expect.objectContaining({ service: 'chat', endpoint: 'eu-west-1', phase, version, at: Date.parse(event.time as string) })]);
  });

  it('names the pipeline execution of a CodePipeline event, and who deployed', () => {
    const mapping = mapNativeDeployment(fixture('codepipeline-execution-started'), config) as { deployments: readonly NativeDeployment[] };
    expect(mapping.deployments[0]).toMatchObject({ pipelineExecutionId: '12345678-1234-5678-abcd-12345678abcd', by: 'CodePipeline myPipeline' });
    const ecs = mapNativeDeployment(fixture('ecs-deployment-in-progress'), config) as { deployments: readonly NativeDeployment[] };
    expect(ecs.deployments[0]!.by).toBe('ECS service default/servicetest');
  });

  it('keeps events apart that AWS samples give the same id (different states)', () => {
    const keys = ['codepipeline-execution-started', 'codepipeline-execution-succeeded', 'codepipeline-execution-failed'].map(
      (name) => (mapNativeDeployment(fixture(name), config) as { deployments: readonly NativeDeployment[] }).deployments[0]!.idempotencyKey,
    );
    expect(new Set(keys).size).toBe(3);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a SageMaker capacity update (no pending config)',
      fixture('sagemaker-endpoint-deployment-capacity-update'),
      'UPDATING without a pending deployment is a capacity change, not a new version',
    ],
    ['CodeDeploy READY (blue/green waiting to reroute)', withDetail(codeDeploy, { state: 'READY' }), 'READY is not a deployment phase'],
    [
      'CodePipeline SUPERSEDED (a newer execution reports its own start)',
      withDetail(fixture('codepipeline-execution-failed'), { state: 'SUPERSEDED' }),
      'SUPERSEDED is not a deployment phase',
    ],
    [
      'an ECS event that is no deployment phase',
      withDetail(fixture('ecs-deployment-completed'), { eventName: 'SERVICE_STEADY_STATE' }),
      'SERVICE_STEADY_STATE is not a deployment phase',
    ],
  ])('%s is no deployment phase', (_name, event, why) => {
    expect(mapNativeDeployment(event, config)).toMatchObject({ kind: 'no-phase', why });
  });

  it('maps an event no endpoint names to nothing', () => {
    expect(mapNativeDeployment(fixture('ecs-deployment-completed'), testConfig())).toMatchObject({ kind: 'mapped', deployments: [] });
    expect(mapNativeDeployment(withDetail(fixture('codepipeline-execution-started'), { pipeline: 'otherPipeline' }), config)).toMatchObject({
      kind: 'mapped',
      deployments: [],
    });
  });

  it('reports a native event missing what steer53 reads, with the path', () => {
    const broken = withDetail(fixture('ecs-deployment-completed'), { deploymentId: 42 });
    expect(mapNativeDeployment(broken, config)).toMatchObject({ kind: 'malformed', problems: [{ path: 'detail.deploymentId' }] });
  });

  it('is not about events of other sources', () => {
    expect(mapNativeDeployment({ source: 'aws.ecs', 'detail-type': 'ECS Task State Change' }, config)).toBeUndefined();
    expect(mapNativeDeployment(null, config)).toBeUndefined();
  });
});

describe('Function: resolveNative', () => {
  const base: NativeDeployment = {
    kind: 'ECS',
    service: 'chat',
    endpoint: 'eu-west-1',
    phase: 'started',
    version: 'ecs-svc/2',
    at: 1,
    idempotencyKey: 'k',
    by: 'ECS service default/x',
    account: '111122223333',
    region: 'eu-west-1',
    status: 'S',
  };
  const rollout = (phase: RolloutState['phase'], version = 'ecs-svc/2'): RolloutState => ({
    version,
    phase,
    since: 0,
    lastEventAt: 0,
    step: 0,
    stepSince: 0,
    extensions: 0,
    preDeployFactor: 1,
  });
  it.each<[string, Partial<NativeDeployment>, RolloutState | undefined, string]>([
    ['a start with nothing in progress is a start', { phase: 'started' }, undefined, 'started ecs-svc/2'],
    ['a completion with nothing in progress is a success (out of order)', { phase: 'succeeded' }, undefined, 'succeeded ecs-svc/2'],
    [
      'a completion while the rollout waits for its rollback is the rollback',
      { phase: 'succeeded', version: 'ecs-svc/1' },
      rollout('rolling-back'),
      'rolled-back ecs-svc/1',
    ],
    [
      'a rollback starting fails the rollout in progress, whatever version it names',
      { phase: 'rollback-started', version: 'ecs-svc/9' },
      rollout('canary'),
      'failed ecs-svc/2',
    ],
    ['a failure is a failure', { phase: 'failed' }, rollout('deploying'), 'failed ecs-svc/2'],
    ['a start while waiting for a rollback is taken as the rollback', { phase: 'started', version: 'ecs-svc/1' }, rollout('rolling-back'), 'skip'],
    ['a rollback starting with nothing in progress is nothing', { phase: 'rollback-started' }, undefined, 'skip'],
    ['SageMaker IN_SERVICE with nothing in progress is nothing (capacity changes end so too)', { kind: 'SAGEMAKER', phase: 'succeeded' }, undefined, 'skip'],
    ['SageMaker IN_SERVICE during a deployment is its success', { kind: 'SAGEMAKER', phase: 'succeeded' }, rollout('deploying'), 'succeeded ecs-svc/2'],
  ])('%s', (_name, change, inProgress, expected) => {
    const resolved = resolveNative({ ...base, ...change }, inProgress);
    expect('signal' in resolved ? `${resolved.signal.phase} ${resolved.signal.version}` : 'skip').toBe(expected);
  });
});
