/**
 * What a controller can see: the observations the CloudWatch adapter would hand the engine at
 * time t — the newest readable one-minute period of every signal, percentiles with their sample
 * counts, alarm states as CloudWatch evaluates them, and nothing for data that never arrived.
 */
import type { EndpointObservations, ServiceObservations } from '../../functions/core/types.js';
import { DEFAULT_ALARM } from '../cloudwatch.js';
import type { ControllerContext } from '../world.js';

/** True once CloudWatch has at least one complete period to show. */
export function hasReadableData(context: ControllerContext, t: number): boolean {
  return context.cloudwatch.newestReadableMinute(t) >= 0;
}

export function observeService(context: ControllerContext, t: number): ServiceObservations {
  const { scenario, cloudwatch } = context;
  const newest = cloudwatch.newestReadableMinute(t);
  const endpoints: Record<string, EndpointObservations> = {};
  scenario.service.endpoints.forEach((endpoint, r) => {
    const signals: Record<string, EndpointObservations['signals'][string]> = {};
    for (const signal of endpoint.signals) {
      if (signal.source === 'metric') {
        const observation = cloudwatch.observe(scenario.bindings[r]!.get(signal.name)!, r, t, scenario.startMs);
        if (observation !== undefined) signals[signal.name] = observation;
      } else {
        const model = scenario.alarms.get(signal.alarm.name ?? '') ?? scenario.alarms.get(signal.alarm.arn ?? '') ?? DEFAULT_ALARM;
        signals[signal.name] = cloudwatch.observeAlarm(model, r, t);
      }
    }
    const point = cloudwatch.datapoint(r, newest);
    endpoints[endpoint.setIdentifier] = endpoint.load ? { signals, requestRate: point === null ? null : point.requests / 60 } : { signals };
  });
  return { endpoints, periodStart: scenario.startMs + Math.max(0, newest) * 60_000 };
}
