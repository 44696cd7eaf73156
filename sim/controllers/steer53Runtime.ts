/**
 * steer53 as it runs in AWS, minus AWS: the `evaluateService` use case (observe → decide →
 * apply → tell, with the intent protocol, drift detection, audit and notices) over the in-memory
 * ports. The simulator's CloudWatch feeds the in-memory metrics source period by period (what
 * never arrived is never fed), alarm states are set as CloudWatch evaluates them, the in-memory
 * Route 53 holds the weights, and every write the use case makes is published to the clients'
 * DNS after propagation. This is the default `steer53` controller.
 *
 * Deployment events reach it as they reach the runtime: each pipeline event is one EventBridge
 * event for the deployment handler's use case (`onDeployment`, which evaluates the service at once
 * with the event, through evaluateService), and the `Rollback Requested` / `Rollout Succeeded`
 * events the use case publishes go back to the pipeline.
 */
import { canaryReadOf } from '../../functions/core/canaryLatency.js';
import type { Config, EndpointConfig } from '../../functions/core/config.js';
import type { Decision, Weights } from '../../functions/core/types.js';
import { ControllerDetailTypes } from '../../functions/events/controllerEvents.js';
import { DEPLOYMENT_EVENT_SOURCE, detailTypeOfPhase } from '../../functions/events/deploymentEvent.js';
import { DeploymentDeferredError, onDeployment } from '../../functions/app/onDeployment.js';
import { evaluateService, recordSetOf } from '../../functions/app/evaluateService.js';
import { onAlarm } from '../../functions/app/onAlarm.js';
import type { Runtime } from '../../functions/app/runtime.js';
import {
  CollectingEventPublisher,
  InMemoryDnsWeights,
  InMemoryHealthChecks,
  InMemoryMetrics,
  InMemoryStateStore,
  ManualClock,
} from '../../functions/adapters/memory/index.js';
import { silentLog } from '../../functions/ports/log.js';
import type { Notice, Notifier } from '../../functions/ports/notifier.js';
import type { Controller, ControllerContext, EvaluationRecord } from '../world.js';
import { alarmModelOf, canaryBinding, hasReadableData } from './observe.js';
import { staticStability } from './baselines.js';
import { causeOf, decisionSummary, movesRollout, rolloutNotes, verdictText } from './steer53.js';
import { SimCapacityProvider } from './simCapacity.js';

/** Counts notices instead of keeping them: a day of a thousand services would hold a lot of text. */
class CountingNotifier implements Notifier {
  count = 0;
  async notify(_notice: Notice): Promise<void> {
    this.count += 1;
  }
}

export function steer53RuntimeController(context: ControllerContext): Controller {
  const { scenario, route53, cloudwatch } = context;
  const service = scenario.service;
  const ids = scenario.endpoints;
  const record = recordSetOf(service);
  const clock = new ManualClock(scenario.startMs);
  const dns = new InMemoryDnsWeights({ clock });
  dns.defineRecordSet(record, Object.fromEntries(ids.map((id, i) => [id, scenario.baselineWeights[i]!])));
  const store = new InMemoryStateStore();
  if (context.warmState)
    store.seed({
      service: service.name,
      version: 1,
      state: context.warmState,
      pending: null,
      driftSignature: null,
      blockedSignature: null,
      updatedAt: scenario.startMs,
    });
  const config: Config = { version: 1, events: { maxAgeSeconds: 3600, clockSkewSeconds: 300 }, services: [service] };
  let decisionCount = 0;
  const published = new CollectingEventPublisher();
  let seenEvents = 0;
  // The regions as the endpoints' capacity providers, where the policy names any.
  const capacity = service.endpoints.some((e) => e.capacity.scaling !== undefined) ? new SimCapacityProvider(context, clock) : undefined;
  // The records' health checks, where the scenario has them (`staticStability.healthChecks`): named
  // `hc-<setIdentifier>`, attached to the records (the runtime reads the ids with the weights), and
  // saying each step what the simulated checkers see (checkHealth below).
  const healthCheckId = (id: string) => `hc-${id}`;
  const healthChecks = scenario.spec.staticStability.healthChecks === 'none' ? undefined : new InMemoryHealthChecks();
  if (healthChecks) for (const id of ids) dns.attachHealthCheck(record, id, healthCheckId(id));
  const base: Omit<Runtime, 'metrics'> = {
    config,
    dns,
    store,
    notifier: new CountingNotifier(),
    events: published,
    clock,
    log: silentLog,
    newId: () => `sim-${++decisionCount}`,
    options: { metricDelaySeconds: scenario.spec.cloudwatch.readDelaySeconds },
    ...(capacity ? { capacity } : {}),
    ...(healthChecks ? { healthChecks } : {}),
  };
  const period = service.policy.evaluationPeriodSeconds;
  const offset = scenario.spec.cloudwatch.evaluationOffsetSeconds;
  const checkHealth = staticStability(context);
  // The use case reads only the period it judges (a few minutes back, by its metric delay, and one
  // more when the newest is not published yet); a fresh source holding just the newest periods of
  // each query keeps every fetch small.
  const historyMinutes =
    Math.max(
      1,
      ...service.endpoints.flatMap((e) => [
        ...e.signals.map((s) => (s.source === 'metric' ? s.metric.periodSeconds / 60 : 1)),
        (e.load?.periodSeconds ?? 60) / 60,
      ]),
    ) +
    Math.ceil(scenario.spec.cloudwatch.readDelaySeconds / 60) +
    3;
  const evaluations: EvaluationRecord[] = [];
  const statuses: string[] = ids.map(() => 'healthy');
  let next = offset;

  /** An in-memory CloudWatch holding what the simulated one has published up to time t. */
  function metricsAt(t: number): InMemoryMetrics {
    const metrics = new InMemoryMetrics();
    // Everything CloudWatch holds at t, however partial: the use case picks the period it judges.
    const newest = Math.floor(t / 60) - 1;
    service.endpoints.forEach((endpoint, r) => {
      for (const signal of endpoint.signals) {
        if (signal.source !== 'metric') continue;
        const binding = scenario.bindings[r]!.get(signal.name)!;
        const minutes = Math.max(1, Math.round(signal.metric.periodSeconds / 60));
        for (let last = newest; last >= Math.max(minutes - 1, newest - historyMinutes + 1); last--) {
          if ((last + 1) % minutes !== 0) continue;
          const point = cloudwatch.periodDatapoint(binding, r, last - minutes + 1, last, t);
          if (!point) continue;
          const rank = cloudwatch.rankAtTrip(binding, r, last - minutes + 1, last, t);
          const percentRanks = rank === undefined ? undefined : new Map([[signal.trip / signal.scale, rank]]);
          metrics.record(signal.metric, scenario.startMs + (last - minutes + 1) * 60_000, { ...point, ...(percentRanks ? { percentRanks } : {}) });
        }
      }
      recordCanaryLatency(metrics, endpoint, r, newest, t);
      if (endpoint.load) {
        const minutes = Math.max(1, Math.round(endpoint.load.periodSeconds / 60));
        for (let last = newest; last >= Math.max(minutes - 1, newest - historyMinutes + 1); last--) {
          if ((last + 1) % minutes !== 0) continue;
          let requests = 0;
          let any = false;
          for (let m = last - minutes + 1; m <= last; m++) {
            const point = cloudwatch.visible(r, m, t);
            if (point) {
              requests += point.requests;
              any = true;
            }
          }
          if (any) metrics.record(endpoint.load, scenario.startMs + (last - minutes + 1) * 60_000, { value: requests });
        }
      }
      for (const signal of endpoint.signals) {
        if (signal.source !== 'alarm') continue;
        const model = alarmModelOf(scenario, signal);
        metrics.setAlarmState(
          {
            ...(signal.alarm.name ? { name: signal.alarm.name } : {}),
            ...(signal.alarm.arn ? { arn: signal.alarm.arn } : {}),
            region: signal.alarm.region ?? endpoint.region,
          },
          cloudwatch.alarmState(model, r, t),
        );
      }
    });
    return metrics;
  }

  /** The rollout latency signal's metric at the canary's statistic, where the use case asks for it (core/canaryLatency.ts). */
  function recordCanaryLatency(metrics: InMemoryMetrics, endpoint: EndpointConfig, r: number, newest: number, t: number): void {
    const read = canaryReadOf(endpoint, service.policy.rollout);
    if (!read) return;
    const { signal, query } = read;
    const binding = canaryBinding(scenario.bindings[r]!.get(signal.name)!, query);
    const minutes = Math.max(1, Math.round(query.periodSeconds / 60));
    for (let last = newest; last >= Math.max(minutes - 1, newest - historyMinutes + 1); last--) {
      if ((last + 1) % minutes !== 0) continue;
      const point = cloudwatch.periodDatapoint(binding, r, last - minutes + 1, last, t);
      if (point) metrics.record(query, scenario.startMs + (last - minutes + 1) * 60_000, point);
    }
  }

  /** After an evaluation: Route 53's new weights to the clients, the published rollout events to the pipeline, the record. */
  function settle(t: number, decision: Decision | undefined, status: string): void {
    const held: Weights = dns.weightsOf(record);
    const weights = ids.map((id) => held[id] ?? 0);
    if (weights.some((w, i) => w !== route53.weights[i])) {
      const why = decision
        ? decisionSummary(decision)
            .filter((w) => !w.endsWith('HOLD_BAND') && !w.endsWith('DWELL_HOLD'))
            .join(', ')
        : status;
      const cause = decision ? causeOf(decision) : undefined;
      route53.write(t, weights, {
        emergency: decision?.emergency ?? false,
        why,
        rollout: decision ? movesRollout(decision) : false,
        ...(cause !== undefined ? { cause } : {}),
      });
    }
    for (const event of published.events.slice(seenEvents)) {
      if (event.detailType === ControllerDetailTypes.ROLLBACK_REQUESTED || event.detailType === ControllerDetailTypes.ROLLOUT_SUCCEEDED) {
        context.pipeline.published(t, event.detailType, event.detail.endpoint, event.detail.version);
      }
    }
    seenEvents = published.events.length;
    // Statuses follow the decision's transitions (reading the store back would copy the state again).
    for (const transition of decision?.transitions ?? []) statuses[ids.indexOf(transition.endpoint)] = transition.to;
    evaluations.push({
      t,
      statuses: [...statuses],
      ...(decision
        ? {
            mode: decision.mode,
            reasons: decisionSummary(decision),
            verdicts: ids.map((id) => verdictText(decision, id)),
            ...(rolloutNotes(decision).length > 0 ? { rollout: rolloutNotes(decision) } : {}),
          }
        : { reasons: [status] }),
    });
  }

  return {
    name: 'steer53',
    evaluations,
    capacityAsks: capacity?.asks ?? [],
    async state() {
      return (await store.load(service.name)).state;
    },
    async alarmsChanged(t, changes) {
      // What the alarm handler does with EventBridge's "CloudWatch Alarm State Change": onAlarm.
      for (const change of changes) {
        const endpoint = service.endpoints[change.region]!;
        const signal = endpoint.signals.find((sig) => sig.source === 'alarm' && (sig.alarm.name ?? sig.alarm.arn) === change.alarm);
        if (signal?.source !== 'alarm') continue;
        clock.set(scenario.startMs + t * 1000);
        const outcome = await onAlarm(
          { ...base, metrics: metricsAt(t) },
          {
            alarmName: signal.alarm.name ?? signal.alarm.arn!.split(':').pop()!,
            ...(signal.alarm.arn ? { alarmArn: signal.alarm.arn } : {}),
            region: signal.alarm.region ?? endpoint.region,
            state: change.state,
            previousState: change.previous,
          },
        );
        for (const evaluation of outcome.outcomes) settle(t, evaluation.decision, evaluation.status);
      }
    },
    async tick(t) {
      const healthy = checkHealth.healthAt(t);
      for (const [r, up] of (healthy ?? []).entries()) {
        healthChecks?.set(healthCheckId(ids[r]!), up ? 'healthy' : 'unhealthy');
        healthChecks?.setLastFailures(
          healthCheckId(ids[r]!),
          checkHealth.lastFailures(r)?.map((at) => scenario.startMs + at * 1000),
        );
      }
      // Deployment events first, each as its own EventBridge event, the moment it is delivered.
      const deliveries = context.pipeline.take();
      for (let i = 0; i < deliveries.length; i++) {
        const signal = deliveries[i]!;
        clock.set(scenario.startMs + t * 1000);
        try {
          const outcome = await onDeployment(
            { ...base, metrics: metricsAt(t) },
            {
              service: service.name,
              inputs: [{ from: 'pipeline', signal }],
              source: DEPLOYMENT_EVENT_SOURCE,
              detailType: detailTypeOfPhase(signal.phase),
              eventId: `sim-${signal.idempotencyKey}-${t}`,
            },
          );
          if (outcome.status === 'evaluated') settle(t, outcome.evaluation.decision, outcome.evaluation.status);
        } catch (error) {
          if (!(error instanceof DeploymentDeferredError)) throw error;
          // Lambda's retry: the rest are delivered again at the next step.
          for (const later of deliveries.slice(i)) context.pipeline.redeliver(later);
          break;
        }
      }
      if (t < next) return;
      while (next <= t) next += period;
      if (!hasReadableData(context, t)) return;
      clock.set(scenario.startMs + t * 1000);
      const outcome = await evaluateService({ ...base, metrics: metricsAt(t) }, service, { trigger: 'schedule' });
      settle(t, outcome.decision, outcome.status);
    },
  };
}
