import { beforeEach, describe, expect, it } from 'vitest';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import type { MetadataBearer } from '@smithy/types';
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand as DescribeTargetActivitiesCommand,
  RegisterScalableTargetCommand,
  type ScalableTarget,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand as DescribeGroupActivitiesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeEndpointCommand, SageMakerClient, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { AwsCapacityProvider } from '../../../functions/adapters/aws/awsCapacityProvider.js';
import { CapacityClients } from '../../../functions/adapters/aws/capacityClients.js';
import { CloudWatchClients } from '../../../functions/adapters/aws/cloudWatchClients.js';
import { CloudWatchMetrics } from '../../../functions/adapters/aws/cloudWatchMetrics.js';
import { AwsCallError, CapacityProviderError } from '../../../functions/adapters/aws/errors.js';
import { EventBridgePublisher } from '../../../functions/adapters/aws/eventBridgePublisher.js';
import { failedActivityProblem, PROBLEM_WINDOW_MS } from '../../../functions/adapters/aws/scalableTargets.js';
import { ManualClock } from '../../../functions/adapters/memory/index.js';
import { scalingSchema, type ScalingConfig } from '../../../functions/core/config.js';
import { capacityRequestedDetailSchema } from '../../../functions/events/controllerEvents.js';
import type { CapacityAsk, CapacityTarget } from '../../../functions/ports/capacity.js';
import { testConfig } from '../app/runtimeFixtures.js';

/** 2026-01-01T00:10:00Z. */
const T = Date.UTC(2026, 0, 1, 0, 10);
const MINUTE = 60_000;
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
type Region = (typeof REGIONS)[number];
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
// biome-ignore lint/suspicious/noExplicitAny: one stub type for the clients of five APIs
type Stub = AwsStub<object, MetadataBearer, any>;

/** One client per API and region, each with a mock of its own, so a call's region is checked by which mock saw it. */
function regional<C extends object>(make: (region: string) => C) {
  const clients = Object.fromEntries(REGIONS.map((r) => [r, make(r)])) as Record<Region, C>;
  const mocks = Object.fromEntries(REGIONS.map((r) => [r, mockClient(clients[r] as never)])) as Record<Region, Stub>;
  return { clients, mocks };
}

let sageMaker: ReturnType<typeof regional<SageMakerClient>>;
let scaling: ReturnType<typeof regional<ApplicationAutoScalingClient>>;
let ecs: ReturnType<typeof regional<ECSClient>>;
let asg: ReturnType<typeof regional<AutoScalingClient>>;
let cloudwatch: Stub;
let eventbridge: Stub;
let provider: AwsCapacityProvider;

beforeEach(() => {
  sageMaker = regional((region) => new SageMakerClient({ region, credentials }));
  scaling = regional((region) => new ApplicationAutoScalingClient({ region, credentials }));
  ecs = regional((region) => new ECSClient({ region, credentials }));
  asg = regional((region) => new AutoScalingClient({ region, credentials }));
  const cw = new CloudWatchClient({ region: 'eu-west-1', credentials });
  cloudwatch = mockClient(cw as never);
  const events = new EventBridgeClient({ region: 'us-east-1', credentials });
  eventbridge = mockClient(events as never);
  provider = new AwsCapacityProvider({
    clients: new CapacityClients({
      sageMaker: (_sdk, r) => sageMaker.clients[r as Region],
      applicationAutoScaling: (_sdk, r) => scaling.clients[r as Region],
      ecs: (_sdk, r) => ecs.clients[r as Region],
      autoScaling: (_sdk, r) => asg.clients[r as Region],
    }),
    metrics: new CloudWatchMetrics({ clients: new CloudWatchClients({ createClient: () => cw }) }),
    events: new EventBridgePublisher({ client: events, eventBusName: 'steer53' }),
    clock: new ManualClock(T),
    services: testConfig().services,
  });
});

function target(provider: unknown, region: Region = 'eu-west-1', extra: Partial<Record<keyof ScalingConfig, unknown>> = {}): CapacityTarget {
  return { service: 'chat', endpoint: region === 'eu-west-1' ? 'euw1' : 'use1', region, scaling: scalingSchema.parse({ provider, maxInstances: 8, ...extra }) };
}

const ask = (desired: number, direction: 'out' | 'in' = 'out'): CapacityAsk => ({
  desired,
  direction,
  decisionId: 'd-7',
  reason: 'euw1 takes use1’s share: 6 instances',
});
const inputsOf = (mock: Stub, command: unknown) => mock.commandCalls(command as never).map((c) => c.args[0].input);
const failure = (name: string, message: string, status = 400) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

const sm = { kind: 'sagemaker-variant', endpointName: 'chat-euw1', variantName: 'AllTraffic' };
const smRef = {
  ServiceNamespace: 'sagemaker',
  ResourceIds: ['endpoint/chat-euw1/variant/AllTraffic'],
  ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
};
const smTarget = (min: number, max: number): ScalableTarget => ({
  ServiceNamespace: 'sagemaker',
  ResourceId: 'endpoint/chat-euw1/variant/AllTraffic',
  ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
  MinCapacity: min,
  MaxCapacity: max,
  RoleARN:
    'arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
  CreationTime: new Date(T - 86_400_000),
});

function endpointIs(status: string, current: number, desired: number, failureReason?: string) {
  sageMaker.mocks['eu-west-1'].on(DescribeEndpointCommand).resolves({
    EndpointName: 'chat-euw1',
    EndpointStatus: status,
    ...(failureReason ? { FailureReason: failureReason } : {}),
    ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: current, DesiredInstanceCount: desired }],
  } as never);
}

describe('Class: AwsCapacityProvider, SageMaker variants', () => {
  it('reads CurrentInstanceCount and DesiredInstanceCount when the variant has no scalable target', async () => {
    endpointIs('InService', 2, 2);
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    expect(await provider.read(target(sm))).toEqual({ inService: 2, desired: 2 });
    expect(inputsOf(sageMaker.mocks['eu-west-1'], DescribeEndpointCommand)).toEqual([{ EndpointName: 'chat-euw1' }]);
    expect(inputsOf(scaling.mocks['eu-west-1'], DescribeScalableTargetsCommand)).toEqual([smRef]);
    expect(scaling.mocks['eu-west-1'].commandCalls(DescribeTargetActivitiesCommand as never)).toHaveLength(0);
  });

  it("reads the scalable target's MinCapacity as desired, and its newest failed activity of the last quarter hour as the problem", async () => {
    endpointIs('InService', 3, 3);
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [smTarget(2, 4)] });
    const message = 'Failed to set desired instance count to 6. Reason: The account-level service limit ml.g5.12xlarge for endpoint usage is 4 Instances.';
    scaling.mocks['eu-west-1'].on(DescribeTargetActivitiesCommand).resolves({
      ScalingActivities: [
        { ...activity('Failed', T - 5 * MINUTE), StatusMessage: message },
        { ...activity('Successful', T - 40 * MINUTE), StatusMessage: 'Successfully set desired instance count to 3.' },
      ],
    } as never);
    expect(await provider.read(target(sm))).toEqual({ inService: 3, desired: 2, problem: message });
    expect(inputsOf(scaling.mocks['eu-west-1'], DescribeTargetActivitiesCommand)).toEqual([
      {
        ServiceNamespace: 'sagemaker',
        ResourceId: 'endpoint/chat-euw1/variant/AllTraffic',
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        MaxResults: 20,
      },
    ]);
  });

  it.each([
    ['InService', 3, 3, 3],
    ['Updating', 4, 6, 4],
    // A blue/green update runs the new fleet beside the old: only one of them serves.
    ['Updating', 6, 3, 3],
    ['Creating', 0, 2, 0],
    ['RollingBack', 2, 2, 0],
    ['Deleting', 2, 2, 0],
  ])('counts a %s endpoint with %i current and %i desired as %i in service', async (status, current, desired, inService) => {
    endpointIs(status, current, desired);
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    expect((await provider.read(target(sm))).inService).toBe(inService);
  });

  it('says why a failed endpoint serves nothing', async () => {
    endpointIs('Failed', 0, 2, 'Image for model container could not be pulled.');
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    expect(await provider.read(target(sm))).toEqual({
      inService: 0,
      desired: 2,
      problem: 'endpoint is Failed: Image for model container could not be pulled.',
    });
  });

  it('scales out by raising the floor, and the ceiling only when it is below the floor', async () => {
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [smTarget(2, 4)] });
    await provider.request(target(sm), ask(6));
    await provider.request(target(sm), ask(3));
    const fields = {
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/chat-euw1/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    };
    expect(inputsOf(scaling.mocks['eu-west-1'], RegisterScalableTargetCommand)).toEqual([
      { ...fields, MinCapacity: 6, MaxCapacity: 6 },
      { ...fields, MinCapacity: 3 },
    ]);
    expect(sageMaker.mocks['eu-west-1'].calls()).toHaveLength(0);
  });

  it('gives back by lowering the floor, leaving the ceiling; the same ask again sends nothing', async () => {
    scaling.mocks['eu-west-1']
      .on(DescribeScalableTargetsCommand)
      .resolvesOnce({ ScalableTargets: [smTarget(6, 6)] })
      .resolves({ ScalableTargets: [smTarget(2, 6)] });
    await provider.request(target(sm), ask(2, 'in'));
    await provider.request(target(sm), ask(2, 'in'));
    expect(inputsOf(scaling.mocks['eu-west-1'], RegisterScalableTargetCommand)).toEqual([
      {
        ServiceNamespace: 'sagemaker',
        ResourceId: 'endpoint/chat-euw1/variant/AllTraffic',
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        MinCapacity: 2,
      },
    ]);
  });

  it('sets the desired instance count of a variant without a scalable target, once', async () => {
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    endpointIs('InService', 2, 2);
    await provider.request(target(sm), ask(5));
    endpointIs('Updating', 2, 5);
    await provider.request(target(sm), ask(5));
    expect(inputsOf(sageMaker.mocks['eu-west-1'], UpdateEndpointWeightsAndCapacitiesCommand)).toEqual([
      { EndpointName: 'chat-euw1', DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredInstanceCount: 5 }] },
    ]);
  });

  it('names endpoint, provider and resource when SageMaker fails, and says whether a retry may help', async () => {
    sageMaker.mocks['eu-west-1']
      .on(DescribeEndpointCommand)
      .rejectsOnce(failure('ValidationException', 'Could not find endpoint "chat-euw1".'))
      .rejectsOnce(failure('ThrottlingException', 'Rate exceeded', 400));
    const missing = await provider.read(target(sm)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AwsCallError);
    expect(missing).toMatchObject({
      operation: 'sagemaker:DescribeEndpoint',
      retryable: false,
      message:
        'sagemaker:DescribeEndpoint on SageMaker endpoint chat-euw1, variant AllTraffic in eu-west-1 (endpoint "euw1" of service "chat", provider sagemaker-variant) failed: ValidationException: Could not find endpoint "chat-euw1".',
    });
    await expect(provider.read(target(sm))).rejects.toMatchObject({ awsErrorName: 'ThrottlingException', retryable: true });
  });

  it('refuses a variant the endpoint does not have, naming the ones it has', async () => {
    endpointIs('InService', 2, 2);
    const error = await provider.read(target({ ...sm, variantName: 'Canary' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityProviderError);
    expect(error).toMatchObject({
      code: 'RESOURCE_NOT_FOUND',
      message:
        'capacity of SageMaker endpoint chat-euw1, variant Canary in eu-west-1 (endpoint "euw1" of service "chat", provider sagemaker-variant): the endpoint has no variant "Canary" (it has: AllTraffic)',
    });
  });

  it("calls the endpoint's own region: a target in us-east-1 uses the us-east-1 clients only", async () => {
    sageMaker.mocks['us-east-1'].on(DescribeEndpointCommand).resolves({
      EndpointStatus: 'InService',
      ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 4, DesiredInstanceCount: 4 }],
    } as never);
    scaling.mocks['us-east-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    expect(await provider.read(target({ ...sm, endpointName: 'chat-use1' }, 'us-east-1'))).toEqual({ inService: 4, desired: 4 });
    expect(inputsOf(sageMaker.mocks['us-east-1'], DescribeEndpointCommand)).toEqual([{ EndpointName: 'chat-use1' }]);
    expect([sageMaker.mocks['eu-west-1'].calls(), scaling.mocks['eu-west-1'].calls()].flat()).toHaveLength(0);
  });
});

function activity(StatusCode: string, at: number) {
  return { ActivityId: `a-${at}`, StatusCode, StartTime: new Date(at), Description: `activity at ${new Date(at).toISOString()}`, Cause: 'steer53' };
}

describe('Function: failedActivityProblem', () => {
  it.each([
    ['a failure 5 minutes ago', [{ ...activity('Failed', T - 5 * MINUTE), StatusMessage: 'InsufficientInstanceCapacity' }], 'InsufficientInstanceCapacity'],
    ['a failure older than the window', [{ ...activity('Failed', T - PROBLEM_WINDOW_MS - 1), StatusMessage: 'old' }], undefined],
    ['a failure followed by a success', [activity('Failed', T - 6 * MINUTE), activity('Successful', T - 2 * MINUTE)], undefined],
    ['a success followed by a failure', [activity('Successful', T - 6 * MINUTE), { ...activity('Failed', T - 2 * MINUTE), StatusMessage: 'quota' }], 'quota'],
    [
      'a failure with a run in progress after it',
      [{ ...activity('Failed', T - 6 * MINUTE), StatusMessage: 'quota' }, activity('InProgress', T - MINUTE)],
      'quota',
    ],
    ['a failure without a message', [activity('Failed', T - MINUTE)], `activity at ${new Date(T - MINUTE).toISOString()}`],
    ['nothing', [], undefined],
  ])('%s', (_name, activities, problem) => {
    expect(failedActivityProblem(activities, T)).toBe(problem);
  });
});

const svc = { kind: 'ecs-service', cluster: 'gpu', service: 'vllm' };
const ecsFields = { ServiceNamespace: 'ecs', ResourceId: 'service/gpu/vllm', ScalableDimension: 'ecs:service:DesiredCount' };

function serviceIs(running: number, desired: number, status = 'ACTIVE') {
  ecs.mocks['eu-west-1']
    .on(DescribeServicesCommand)
    .resolves({ services: [{ serviceName: 'vllm', status, runningCount: running, desiredCount: desired }], failures: [] });
}

describe('Class: AwsCapacityProvider, ECS services', () => {
  it('reads running and desired counts of a service without a scalable target', async () => {
    serviceIs(3, 4);
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    expect(await provider.read(target(svc))).toEqual({ inService: 3, desired: 4 });
    expect(inputsOf(ecs.mocks['eu-west-1'], DescribeServicesCommand)).toEqual([{ cluster: 'gpu', services: ['vllm'] }]);
    expect(inputsOf(scaling.mocks['eu-west-1'], DescribeScalableTargetsCommand)).toEqual([
      { ServiceNamespace: 'ecs', ResourceIds: ['service/gpu/vllm'], ScalableDimension: 'ecs:service:DesiredCount' },
    ]);
  });

  it("reads the scalable target's MinCapacity and its failed activity", async () => {
    serviceIs(2, 5);
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [{ ...ecsFields, MinCapacity: 5, MaxCapacity: 10 }] } as never);
    scaling.mocks['eu-west-1']
      .on(DescribeTargetActivitiesCommand)
      .resolves({ ScalingActivities: [{ ...activity('Failed', T - 3 * MINUTE), StatusMessage: 'Failed to set desired count to 5.' }] } as never);
    expect(await provider.read(target(svc))).toEqual({ inService: 2, desired: 5, problem: 'Failed to set desired count to 5.' });
    expect(inputsOf(scaling.mocks['eu-west-1'], DescribeTargetActivitiesCommand)).toEqual([{ ...ecsFields, MaxResults: 20 }]);
  });

  it('scales out and gives back through the scalable target', async () => {
    scaling.mocks['eu-west-1']
      .on(DescribeScalableTargetsCommand)
      .resolvesOnce({ ScalableTargets: [{ ...ecsFields, MinCapacity: 2, MaxCapacity: 4 }] } as never)
      .resolves({ ScalableTargets: [{ ...ecsFields, MinCapacity: 6, MaxCapacity: 6 }] } as never);
    await provider.request(target(svc), ask(6));
    await provider.request(target(svc), ask(2, 'in'));
    expect(inputsOf(scaling.mocks['eu-west-1'], RegisterScalableTargetCommand)).toEqual([
      { ...ecsFields, MinCapacity: 6, MaxCapacity: 6 },
      { ...ecsFields, MinCapacity: 2 },
    ]);
    expect(ecs.mocks['eu-west-1'].calls()).toHaveLength(0);
  });

  it('sets the desired count of a service without a scalable target, once', async () => {
    scaling.mocks['eu-west-1'].on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    ecs.mocks['eu-west-1']
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [{ serviceName: 'vllm', status: 'ACTIVE', runningCount: 2, desiredCount: 2 }] })
      .resolves({ services: [{ serviceName: 'vllm', status: 'ACTIVE', runningCount: 2, desiredCount: 6 }] });
    await provider.request(target(svc), ask(6));
    await provider.request(target(svc), ask(6));
    expect(inputsOf(ecs.mocks['eu-west-1'], UpdateServiceCommand)).toEqual([{ cluster: 'gpu', service: 'vllm', desiredCount: 6 }]);
  });

  it.each([
    ['missing', { services: [], failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:service/gpu/vllm', reason: 'MISSING' }] }, 'MISSING'],
    ['deleted', { services: [{ serviceName: 'vllm', status: 'INACTIVE', runningCount: 0, desiredCount: 0 }], failures: [] }, 'INACTIVE'],
  ])('refuses a %s service, naming it', async (_name, answer, why) => {
    ecs.mocks['eu-west-1'].on(DescribeServicesCommand).resolves(answer);
    const error = await provider.read(target(svc)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityProviderError);
    expect((error as Error).message).toBe(
      `capacity of ECS service vllm in cluster gpu in eu-west-1 (endpoint "euw1" of service "chat", provider ecs-service): the service does not exist in the cluster (${why})`,
    );
    expect(scaling.mocks['eu-west-1'].calls()).toHaveLength(0);
  });
});

const group = { kind: 'ec2-asg', autoScalingGroupName: 'vllm-g5' };

function groupIs(fields: { MinSize: number; MaxSize: number; DesiredCapacity: number }, instances: [string, string][] = []) {
  asg.mocks['eu-west-1'].on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'vllm-g5',
        ...fields,
        Instances: instances.map(([LifecycleState, HealthStatus], i) => ({ InstanceId: `i-${i}`, LifecycleState, HealthStatus })),
      },
    ],
  } as never);
}

describe('Class: AwsCapacityProvider, EC2 Auto Scaling groups', () => {
  it('counts InService and Healthy instances, reads MinSize as desired, and the newest failed activity as the problem', async () => {
    groupIs({ MinSize: 2, MaxSize: 8, DesiredCapacity: 5 }, [
      ['InService', 'Healthy'],
      ['InService', 'Healthy'],
      ['InService', 'Unhealthy'],
      ['Pending', 'Healthy'],
      ['Terminating', 'Healthy'],
    ]);
    const message =
      'We currently do not have sufficient g5.12xlarge capacity in the Availability Zone you requested (eu-west-1a). Launching EC2 instance failed.';
    asg.mocks['eu-west-1']
      .on(DescribeGroupActivitiesCommand)
      .resolves({ Activities: [{ ...activity('Failed', T - 4 * MINUTE), StatusMessage: message, AutoScalingGroupName: 'vllm-g5' }] } as never);
    expect(await provider.read(target(group))).toEqual({ inService: 2, desired: 2, problem: message });
    expect(inputsOf(asg.mocks['eu-west-1'], DescribeAutoScalingGroupsCommand)).toEqual([{ AutoScalingGroupNames: ['vllm-g5'] }]);
    expect(inputsOf(asg.mocks['eu-west-1'], DescribeGroupActivitiesCommand)).toEqual([{ AutoScalingGroupName: 'vllm-g5', MaxRecords: 20 }]);
  });

  it.each([
    ['raises floor, desired and ceiling', { MinSize: 2, MaxSize: 4, DesiredCapacity: 3 }, 6, { MinSize: 6, DesiredCapacity: 6, MaxSize: 6 }],
    ['keeps a desired count above the new floor', { MinSize: 2, MaxSize: 8, DesiredCapacity: 5 }, 3, { MinSize: 3, DesiredCapacity: 5 }],
  ])('scales out: %s', async (_name, fields, desired, update) => {
    groupIs(fields);
    await provider.request(target(group), ask(desired));
    expect(inputsOf(asg.mocks['eu-west-1'], UpdateAutoScalingGroupCommand)).toEqual([{ AutoScalingGroupName: 'vllm-g5', ...update }]);
  });

  it.each([
    ['without scaling policies, lowers the desired count the floor held', 6, [], { MinSize: 2, DesiredCapacity: 2 }, 1],
    ['with scaling policies, lowers the floor only', 6, [{ PolicyName: 'target-60-gpu' }], { MinSize: 2 }, 1],
    ['leaves a desired count above the floor, someone else set it', 8, [], { MinSize: 2 }, 0],
  ])('gives back: %s', async (_name, desiredCapacity, policies, update, policyReads) => {
    groupIs({ MinSize: 6, MaxSize: 8, DesiredCapacity: desiredCapacity });
    asg.mocks['eu-west-1'].on(DescribePoliciesCommand).resolves({ ScalingPolicies: policies });
    await provider.request(target(group), ask(2, 'in'));
    expect(inputsOf(asg.mocks['eu-west-1'], UpdateAutoScalingGroupCommand)).toEqual([{ AutoScalingGroupName: 'vllm-g5', ...update }]);
    expect(inputsOf(asg.mocks['eu-west-1'], DescribePoliciesCommand)).toEqual(Array(policyReads).fill({ AutoScalingGroupName: 'vllm-g5', MaxRecords: 1 }));
  });

  it('sends nothing when the group already holds what is asked', async () => {
    groupIs({ MinSize: 6, MaxSize: 8, DesiredCapacity: 7 });
    await provider.request(target(group), ask(6));
    expect(asg.mocks['eu-west-1'].commandCalls(UpdateAutoScalingGroupCommand as never)).toHaveLength(0);
  });

  it('refuses a group that does not exist, and translates an SDK failure', async () => {
    asg.mocks['eu-west-1'].on(DescribeAutoScalingGroupsCommand).resolvesOnce({ AutoScalingGroups: [] });
    await expect(provider.read(target(group))).rejects.toThrow(
      'capacity of Auto Scaling group vllm-g5 in eu-west-1 (endpoint "euw1" of service "chat", provider ec2-asg): no Auto Scaling group has this name',
    );
    groupIs({ MinSize: 2, MaxSize: 4, DesiredCapacity: 2 });
    asg.mocks['eu-west-1']
      .on(UpdateAutoScalingGroupCommand)
      .rejects(failure('ValidationError', 'Desired capacity:9 must be between the specified min size:9 and max size:8'));
    const error = await provider.request(target(group), ask(9)).catch((e: unknown) => e);
    expect(error).toMatchObject({ operation: 'autoscaling:UpdateAutoScalingGroup', awsErrorName: 'ValidationError', retryable: false });
  });
});

const generic = {
  kind: 'generic',
  inService: { namespace: 'Karpenter', metricName: 'ReadyGpuNodes', dimensions: { NodePool: 'gpu' }, statistic: 'Maximum' },
};

describe('Class: AwsCapacityProvider, the generic provider', () => {
  it('reads the newest complete datapoint of the metric, counting down a fraction', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'm0', Timestamps: [new Date(T - 2 * MINUTE), new Date(T - 3 * MINUTE)], Values: [4.6, 3], StatusCode: 'Complete' }],
    } as never);
    expect(await provider.read(target(generic))).toEqual({ inService: 4, desired: null });
    expect(inputsOf(cloudwatch, GetMetricDataCommand)).toEqual([
      {
        MetricDataQueries: [
          {
            Id: 'm0',
            MetricStat: {
              Metric: { Namespace: 'Karpenter', MetricName: 'ReadyGpuNodes', Dimensions: [{ Name: 'NodePool', Value: 'gpu' }] },
              Period: 60,
              Stat: 'Maximum',
            },
            ReturnData: true,
          },
        ],
        StartTime: new Date(T - 5 * MINUTE),
        EndTime: new Date(T),
        ScanBy: 'TimestampAscending',
      },
    ]);
  });

  it('refuses a metric without a datapoint, saying what to publish', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', Timestamps: [], Values: [], StatusCode: 'Complete' }] } as never);
    const error = await provider.read(target(generic)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'NO_DATAPOINT',
      message:
        'capacity of metric Karpenter/ReadyGpuNodes (Maximum) in eu-west-1 (endpoint "euw1" of service "chat", provider generic): no datapoint in the last 5 periods of 60 s: publish the instances in service to this metric',
    });
  });

  it('refuses a metric CloudWatch cannot read', async () => {
    cloudwatch.on(GetMetricDataCommand).rejects(failure('AccessDenied', 'not authorized to perform cloudwatch:GetMetricData', 403));
    await expect(provider.read(target(generic))).rejects.toMatchObject({ code: 'METRIC_UNREADABLE' });
  });

  it('asks by putting a Capacity Requested event, as the documented schema says, with the count in service when asked', async () => {
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'm0', Timestamps: [new Date(T - 2 * MINUTE)], Values: [3], StatusCode: 'Complete' }] } as never);
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    await provider.request(target(generic), ask(6));
    const [input] = inputsOf(eventbridge, PutEventsCommand) as { Entries: { Detail: string }[] }[];
    const detail = {
      service: 'chat',
      dnsName: 'chat.example.com',
      recordType: 'A',
      hostedZoneId: 'Z0123456789EXAMPLE',
      at: '2026-01-01T00:10:00.000Z',
      trigger: 'capacity request',
      decisionId: 'd-7',
      endpoint: 'euw1',
      region: 'eu-west-1',
      provider: 'generic',
      direction: 'out',
      desired: 6,
      inService: 3,
      reason: 'euw1 takes use1’s share: 6 instances',
    };
    expect(input).toEqual({
      Entries: [{ Source: 'steer53', DetailType: 'Capacity Requested', Detail: JSON.stringify(detail), EventBusName: 'steer53', Time: new Date(T) }],
    });
    expect(capacityRequestedDetailSchema.parse(JSON.parse(input!.Entries[0]!.Detail))).toEqual(detail);
  });

  it('takes the trigger, the time and the count in service from the ask when the use case gives them, and reads no metric', async () => {
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    await provider.request(target(generic), { ...ask(6), trigger: 'alarm chat-use1-5xx', inService: 4, at: T - MINUTE });
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
    const [input] = inputsOf(eventbridge, PutEventsCommand) as { Entries: { Detail: string }[] }[];
    expect(JSON.parse(input!.Entries[0]!.Detail)).toMatchObject({
      trigger: 'alarm chat-use1-5xx',
      inService: 4,
      at: new Date(T - MINUTE).toISOString(),
      desired: 6,
    });
  });

  it('fails the request when the bus rejects the event', async () => {
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'm0', Timestamps: [new Date(T - 2 * MINUTE)], Values: [3], StatusCode: 'Complete' }] } as never);
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const error = await provider.request(target(generic), ask(6)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityProviderError);
    expect(error).toMatchObject({
      code: 'EVENT_NOT_PUT',
      message:
        'capacity of metric Karpenter/ReadyGpuNodes (Maximum) in eu-west-1 (endpoint "euw1" of service "chat", provider generic): the Capacity Requested event was not put: EventBridge bus steer53 rejected 1 event(s): Capacity Requested: InternalFailure try again',
    });
  });

  it('refuses a service the config does not have', async () => {
    await expect(provider.request({ ...target(generic), service: 'nope' }, ask(6))).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    expect(eventbridge.calls()).toHaveLength(0);
  });
});
