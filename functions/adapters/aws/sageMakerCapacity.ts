/**
 * A SageMaker real-time endpoint's production variant as a capacity provider. Instances in service
 * are the variant's CurrentInstanceCount (DescribeEndpoint); the count steer53 sets is the
 * Application Auto Scaling target's MinCapacity when the variant has one (its scaling policy keeps
 * scaling above it), else the variant's DesiredInstanceCount (UpdateEndpointWeightsAndCapacities).
 */
import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import type { CapacityReading } from '../../core/types.js';
import type { CapacityTarget } from '../../ports/capacity.js';
import type { Clock } from '../../ports/clock.js';
import type { CapacityClients } from './capacityClients.js';
import { CapacityProblemCodes, CapacityProviderError, type CapacityContext } from './errors.js';
import { capacityCall, findScalableTarget, holdFloorIfScaled, scalableTargetProblem, type ScalableTargetRef } from './scalableTargets.js';

type SageMakerProvider = { readonly kind: 'sagemaker-variant'; readonly endpointName: string; readonly variantName: string };
type Variant = NonNullable<DescribeEndpointCommandOutput['ProductionVariants']>[number];

/** Statuses in which the endpoint serves on its current fleet. */
const SERVING = new Set(['InService', 'Updating']);
/** Statuses in which it serves nothing and is not on its way to (the reason is then the problem). */
const BROKEN = new Set(['Failed', 'OutOfService', 'UpdateRollbackFailed']);

export class SageMakerVariantCapacity {
  readonly #clients: CapacityClients;
  readonly #clock: Clock;

  constructor(clients: CapacityClients, clock: Clock) {
    this.#clients = clients;
    this.#clock = clock;
  }

  async read(target: CapacityTarget, provider: SageMakerProvider): Promise<CapacityReading> {
    const context = contextOf(target, provider);
    const { endpoint, variant } = await this.#describe(target, provider, context);
    const ref = scalableTargetRef(provider);
    const scaling = await this.#clients.applicationAutoScaling(target.region);
    const scalable = await findScalableTarget(scaling, ref, context);
    const problem = brokenProblem(endpoint) ?? (scalable ? await scalableTargetProblem(scaling, ref, this.#clock.now(), context) : undefined);
    return {
      inService: inServiceOf(endpoint.EndpointStatus, variant),
      desired: scalable ? (scalable.MinCapacity ?? 0) : (variant.DesiredInstanceCount ?? variant.CurrentInstanceCount ?? 0),
      ...(problem !== undefined ? { problem } : {}),
    };
  }

  /** Holds `desired` instances: the scalable target's floor, or the variant's count; nothing is sent when it already holds them. */
  async request(target: CapacityTarget, provider: SageMakerProvider, desired: number): Promise<void> {
    const context = contextOf(target, provider);
    const scaling = await this.#clients.applicationAutoScaling(target.region);
    if (await holdFloorIfScaled(scaling, scalableTargetRef(provider), desired, context)) return;
    const { variant } = await this.#describe(target, provider, context);
    if (variant.DesiredInstanceCount === desired) return;
    const sageMaker = await this.#clients.sageMaker(target.region);
    await capacityCall('sagemaker:UpdateEndpointWeightsAndCapacities', context, () =>
      sageMaker.client.send(
        new sageMaker.sdk.UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: provider.endpointName,
          DesiredWeightsAndCapacities: [{ VariantName: provider.variantName, DesiredInstanceCount: desired }],
        }),
      ),
    );
  }

  async #describe(
    target: CapacityTarget,
    provider: SageMakerProvider,
    context: CapacityContext,
  ): Promise<{ endpoint: DescribeEndpointCommandOutput; variant: Variant }> {
    const sageMaker = await this.#clients.sageMaker(target.region);
    const endpoint = await capacityCall('sagemaker:DescribeEndpoint', context, () =>
      sageMaker.client.send(new sageMaker.sdk.DescribeEndpointCommand({ EndpointName: provider.endpointName })),
    );
    const variant = endpoint.ProductionVariants?.find((v) => v.VariantName === provider.variantName);
    if (!variant) {
      const names = (endpoint.ProductionVariants ?? []).map((v) => v.VariantName).join(', ') || 'none';
      throw new CapacityProviderError(
        CapacityProblemCodes.RESOURCE_NOT_FOUND,
        context,
        `the endpoint has no variant "${provider.variantName}" (it has: ${names})`,
      );
    }
    return { endpoint, variant };
  }
}

/**
 * Instances serving now. InService: the variant's CurrentInstanceCount. Updating: the same, but
 * never more than the variant's DesiredInstanceCount, because while a new endpoint config rolls
 * out (blue/green) SageMaker runs the old fleet and provisions the new one beside it, and only one
 * of them takes the traffic; counting both would promise capacity that is not there. Any other
 * status (Creating, RollingBack, SystemUpdating, OutOfService, Failed, Deleting) counts as none:
 * steer53 does not move traffic in on a fleet it cannot vouch for.
 */
export function inServiceOf(status: string | undefined, variant: Variant): number {
  if (status === undefined || !SERVING.has(status)) return 0;
  const current = variant.CurrentInstanceCount ?? 0;
  return status === 'Updating' && variant.DesiredInstanceCount !== undefined ? Math.min(current, variant.DesiredInstanceCount) : current;
}

function brokenProblem(endpoint: DescribeEndpointCommandOutput): string | undefined {
  const status = endpoint.EndpointStatus;
  if (status === undefined || !BROKEN.has(status)) return undefined;
  return `endpoint is ${status}${endpoint.FailureReason ? `: ${endpoint.FailureReason}` : ''}`;
}

export function scalableTargetRef(provider: SageMakerProvider): ScalableTargetRef {
  return {
    ServiceNamespace: 'sagemaker',
    ResourceId: `endpoint/${provider.endpointName}/variant/${provider.variantName}`,
    ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
  };
}

function contextOf(target: CapacityTarget, provider: SageMakerProvider): CapacityContext {
  return {
    service: target.service,
    endpoint: target.endpoint,
    provider: provider.kind,
    resource: `SageMaker endpoint ${provider.endpointName}, variant ${provider.variantName}`,
    region: target.region,
  };
}
