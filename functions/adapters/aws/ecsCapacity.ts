/**
 * An ECS service as a capacity provider. Instances in service are its running tasks
 * (DescribeServices runningCount); the count steer53 sets is the Application Auto Scaling
 * target's MinCapacity when the service has one, else the service's desiredCount (UpdateService).
 *
 * No `problem` is read without a scalable target: ECS says why it cannot place tasks only in the
 * service's event messages, free text with no status code, and steer53 does not decide from
 * message text. With a target, a failed scaling activity is the problem, as for SageMaker.
 */
import type { Service } from '@aws-sdk/client-ecs';
import type { CapacityReading } from '../../core/types.js';
import type { CapacityTarget } from '../../ports/capacity.js';
import type { Clock } from '../../ports/clock.js';
import type { CapacityClients } from './capacityClients.js';
import { CapacityProblemCodes, CapacityProviderError, type CapacityContext } from './errors.js';
import { capacityCall, findScalableTarget, holdFloorIfScaled, scalableTargetProblem, type ScalableTargetRef } from './scalableTargets.js';

type EcsProvider = { readonly kind: 'ecs-service'; readonly cluster: string; readonly service: string };

export class EcsServiceCapacity {
  readonly #clients: CapacityClients;
  readonly #clock: Clock;

  constructor(clients: CapacityClients, clock: Clock) {
    this.#clients = clients;
    this.#clock = clock;
  }

  async read(target: CapacityTarget, provider: EcsProvider): Promise<CapacityReading> {
    const context = contextOf(target, provider);
    const service = await this.#describe(target, provider, context);
    const ref = scalableTargetRef(provider);
    const scaling = await this.#clients.applicationAutoScaling(target.region);
    const scalable = await findScalableTarget(scaling, ref, context);
    const problem = scalable ? await scalableTargetProblem(scaling, ref, this.#clock.now(), context) : undefined;
    return {
      inService: service.runningCount ?? 0,
      desired: scalable ? (scalable.MinCapacity ?? 0) : (service.desiredCount ?? 0),
      ...(problem !== undefined ? { problem } : {}),
    };
  }

  /** Holds `desired` tasks: the scalable target's floor, or the service's desired count; nothing is sent when it already holds them. */
  async request(target: CapacityTarget, provider: EcsProvider, desired: number): Promise<void> {
    const context = contextOf(target, provider);
    const scaling = await this.#clients.applicationAutoScaling(target.region);
    if (await holdFloorIfScaled(scaling, scalableTargetRef(provider), desired, context)) return;
    const service = await this.#describe(target, provider, context);
    if (service.desiredCount === desired) return;
    const ecs = await this.#clients.ecs(target.region);
    await capacityCall('ecs:UpdateService', context, () =>
      ecs.client.send(new ecs.sdk.UpdateServiceCommand({ cluster: provider.cluster, service: provider.service, desiredCount: desired })),
    );
  }

  async #describe(target: CapacityTarget, provider: EcsProvider, context: CapacityContext): Promise<Service> {
    const ecs = await this.#clients.ecs(target.region);
    const answer = await capacityCall('ecs:DescribeServices', context, () =>
      ecs.client.send(new ecs.sdk.DescribeServicesCommand({ cluster: provider.cluster, services: [provider.service] })),
    );
    const service = answer.services?.find((s) => s.serviceName === provider.service);
    // DescribeServices answers a missing service in `failures` (reason MISSING), not with an error;
    // a deleted service stays describable for a while as INACTIVE.
    if (!service || service.status === 'INACTIVE') {
      const why = answer.failures?.[0]?.reason ?? service?.status ?? 'not returned';
      throw new CapacityProviderError(CapacityProblemCodes.RESOURCE_NOT_FOUND, context, `the service does not exist in the cluster (${why})`);
    }
    return service;
  }
}

export function scalableTargetRef(provider: EcsProvider): ScalableTargetRef {
  return { ServiceNamespace: 'ecs', ResourceId: `service/${provider.cluster}/${provider.service}`, ScalableDimension: 'ecs:service:DesiredCount' };
}

function contextOf(target: CapacityTarget, provider: EcsProvider): CapacityContext {
  return {
    service: target.service,
    endpoint: target.endpoint,
    provider: provider.kind,
    resource: `ECS service ${provider.service} in cluster ${provider.cluster}`,
    region: target.region,
  };
}
