/**
 * The capacity port on AWS: one provider for every endpoint of the config, handing each call to the
 * adapter of the endpoint's provider kind (`capacity.scaling.provider.kind`), in the endpoint's region.
 */
import type { CapacityAsk, CapacityProvider, CapacityReading, CapacityTarget } from '../../ports/capacity.js';
import { AutoScalingGroupCapacity } from './autoScalingGroupCapacity.js';
import type { CapacityClients } from './capacityClients.js';
import { EcsServiceCapacity } from './ecsCapacity.js';
import { GenericCapacity, type GenericCapacityOptions } from './genericCapacity.js';
import { SageMakerVariantCapacity } from './sageMakerCapacity.js';

export interface AwsCapacityProviderOptions extends GenericCapacityOptions {
  readonly clients: CapacityClients;
}

export class AwsCapacityProvider implements CapacityProvider {
  readonly #sageMaker: SageMakerVariantCapacity;
  readonly #ecs: EcsServiceCapacity;
  readonly #asg: AutoScalingGroupCapacity;
  readonly #generic: GenericCapacity;

  constructor(options: AwsCapacityProviderOptions) {
    this.#sageMaker = new SageMakerVariantCapacity(options.clients, options.clock);
    this.#ecs = new EcsServiceCapacity(options.clients, options.clock);
    this.#asg = new AutoScalingGroupCapacity(options.clients, options.clock);
    this.#generic = new GenericCapacity(options);
  }

  read(target: CapacityTarget): Promise<CapacityReading> {
    const provider = target.scaling.provider;
    switch (provider.kind) {
      case 'sagemaker-variant':
        return this.#sageMaker.read(target, provider);
      case 'ecs-service':
        return this.#ecs.read(target, provider);
      case 'ec2-asg':
        return this.#asg.read(target, provider);
      case 'generic':
        return this.#generic.read(target, provider);
    }
  }

  request(target: CapacityTarget, ask: CapacityAsk): Promise<void> {
    const provider = target.scaling.provider;
    switch (provider.kind) {
      case 'sagemaker-variant':
        return this.#sageMaker.request(target, provider, ask.desired);
      case 'ecs-service':
        return this.#ecs.request(target, provider, ask.desired);
      case 'ec2-asg':
        return this.#asg.request(target, provider, ask.desired);
      case 'generic':
        return this.#generic.request(target, provider, ask);
    }
  }
}
