/**
 * The decision engine: (service policy, observations, state, now) → (decision, next state).
 * Pure: no I/O, no clock, no randomness; the same inputs always give the same decision. The
 * Lambda handlers, the CLI and the simulator are shells around this one function.
 *
 * One evaluation, in order:
 *   1. expire overrides;
 *   2. verdicts per endpoint (verdicts.ts);
 *   3. fail static if most serving endpoints look bad or unknown at once (the observation is the
 *      likelier fault), else move each endpoint's state machine (hysteresis.ts);
 *   4. plan weights from the states, capacity-aware (weightPlanner.ts);
 *   5. safety and anti-flap guards on the change: overrides, step bound, deadband, change budget;
 *   6. integer weights by largest remainder (weights.ts), the changes to write, reasons and
 *      notifications.
 */
import type { Policy, ServiceConfig } from './config.js';
import { initialEndpointState, stepEndpoint, trafficFactor } from './hysteresis.js';
import type {
  AlarmState,
  DecideInput,
  DecideOutput,
  DecisionMode,
  EndpointState,
  EndpointVerdict,
  EpochMs,
  LoadProfile,
  Notification,
  Override,
  Overrides,
  Reason,
  RolloutEvent,
  RolloutState,
  ServiceState,
  Transition,
  WeightChange,
  Weights,
} from './types.js';
import { guardKey } from './types.js';
import { latestStart } from './drills.js';
import { evaluateEndpoint } from './verdicts.js';
import { addPoint } from './loadModel.js';
import { advanceRollout, applyDeployment, judgePeriod, latencySignalOf, rolloutFactor, type LoadEvidence } from './rollout.js';
import { planWeights, type PlanEndpoint } from './weightPlanner.js';
import { integerWeights, shareMoved, sharesOf } from './weights.js';

const HOUR_MS = 3_600_000;
/** Who an adopted drift's pin is by. */
const DRIFT_ACTOR = 'drift';
/** Periods of observed demand kept for capacity planning. */
const DEMAND_PERIODS = 5;
/** Half-life of a point in an endpoint's learned latency against load: a day, so a daily cycle of load is in it. */
const LOAD_PROFILE_HALF_LIFE_MS = 24 * HOUR_MS;

/** The weights each endpoint's baseline gives. */
export function baselineWeights(service: ServiceConfig): Weights {
  const weights: Weights = {};
  for (const e of service.endpoints) weights[e.setIdentifier] = e.baselineWeight;
  return weights;
}

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
  };
}

/** Decides what one service's weights should be now. */
export function decide(service: ServiceConfig, input: DecideInput): DecideOutput {
  const { now, observations } = input;
  const policy = service.policy;
  const ids = service.endpoints.map((e) => e.setIdentifier);
  const previous = input.state ?? initialServiceState(service, now);
  const reasons: Reason[] = [];
  const blocked: Reason[] = [];
  const notifications: Notification[] = [];
  const transitions: Transition[] = [];

  // Endpoints added to the config since the last evaluation start healthy; removed ones are dropped.
  const priorEndpoints: Record<string, EndpointState> = {};
  for (const id of ids) priorEndpoints[id] = previous.endpoints[id] ?? initialEndpointState(now, policy);

  const current = currentWeightsOf(service, input, previous);
  const drifted = input.currentWeights !== undefined && previous.appliedWeights !== null && !sameWeights(previous.appliedWeights, input.currentWeights, ids);
  if (drifted) {
    reasons.push({
      code: 'WEIGHTS_RECONCILED',
      message: `Route 53 holds ${formatWeights(current, ids)}, not the ${formatWeights(previous.appliedWeights!, ids)} last written; deciding from what Route 53 holds`,
    });
  }

  // 1. Overrides end on their own; an edit made outside steer53 may become one (policy.drift).
  let overrides = expireOverrides(previous.overrides, now, reasons, notifications, service.name);
  // A drill ends the moment its guard alarm fires: the practice must not become the incident.
  const abortedDrills = Object.entries(overrides.drains ?? {}).filter(
    ([, drain]) => drain.guard !== undefined && input.guardAlarms?.[guardKey(drain.guard)] === 'ALARM',
  );
  if (abortedDrills.length > 0) {
    const drains = Object.fromEntries(Object.entries(overrides.drains!).filter(([id]) => !abortedDrills.some(([aborted]) => aborted === id)));
    const { drains: _all, ...rest } = overrides;
    overrides = Object.keys(drains).length > 0 ? { ...rest, drains } : rest;
    for (const [id, drill] of abortedDrills) {
      const message = `drill of ${id} aborted: guard alarm ${drill.guard!.name} (${drill.guard!.region}) is in ALARM; ${id} comes back at once`;
      reasons.push({ code: 'DRILL_ABORTED', endpoint: id, message });
      notifications.push({ severity: 'critical', reason: 'DRILL_ABORTED', summary: `${service.dnsName}: ${message}` });
    }
  }
  if (drifted && policy.drift.action === 'adopt' && overrides.freeze === undefined && (overrides.pin === undefined || overrides.pin.by === DRIFT_ACTOR)) {
    const until = now + policy.drift.adoptSeconds * 1000;
    const message = `adopted the weights set outside steer53 (${formatWeights(current, ids)}) as a pin until ${new Date(until).toISOString()}; policy resumes then`;
    overrides = { ...overrides, pin: { by: DRIFT_ACTOR, reason: 'Route 53 weights changed outside steer53', setAt: now, until, weights: { ...current } } };
    reasons.push({ code: 'DRIFT_ADOPTED', message });
    notifications.push({ severity: 'warning', reason: 'DRIFT_ADOPTED', summary: `${service.dnsName}: ${message}` });
  }

  // 1a. Scheduled drills start (one try per scheduled time), only on a fully healthy service.
  const drillStarts: Record<string, EpochMs> = { ...(previous.drillStarts ?? {}) };
  for (const drill of service.drills) {
    const start = latestStart(drill.schedule, now);
    const id = drill.endpoint;
    if (start === null || now >= start + drill.durationMinutes * 60_000 || drillStarts[id] === start) continue;
    drillStarts[id] = start;
    const until = start + drill.durationMinutes * 60_000;
    const blocker = drillBlocker(service, id, priorEndpoints, overrides, previous, input.guardAlarms?.[guardKey(drill.guardAlarm)]);
    if (blocker) {
      const message = `scheduled drill of ${id} (${drill.schedule} UTC) skipped: ${blocker}`;
      reasons.push({ code: 'DRILL_SKIPPED', endpoint: id, message });
      notifications.push({ severity: 'warning', reason: 'DRILL_SKIPPED', summary: `${service.dnsName}: ${message}` });
      continue;
    }
    const reason = `scheduled drill (${drill.schedule} UTC)`;
    overrides = { ...overrides, drains: { ...(overrides.drains ?? {}), [id]: { by: 'drill schedule', reason, setAt: now, until, guard: drill.guardAlarm } } };
    const message = `drill: ${id} drained until ${new Date(until).toISOString()}, aborted at once if ${drill.guardAlarm.name} (${drill.guardAlarm.region}) goes to ALARM`;
    reasons.push({ code: 'DRILL_STARTED', endpoint: id, message });
    notifications.push({ severity: 'info', reason: 'DRILL_STARTED', summary: `${service.dnsName}: ${message}` });
  }

  // 1b. Deployment events, oldest first.
  const rolloutEvents: RolloutEvent[] = [];
  const rollouts: Record<string, RolloutState> = {};
  for (const [id, rollout] of Object.entries(previous.rollouts ?? {})) if (ids.includes(id)) rollouts[id] = rollout;
  const deploymentKeys = [...(previous.deploymentKeys ?? [])];
  for (const signal of [...(input.deployments ?? [])].sort((a, b) => a.at - b.at)) {
    if (deploymentKeys.includes(signal.idempotencyKey)) {
      reasons.push({
        code: 'DEPLOYMENT_IGNORED',
        endpoint: signal.endpoint,
        message: `${signal.endpoint} ${signal.phase} ${signal.version}: duplicate (idempotency key ${signal.idempotencyKey} already applied)`,
      });
      continue;
    }
    deploymentKeys.push(signal.idempotencyKey);
    if (!ids.includes(signal.endpoint)) {
      reasons.push({ code: 'DEPLOYMENT_IGNORED', message: `${signal.phase} ${signal.version} for unknown endpoint ${signal.endpoint}` });
      continue;
    }
    const applied = applyDeployment(
      rollouts[signal.endpoint],
      signal,
      policy.rollout,
      trafficFactor(priorEndpoints[signal.endpoint]!, policy),
      now,
      service.dnsName,
    );
    collectRollout(rollouts, signal.endpoint, applied, reasons, notifications, rolloutEvents);
  }
  // A rollout compares against the endpoints as they ran when it began: the canary's own line is
  // from then, so the controls' must be too, or a change of traffic mix since would read as the canary's.
  for (const [id, rollout] of Object.entries(rollouts)) {
    if (rollout.loadReference === undefined && previous.loadProfiles !== undefined) rollouts[id] = { ...rollout, loadReference: previous.loadProfiles };
  }

  // 2. Verdicts.
  const verdicts: Record<string, EndpointVerdict> = {};
  for (const e of service.endpoints) {
    const drained = priorEndpoints[e.setIdentifier]!.status === 'drained' || previous.overrides.drains?.[e.setIdentifier] !== undefined;
    verdicts[e.setIdentifier] = evaluateEndpoint(e.signals, observations.endpoints[e.setIdentifier], { drained });
  }
  const fresh = previous.lastPeriodStart === null || observations.periodStart >= previous.lastPeriodStart;

  // 3. Fail static, or move the state machines.
  const considered = ids.filter((id) => priorEndpoints[id]!.status !== 'drained' && overrides.drains?.[id] === undefined);
  const bad = considered.filter((id) => verdicts[id]!.verdict === 'breach' || verdicts[id]!.verdict === 'unknown');
  const failStatic = considered.length > 0 && bad.length / considered.length > policy.safety.failStaticFraction;
  const endpoints: Record<string, EndpointState> = {};
  // Under fail static the evidence is suspect, so nothing sheds on it; but an endpoint whose own
  // signals say it has recovered may still come back, toward baseline. (Holding a drained region
  // out while the others run hot would keep the very overload that made them look bad.)
  let restoredUnderFailStatic = false;
  if (failStatic) {
    const message = `${bad.length} of ${considered.length} serving endpoints look bad or unknown (${bad.join(', ')}): more likely the observations than every region; ${policy.safety.failStaticAction === 'hold' ? 'holding weights' : 'returning to baseline'}`;
    reasons.push({ code: 'FAIL_STATIC', message });
    if (previous.failStaticSince === null)
      notifications.push({ severity: 'critical', reason: 'FAIL_STATIC', summary: `${service.dnsName}: fail static — ${message}` });
  } else if (previous.failStaticSince !== null) {
    const message = `fail static ended after ${Math.round((now - previous.failStaticSince) / 60000)} min: observations look normal again`;
    reasons.push({ code: 'FAIL_STATIC_ENDED', message });
    notifications.push({ severity: 'info', reason: 'FAIL_STATIC_ENDED', summary: `${service.dnsName}: ${message}` });
  }
  // What each endpoint carries now, as a fraction of its baseline share: capacity give-back can
  // make it more than its state says, and a recovery step must be judged from what it really carries.
  const baselineShares = sharesOf(baselineWeights(service), ids);
  const currentShares = sharesOf(current, ids);
  const carried: Record<string, number> = {};
  for (const id of ids) carried[id] = baselineShares[id]! > 0 ? currentShares[id]! / baselineShares[id]! : 0;
  for (const id of ids) {
    const prior = priorEndpoints[id]!;
    const result = stepEndpoint({
      endpoint: id,
      state: prior,
      verdict: verdicts[id]!,
      periodStart: observations.periodStart,
      fresh,
      now,
      policy,
      carried: carried[id]!,
    });
    const restores =
      result.transition?.to === 'recovering' ||
      result.transition?.to === 'healthy' ||
      (prior.status === 'recovering' && result.state.status === 'recovering' && result.state.recoveryStep > prior.recoveryStep);
    if (failStatic && !restores) {
      // Keep the evidence, move no state: when the fault clears, M-of-N still sees what happened.
      endpoints[id] = { ...prior, history: result.state.history };
      continue;
    }
    if (failStatic) restoredUnderFailStatic = true;
    endpoints[id] = result.state;
    reasons.push(...result.holds);
    if (result.transition) {
      transitions.push({ endpoint: id, ...result.transition });
      reasons.push({ code: result.transition.reason, message: result.transition.message, endpoint: id });
      notifications.push({
        severity:
          result.transition.to === 'drained' ? 'critical' : result.transition.to === 'healthy' || result.transition.to === 'recovering' ? 'info' : 'warning',
        reason: result.transition.reason,
        summary: `${service.dnsName}: ${result.transition.message}`,
      });
    }
    if (!result.transition && result.holds.length === 0 && verdicts[id]!.verdict === 'unknown' && endpoints[id]!.status === 'healthy') {
      reasons.push({ code: 'UNKNOWN_HOLD', endpoint: id, message: `${id}: no usable data (${unknownSignals(verdicts[id]!)}); holding its state` });
    }
  }

  // 3b. Rollouts move on with time and this period's evidence (none under fail static: it is suspect).
  const shares = sharesOf(current, ids);
  const utilisation = utilisationOf(service, input);
  for (const [id, rollout] of Object.entries(rollouts)) {
    const loadEvidence: LoadEvidence = {
      utilisation,
      profiles: previous.loadProfiles ?? {},
      ...(rollout.loadReference ? { reference: rollout.loadReference } : {}),
    };
    const controls = ids.filter((other) => other !== id && rollouts[other] === undefined && endpoints[other]!.status === 'healthy');
    // Only periods that began after the step did are evidence about the step.
    const evidence = fresh && !failStatic && rollout.phase === 'canary' && observations.periodStart >= rollout.stepSince;
    const judgement = evidence ? judgePeriod(id, verdicts, shares, controls, policy.rollout, loadEvidence) : null;
    const advanced = advanceRollout({
      endpoint: id,
      rollout,
      policy: policy.rollout,
      now,
      judgement,
      failing: verdicts[id]!.failing,
      dnsName: service.dnsName,
    });
    collectRollout(rollouts, id, advanced, reasons, notifications, rolloutEvents);
  }
  const loadProfiles =
    policy.rollout.mode === 'none'
      ? {}
      : learnLoadProfiles(service, previous.loadProfiles ?? {}, {
          verdicts,
          utilisation,
          endpoints,
          rollouts,
          rolloutEvents,
          learn: !failStatic && (previous.lastPeriodStart === null || observations.periodStart > previous.lastPeriodStart),
          periodStart: observations.periodStart,
        });

  // Did any endpoint's own state (or rollout) ask for a move? If not, a change is only a rebalance.
  const stateMoved =
    ids.some(
      (id) => trafficFactor(endpoints[id]!, policy) !== trafficFactor(priorEndpoints[id]!, policy) || endpoints[id]!.status !== priorEndpoints[id]!.status,
    ) || ids.some((id) => rolloutFactor(rollouts[id], policy.rollout) !== rolloutFactor(previous.rollouts?.[id], policy.rollout));

  // 4. Plan.
  // Capacity is planned against the busiest of the last few periods' demand: one quiet minute
  // (or a region that stopped reporting) must not make the others look roomier than they are.
  const observedDemand = demandOf(service, input, current);
  const demandHistory = [...(previous.demandHistory ?? []), ...(fresh && observedDemand !== null ? [observedDemand] : [])].slice(-DEMAND_PERIODS);
  const demand = demandHistory.length > 0 ? Math.max(...demandHistory) : null;
  const total = service.endpoints.reduce((sum, e) => sum + e.baselineWeight, 0);
  const plan: PlanEndpoint[] = service.endpoints.map((config) => {
    const id = config.setIdentifier;
    const state = endpoints[id]!;
    const limit = rolloutFactor(rollouts[id], policy.rollout);
    // Drained for maintenance, or held out by a deployment: not serving, and not to be given traffic back.
    const maintenance = overrides.drains?.[id] !== undefined || limit === 0;
    return {
      config,
      state,
      maintenance,
      factor: maintenance ? 0 : Math.min(trafficFactor(state, policy), limit ?? Number.POSITIVE_INFINITY),
      failing: state.status === 'drained' && state.failed === true,
      current: currentShares[id]! * total,
      // By state, not by this period's verdict: one breaching minute must not move traffic (M of N decides).
      receiver: !maintenance && state.status === 'healthy' && rollouts[id] === undefined,
    };
  });
  for (const [id, drain] of Object.entries(overrides.drains ?? {})) {
    reasons.push({ code: 'MAINTENANCE_DRAIN', endpoint: id, message: `${id} drained for maintenance by ${drain.by}${untilText(drain)}: ${drain.reason}` });
  }
  const planned = planWeights(plan, demand, policy);
  blocked.push(...planned.blocked);
  // A shed the others had no room for did not happen: record what was carried out, so the
  // endpoint stays degraded at what it really sheds instead of drifting to drained on paper.
  for (const e of service.endpoints) {
    const id = e.setIdentifier;
    const state = endpoints[id]!;
    if (state.status === 'degraded' && e.baselineWeight > 0 && overrides.drains?.[id] === undefined) {
      const carriedOut = Math.max(0, 1 - planned.weights[id]! / e.baselineWeight / (state.shedFrom ?? 1));
      if (carriedOut < state.shed - 1e-9) endpoints[id] = { ...state, shed: carriedOut };
    }
  }
  let target = integerWeights(planned.weights, ids, total);

  // 5. Guards, most authoritative first.
  let mode: DecisionMode = 'normal';
  // An emergency is not budgeted and not bounded: the drain of an endpoint found failing in this evaluation, or the end of a drill its guard alarm aborted.
  const emergency =
    transitions.some((t) => t.to === 'drained' && endpoints[t.endpoint]!.failed === true && target[t.endpoint]! < current[t.endpoint]!) ||
    abortedDrills.length > 0;

  if (overrides.pin !== undefined) {
    mode = 'pinned';
    const pinned = overrides.pin.weights;
    target = Object.fromEntries(ids.map((id) => [id, pinned[id] ?? current[id]!]));
    reasons.push({ code: 'PINNED', message: `weights pinned by ${overrides.pin.by}${untilText(overrides.pin)}: ${overrides.pin.reason}` });
  } else if (overrides.freeze !== undefined) {
    mode = 'frozen';
    if (!sameWeights(target, current, ids)) {
      blocked.push({
        code: 'FROZEN',
        message: `policy would set ${formatWeights(target, ids)}; frozen by ${overrides.freeze.by}${untilText(overrides.freeze)}: ${overrides.freeze.reason}`,
      });
    }
    target = { ...current };
  } else if (failStatic) {
    mode = 'fail-static';
    target =
      policy.safety.failStaticAction === 'baseline'
        ? boundStep(current, baselineWeights(service), ids, total, policy, blocked)
        : restoredUnderFailStatic
          ? boundStep(current, target, ids, total, policy, blocked)
          : { ...current };
  } else if (ids.every((id) => verdicts[id]!.verdict === 'unknown') && Object.keys(overrides.drains ?? {}).length === 0) {
    // Nothing is known this period: carry on with nothing, not even a move decided earlier.
    if (!sameWeights(target, current, ids)) blocked.push({ code: 'UNKNOWN_HOLD', message: 'no endpoint has usable data this period; holding weights' });
    target = { ...current };
  } else if (!emergency) {
    target = boundStep(current, target, ids, total, policy, blocked);
  }
  if (mode !== 'pinned' && mode !== 'frozen' && ids.every((id) => target[id] === 0)) {
    // All zero makes Route 53 split evenly: the opposite of any intent. (Only reachable when
    // Route 53 already holds all zeros and a rule says hold.)
    blocked.push({ code: 'MIN_HEALTHY_ENDPOINTS', message: 'Route 53 holds 0 on every record (an even split); writing baseline instead' });
    target = baselineWeights(service);
  }

  let changes = changesBetween(current, target, ids);
  const overridesChanged = JSON.stringify(overrides) !== JSON.stringify(previous.overrides);
  if (
    changes.length > 0 &&
    mode === 'normal' &&
    !emergency &&
    !stateMoved &&
    !overridesChanged &&
    shareMoved(current, target, ids) < policy.rebalanceMinShare
  ) {
    reasons.push({
      code: 'DEADBAND',
      message: `rebalance to ${formatWeights(target, ids)} moves under ${Math.round(policy.rebalanceMinShare * 100)}% of the traffic and no endpoint changed state; not written`,
    });
    target = { ...current };
    changes = [];
  }
  if (changes.length > 0 && mode === 'normal' && !emergency) {
    const crossesZero = changes.some((c) => c.from === 0 || c.to === 0);
    if (!crossesZero && changes.every((c) => Math.abs(c.to - c.from) < policy.deadbandWeight)) {
      reasons.push({ code: 'DEADBAND', message: `change to ${formatWeights(target, ids)} is under the ${policy.deadbandWeight}-point deadband; not written` });
      target = { ...current };
      changes = [];
    }
  }
  const recentChanges = previous.recentChanges.filter((c) => now - c.at < HOUR_MS);
  if (changes.length > 0 && mode !== 'pinned' && !emergency && recentChanges.length >= policy.changeBudget.maxChangesPerHour) {
    const message = `change to ${formatWeights(target, ids)} blocked: ${recentChanges.length} changes in the last hour (budget ${policy.changeBudget.maxChangesPerHour})`;
    blocked.push({ code: 'CHANGE_BUDGET_EXHAUSTED', message });
    notifications.push({ severity: 'warning', reason: 'CHANGE_BUDGET_EXHAUSTED', summary: `${service.dnsName}: ${message}` });
    target = { ...current };
    changes = [];
  }
  if (changes.length > 0) recentChanges.push({ at: now, emergency });

  const nextState: ServiceState = {
    endpoints,
    appliedWeights: changes.length > 0 ? target : current,
    recentChanges,
    overrides,
    failStaticSince: failStatic ? (previous.failStaticSince ?? now) : null,
    lastPeriodStart: fresh ? observations.periodStart : previous.lastPeriodStart,
    lastEvaluatedAt: now,
    ...(Object.keys(rollouts).length > 0 ? { rollouts } : {}),
    ...(deploymentKeys.length > 0 ? { deploymentKeys: deploymentKeys.slice(-64) } : {}),
    ...(demandHistory.length > 0 ? { demandHistory } : {}),
    ...(Object.keys(loadProfiles).length > 0 ? { loadProfiles } : {}),
    ...(Object.keys(drillStarts).length > 0 ? { drillStarts } : {}),
  };
  return {
    decision: {
      service: service.name,
      at: now,
      periodStart: observations.periodStart,
      mode,
      verdicts,
      currentWeights: current,
      targetWeights: target,
      changes,
      emergency: emergency && changes.length > 0,
      transitions,
      reasons,
      blocked,
      notifications,
      rolloutEvents,
    },
    nextState,
  };
}

function collectRollout(
  rollouts: Record<string, RolloutState>,
  id: string,
  step: { rollout: RolloutState | undefined; reasons: readonly Reason[]; notifications: readonly Notification[]; events: readonly RolloutEvent[] },
  reasons: Reason[],
  notifications: Notification[],
  events: RolloutEvent[],
): void {
  if (step.rollout) rollouts[id] = step.rollout;
  else delete rollouts[id];
  reasons.push(...step.reasons);
  notifications.push(...step.notifications);
  events.push(...step.events);
}

function currentWeightsOf(service: ServiceConfig, input: DecideInput, state: ServiceState): Weights {
  const source = input.currentWeights ?? state.appliedWeights ?? baselineWeights(service);
  const out: Weights = {};
  for (const e of service.endpoints) out[e.setIdentifier] = source[e.setIdentifier] ?? e.baselineWeight;
  return out;
}

/**
 * Requests per second the whole service receives, from the endpoints that report their load,
 * scaled up by the share of traffic they carry (a region that is down often reports nothing).
 * Unknown when the reporting endpoints carry less than half of the traffic.
 */
function demandOf(service: ServiceConfig, input: DecideInput, current: Weights): number | null {
  const ids = service.endpoints.map((e) => e.setIdentifier);
  const shares = sharesOf(current, ids);
  let sum = 0;
  let covered = 0;
  for (const id of ids) {
    const rate = input.observations.endpoints[id]?.requestRate;
    if (rate === undefined || rate === null || !Number.isFinite(rate) || rate < 0) continue;
    sum += rate;
    covered += shares[id]!;
  }
  return covered >= 0.5 && sum > 0 ? sum / covered : null;
}

/** Why a scheduled drill must not start now, or undefined: a drill is practice, never on a service already under strain. */
function drillBlocker(
  service: ServiceConfig,
  id: string,
  endpoints: Readonly<Record<string, EndpointState>>,
  overrides: Overrides,
  previous: ServiceState,
  guard: AlarmState | undefined,
): string | undefined {
  if (guard === 'ALARM') return 'its guard alarm is in ALARM';
  const unwell = service.endpoints.map((e) => e.setIdentifier).filter((other) => endpoints[other]!.status !== 'healthy');
  if (unwell.length > 0) return `not every endpoint is healthy (${unwell.map((other) => `${other} ${endpoints[other]!.status}`).join(', ')})`;
  if (previous.failStaticSince !== null) return 'the service is failing static';
  if (overrides.freeze) return `the service is frozen by ${overrides.freeze.by}`;
  if (overrides.pin) return `the weights are pinned by ${overrides.pin.by}`;
  if (overrides.drains?.[id]) return `${id} is already drained by ${overrides.drains[id]!.by}`;
  if (Object.keys(previous.rollouts ?? {}).length > 0) return `a rollout is in progress (${Object.keys(previous.rollouts!).join(', ')})`;
  return undefined;
}

/** Each endpoint's requests per second over its warm capacity this period; null when either is unknown. */
function utilisationOf(service: ServiceConfig, input: DecideInput): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const e of service.endpoints) {
    const rate = input.observations.endpoints[e.setIdentifier]?.requestRate;
    const warm = e.capacity.warmRps;
    out[e.setIdentifier] = warm !== undefined && rate !== undefined && rate !== null && Number.isFinite(rate) && rate >= 0 ? rate / warm : null;
  }
  return out;
}

/**
 * One more period of each endpoint's latency against load (loadModel.ts): only while it runs its
 * settled version normally — healthy, no rollout, below the knee of its capacity, with enough
 * samples. A canary's line stays as it was before its deploy; a promoted version starts afresh.
 */
function learnLoadProfiles(
  service: ServiceConfig,
  previous: Readonly<Record<string, LoadProfile>>,
  now: {
    verdicts: Readonly<Record<string, EndpointVerdict>>;
    utilisation: Readonly<Record<string, number | null>>;
    endpoints: Readonly<Record<string, EndpointState>>;
    rollouts: Readonly<Record<string, RolloutState>>;
    rolloutEvents: readonly RolloutEvent[];
    learn: boolean;
    periodStart: EpochMs;
  },
): Record<string, LoadProfile> {
  const policy = service.policy.rollout;
  const profiles: Record<string, LoadProfile> = {};
  for (const e of service.endpoints) {
    const id = e.setIdentifier;
    if (now.rolloutEvents.some((event) => event.endpoint === id && event.type === 'Rollout Succeeded')) continue;
    const prior = previous[id];
    const u = now.utilisation[id];
    const latency = latencySignalOf(now.verdicts[id], policy);
    const usable =
      now.learn &&
      now.rollouts[id] === undefined &&
      now.endpoints[id]!.status === 'healthy' &&
      u !== null &&
      u !== undefined &&
      u <= e.capacity.targetUtilization &&
      latency !== undefined &&
      latency.value !== null &&
      (latency.sampleCount === null || latency.sampleCount >= policy.canary.minSamples);
    const next = usable ? addPoint(prior, u, latency.value!, now.periodStart, LOAD_PROFILE_HALF_LIFE_MS) : prior;
    if (next) profiles[id] = next;
  }
  return profiles;
}

/** Moves at most `maxShiftPerEvaluation` of the traffic toward the target in one evaluation. */
function boundStep(current: Weights, target: Weights, ids: readonly string[], total: number, policy: Policy, blocked: Reason[]): Weights {
  const moved = shareMoved(current, target, ids);
  const limit = policy.safety.maxShiftPerEvaluation;
  if (moved <= limit + 1e-9) return target;
  const from = sharesOf(current, ids);
  const to = sharesOf(target, ids);
  const fraction = limit / moved;
  const between: Weights = {};
  for (const id of ids) between[id] = from[id]! + (to[id]! - from[id]!) * fraction;
  // Integer weights quantise shares; with small totals a rounded step could overshoot the target
  // or move a record the wrong way. Use the finest resolution that stays within 255 if it must.
  let bounded = integerWeights(
    between,
    ids,
    Math.max(
      total,
      ids.reduce((sum, id) => sum + current[id]!, 0),
    ),
  );
  if (!isBetween(sharesOf(bounded, ids), from, to, ids)) bounded = integerWeights(between, ids, Number.MAX_SAFE_INTEGER);
  blocked.push({
    code: 'STEP_BOUNDED',
    message: `moving ${Math.round(limit * 100)}% of traffic now (${formatWeights(bounded, ids)}) toward ${formatWeights(target, ids)}; the rest follows in later evaluations`,
  });
  return bounded;
}

function isBetween(shares: Weights, from: Weights, to: Weights, ids: readonly string[]): boolean {
  return ids.every((id) => shares[id]! >= Math.min(from[id]!, to[id]!) - 1e-9 && shares[id]! <= Math.max(from[id]!, to[id]!) + 1e-9);
}

function expireOverrides(overrides: Overrides, now: EpochMs, reasons: Reason[], notifications: Notification[], service: string): Overrides {
  const expired = (o: Override | undefined): o is Override => o !== undefined && o.until !== null && now >= o.until;
  const note = (what: string, o: Override) => {
    const message = `${what} set by ${o.by} (${o.reason}) expired; back to policy`;
    reasons.push({ code: 'OVERRIDE_EXPIRED', message });
    notifications.push({ severity: 'info', reason: 'OVERRIDE_EXPIRED', summary: `${service}: ${message}` });
  };
  const next: { freeze?: Override; pin?: Override & { weights: Weights }; drains?: Record<string, Override> } = {};
  if (overrides.freeze) {
    if (expired(overrides.freeze)) note('freeze', overrides.freeze);
    else next.freeze = overrides.freeze;
  }
  if (overrides.pin) {
    if (expired(overrides.pin)) note('pin', overrides.pin);
    else next.pin = overrides.pin;
  }
  if (overrides.drains) {
    const drains: Record<string, Override> = {};
    for (const [id, drain] of Object.entries(overrides.drains)) {
      if (expired(drain)) note(`maintenance drain of ${id}`, drain);
      else drains[id] = drain;
    }
    if (Object.keys(drains).length > 0) next.drains = drains;
  }
  return next;
}

function changesBetween(current: Weights, target: Weights, ids: readonly string[]): WeightChange[] {
  const changes: WeightChange[] = [];
  for (const id of ids) {
    const from = current[id]!;
    const to = target[id]!;
    if (from !== to) changes.push({ setIdentifier: id, from, to });
  }
  return changes;
}

function sameWeights(a: Weights, b: Weights, ids: readonly string[]): boolean {
  return ids.every((id) => a[id] === b[id]);
}

function formatWeights(weights: Weights, ids: readonly string[]): string {
  return ids.map((id) => `${id}=${weights[id] ?? 0}`).join(' ');
}

function untilText(o: Override): string {
  return o.until === null ? '' : ` until ${new Date(o.until).toISOString()}`;
}

function unknownSignals(verdict: EndpointVerdict): string {
  return verdict.signals
    .filter((s) => s.verdict === 'unknown')
    .map((s) => `${s.signal} ${s.unknownCause}`)
    .join(', ');
}
