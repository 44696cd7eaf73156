/**
 * steer53 itself: the real engine (`decide`) with the scenario's policy, evaluated on the
 * policy's schedule, seeing only what CloudWatch shows, writing Route 53 like the runtime does.
 */
import { checkerFailureWindowMs, checkerFailuresDue, healthChecksDue } from '../../functions/app/healthChecks.js';
import { peerTailText } from '../../functions/app/noticeText.js';
import { decide } from '../../functions/core/engine.js';
import {
  RolloutReasonCodes,
  type Decision,
  type DeploymentSignal,
  type ServiceObservations,
  type ServiceState,
  type Weights,
} from '../../functions/core/types.js';
import type { Controller, ControllerContext, EvaluationRecord } from '../world.js';
import { hasReadableData, observeService } from './observe.js';
import { capacityTargets } from '../../functions/ports/capacity.js';
import { SimCapacityProvider } from './simCapacity.js';
import { staticStability } from './baselines.js';

/** A decision in a few words: the reason codes that mattered, for the report and the timeline. */
export function decisionSummary(decision: Decision): string[] {
  const codes = new Set<string>();
  for (const t of decision.transitions) codes.add(`${t.endpoint}:${t.reason}`);
  for (const r of decision.reasons) codes.add(r.endpoint ? `${r.endpoint}:${r.code}` : r.code);
  for (const b of decision.blocked) codes.add(b.endpoint ? `blocked ${b.endpoint}:${b.code}` : `blocked ${b.code}`);
  return [...codes];
}

/** The reason code that ordered a decision's write: its first endpoint transition's, else its first reason's. */
export function causeOf(decision: Decision): string | undefined {
  return decision.transitions[0]?.reason ?? decision.reasons[0]?.code;
}

/** Codes of reasons that move a rollout (not the ignored events, not an extended step). */
const ROLLOUT_MOVES: ReadonlySet<string> = new Set([
  'DEPLOYMENT_STARTED',
  'DEPLOYMENT_FAILED',
  'DEPLOYMENT_ROLLED_BACK',
  'DEPLOYMENT_TIMED_OUT',
  'CANARY_STEP',
  'ROLLBACK_REQUESTED',
  'ROLLOUT_SUCCEEDED',
]);

/** The decision moved a rollout: its weight change is the rollout's (a canary step, a rollback, a restore). */
export function movesRollout(decision: Decision): boolean {
  return decision.reasons.some((r) => ROLLOUT_MOVES.has(r.code));
}

/** The decision's rollout reasons, whole messages: what the canary judge said. */
export function rolloutNotes(decision: Decision): string[] {
  return decision.reasons.filter((r) => RolloutReasonCodes.has(r.code)).map((r) => `${r.code}: ${r.message}`);
}

/** `breach (p99-ttft 2412ms/2000 n=1322, gpu-utilization 97%, error-alarm clear)`. */
export function verdictText(decision: Decision, id: string): string {
  const v = decision.verdicts[id];
  if (!v) return 'none';
  const signals = v.signals.map((s) => {
    const value = s.value === null ? s.verdict : `${Math.round(s.value * 10) / 10}${s.unit}`;
    const samples = s.sampleCount !== null ? ` n=${s.sampleCount}` : '';
    return `${s.signal} ${value}${samples}${s.unknownCause ? ` ${s.unknownCause}` : ''}${s.verdict !== 'unknown' && s.value !== null ? ` ${s.verdict}` : ''}`;
  });
  const peers = peerTailText(v);
  return `${v.verdict}${v.failing ? ' failing' : ''} (${signals.join(', ')})${peers ? `, ${peers}` : ''}`;
}

export function steer53Controller(context: ControllerContext): Controller {
  const { scenario, route53 } = context;
  const service = scenario.service;
  const ids = scenario.endpoints;
  const period = service.policy.evaluationPeriodSeconds;
  const offset = scenario.spec.cloudwatch.evaluationOffsetSeconds;
  const evaluations: EvaluationRecord[] = [];
  let state: ServiceState | undefined = context.warmState;
  let next = offset;
  const checkHealth = staticStability(context);

  // The regions as the endpoints' capacity providers, where the policy names any (as the runtime controller has them).
  let clockT = 0;
  const targets = capacityTargets(service);
  const capacity = targets.length > 0 ? new SimCapacityProvider(context, { now: () => scenario.startMs + clockT * 1000 }) : undefined;

  // What the records' health checks say (static stability), for the endpoints the runtime would
  // read them for (healthChecksDue), and their checkers' recent failures for those drained for
  // failing: the engine sees what it sees in AWS.
  let health: readonly boolean[] | undefined;
  const checkIds = Object.fromEntries(ids.map((id) => [id, id]));
  function checkersFailing(r: number, t: number): { healthCheckFailures?: number } {
    const since = t - checkerFailureWindowMs(state, ids[r]!) / 1000;
    const failures = checkHealth.lastFailures(r)?.filter((at) => at >= since).length;
    return failures === undefined ? {} : { healthCheckFailures: failures };
  }
  function observed(t: number): ServiceObservations {
    const seen = observeService(context, t, { published: true });
    if (health === undefined) return seen;
    const checked = health;
    const due = healthChecksDue(service, state, scenario.startMs + t * 1000, checkIds);
    const endpoints = Object.fromEntries(
      ids.map((id, r) => [
        id,
        due.has(id)
          ? {
              signals: {},
              ...seen.endpoints[id],
              healthCheck: checked[r] ? ('healthy' as const) : ('unhealthy' as const),
              ...(checkerFailuresDue(state, id) && checked[r] ? checkersFailing(r, t) : {}),
            }
          : seen.endpoints[id],
      ]),
    );
    return { ...seen, endpoints };
  }
  function evaluate(t: number, deployments: readonly DeploymentSignal[]): void {
    clockT = t;
    const current: Weights = Object.fromEntries(ids.map((id, i) => [id, route53.weights[i]!]));
    const { decision, nextState } = decide(service, {
      now: scenario.startMs + t * 1000,
      observations: observed(t),
      state,
      currentWeights: current,
      ...(deployments.length > 0 ? { deployments } : {}),
      ...(capacity ? { capacity: capacity.readAll(targets) } : {}),
    });
    state = nextState;
    // Capacity first, then the weights, as the use case does.
    for (const ask of decision.capacityRequests) {
      const target = targets.find((x) => x.endpoint === ask.endpoint)!;
      capacity?.requestNow(target, { desired: ask.to, direction: ask.direction, decisionId: `sim-${t}`, reason: ask.message });
    }
    const why = decisionSummary(decision);
    const cause = causeOf(decision);
    if (decision.changes.length > 0) {
      route53.write(
        t,
        ids.map((id) => decision.targetWeights[id] ?? 0),
        {
          emergency: decision.emergency,
          why: why.filter((w) => !w.endsWith('HOLD_BAND') && !w.endsWith('DWELL_HOLD')).join(', '),
          rollout: movesRollout(decision),
          ...(cause !== undefined ? { cause } : {}),
        },
      );
    }
    evaluations.push({
      t,
      statuses: ids.map((id) => nextState.endpoints[id]?.status ?? 'healthy'),
      mode: decision.mode,
      reasons: why,
      verdicts: ids.map((id) => verdictText(decision, id)),
      ...(rolloutNotes(decision).length > 0 ? { rollout: rolloutNotes(decision) } : {}),
    });
    for (const event of decision.rolloutEvents) context.pipeline.published(t, event.type, event.endpoint, event.version);
  }

  return {
    name: 'steer53',
    evaluations,
    get capacityAsks() {
      return capacity?.asks ?? [];
    },
    async state() {
      return state;
    },
    alarmsChanged(t, changes) {
      // As the alarm handler does: evaluate at once, once per alarm event (the alarm's state is in the observations).
      for (const _change of changes) evaluate(t, []);
    },
    tick(t) {
      health = checkHealth.healthAt(t);
      // Deployment events are evaluated the moment they arrive, like the runtime's deployment handler.
      const deployments = context.pipeline.take();
      if (deployments.length > 0) evaluate(t, deployments);
      if (t < next) return;
      while (next <= t) next += period;
      if (!hasReadableData(context, t)) return;
      evaluate(t, []);
    },
  };
}
