/**
 * Port: where an endpoint's instances come from. The engine decides how many instances an
 * endpoint should hold (`Decision.capacityRequests`); a provider reads what the endpoint has and
 * asks its platform for a new count. Adapters: SageMaker production variants (Application Auto
 * Scaling), ECS services, EC2 Auto Scaling groups, and a generic one (an EventBridge event out, a
 * CloudWatch metric in) in functions/adapters/aws; an in-memory one for tests; the simulator's
 * regions in sim/.
 */
import type { ScalingConfig } from '../core/config.js';
import type { CapacityReading } from '../core/types.js';

export type { CapacityReading } from '../core/types.js';

/** One endpoint's capacity, as the config names it. */
export interface CapacityTarget {
  readonly service: string;
  /** The endpoint's SetIdentifier. */
  readonly endpoint: string;
  /** The endpoint's region: where the provider's API is called. */
  readonly region: string;
  readonly scaling: ScalingConfig;
}

/** Why an ask is made, for the provider's own record (the generic provider's event carries it). */
export interface CapacityAsk {
  readonly desired: number;
  readonly direction: 'out' | 'in';
  /** The decision that made it. */
  readonly decisionId: string;
  readonly reason: string;
  /** What started the evaluation (`schedule`, `alarm <name>`), when the caller knows it. */
  readonly trigger?: string;
  /** Instances in service when it was decided, when the caller read them. */
  readonly inService?: number;
  /** When it was decided (epoch ms), when the caller knows it. */
  readonly at?: number;
}

export interface CapacityProvider {
  /** What the endpoint has now. Throws when the platform cannot be read (the engine then asks for nothing). */
  read(target: CapacityTarget): Promise<CapacityReading>;
  /** Asks the platform to hold `ask.desired` instances. Idempotent: asking the same count again changes nothing. */
  request(target: CapacityTarget, ask: CapacityAsk): Promise<void>;
}

/** The endpoints of a service that name a capacity provider. */
export function capacityTargets(service: {
  readonly name: string;
  readonly endpoints: readonly {
    readonly setIdentifier: string;
    readonly region: string;
    readonly capacity: { readonly scaling?: ScalingConfig | undefined };
  }[];
}): CapacityTarget[] {
  return service.endpoints.flatMap((e) =>
    e.capacity.scaling ? [{ service: service.name, endpoint: e.setIdentifier, region: e.region, scaling: e.capacity.scaling }] : [],
  );
}
