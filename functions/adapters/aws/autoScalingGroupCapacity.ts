/**
 * An EC2 Auto Scaling group as a capacity provider. Instances in service are the group's
 * instances InService and Healthy; the count steer53 sets is the group's MinSize, the floor its
 * scaling policies cannot go below, so they cannot scale the extra back in under steer53.
 *
 * - More (the floor rises to N): MinSize N, DesiredCapacity max(N, what it is), MaxSize raised to
 *   N when below it (never lowered).
 * - Back (the floor falls to N): MinSize N. DesiredCapacity is lowered to N too only when the
 *   group has no scaling policies (nothing else would ever bring it in) and its DesiredCapacity
 *   sits on the old floor (steer53's floor is what holds it there): a desired count above the
 *   floor was set by someone else, and is theirs to change. With policies, the group's own
 *   policies scale in, as they do whenever the floor allows.
 */
import type { AutoScalingGroup, UpdateAutoScalingGroupCommandInput } from '@aws-sdk/client-auto-scaling';
import type { CapacityReading } from '../../core/types.js';
import type { CapacityTarget } from '../../ports/capacity.js';
import type { Clock } from '../../ports/clock.js';
import type { CapacityClients } from './capacityClients.js';
import { CapacityProblemCodes, CapacityProviderError, type CapacityContext } from './errors.js';
import { capacityCall, failedActivityProblem } from './scalableTargets.js';

type AsgProvider = { readonly kind: 'ec2-asg'; readonly autoScalingGroupName: string };

export class AutoScalingGroupCapacity {
  readonly #clients: CapacityClients;
  readonly #clock: Clock;

  constructor(clients: CapacityClients, clock: Clock) {
    this.#clients = clients;
    this.#clock = clock;
  }

  async read(target: CapacityTarget, provider: AsgProvider): Promise<CapacityReading> {
    const context = contextOf(target, provider);
    const group = await this.#describe(target, provider, context);
    const asg = await this.#clients.autoScaling(target.region);
    const activities = await capacityCall('autoscaling:DescribeScalingActivities', context, () =>
      asg.client.send(new asg.sdk.DescribeScalingActivitiesCommand({ AutoScalingGroupName: provider.autoScalingGroupName, MaxRecords: 20 })),
    );
    const problem = failedActivityProblem(activities.Activities ?? [], this.#clock.now());
    return {
      inService: (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy').length,
      desired: group.MinSize ?? 0,
      ...(problem !== undefined ? { problem } : {}),
    };
  }

  /** Holds a floor of `desired` instances; nothing is sent when the group already holds it. */
  async request(target: CapacityTarget, provider: AsgProvider, desired: number): Promise<void> {
    const context = contextOf(target, provider);
    const group = await this.#describe(target, provider, context);
    const update = desired >= (group.MinSize ?? 0) ? raiseFloor(group, desired) : await this.#lowerFloor(target, provider, group, desired, context);
    if (update === undefined) return;
    const asg = await this.#clients.autoScaling(target.region);
    await capacityCall('autoscaling:UpdateAutoScalingGroup', context, () =>
      asg.client.send(new asg.sdk.UpdateAutoScalingGroupCommand({ AutoScalingGroupName: provider.autoScalingGroupName, ...update })),
    );
  }

  async #lowerFloor(target: CapacityTarget, provider: AsgProvider, group: AutoScalingGroup, desired: number, context: CapacityContext): Promise<Fields> {
    const floor = group.MinSize ?? 0;
    if (group.DesiredCapacity !== floor) return { MinSize: desired };
    const asg = await this.#clients.autoScaling(target.region);
    const policies = await capacityCall('autoscaling:DescribePolicies', context, () =>
      asg.client.send(new asg.sdk.DescribePoliciesCommand({ AutoScalingGroupName: provider.autoScalingGroupName, MaxRecords: 1 })),
    );
    return (policies.ScalingPolicies ?? []).length > 0 ? { MinSize: desired } : { MinSize: desired, DesiredCapacity: desired };
  }

  async #describe(target: CapacityTarget, provider: AsgProvider, context: CapacityContext): Promise<AutoScalingGroup> {
    const asg = await this.#clients.autoScaling(target.region);
    const answer = await capacityCall('autoscaling:DescribeAutoScalingGroups', context, () =>
      asg.client.send(new asg.sdk.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [provider.autoScalingGroupName] })),
    );
    const group = answer.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === provider.autoScalingGroupName);
    // DescribeAutoScalingGroups answers an unknown name with an empty list, not an error.
    if (!group) throw new CapacityProviderError(CapacityProblemCodes.RESOURCE_NOT_FOUND, context, 'no Auto Scaling group has this name');
    return group;
  }
}

type Fields = Pick<UpdateAutoScalingGroupCommandInput, 'MinSize' | 'MaxSize' | 'DesiredCapacity'>;

/** The update that raises the floor to `desired` (undefined: the group already holds it). */
export function raiseFloor(group: AutoScalingGroup, desired: number): Fields | undefined {
  const current = group.DesiredCapacity ?? 0;
  const max = group.MaxSize ?? 0;
  if (group.MinSize === desired && current >= desired && max >= desired) return undefined;
  return { MinSize: desired, DesiredCapacity: Math.max(desired, current), ...(max < desired ? { MaxSize: desired } : {}) };
}

function contextOf(target: CapacityTarget, provider: AsgProvider): CapacityContext {
  return {
    service: target.service,
    endpoint: target.endpoint,
    provider: provider.kind,
    resource: `Auto Scaling group ${provider.autoScalingGroupName}`,
    region: target.region,
  };
}
