/**
 * What the capacity providers may call, derived from the config (`capacity.scaling` of each
 * endpoint): nothing when no endpoint names a provider, and otherwise the named resources only.
 *
 * Where IAM allows no narrower resource (Service Authorization Reference):
 * - Application Auto Scaling's Describe* actions and EC2 Auto Scaling's Describe* actions have no
 *   resource types: they are granted on `*` (read-only).
 * - RegisterScalableTarget acts on a `scalable-target/<id>` whose id AWS generates, so it cannot be
 *   named from the config; it is granted on the scalable targets of the endpoints' regions, narrowed
 *   by its condition keys `application-autoscaling:service-namespace` and `:scalable-dimension` to
 *   SageMaker variant counts or ECS service counts. Which variant or service is not a condition
 *   key; but Application Auto Scaling validates that the caller may change the target resource
 *   itself ("Permissions validation for API calls on target resources", Application Auto Scaling
 *   user guide), and that is granted here on the named endpoints and services only.
 * - An Auto Scaling group's ARN holds a generated id before its name: the group is named exactly,
 *   the id is `*`.
 * steer53 only updates scalable targets that exist (it never registers a new one), so the
 * service-linked role Application Auto Scaling creates on a first registration already exists:
 * no `iam:CreateServiceLinkedRole`, and no `iam:PassRole` (no RoleARN is passed).
 * The generic provider needs nothing more: its metric is read with cloudwatch:GetMetricData and
 * its event put on the controller's bus, both granted already.
 */
import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CapacityProviderConfig, Config } from '../functions/core/config.js';

interface Placed<K extends CapacityProviderConfig['kind']> {
  readonly region: string;
  readonly provider: Extract<CapacityProviderConfig, { kind: K }>;
}

/** The providers the config names, by kind, each with its endpoint's region. */
export function capacityProviders(config: Config) {
  const all = config.services.flatMap((s) =>
    s.endpoints.flatMap((e) => (e.capacity.scaling ? [{ region: e.region, provider: e.capacity.scaling.provider }] : [])),
  );
  const ofKind = <K extends CapacityProviderConfig['kind']>(kind: K) => all.filter((p): p is Placed<K> => p.provider.kind === kind);
  return { sageMaker: ofKind('sagemaker-variant'), ecs: ofKind('ecs-service'), asg: ofKind('ec2-asg'), generic: ofKind('generic') };
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** The identity-policy statements the capacity providers need (none without providers). */
export function capacityStatements(config: Config, partition: string, account: string): iam.PolicyStatement[] {
  const { sageMaker, ecs, asg } = capacityProviders(config);
  const statements: iam.PolicyStatement[] = [];
  const add = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    statements.push(new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }));
  const arn = (service: string, region: string, resource: string) => `arn:${partition}:${service}:${region}:${account}:${resource}`;
  const scalableTargets = (placed: readonly { region: string }[], namespace: string, dimension: string) => ({
    resources: sorted(placed.map((p) => arn('application-autoscaling', p.region, 'scalable-target/*'))),
    conditions: { StringEquals: { 'application-autoscaling:service-namespace': namespace, 'application-autoscaling:scalable-dimension': dimension } },
  });
  if (sageMaker.length > 0) {
    // SageMaker ARNs hold the endpoint name in lower case, whatever its case at creation.
    const endpoints = sorted(sageMaker.map((p) => arn('sagemaker', p.region, `endpoint/${p.provider.endpointName.toLowerCase()}`)));
    add('CapacitySageMakerEndpoints', ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'], endpoints);
    const targets = scalableTargets(sageMaker, 'sagemaker', 'sagemaker:variant:DesiredInstanceCount');
    add('CapacitySageMakerScalableTargets', ['application-autoscaling:RegisterScalableTarget'], targets.resources, targets.conditions);
  }
  if (ecs.length > 0) {
    const services = sorted(ecs.map((p) => arn('ecs', p.region, `service/${p.provider.cluster}/${p.provider.service}`)));
    add('CapacityEcsServices', ['ecs:DescribeServices', 'ecs:UpdateService'], services);
    const targets = scalableTargets(ecs, 'ecs', 'ecs:service:DesiredCount');
    add('CapacityEcsScalableTargets', ['application-autoscaling:RegisterScalableTarget'], targets.resources, targets.conditions);
  }
  if (sageMaker.length + ecs.length > 0)
    add('CapacityReadScalableTargets', ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingActivities'], ['*']);
  if (asg.length > 0) {
    const groups = sorted(asg.map((p) => arn('autoscaling', p.region, `autoScalingGroup:*:autoScalingGroupName/${p.provider.autoScalingGroupName}`)));
    add('CapacityAutoScalingGroups', ['autoscaling:UpdateAutoScalingGroup'], groups);
    add(
      'CapacityReadAutoScalingGroups',
      ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribePolicies', 'autoscaling:DescribeScalingActivities'],
      ['*'],
    );
  }
  return statements;
}

/** The wildcard resources of `capacityStatements` other than `*`, for their cdk-nag acknowledgements. */
export function capacityWildcardResources(config: Config, partition: string, account: string): string[] {
  return capacityStatements(config, partition, account)
    .flatMap((s) => s.resources)
    .filter((r) => r !== '*' && r.includes('*'));
}

/**
 * A resource as cdk-nag writes it in a finding's id: the resolved value flattened, a `Ref` as
 * `<AWS::Partition>` (cdk-nag's utils/flatten-cfn-reference). Only the forms these ARNs take: a
 * string, a Ref, and a Fn::Join of them.
 */
export function nagResourceText(stack: Stack, resource: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const n = node as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
    if (n.Ref !== undefined) return `<${n.Ref}>`;
    if (n['Fn::Join']) return n['Fn::Join'][1].map(visit).join(n['Fn::Join'][0]);
    return JSON.stringify(node);
  };
  return visit(stack.resolve(resource));
}
