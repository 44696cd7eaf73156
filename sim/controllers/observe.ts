/**
 * What a controller can see: the observations the CloudWatch adapter would hand the engine at
 * time t when it reads each period `readDelaySeconds` after it ends — percentiles with their sample
 * counts as far as the period has arrived, alarm states as CloudWatch evaluates them, and nothing
 * for data that has not arrived (or never will).
 */
import { LOAD_PERIODS } from '../../functions/app/observe.js';
import type { EndpointObservations, ServiceObservations } from '../../functions/core/types.js';
import { CloudWatchSim, DEFAULT_ALARM } from '../cloudwatch.js';
import type { ControllerContext } from '../world.js';

/** True once the period a reader would judge now has ended (the first minutes have nothing to judge). */
export function hasReadableData(context: ControllerContext, t: number): boolean {
  return CloudWatchSim.judgedMinute(t, context.scenario.spec.cloudwatch.readDelaySeconds) >= 0;
}

export function observeService(context: ControllerContext, t: number): ServiceObservations {
  const { scenario, cloudwatch } = context;
  const delay = scenario.spec.cloudwatch.readDelaySeconds;
  const judged = CloudWatchSim.judgedMinute(t, delay);
  const endpoints: Record<string, EndpointObservations> = {};
  scenario.service.endpoints.forEach((endpoint, r) => {
    const signals: Record<string, EndpointObservations['signals'][string]> = {};
    for (const signal of endpoint.signals) {
      if (signal.source === 'metric') {
        const observation = cloudwatch.observe(scenario.bindings[r]!.get(signal.name)!, r, t, scenario.startMs, delay);
        if (observation !== undefined) signals[signal.name] = observation;
      } else {
        const model = scenario.alarms.get(signal.alarm.name ?? '') ?? scenario.alarms.get(signal.alarm.arn ?? '') ?? DEFAULT_ALARM;
        signals[signal.name] = cloudwatch.observeAlarm(model, r, t);
      }
    }
    // The busiest of the last LOAD_PERIODS minutes as visible now, as the use case reads the load.
    let requests: number | null = null;
    for (let m = judged; m > judged - LOAD_PERIODS && m >= 0; m--) {
      const point = cloudwatch.visible(r, m, t);
      if (point !== null) requests = Math.max(requests ?? 0, point.requests);
    }
    endpoints[endpoint.setIdentifier] = endpoint.load ? { signals, requestRate: requests === null ? null : requests / 60 } : { signals };
  });
  return { endpoints, periodStart: scenario.startMs + Math.max(0, judged) * 60_000 };
}
