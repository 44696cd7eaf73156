/**
 * The capacity handshake (docs/runtime.md, "Capacity handshake"): an endpoint whose config names a
 * capacity provider (`capacity.scaling`) is planned with the warm capacity of the instances it has
 * in service, and asked for more before traffic moves in. Each evaluation:
 *   1. the planner sees each such endpoint's warm capacity as instances in service × what one
 *      instance serves (`warmCapacityNow`), so weights ramp up as instances come into service;
 *   2. the plan is made again as if every such endpoint had all the instances it needs: what it
 *      would then carry, at its target utilisation, is the number it needs (`wantedInstances`);
 *   3. while traffic is moved off an endpoint that cannot take it (one drained, a maintenance
 *      drain, a rollout), an endpoint that needs more than it holds is asked for more, at most
 *      `stepInstances` at a time and never past `maxInstances`; a demand peak alone asks nothing
 *      (the platform's autoscaling follows demand); an ask not in service within `timeoutSeconds`
 *      is told and planned without (no larger ask until it arrives or is given back);
 *   4. once no endpoint is drained (the failed one is back, recovering or healthy) and the last
 *      ask for more is older than `scaleInCooldownSeconds`, what the plan no longer needs is given
 *      back, step by step as the need falls, never below what the endpoint had before the first
 *      ask (nor `minInstances`); a drained endpoint gives all its extra back after the cooldown.
 * A freeze holds every ask; fail static holds give-backs; `capacityBudget` bounds the asks per hour.
 */
import type { EndpointConfig, ScalingConfig } from './config.js';
import { lastCutAt } from './guards.js';
import { notice, phase, type Evaluation, type Phase } from './phase.js';
import type {
  CapacityReading,
  CapacityRequest,
  DecisionMode,
  EndpointCapacity,
  EndpointState,
  Notification,
  PolicyReason,
  RolloutState,
  Weights,
} from './types.js';
import { perInstanceRps } from './warmCapacity.js';
import { sharesOf } from './weights.js';
import { planWeights, type PlanEndpoint } from './weightPlanner.js';

const HOUR_MS = 3_600_000;

/**
 * An endpoint is receiving others' traffic when the plan gives it more than this multiple of its
 * baseline share. Demand's own growth at baseline is the platform's autoscaling's to follow, not
 * steer53's: it asks only for traffic it moves.
 */
const RECEIVING = 1.05;

/** The least change of instance count worth an ask either way (10%, at least one), so demand's noise moves nothing. */
function margin(instances: number): number {
  return Math.max(1, Math.ceil(0.1 * instances));
}

/** What an endpoint needs: instances to carry what the plan gives it, and whether that includes others' traffic. */
interface Wanted {
  readonly instances: number;
  readonly receiving: boolean;
}

export interface CapacityInput {
  readonly planned: readonly PlanEndpoint[];
  /** The weights this decision settles on (what it writes, or what Route 53 holds): an endpoint whose share they cut is still losing traffic. */
  readonly target: Weights;
  /** A guard (flap guard, step bound, change budget, fail static) holds back part of the plan: its traffic has not moved. */
  readonly held: boolean;
  readonly demand: number | null;
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  readonly rollouts: Readonly<Record<string, RolloutState>>;
  readonly mode: DecisionMode;
  readonly drains: boolean;
}

export interface CapacityPlan {
  readonly capacity: Readonly<Record<string, EndpointCapacity>>;
  readonly requests: readonly CapacityRequest[];
}

/** One endpoint with a provider and a reading, as the handshake sees it this evaluation. */
interface Fleet {
  readonly id: string;
  readonly config: EndpointConfig;
  readonly scaling: ScalingConfig;
  readonly reading: CapacityReading;
  /** The handshake so far, base and per-instance throughput brought up to date. */
  readonly state: EndpointCapacity;
  readonly perInstance: number;
  /** Instances the endpoint needs to carry what the plan would give it with all the capacity it may have. */
  readonly wanted: Wanted | null;
}

/** The capacity phase of a decision: what to ask of each endpoint's provider, and the handshake's next state. */
export function planCapacity(ev: Evaluation, input: CapacityInput): Phase<CapacityPlan> {
  const capacity: Record<string, EndpointCapacity> = { ...ev.previous.capacity };
  for (const id of Object.keys(capacity)) if (!ev.ids.includes(id)) delete capacity[id];
  if (ev.capacity === undefined) return phase({ capacity, requests: [] });
  const wanted = wantedInstances(ev, input);
  const requests: CapacityRequest[] = [];
  const reasons: PolicyReason[] = [];
  const blocked: PolicyReason[] = [];
  const notifications: Notification[] = [];
  let budget = ev.policy.capacityBudget.maxRequestsPerHour - askedInLastHour(ev);
  for (const config of ev.service.endpoints) {
    const fleet = fleetOf(ev, config, wanted);
    if (fleet === null) {
      if (config.capacity.scaling !== undefined) reasons.push(cannotAsk(ev, config.setIdentifier));
      continue;
    }
    const step = stepFleet(ev, input, fleet, budget);
    capacity[fleet.id] = step.state;
    if (step.request) {
      requests.push(step.request);
      if (step.counted) budget -= 1;
    }
    reasons.push(...step.reasons);
    blocked.push(...step.blocked);
    notifications.push(...step.notifications);
  }
  return phase({ capacity, requests }, { reasons, blocked, notifications });
}

/** Why nothing is asked of an endpoint with a provider: it could not be read, or one instance's throughput is not known. */
function cannotAsk(ev: Evaluation, id: string): PolicyReason {
  if (ev.capacity?.[id] === undefined) {
    return { code: 'CAPACITY_UNREAD', endpoint: id, message: `${id}'s capacity provider could not be read: nothing is asked of it this period` };
  }
  const message = `${id} has no instance in service to learn what one serves from: nothing is asked of it until one is, or capacity.scaling.perInstanceRps is set`;
  return { code: 'CAPACITY_HELD', endpoint: id, message };
}

function askedInLastHour(ev: Evaluation): number {
  return Object.values(ev.previous.capacity).reduce((n, c) => n + c.requests.filter((at) => at > ev.now - HOUR_MS).length, 0);
}

function fleetOf(ev: Evaluation, config: EndpointConfig, wanted: Readonly<Record<string, Wanted>>): Fleet | null {
  const id = config.setIdentifier;
  const scaling = config.capacity.scaling;
  const reading = ev.capacity?.[id];
  if (scaling === undefined || reading === undefined) return null;
  const prior = ev.previous.capacity[id];
  const perInstance = perInstanceRps(config, prior, reading);
  if (perInstance === null) return null;
  const held = reading.desired ?? reading.inService;
  const state: EndpointCapacity = {
    // While nothing is asked, the base follows what the endpoint holds (its own scaling, a person's change).
    base: prior?.asked != null ? prior.base : held,
    asked: prior?.asked ?? null,
    askedAt: prior?.askedAt ?? null,
    timedOut: prior?.timedOut ?? false,
    perInstanceRps: perInstance,
    requests: (prior?.requests ?? []).filter((at) => at > ev.now - HOUR_MS),
    lastInService: prior?.lastInService ?? null,
    releasedAt: prior?.releasedAt ?? null,
  };
  return { id, config, scaling, reading, state, perInstance, wanted: wanted[id] ?? null };
}

/**
 * The plan made again as if every endpoint that has a provider had all the instances it needs
 * (only its `maxShare` bounds it): the instances each would need to carry its part at its target
 * utilisation. Empty when demand is unknown.
 */
function wantedInstances(ev: Evaluation, input: CapacityInput): Record<string, Wanted> {
  const { demand } = input;
  if (demand === null || demand <= 0) return {};
  const perInstance: Record<string, number> = {};
  const atMax = input.planned.map((e) => {
    const id = e.config.setIdentifier;
    const scaling = e.config.capacity.scaling;
    const reading = ev.capacity?.[id];
    const one = scaling && reading ? perInstanceRps(e.config, ev.previous.capacity[id], reading) : null;
    if (scaling === undefined || one === null) return e;
    perInstance[id] = one;
    // As if it had every instance it needs: what it would then carry says how many that is (maxInstances bounds the ask, not the need).
    // One slow from its own load would serve again with them: planned as a healthy receiver.
    return overloaded(ev, e) ? { ...e, warmRps: Number.POSITIVE_INFINITY, factor: 1, receiver: true } : { ...e, warmRps: Number.POSITIVE_INFINITY };
  });
  const { weights } = planWeights(atMax, demand, ev.policy);
  const sum = Object.values(weights).reduce((s, w) => s + w, 0);
  const wanted: Record<string, Wanted> = {};
  for (const e of input.planned) {
    const id = e.config.setIdentifier;
    const one = perInstance[id];
    if (one === undefined || sum <= 0) continue;
    const perInstanceAtTarget = one * e.config.capacity.targetUtilization;
    const share = weights[id]! / sum;
    const own = e.config.baselineWeight / ev.total;
    if (overloaded(ev, e)) {
      // Slow from its own load: sized for all it carries.
      wanted[id] = { instances: Math.ceil((share * demand) / perInstanceAtTarget - 1e-9), receiving: true };
      continue;
    }
    // Receiving others' traffic: enough to carry it all at its target utilisation, but never more
    // than what it had plus what the traffic it receives needs (its own share at baseline is the
    // platform's autoscaling's to follow, not steer53's).
    const reading = ev.capacity![id]!;
    const base = ev.previous.capacity[id]?.asked != null ? ev.previous.capacity[id]!.base : (reading.desired ?? reading.inService);
    const all = Math.ceil((share * demand) / perInstanceAtTarget - 1e-9);
    const forReceived = base + Math.ceil((Math.max(0, share - own) * demand) / perInstanceAtTarget - 1e-9);
    wanted[id] = { instances: Math.min(all, forReceived), receiving: share > own * RECEIVING + 1e-9 };
  }
  return wanted;
}

/**
 * Degraded by its own load: slow while it runs at or past its target utilisation of the warm
 * capacity in service, and otherwise able to take traffic (active, no rollout or maintenance).
 * More instances cure this; they do not cure a region that is slow at any load.
 */
function overloaded(ev: Evaluation, e: PlanEndpoint): boolean {
  const utilisation = ev.utilisation[e.config.setIdentifier];
  return (
    e.state.status === 'degraded' &&
    !e.maintenance &&
    e.config.role === 'active' &&
    ev.previous.rollouts[e.config.setIdentifier] === undefined &&
    utilisation !== null &&
    utilisation !== undefined &&
    utilisation >= e.config.capacity.targetUtilization
  );
}

interface FleetStep {
  readonly state: EndpointCapacity;
  readonly request?: CapacityRequest;
  /** The request counts against the capacity budget (a re-ask of what was asked does not). */
  readonly counted: boolean;
  readonly reasons: readonly PolicyReason[];
  readonly blocked: readonly PolicyReason[];
  readonly notifications: readonly Notification[];
}

/** One endpoint's handshake this evaluation: arrival and timeout told, then at most one ask (more, the same again, or the extra back). */
function stepFleet(ev: Evaluation, input: CapacityInput, fleet: Fleet, budget: number): FleetStep {
  const told = arrivalAndTimeout(ev, fleet);
  const current = { ...fleet, state: told.state };
  const asks = [scaleOut(input, current), reAsk(current), giveBack(ev, input, current)].filter((a) => a !== null);
  const state = { ...told.state, lastInService: fleet.reading.inService };
  const none = { state, counted: false, reasons: told.reasons, blocked: [], notifications: told.notifications };
  if (asks.length === 0) return none;
  const held = heldBy(input, asks[0]!);
  if (held) return { ...none, blocked: [held] };
  // A new ask counts against the budget; asking again for what was asked does not, so it is made even when the budget is spent.
  const counts = (a: CapacityRequest) => a.reason !== 'CAPACITY_REQUESTED' || a.to !== fleet.state.asked;
  const ask = asks.find((a) => !counts(a) || budget > 0);
  const over = asks.find((a) => counts(a) && budget <= 0);
  const overBudget: PolicyReason[] = over
    ? [
        {
          code: 'CAPACITY_BUDGET_EXHAUSTED',
          endpoint: over.endpoint,
          message: `asking ${over.endpoint} for ${over.to} instances waits: ${ev.policy.capacityBudget.maxRequestsPerHour} capacity requests were made in the last hour (capacityBudget)`,
        },
      ]
    : [];
  if (ask === undefined) return { ...none, blocked: overBudget };
  const counted = counts(ask);
  const after = askedState(ev, state, ask, counted);
  const reason: PolicyReason = { code: ask.reason, endpoint: ask.endpoint, message: ask.message };
  const severity = ask.reason === 'CAPACITY_AT_MAX' ? 'warning' : 'info';
  return {
    state: after,
    request: ask,
    counted,
    reasons: [...told.reasons, reason],
    blocked: overBudget,
    notifications: [...told.notifications, notice(reason, severity, ev.service.dnsName)],
  };
}

/** The next state once `ask` is made. */
function askedState(ev: Evaluation, state: EndpointCapacity, ask: CapacityRequest, counted: boolean): EndpointCapacity {
  const requests = counted ? [...state.requests, ev.now] : state.requests;
  if (ask.direction === 'in') {
    const back = ask.to <= state.base;
    return { ...state, asked: back ? null : ask.to, askedAt: back ? null : state.askedAt, timedOut: false, requests, releasedAt: ev.now };
  }
  const larger = state.asked === null || ask.to > state.asked;
  return { ...state, asked: ask.to, askedAt: larger ? ev.now : state.askedAt, requests };
}

/** A freeze holds every ask; fail static holds give-backs (its observations are not to be trusted to say the incident is over). */
function heldBy(input: CapacityInput, ask: CapacityRequest): PolicyReason | undefined {
  const why =
    input.mode === 'frozen' ? 'the service is frozen' : input.mode === 'fail-static' && ask.direction === 'in' ? 'the service fails static' : undefined;
  if (why === undefined) return undefined;
  return { code: 'CAPACITY_HELD', endpoint: ask.endpoint, message: `asking ${ask.endpoint} for ${ask.to} instances (${ask.from} held) waits: ${why}` };
}

/** What was asked came into service (told once), or did not within the timeout (told once; no larger ask until it comes or is given back). */
function arrivalAndTimeout(ev: Evaluation, fleet: Fleet): { state: EndpointCapacity; reasons: PolicyReason[]; notifications: Notification[] } {
  const { state, reading, id, scaling } = fleet;
  const { asked, askedAt } = state;
  if (asked === null || askedAt === null) return { state, reasons: [], notifications: [] };
  if (reading.inService >= asked && (state.lastInService === null || state.lastInService < asked)) {
    const reason: PolicyReason = { code: 'CAPACITY_IN_SERVICE', endpoint: id, message: `${id} has the ${asked} instances asked for in service` };
    return { state: { ...state, timedOut: false }, reasons: [reason], notifications: [notice(reason, 'info', ev.service.dnsName)] };
  }
  if (state.timedOut || reading.inService >= asked || ev.now - askedAt < scaling.timeoutSeconds * 1000) return { state, reasons: [], notifications: [] };
  const problem = reading.problem !== undefined ? ` (the provider says: ${reading.problem})` : '';
  const message = `${id} has ${reading.inService} of the ${asked} instances asked for in service after ${Math.round((ev.now - askedAt) / 60_000)} min${problem}: planning with the capacity there is, and asking for no more until it arrives`;
  const reason: PolicyReason = { code: 'CAPACITY_TIMED_OUT', endpoint: id, message };
  return { state: { ...state, timedOut: true }, reasons: [reason], notifications: [notice(reason, 'warning', ev.service.dnsName)] };
}

/**
 * More instances, when the endpoint receives others' traffic and needs more than it holds (by a
 * margin, so demand's noise asks for nothing), while some endpoint cannot take its traffic.
 */
function scaleOut(input: CapacityInput, fleet: Fleet): CapacityRequest | null {
  const { state, reading, scaling, id } = fleet;
  if (fleet.wanted === null || !fleet.wanted.receiving || state.timedOut) return null;
  // Only for traffic moved off an endpoint that cannot serve (one drained, a maintenance drain, a
  // rollout): a demand peak that makes a region slow from its own load is its platform's
  // autoscaling's to follow, and asking for it cost more instance-hours than it saved.
  if (settled(input)) return null;
  const wanted = fleet.wanted.instances;
  const holds = Math.max(state.asked ?? 0, reading.desired ?? reading.inService);
  if (wanted < holds + margin(holds) || holds >= scaling.maxInstances) return null;
  const step = scaling.stepInstances ?? scaling.maxInstances;
  const to = Math.min(scaling.maxInstances, holds + step, wanted);
  const atMax = wanted > scaling.maxInstances && to === scaling.maxInstances;
  const need = `${id} needs about ${wanted} instances (${Math.round(wanted * fleet.perInstance * fleet.config.capacity.targetUtilization)} requests/s at its target utilisation)`;
  const message = atMax
    ? `${need}, more than its maxInstances: asking for ${to} (${reading.inService} in service)`
    : `${need} for the traffic moving to it: asking for ${to} (${reading.inService} in service, ${holds} held)`;
  return {
    endpoint: id,
    direction: 'out',
    from: reading.desired ?? holds,
    to,
    inService: reading.inService,
    reason: atMax ? 'CAPACITY_AT_MAX' : 'CAPACITY_REQUESTED',
    message,
  };
}

/** The provider holds less than was asked (a failed request, a person's change): the same ask again. */
function reAsk(fleet: Fleet): CapacityRequest | null {
  const { state, reading, id } = fleet;
  if (state.asked === null || reading.desired === null || reading.desired >= state.asked) return null;
  const message = `${id}'s provider holds ${reading.desired} instances, not the ${state.asked} asked for: asking again`;
  return { endpoint: id, direction: 'out', from: reading.desired, to: state.asked, inService: reading.inService, reason: 'CAPACITY_REQUESTED', message };
}

/**
 * The extra given back once no endpoint is drained and the ask is older than the cooldown, down to
 * what the endpoint needs now: never below what it had before, nor `minInstances`. An endpoint that
 * is itself drained needs none of it (it carries nothing, and comes back through recovery steps that
 * ask again if they need more): all of it back, after the cooldown, whatever the others do.
 */
function giveBack(ev: Evaluation, input: CapacityInput, fleet: Fleet): CapacityRequest | null {
  const { state, reading, scaling, id } = fleet;
  if (state.asked === null || state.askedAt === null) return null;
  const drained = input.endpoints[id]?.status === 'drained';
  if (!drained && !settled(input)) return null;
  if (ev.now - state.askedAt < scaling.scaleInCooldownSeconds * 1000) return null;
  if (!drained && (input.held || stillLosingTraffic(ev, input, id))) return null;
  const to = Math.max(state.base, scaling.minInstances, drained ? 0 : (fleet.wanted?.instances ?? state.asked));
  // By a margin, as asks are, so demand's noise gives nothing back; all the way back to the base always.
  if (to >= state.asked || (to > state.base && to > state.asked - margin(state.asked))) return null;
  const why = drained ? `${id} is drained and carries nothing` : `${id}'s traffic is back where it belongs`;
  const message = `${why}: giving back ${state.asked - to} instances (to ${to}; ${state.base} before the ask)`;
  return { endpoint: id, direction: 'in', from: reading.desired ?? state.asked, to, inService: reading.inService, reason: 'CAPACITY_RELEASED', message };
}

/**
 * Traffic is still moving off the endpoint, so the load the plan no longer needs is still there
 * (and while a guard holds part of the plan back, it has not even started to move):
 * its share is being cut (by this decision's write) or was cut less than `shedding.intervalSeconds`
 * ago, or another endpoint came back (restored, recovering, or its recovery complete) that
 * recently. Clients follow DNS a resolver TTL later, and a region restored by its health check
 * takes its traffic back in one move, maybe with no weight written at all (Route 53 answers with
 * its kept weight again): the receivers keep their instances until that shows.
 */
function stillLosingTraffic(ev: Evaluation, input: CapacityInput, id: string): boolean {
  const windowMs = ev.policy.shedding.intervalSeconds * 1000;
  const now = sharesOf(ev.current, ev.ids)[id]!;
  if (sharesOf(input.target, ev.ids)[id]! < now - CUT_SHARE) return true;
  const cutAt = lastCutAt(ev.previous.recentChanges, id);
  if (cutAt !== undefined && ev.now - cutAt < windowMs) return true;
  return Object.entries(input.endpoints).some(([other, e]) => other !== id && ev.priorEndpoints[other] !== undefined && comingBack(ev, other, e, windowMs));
}

/** The endpoint left drained or degraded for a state with more traffic within the window (this decision included). */
function comingBack(ev: Evaluation, id: string, state: EndpointState, windowMs: number): boolean {
  if (state.status === 'drained' || state.status === 'degraded' || ev.now - state.since >= windowMs) return false;
  // A state entered before this decision: only its `since` says when; one entered now: its prior state says from where.
  return state.since < ev.now || ev.priorEndpoints[id]!.status !== state.status;
}

/** A fall in an endpoint's share smaller than this is rounding, not traffic moving off it. */
const CUT_SHARE = 0.01;

/**
 * The incident that asked for capacity is over enough to give some back: no endpoint drained (a
 * recovering one's share already counts in what the others need), no rollout or maintenance drain.
 * What is given back is only what the plan no longer needs, so a slow endpoint still shedding keeps
 * its receivers' capacity.
 */
function settled(input: CapacityInput): boolean {
  return !input.drains && Object.keys(input.rollouts).length === 0 && Object.values(input.endpoints).every((e) => e.status !== 'drained');
}
