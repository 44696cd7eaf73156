/**
 * Warm capacity from the instances in service, for an endpoint with a capacity provider
 * (capacityHandshake.ts): the planner reads it, so weights ramp up as instances come into service.
 */
import type { EndpointConfig } from './config.js';
import type { Evaluation } from './phase.js';
import type { CapacityReading, EndpointCapacity } from './types.js';

/** Warm capacity (requests/s) of an endpoint with a capacity provider, from the instances in service; undefined to use its configured `warmRps`. */
export function warmCapacityNow(ev: Pick<Evaluation, 'capacity' | 'service' | 'previous'>, id: string): number | undefined {
  const reading = ev.capacity?.[id];
  const config = ev.service.endpoints.find((e) => e.setIdentifier === id)!;
  if (reading === undefined || config.capacity.scaling === undefined) return undefined;
  const perInstance = perInstanceRps(config, ev.previous.capacity[id], reading);
  return perInstance === null ? undefined : perInstance * reading.inService;
}

/** What one instance serves warm: configured, else learned at the first reading (`warmRps` over the instances then in service). */
export function perInstanceRps(config: EndpointConfig, prior: EndpointCapacity | undefined, reading: CapacityReading): number | null {
  const configured = config.capacity.scaling?.perInstanceRps;
  if (configured !== undefined) return configured;
  if (prior?.perInstanceRps != null) return prior.perInstanceRps;
  const { warmRps } = config.capacity;
  return warmRps !== undefined && reading.inService > 0 ? warmRps / reading.inService : null;
}
