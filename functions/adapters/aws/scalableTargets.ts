/**
 * Application Auto Scaling, as the SageMaker and ECS capacity providers use it. Where the platform
 * scales the resource itself (a scalable target with its policies), steer53 raises the target's
 * MinCapacity instead of the count: the platform's policy then cannot scale the extra back in
 * under steer53, and giving it back is lowering the floor again, after which the policy scales in
 * as it always would.
 */
import type { ScalableDimension, ScalableTarget, ServiceNamespace } from '@aws-sdk/client-application-auto-scaling';
import type { Connected } from './capacityClients.js';
import { AwsCallError, describeCapacityContext, isTransientAwsError, type CapacityContext } from './errors.js';

/** A failed scaling activity older than this is history, not a reason capacity cannot be had now. */
export const PROBLEM_WINDOW_MS = 15 * 60_000;

/** Which scalable target: the three fields that identify one. */
export interface ScalableTargetRef {
  readonly ServiceNamespace: ServiceNamespace;
  readonly ResourceId: string;
  readonly ScalableDimension: ScalableDimension;
}

/** Calls an SDK client, translating its errors into AwsCallError naming the capacity context. */
export async function capacityCall<T>(operation: string, context: CapacityContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new AwsCallError({ operation, target: describeCapacityContext(context) }, error, isTransientAwsError(error));
  }
}

/** The resource's scalable target, or undefined when none is registered (the platform does not scale it). */
export async function findScalableTarget(
  scaling: Connected<'applicationAutoScaling'>,
  ref: ScalableTargetRef,
  context: CapacityContext,
): Promise<ScalableTarget | undefined> {
  const answer = await capacityCall('application-autoscaling:DescribeScalableTargets', context, () =>
    scaling.client.send(
      new scaling.sdk.DescribeScalableTargetsCommand({
        ServiceNamespace: ref.ServiceNamespace,
        ResourceIds: [ref.ResourceId],
        ScalableDimension: ref.ScalableDimension,
      }),
    ),
  );
  return answer.ScalableTargets?.find((t) => t.ResourceId === ref.ResourceId && t.ScalableDimension === ref.ScalableDimension);
}

/**
 * Holds the target's floor at `desired`. MaxCapacity is raised to `desired` when below it (never
 * lowered: the platform's own ceiling stays the user's), and left out of the call otherwise, so
 * it is not changed. RegisterScalableTarget on an existing target updates it: "If the specified
 * resource is not active in the target service, this operation does not change the resource's
 * current capacity. Otherwise, it changes the resource's current capacity to a value that is
 * inside of this range" (Application Auto Scaling API reference, RegisterScalableTarget): a
 * MinCapacity above the current capacity scales out to it at once, and a lower one leaves the
 * capacity where it is, for the target's scaling policies to bring in.
 */
export async function holdFloor(
  scaling: Connected<'applicationAutoScaling'>,
  target: ScalableTarget,
  desired: number,
  context: CapacityContext,
): Promise<void> {
  const raiseMax = (target.MaxCapacity ?? 0) < desired;
  await capacityCall('application-autoscaling:RegisterScalableTarget', context, () =>
    scaling.client.send(
      new scaling.sdk.RegisterScalableTargetCommand({
        ServiceNamespace: target.ServiceNamespace,
        ResourceId: target.ResourceId,
        ScalableDimension: target.ScalableDimension,
        MinCapacity: desired,
        ...(raiseMax ? { MaxCapacity: desired } : {}),
      }),
    ),
  );
}

/**
 * Holds `desired` on the resource's scalable target when it has one (nothing sent when it already
 * holds it); false when it has none, for the caller to set the resource's own count.
 */
export async function holdFloorIfScaled(
  scaling: Connected<'applicationAutoScaling'>,
  ref: ScalableTargetRef,
  desired: number,
  context: CapacityContext,
): Promise<boolean> {
  const scalable = await findScalableTarget(scaling, ref, context);
  if (!scalable) return false;
  if (scalable.MinCapacity !== desired || (scalable.MaxCapacity ?? 0) < desired) await holdFloor(scaling, scalable, desired, context);
  return true;
}

/** One scaling activity as both Auto Scaling APIs report it. */
export interface ActivityLike {
  readonly StatusCode?: string | undefined;
  readonly StatusMessage?: string | undefined;
  readonly Description?: string | undefined;
  readonly StartTime?: Date | undefined;
}

/**
 * Why capacity is not arriving, in the platform's words: the newest finished activity of the last
 * `PROBLEM_WINDOW_MS`, when it failed. A failure followed by a success is over (the platform
 * retried and got it); activities still running say nothing yet.
 */
export function failedActivityProblem(activities: readonly ActivityLike[], now: number): string | undefined {
  const finished = activities
    .filter((a) => a.StartTime !== undefined && now - a.StartTime.getTime() <= PROBLEM_WINDOW_MS)
    .filter((a) => a.StatusCode === 'Successful' || a.StatusCode === 'Failed')
    .sort((a, b) => b.StartTime!.getTime() - a.StartTime!.getTime());
  const newest = finished[0];
  if (newest?.StatusCode !== 'Failed') return undefined;
  return newest.StatusMessage || newest.Description || 'a scaling activity failed (no message given)';
}

/** The target's newest failed scaling activity of the last quarter hour, as a problem sentence. */
export async function scalableTargetProblem(
  scaling: Connected<'applicationAutoScaling'>,
  ref: ScalableTargetRef,
  now: number,
  context: CapacityContext,
): Promise<string | undefined> {
  const answer = await capacityCall('application-autoscaling:DescribeScalingActivities', context, () =>
    scaling.client.send(new scaling.sdk.DescribeScalingActivitiesCommand({ ...ref, MaxResults: 20 })),
  );
  return failedActivityProblem(answer.ScalingActivities ?? [], now);
}
