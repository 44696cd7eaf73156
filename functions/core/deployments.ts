/**
 * The service's rollouts in a decision (rollout.ts moves one endpoint's): first the deployment
 * events, oldest first, then, once the endpoints have been judged, each rollout moved on with time
 * and this period's evidence.
 */
import { trafficFactor } from './hysteresis.js';
import { phase, type Evaluation, type Phase, type Said } from './phase.js';
import { profilesOnBasis } from './canaryLatency.js';
import { advanceRollout, applyDeployment, deploymentIgnored, judgePeriod, type LoadEvidence, type RolloutStepResult } from './rollout.js';
import type { EndpointState, EndpointVerdict, RolloutState } from './types.js';
import { sharesOf } from './weights.js';

export type Rollouts = Readonly<Record<string, RolloutState>>;

export interface DeploymentsApplied {
  readonly rollouts: Rollouts;
  /** Idempotency keys of the deployment events applied, newest last. */
  readonly deploymentKeys: readonly string[];
}

/** Applies the evaluation's deployment events, oldest first; an event seen before is a duplicate. */
export function applyDeployments(ev: Evaluation): Phase<DeploymentsApplied> {
  const { ids, policy, previous } = ev;
  let rollouts: Rollouts = Object.fromEntries(Object.entries(previous.rollouts).filter(([id]) => ids.includes(id)));
  const deploymentKeys = [...previous.deploymentKeys];
  const steps: Partial<Said>[] = [];
  for (const signal of [...ev.deployments].sort((a, b) => a.at - b.at)) {
    if (deploymentKeys.includes(signal.idempotencyKey)) {
      steps.push({ reasons: [deploymentIgnored(signal, 'duplicate')] });
      continue;
    }
    deploymentKeys.push(signal.idempotencyKey);
    if (!ids.includes(signal.endpoint)) {
      steps.push({ reasons: [deploymentIgnored(signal, 'unknown-endpoint')] });
      continue;
    }
    const factor = trafficFactor(ev.priorEndpoints[signal.endpoint]!, policy);
    const applied = applyDeployment(rollouts[signal.endpoint], signal, policy.rollout, factor, ev.now, ev.service.dnsName);
    rollouts = withRollout(rollouts, signal.endpoint, applied);
    steps.push(saidBy(applied));
  }
  return phase({ rollouts: withLoadReference(ev, rollouts), deploymentKeys }, ...steps);
}

/**
 * A rollout compares against the endpoints as they ran when it began: the canary's own line is
 * from then, so the controls' must be too, or a change of traffic mix since would read as the canary's.
 */
function withLoadReference(ev: Evaluation, rollouts: Rollouts): Rollouts {
  const profiles = ev.previous.loadProfiles;
  // Nothing learned yet: the rollout takes the first lines learned after it began.
  if (Object.keys(profiles).length === 0) return rollouts;
  return Object.fromEntries(
    Object.entries(rollouts).map(([id, rollout]) => [id, rollout.loadReference === undefined ? { ...rollout, loadReference: profiles } : rollout]),
  );
}

export interface RolloutEvidence {
  readonly rollouts: Rollouts;
  readonly verdicts: Readonly<Record<string, EndpointVerdict>>;
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  /** The observations are news (not older than ones already seen). */
  readonly fresh: boolean;
  /** Under fail static the evidence is suspect: no rollout is judged on it. */
  readonly failStatic: boolean;
}

/** Moves every rollout on with time and this period's evidence. */
export function advanceRollouts(ev: Evaluation, evidence: RolloutEvidence): Phase<Rollouts> {
  const { ids, policy, observations } = ev;
  const { verdicts, endpoints } = evidence;
  const shares = sharesOf(ev.current, ids);
  let rollouts = evidence.rollouts;
  const steps: Partial<Said>[] = [];
  // Lines learned on another statistic or signal (the config changed) are no expectation of this one.
  const profiles = profilesOnBasis(ev.service, ev.previous.loadProfiles);
  const knees = Object.fromEntries(ev.service.endpoints.map((e) => [e.setIdentifier, e.capacity.targetUtilization]));
  for (const [id, rollout] of Object.entries(evidence.rollouts)) {
    const loadEvidence: LoadEvidence = {
      utilisation: ev.utilisation,
      profiles,
      ...(rollout.loadReference ? { reference: profilesOnBasis(ev.service, rollout.loadReference) } : {}),
      knees,
    };
    const controls = ids.filter((other) => other !== id && rollouts[other] === undefined && endpoints[other]!.status === 'healthy');
    // Only periods that began after the step did are evidence about the step.
    const judged = evidence.fresh && !evidence.failStatic && rollout.phase === 'canary' && observations.periodStart >= rollout.stepSince;
    const judgement = judged ? judgePeriod(id, verdicts, shares, controls, policy.rollout, loadEvidence) : null;
    const failing = verdicts[id]!.failing;
    const advanced = advanceRollout({ endpoint: id, rollout, policy: policy.rollout, now: ev.now, judgement, failing, dnsName: ev.service.dnsName });
    rollouts = withRollout(rollouts, id, advanced);
    steps.push(saidBy(advanced));
  }
  return phase(rollouts, ...steps);
}

/** The rollouts with one endpoint's replaced by a step's result (removed when it has ended). */
function withRollout(rollouts: Rollouts, id: string, step: RolloutStepResult): Rollouts {
  const { [id]: _replaced, ...rest } = rollouts;
  return step.rollout ? { ...rollouts, [id]: step.rollout } : rest;
}

function saidBy(step: RolloutStepResult): Partial<Said> {
  return { reasons: step.reasons, notifications: step.notifications, rolloutEvents: step.events };
}
