/**
 * Warm capacity from the instances in service, for an endpoint with a capacity provider
 * (capacityHandshake.ts): the planner reads it, so weights ramp up as instances come into service.
 */
import type { EndpointConfig } from './config.js';
import type { Evaluation } from './phase.js';
import type { CapacityReading, EndpointCapacity } from './types.js';

/**
 * Warm capacity (requests/s) of each endpoint with a capacity provider and a reading, from the
 * instances in service; an endpoint left out is planned with its configured `warmRps`.
 */
export function warmCapacityNow(ev: Pick<Evaluation, 'capacity' | 'service' | 'previous'>): Record<string, number> {
  const warm: Record<string, number> = {};
  for (const config of ev.service.endpoints) {
    const id = config.setIdentifier;
    const reading = ev.capacity?.[id];
    if (reading === undefined || config.capacity.scaling === undefined) continue;
    const perInstance = perInstanceRps(config, ev.previous.capacity[id], reading);
    if (perInstance !== null) warm[id] = perInstance * reading.inService;
  }
  return warm;
}

/** What one instance serves warm: configured, else learned at the first reading (`warmRps` over the instances then in service). */
export function perInstanceRps(config: EndpointConfig, prior: EndpointCapacity | undefined, reading: CapacityReading): number | null {
  const configured = config.capacity.scaling?.perInstanceRps;
  if (configured !== undefined) return configured;
  if (prior?.perInstanceRps != null) return prior.perInstanceRps;
  const { warmRps } = config.capacity;
  return warmRps !== undefined && reading.inService > 0 ? warmRps / reading.inService : null;
}
