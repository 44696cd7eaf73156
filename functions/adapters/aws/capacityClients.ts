/**
 * The capacity providers' SDK clients: one per API and region (the providers' APIs are regional,
 * and an endpoint's provider is called in the endpoint's region), each built the first time a
 * region asks for it and reused for the rest of the execution environment.
 *
 * The SDK packages themselves are imported on first use, not with the bundle: loading the four of
 * them takes about 200 ms of a cold start (measured with Node 20 on the development machine), paid
 * by every function of every controller, while most configs name no capacity provider at all, and
 * those that do need one or two of them. esbuild leaves a dynamic `import()` of an external package
 * as it is; a static one it hoists to the top of the bundle.
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';

const sdkLoaders = {
  sageMaker: () => import('@aws-sdk/client-sagemaker'),
  applicationAutoScaling: () => import('@aws-sdk/client-application-auto-scaling'),
  ecs: () => import('@aws-sdk/client-ecs'),
  autoScaling: () => import('@aws-sdk/client-auto-scaling'),
};
type Api = keyof typeof sdkLoaders;
/** Each API's SDK module: its client class and commands. */
export type CapacitySdk = { readonly [K in Api]: Awaited<ReturnType<(typeof sdkLoaders)[K]>> };

interface Clients {
  readonly sageMaker: SageMakerClient;
  readonly applicationAutoScaling: ApplicationAutoScalingClient;
  readonly ecs: ECSClient;
  readonly autoScaling: AutoScalingClient;
}

/** How each client is built for a region from its SDK module; the runtime wraps them (X-Ray, retries), tests pass mocked ones. */
export type CapacityClientFactories = { readonly [K in Api]: (sdk: CapacitySdk[K], region: string) => Clients[K] };

/** A client with the module its commands come from. */
export interface Connected<K extends Api> {
  readonly client: Clients[K];
  readonly sdk: CapacitySdk[K];
}

export class CapacityClients {
  readonly #factories: CapacityClientFactories;
  readonly #clients = new Map<string, Promise<unknown>>();

  constructor(factories: CapacityClientFactories) {
    this.#factories = factories;
  }

  sageMaker(region: string): Promise<Connected<'sageMaker'>> {
    return this.#connect('sageMaker', region);
  }

  applicationAutoScaling(region: string): Promise<Connected<'applicationAutoScaling'>> {
    return this.#connect('applicationAutoScaling', region);
  }

  ecs(region: string): Promise<Connected<'ecs'>> {
    return this.#connect('ecs', region);
  }

  autoScaling(region: string): Promise<Connected<'autoScaling'>> {
    return this.#connect('autoScaling', region);
  }

  #connect<K extends Api>(api: K, region: string): Promise<Connected<K>> {
    const key = `${api}|${region}`;
    let connected = this.#clients.get(key) as Promise<Connected<K>> | undefined;
    if (!connected) {
      connected = (sdkLoaders[api]() as Promise<CapacitySdk[K]>).then((sdk) => ({ sdk, client: this.#factories[api](sdk, region) }));
      // A module that failed to load is tried again on the next call.
      connected.catch(() => this.#clients.delete(key));
      this.#clients.set(key, connected);
    }
    return connected;
  }
}
