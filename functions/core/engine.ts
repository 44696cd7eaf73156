/**
 * The decision engine: (service policy, observations, state, now) → (decision, next state).
 * Pure: no I/O, no clock, no randomness; the same inputs always give the same decision. The
 * Lambda handlers, the CLI and the simulator are shells around this one function.
 *
 * A decision is a pipeline of phases (phase.ts), each a pure function of the evaluation and of
 * what the phases before it produced, each returning its value with its reasons:
 *   1. overrides in force: expired, drills aborted by their guard alarm, drift adopted (overrides.ts),
 *      and scheduled drills started (drills.ts);
 *   2. deployment events applied to the rollouts (deployments.ts);
 *   3. verdicts per endpoint, then fail static if most serving endpoints look bad or unknown at
 *      once (the observation is the likelier fault), else each endpoint's state machine moved
 *      (endpointStates.ts, hysteresis.ts);
 *   4. rollouts moved on with the period's evidence (deployments.ts, rollout.ts), and the
 *      endpoints' latency against load learned (loadProfiles.ts);
 *   5. weights planned from the states, capacity-aware (weightPlanner.ts), with bystanders kept
 *      from being moved back against their last move by others' sheds (receiversWay.ts);
 *   6. safety guards: pin, freeze, fail static, nothing known, step bound, never all zero; then
 *      anti-flap guards: deadbands and the change budget (guards.ts);
 *   7. capacity asked of the endpoints' providers before traffic moves in, and given back after
 *      (capacityHandshake.ts);
 *   8. the decision and the next state, from what every phase produced and said.
 */
import { planCapacity, type CapacityPlan } from './capacityHandshake.js';
import type { ServiceConfig } from './config.js';
import { advanceRollouts, applyDeployments, type Rollouts } from './deployments.js';
import { canaryVerdicts } from './canaryLatency.js';
import { startDrills } from './drills.js';
import { failStaticOf, nextFailStaticNotice, stepEndpoints, verdictsOf } from './endpointStates.js';
import { applyAntiFlap, applySafety, isEmergency } from './guards.js';
import { initialEndpointState, trafficFactor } from './hysteresis.js';
import { learnLoadProfiles, utilisationOf } from './loadProfiles.js';
import { keepReceiversWay } from './receiversWay.js';
import { applyOverrides } from './overrides.js';
import { together, type Evaluation, type Said } from './phase.js';
import { rolloutFactor } from './rollout.js';
import type { DecideInput, DecideOutput, Decision, EndpointState, EpochMs, LoadProfile, ServiceState, Weights } from './types.js';
import { baselineWeights, plannedDemand, planTargets } from './weightPlanner.js';
import { warmCapacityNow } from './warmCapacity.js';
import { sameWeights, shareMoved } from './weights.js';

export { baselineWeights } from './weightPlanner.js';

/** Idempotency keys of deployment events a state remembers. */
const DEPLOYMENT_KEYS_KEPT = 64;

/** The state of a service never evaluated before: every endpoint healthy. */
export function initialServiceState(service: ServiceConfig, now: EpochMs, weights?: Weights): ServiceState {
  const endpoints: Record<string, EndpointState> = {};
  for (const e of service.endpoints) endpoints[e.setIdentifier] = initialEndpointState(now, service.policy);
  return {
    endpoints,
    appliedWeights: weights ?? null,
    recentChanges: [],
    overrides: {},
    failStaticSince: null,
    lastPeriodStart: null,
    lastEvaluatedAt: null,
    rollouts: {},
    demandHistory: [],
    deploymentKeys: [],
    drillStarts: {},
    loadProfiles: {},
    capacity: {},
  };
}

/** Decides what one service's weights should be now. */
export function decide(service: ServiceConfig, input: DecideInput): DecideOutput {
  const ev = evaluationOf(service, input);
  const overrides = applyOverrides(ev);
  const drills = startDrills(ev, overrides.value.overrides);
  const inForce = drills.value.overrides;
  const deployments = applyDeployments(ev);
  const judged = verdictsOf(ev);
  const failStatic = failStaticOf(ev, judged.verdicts, inForce);
  // Capacity, and a recovery step's headroom, are judged on one demand: the busiest of the last few periods.
  const demand = plannedDemand(ev, judged.fresh);
  const stepped = stepEndpoints(ev, judged, failStatic.value, demand.demand);
  const evidence = { verdicts: judged.verdicts, fresh: judged.fresh, endpoints: stepped.value.endpoints, failStatic: failStatic.value };
  // Canaries are judged, and lines learned, on the canary's statistic (canaryLatency.ts).
  const canaryEvidence = { ...evidence, verdicts: canaryVerdicts(service, ev.observations, judged.verdicts) };
  const rollouts = advanceRollouts(ev, { ...canaryEvidence, rollouts: deployments.value.rollouts });
  const rolloutEvents = [...deployments.rolloutEvents, ...rollouts.rolloutEvents];
  const loadProfiles = learnLoadProfiles(ev, { ...canaryEvidence, rollouts: rollouts.value, rolloutEvents });
  const plan = planTargets(ev, { ...evidence, rollouts: rollouts.value, overrides: inForce, demand });
  const { endpoints } = plan.value;
  const steady = keepReceiversWay(ev, plan.value);
  const target = steady.value;
  const emergency = isEmergency(ev, { target, endpoints, transitions: stepped.transitions, abortedDrills: overrides.value.abortedDrills });
  const { restoredUnderFailStatic } = stepped.value;
  const guarded = applySafety(ev, { ...evidence, restoredUnderFailStatic, target, overrides: inForce, emergency, rollouts: rollouts.value });
  const rolloutMoved = rolloutsMoved(ev, rollouts.value);
  const stateMoved = endpointsMoved(ev, stepped.value.endpoints) || startsServing(ev, stepped.value.endpoints, guarded.value.target) || rolloutMoved;
  const sheds = shedsAny(ev, stepped.value.endpoints, rollouts.value);
  // Only a health check's own restore mirrors Route 53 (guards.ts `drainsUndone`): a region its
  // checkers restore (CHECKERS_CLEAR_RESTORED) was in Route 53's answers all along, its drain a move of steer53's.
  const restoredByHealthCheck = stepped.transitions.filter((t) => t.reason === 'HEALTH_CHECK_RESTORED').map((t) => t.endpoint);
  const settled = applyAntiFlap(ev, {
    mode: guarded.value.mode,
    target: guarded.value.target,
    emergency,
    stateMoved,
    sheds,
    rolloutMoved,
    overrides: inForce,
    restoredByHealthCheck,
  });
  const capacity = planCapacity(ev, {
    planned: plan.value.planned,
    target: settled.value.target,
    held: shareMoved(settled.value.target, target, ev.ids) >= ev.policy.rebalanceMinShare,
    demand: plan.value.demand,
    endpoints,
    rollouts: rollouts.value,
    mode: guarded.value.mode,
    drains: Object.keys(inForce.drains ?? {}).length > 0,
  });
  return finish(ev, {
    said: together([overrides, drills, deployments, failStatic, stepped, rollouts, plan, steady, guarded, settled, capacity]),
    ...judged,
    ...plan.value,
    ...settled.value,
    deploymentKeys: deployments.value.deploymentKeys,
    mode: guarded.value.mode,
    failStatic: failStatic.value,
    emergency,
    overrides: inForce,
    rollouts: rollouts.value,
    loadProfiles,
    drillStarts: drills.value.drillStarts,
    capacity: capacity.value,
  });
}

/** What the phases of a decision produced and said, for the decision and the next state. */
interface Outcome extends Pick<Decision, 'verdicts' | 'mode' | 'changes'>, Pick<ServiceState, 'endpoints' | 'recentChanges' | 'overrides'> {
  readonly said: Said;
  readonly fresh: boolean;
  readonly failStatic: boolean;
  /** The planned change was an emergency (whether or not anything is written). */
  readonly emergency: boolean;
  /** The weights settled on. */
  readonly target: Weights;
  readonly rollouts: Rollouts;
  readonly demandHistory: readonly number[];
  readonly deploymentKeys: readonly string[];
  readonly loadProfiles: Readonly<Record<string, LoadProfile>>;
  readonly drillStarts: Readonly<Record<string, EpochMs>>;
  readonly capacity: CapacityPlan;
}

function finish(ev: Evaluation, outcome: Outcome): DecideOutput {
  const { said, changes } = outcome;
  const failStaticNotice = nextFailStaticNotice(ev, outcome.failStatic);
  const nextState: ServiceState = {
    endpoints: outcome.endpoints,
    appliedWeights: changes.length > 0 ? outcome.target : ev.current,
    recentChanges: outcome.recentChanges,
    overrides: outcome.overrides,
    failStaticSince: outcome.failStatic ? (failStaticNotice?.since ?? ev.now) : null,
    ...(failStaticNotice !== undefined ? { failStaticNotice } : {}),
    lastPeriodStart: outcome.fresh ? ev.observations.periodStart : ev.previous.lastPeriodStart,
    lastEvaluatedAt: ev.now,
    rollouts: outcome.rollouts,
    demandHistory: outcome.demandHistory,
    // The newest few: enough to tell any redelivery EventBridge or a pipeline's retry can make.
    deploymentKeys: outcome.deploymentKeys.slice(-DEPLOYMENT_KEYS_KEPT),
    drillStarts: outcome.drillStarts,
    loadProfiles: outcome.loadProfiles,
    capacity: outcome.capacity.capacity,
  };
  const decision: Decision = {
    service: ev.service.name,
    at: ev.now,
    periodStart: ev.observations.periodStart,
    mode: outcome.mode,
    verdicts: outcome.verdicts,
    currentWeights: ev.current,
    targetWeights: outcome.target,
    changes,
    emergency: outcome.emergency && changes.length > 0,
    transitions: said.transitions,
    reasons: said.reasons,
    blocked: said.blocked,
    notifications: said.notifications,
    rolloutEvents: said.rolloutEvents,
    capacityRequests: outcome.capacity.requests,
  };
  return { decision, nextState };
}

/** What every phase reads: the input, with the state it starts from and Route 53's weights for every configured endpoint. */
export function evaluationOf(service: ServiceConfig, input: DecideInput): Evaluation {
  const { now } = input;
  const ids = service.endpoints.map((e) => e.setIdentifier);
  const previous = input.state ?? initialServiceState(service, now);
  // Endpoints added to the config since the last evaluation start healthy; removed ones are dropped.
  const priorEndpoints: Record<string, EndpointState> = {};
  for (const id of ids) priorEndpoints[id] = previous.endpoints[id] ?? initialEndpointState(now, service.policy);
  const last = previous.appliedWeights;
  const warmNow = warmCapacityNow({ service, previous, capacity: input.capacity });
  return {
    service,
    policy: service.policy,
    ids,
    now,
    observations: input.observations,
    deployments: input.deployments ?? [],
    guardAlarms: input.guardAlarms ?? {},
    previous,
    priorEndpoints,
    current: currentWeightsOf(service, input, previous),
    drifted: input.currentWeights !== undefined && last !== null && !sameWeights(last, input.currentWeights, ids),
    total: service.endpoints.reduce((sum, e) => sum + e.baselineWeight, 0),
    utilisation: utilisationOf(service, input, warmNow),
    warmNow,
    capacity: input.capacity,
  };
}

/** Did any endpoint's own state ask for a move? If not (and no rollout did), a change is only a rebalance. */
function endpointsMoved(ev: Evaluation, endpoints: Readonly<Record<string, EndpointState>>): boolean {
  const { policy, priorEndpoints } = ev;
  return ev.ids.some(
    (id) => trafficFactor(endpoints[id]!, policy) !== trafficFactor(priorEndpoints[id]!, policy) || endpoints[id]!.status !== priorEndpoints[id]!.status,
  );
}

/**
 * The change gives traffic to an endpoint Route 53 gives none, and whose own state wants it
 * serving: a state move not yet carried out (a recovery's first step a flap hold kept back),
 * never a mere rebalance.
 */
function startsServing(ev: Evaluation, endpoints: Readonly<Record<string, EndpointState>>, target: Weights): boolean {
  return ev.ids.some((id) => ev.current[id] === 0 && target[id]! > 0 && trafficFactor(endpoints[id]!, ev.policy) > 0);
}

/** How far along the way to no traffic each status is. */
const SHED_RANK: Readonly<Record<EndpointState['status'], number>> = { healthy: 0, recovering: 1, degraded: 2, drained: 3 };

/**
 * An endpoint's own state moved toward less traffic (degraded, drained, a failed recovery, or a
 * degraded one shedding more), or its rollout holds it further back: the change sheds.
 */
function shedsAny(ev: Evaluation, endpoints: Readonly<Record<string, EndpointState>>, rollouts: Rollouts): boolean {
  const { policy, priorEndpoints } = ev;
  const limit = (r: Rollouts[string] | undefined) => rolloutFactor(r, policy.rollout) ?? Number.POSITIVE_INFINITY;
  return ev.ids.some((id) => {
    const now = endpoints[id]!;
    const before = priorEndpoints[id]!;
    const shedMore = now.status === 'degraded' && before.status === 'degraded' && now.shed > before.shed + 1e-9;
    return SHED_RANK[now.status] > SHED_RANK[before.status] || shedMore || limit(rollouts[id]) < limit(ev.previous.rollouts[id]) - 1e-9;
  });
}

function rolloutsMoved(ev: Evaluation, rollouts: Rollouts): boolean {
  const policy = ev.policy.rollout;
  return ev.ids.some((id) => rolloutFactor(rollouts[id], policy) !== rolloutFactor(ev.previous.rollouts[id], policy));
}

function currentWeightsOf(service: ServiceConfig, input: DecideInput, state: ServiceState): Weights {
  const source = input.currentWeights ?? state.appliedWeights ?? baselineWeights(service);
  const out: Weights = {};
  for (const e of service.endpoints) out[e.setIdentifier] = source[e.setIdentifier] ?? e.baselineWeight;
  return out;
}
