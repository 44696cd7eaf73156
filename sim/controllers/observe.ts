/**
 * What a controller can see: the observations the CloudWatch adapter would hand the engine at
 * time t when it reads each period `readDelaySeconds` after it ends — percentiles with their sample
 * counts as far as the period has arrived, alarm states as CloudWatch evaluates them, and nothing
 * for data that has not arrived (or never will).
 */
import { LOAD_PERIODS, notYetPublished } from '../../functions/app/observe.js';
import { canaryReadOf } from '../../functions/core/canaryLatency.js';
import type { AlarmSignal, EndpointConfig, MetricQuery } from '../../functions/core/config.js';
import type { EndpointObservations, ServiceObservations, SignalObservation } from '../../functions/core/types.js';
import type { Scenario, SignalBinding } from '../scenario.js';
import type { AlarmModel } from '../scenarioSchema.js';
import { CloudWatchSim, DEFAULT_ALARM } from '../cloudwatch.js';
import type { ControllerContext } from '../world.js';

/** True once the period a reader would judge now has ended (the first minutes have nothing to judge). */
export function hasReadableData(context: ControllerContext, t: number): boolean {
  return CloudWatchSim.judgedMinute(t, context.scenario.spec.cloudwatch.readDelaySeconds) >= 0;
}

/** The simulated alarm behind an alarm signal: the scenario's `alarms:` entry by name or ARN, else the default 5xx alarm. */
export function alarmModelOf(scenario: Pick<Scenario, 'alarms'>, signal: AlarmSignal): AlarmModel {
  return scenario.alarms.get(signal.alarm.name ?? '') ?? scenario.alarms.get(signal.alarm.arn ?? '') ?? DEFAULT_ALARM;
}

/**
 * What the reader sees at t. `published`: as steer53's use case reads (functions/app/observe.ts,
 * `publishedPeriod`), the minute before when fewer than half of the regions have any datapoint in
 * the newest and more have one in the minute before; the baselines read the newest as it is.
 */
export function observeService(context: ControllerContext, t: number, options: { published?: boolean } = {}): ServiceObservations {
  const { scenario, cloudwatch } = context;
  const newest = scenario.spec.cloudwatch.readDelaySeconds;
  const delay = options.published === true && !published(context, t, newest) ? newest + 60 : newest;
  const judged = CloudWatchSim.judgedMinute(t, delay);
  const endpoints: Record<string, EndpointObservations> = {};
  scenario.service.endpoints.forEach((endpoint, r) => {
    const signals: Record<string, EndpointObservations['signals'][string]> = {};
    for (const signal of endpoint.signals) {
      if (signal.source === 'metric') {
        const observation = cloudwatch.observe(scenario.bindings[r]!.get(signal.name)!, r, t, scenario.startMs, delay);
        if (observation !== undefined) signals[signal.name] = observation;
      } else {
        signals[signal.name] = cloudwatch.observeAlarm(alarmModelOf(scenario, signal), r, t);
      }
    }
    // The busiest of the last LOAD_PERIODS minutes as visible now, as the use case reads the load;
    // and the judged minute's own count (a datapoint of 0 is a quiet minute, not a missing one).
    let requests: number | null = null;
    let requestsInPeriod: number | null = null;
    for (let m = judged; m > judged - LOAD_PERIODS && m >= 0; m--) {
      const point = cloudwatch.visible(r, m, t);
      if (point !== null) requests = Math.max(requests ?? 0, point.requests);
      if (m === judged) requestsInPeriod = point === null ? null : point.requests;
    }
    const canaryLatency = canaryObservation(context, endpoint, r, t, delay);
    endpoints[endpoint.setIdentifier] = {
      signals,
      ...(endpoint.load ? { requestRate: requests === null ? null : requests / 60, requestsInPeriod } : {}),
      ...(canaryLatency ? { canaryLatency } : {}),
    };
  });
  return { endpoints, periodStart: scenario.startMs + Math.max(0, judged) * 60_000 };
}

/** Whether the period read `delay` after it ends is published enough to judge at t (see observeService). */
function published(context: ControllerContext, t: number, delay: number): boolean {
  const { scenario, cloudwatch } = context;
  const withSignals = scenario.service.endpoints.filter((e) => e.signals.some((s) => s.source === 'metric'));
  // As the use case counts: an endpoint with a datapoint for any of its metric signals.
  const arrived = (readDelay: number) =>
    withSignals.filter((e) => {
      const r = scenario.service.endpoints.indexOf(e);
      return e.signals.some(
        (s) => s.source === 'metric' && cloudwatch.observe(scenario.bindings[r]!.get(s.name)!, r, t, scenario.startMs, readDelay) !== undefined,
      );
    }).length;
  return !notYetPublished(arrived(delay), arrived(delay + 60), withSignals.length);
}

/** A latency signal's binding read at another statistic (the canary's, core/canaryLatency.ts). */
export function canaryBinding(binding: SignalBinding, query: MetricQuery): SignalBinding {
  return { ...binding, signal: { ...binding.signal, metric: query } };
}

/** The rollout latency signal's metric at the canary's statistic, as the use case reads it (observe.ts `canaryLatency`). */
function canaryObservation(context: ControllerContext, endpoint: EndpointConfig, r: number, t: number, delay: number): SignalObservation | undefined {
  const { scenario, cloudwatch } = context;
  const read = canaryReadOf(endpoint, scenario.service.policy.rollout);
  if (!read) return undefined;
  const { signal, query } = read;
  const binding = canaryBinding(scenario.bindings[r]!.get(signal.name)!, query);
  const observed = cloudwatch.observe(binding, r, t, scenario.startMs, delay);
  if (!observed) return undefined;
  // No rank: the use case asks the canary's statistic with its SampleCount only.
  const { worseThanTrip: _rank, ...reading } = observed;
  return reading;
}
