/**
 * The use case's side of the capacity handshake (functions/core/capacityHandshake.ts): read what
 * each endpoint with a capacity provider has before deciding, and make the decision's asks after
 * the decision is recorded and before its weights are written (capacity first, then traffic).
 * Every ask of a provider other than `generic` is also told as a `Capacity Requested` event; the
 * generic provider's ask *is* that event (its adapter publishes it).
 */
import type { ServiceConfig } from '../core/config.js';
import type { CapacityReading, Decision, DecideInput, ServiceState } from '../core/types.js';
import { capacityRequestedEvent, type ControllerEvent } from '../events/controllerEvents.js';
import { capacityTargets, type CapacityTarget } from '../ports/capacity.js';
import type { Runtime } from './runtime.js';
import { tell, type TellFailure } from './tell.js';

/**
 * Whether this evaluation needs the providers read: the service names a provider, and an endpoint
 * is (or is becoming) unhealthy, a rollout runs, or capacity asked before is still held. A quiet
 * service asks nothing (an endpoint is asked for more only when it receives others' traffic or is
 * slow from its own load), so at a thousand services the providers' APIs are called only where an
 * incident is.
 */
export function capacityMatters(service: ServiceConfig, before: ServiceState | undefined, after: ServiceState): boolean {
  if (capacityTargets(service).length === 0) return false;
  const unhealthy = (state: ServiceState | undefined) => Object.values(state?.endpoints ?? {}).some((e) => e.status !== 'healthy');
  const held = Object.values(before?.capacity ?? {}).some((c) => c.asked !== null);
  return unhealthy(before) || unhealthy(after) || held || Object.keys(after.rollouts).length > 0;
}

/**
 * Reads every provider of the service at once, for a decision. A provider that fails is left out
 * (the engine asks nothing of it) and named in a warning; no readings at all when no provider is wired.
 */
export async function capacityInput(
  rt: Pick<Runtime, 'capacity'> & { readonly log?: Runtime['log'] },
  service: ServiceConfig,
): Promise<Pick<DecideInput, 'capacity'>> {
  const targets = capacityTargets(service);
  const provider = rt.capacity;
  if (targets.length === 0 || provider === undefined) return {};
  const results = await Promise.allSettled(targets.map((t) => provider.read(t)));
  const readings: Record<string, CapacityReading> = {};
  const gaps: string[] = [];
  results.forEach((result, i) => {
    const id = targets[i]!.endpoint;
    if (result.status === 'fulfilled') readings[id] = result.value;
    else gaps.push(`capacity of ${id}: ${(result.reason as Error).message}`);
  });
  if (gaps.length > 0) rt.log?.warn('some capacity providers could not be read; nothing is asked of them', { service: service.name, gaps });
  return { capacity: readings };
}

/**
 * Makes each ask of the decision, one provider call each. A failed ask is logged and reported, not
 * thrown: the state already holds it, and the next evaluation asks again when the provider holds
 * less than was asked (a generic provider cannot say, so its failed event is only reported).
 */
export async function askCapacity(rt: Runtime, service: ServiceConfig, decision: Decision, decisionId: string, trigger: string): Promise<TellFailure[]> {
  if (decision.capacityRequests.length === 0) return [];
  const targets = new Map(capacityTargets(service).map((t) => [t.endpoint, t]));
  const failures: TellFailure[] = [];
  const told: ControllerEvent[] = [];
  for (const ask of decision.capacityRequests) {
    const target = targets.get(ask.endpoint);
    if (!target || !rt.capacity) continue;
    try {
      await rt.capacity.request(target, {
        desired: ask.to,
        direction: ask.direction,
        decisionId,
        reason: ask.message,
        trigger,
        inService: ask.inService,
        at: decision.at,
      });
      if (target.scaling.provider.kind !== 'generic') told.push(askedEvent(service, target, decision, decisionId, trigger, ask));
    } catch (error) {
      rt.log.error('a capacity request failed; the next evaluation asks again', {
        service: service.name,
        endpoint: ask.endpoint,
        error: (error as Error).message,
      });
      failures.push({ channel: 'publish', message: `capacity request for ${ask.endpoint}: ${(error as Error).message}` });
    }
  }
  return [...failures, ...(await tell(rt, service, decision.at, [], told))];
}

/** The `Capacity Requested` event of one ask made (the generic provider's adapter publishes its own as the ask). */
function askedEvent(
  service: ServiceConfig,
  target: CapacityTarget,
  decision: Pick<Decision, 'at'>,
  decisionId: string,
  trigger: string,
  ask: Decision['capacityRequests'][number],
): ControllerEvent {
  return capacityRequestedEvent(service, {
    at: decision.at,
    trigger,
    decisionId,
    endpoint: ask.endpoint,
    region: target.region,
    provider: target.scaling.provider.kind,
    direction: ask.direction,
    desired: ask.to,
    inService: ask.inService,
    reason: ask.message,
  });
}
