/**
 * The capacity providers' SDK clients: one per API and region (the providers' APIs are regional,
 * and an endpoint's provider is called in the endpoint's region), each built the first time a
 * region asks for it and reused for the rest of the execution environment.
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';

/** How each client is built for a region; the runtime wraps them (X-Ray, retries), tests pass mocked ones. */
export interface CapacityClientFactories {
  readonly sageMaker: (region: string) => SageMakerClient;
  readonly applicationAutoScaling: (region: string) => ApplicationAutoScalingClient;
  readonly ecs: (region: string) => ECSClient;
  readonly autoScaling: (region: string) => AutoScalingClient;
}

type Kind = keyof CapacityClientFactories;
type ClientOf<K extends Kind> = ReturnType<CapacityClientFactories[K]>;

export class CapacityClients {
  readonly #factories: CapacityClientFactories;
  readonly #clients = new Map<string, unknown>();

  constructor(factories: CapacityClientFactories) {
    this.#factories = factories;
  }

  sageMaker(region: string): SageMakerClient {
    return this.#client('sageMaker', region);
  }

  applicationAutoScaling(region: string): ApplicationAutoScalingClient {
    return this.#client('applicationAutoScaling', region);
  }

  ecs(region: string): ECSClient {
    return this.#client('ecs', region);
  }

  autoScaling(region: string): AutoScalingClient {
    return this.#client('autoScaling', region);
  }

  /** The clients built so far, as `<api>|<region>` (what a cold start has paid for). */
  get built(): readonly string[] {
    return [...this.#clients.keys()];
  }

  #client<K extends Kind>(kind: K, region: string): ClientOf<K> {
    const key = `${kind}|${region}`;
    let client = this.#clients.get(key) as ClientOf<K> | undefined;
    if (!client) {
      client = this.#factories[kind](region) as ClientOf<K>;
      this.#clients.set(key, client);
    }
    return client;
  }
}
