/**
 * The capacity providers' IAM: derived from the config, scoped to the named endpoints, services
 * and groups, nothing without providers, and cdk-nag clean with each wildcard acknowledged.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addSteer53Stacks } from '../../lib/steer53Stacks.js';
import { capacityConfig, controllerAccount, fullDeployment, identityStatements, newApp } from './fixtures.js';

function controllerOf(options: { account?: string }) {
  const app = newApp({ bundle: false });
  const stacks = addSteer53Stacks(app, { config: capacityConfig, region: 'us-east-1', ...options });
  return { app, template: Template.fromStack(stacks.controller) };
}

const capacitySids = (template: Template) =>
  identityStatements(template)
    .map(({ statement }) => statement)
    .filter((s) => typeof s.Sid === 'string' && s.Sid.startsWith('Capacity'));

describe('Capacity provider permissions', () => {
  it('grants each provider exactly its named resources, and the reads that have no resource types on *', () => {
    const statements = capacitySids(controllerOf({ account: controllerAccount }).template);
    const partition = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
    expect(statements).toEqual([
      {
        Sid: 'CapacitySageMakerEndpoints',
        Effect: 'Allow',
        Action: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
        // SageMaker ARNs hold the endpoint name in lower case.
        Resource: partition(':sagemaker:us-east-1:111111111111:endpoint/gen-use1'),
      },
      {
        Sid: 'CapacitySageMakerScalableTargets',
        Effect: 'Allow',
        Action: 'application-autoscaling:RegisterScalableTarget',
        Resource: partition(':application-autoscaling:us-east-1:111111111111:scalable-target/*'),
        Condition: {
          StringEquals: {
            'application-autoscaling:service-namespace': 'sagemaker',
            'application-autoscaling:scalable-dimension': 'sagemaker:variant:DesiredInstanceCount',
          },
        },
      },
      {
        Sid: 'CapacityEcsServices',
        Effect: 'Allow',
        Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
        Resource: partition(':ecs:eu-west-1:111111111111:service/gpu/vllm'),
      },
      {
        Sid: 'CapacityEcsScalableTargets',
        Effect: 'Allow',
        Action: 'application-autoscaling:RegisterScalableTarget',
        Resource: partition(':application-autoscaling:eu-west-1:111111111111:scalable-target/*'),
        Condition: {
          StringEquals: { 'application-autoscaling:service-namespace': 'ecs', 'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount' },
        },
      },
      {
        Sid: 'CapacityReadScalableTargets',
        Effect: 'Allow',
        Action: ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingActivities'],
        Resource: '*',
      },
      {
        Sid: 'CapacityAutoScalingGroups',
        Effect: 'Allow',
        Action: 'autoscaling:UpdateAutoScalingGroup',
        Resource: partition(':autoscaling:eu-west-1:111111111111:autoScalingGroup:*:autoScalingGroupName/vllm-g5'),
      },
      {
        Sid: 'CapacityReadAutoScalingGroups',
        Effect: 'Allow',
        Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribePolicies', 'autoscaling:DescribeScalingActivities'],
        Resource: '*',
      },
    ]);
  });

  it("reads the generic provider's metric through its account role", () => {
    const roles = identityStatements(controllerOf({ account: controllerAccount }).template).find(
      ({ statement }) => statement.Sid === 'ReadMetricsInOtherAccounts',
    );
    expect(roles?.statement.Resource).toBe('arn:aws:iam::555555555555:role/steer53-reader');
  });

  it('grants nothing for capacity when no endpoint names a provider', () => {
    const app = newApp({ bundle: false });
    const template = Template.fromStack(addSteer53Stacks(app, fullDeployment).controller);
    expect(capacitySids(template)).toEqual([]);
    const actions = identityStatements(template).flatMap(({ statement }) => [statement.Action].flat());
    expect(actions.filter((a: string) => /^(sagemaker|ecs|autoscaling|application-autoscaling):/.test(a))).toEqual([]);
  });

  it.each([
    ['in a named account', { account: controllerAccount }],
    ['environment-agnostic, the account a token', {}],
  ])('leaves no cdk-nag finding unacknowledged, %s', (_name, options) => {
    const { app } = controllerOf(options);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))).toEqual([]);
  });
});
