/**
 * An alarm changed state: find the services and endpoints whose signals name it (by name and
 * region, or by ARN), and evaluate those services at once with the alarm's new state as the
 * signal's value. Alarms no signal names are ignored.
 */
import type { ServiceConfig } from '../core/config.js';
import type { AlarmState } from '../core/types.js';
import { evaluateService, type EvaluationOutcome } from './evaluateService.js';
import type { KnownAlarmState } from './observe.js';
import type { Runtime } from './runtime.js';
import type { ServiceFailure } from './onTick.js';

export interface AlarmChange {
  readonly alarmName: string;
  readonly alarmArn?: string;
  /** Region the alarm lives in; undefined when the notification did not say (the name alone is matched). */
  readonly region: string | undefined;
  readonly state: AlarmState;
  readonly previousState?: AlarmState;
}

export interface AlarmSignalMatch {
  readonly service: ServiceConfig;
  readonly endpoint: string;
  readonly signal: string;
}

export interface AlarmOutcome {
  /** False when no signal of any service names the alarm. */
  readonly matched: boolean;
  readonly matches: readonly { readonly service: string; readonly endpoint: string; readonly signal: string }[];
  readonly outcomes: readonly EvaluationOutcome[];
  readonly failures: readonly ServiceFailure[];
}

/** The signals that name this alarm, in config order. */
export function matchAlarm(services: readonly ServiceConfig[], alarm: Pick<AlarmChange, 'alarmName' | 'alarmArn' | 'region'>): AlarmSignalMatch[] {
  const matches: AlarmSignalMatch[] = [];
  for (const service of services) {
    for (const endpoint of service.endpoints) {
      for (const signal of endpoint.signals) {
        if (signal.source !== 'alarm') continue;
        const byArn = signal.alarm.arn !== undefined && alarm.alarmArn !== undefined && signal.alarm.arn === alarm.alarmArn;
        const byName =
          signal.alarm.name !== undefined &&
          signal.alarm.name === alarm.alarmName &&
          (alarm.region === undefined || (signal.alarm.region ?? endpoint.region) === alarm.region);
        if (byArn || byName) matches.push({ service, endpoint: endpoint.setIdentifier, signal: signal.name });
      }
    }
  }
  return matches;
}

/** `deadline`: when this invocation will be stopped at the latest (see EvaluationRequest.deadline). */
export async function onAlarm(rt: Runtime, alarm: AlarmChange, deadline?: number): Promise<AlarmOutcome> {
  const matches = matchAlarm(rt.config.services, alarm);
  const summary = matches.map((m) => ({ service: m.service.name, endpoint: m.endpoint, signal: m.signal }));
  if (matches.length === 0) return { matched: false, matches: [], outcomes: [], failures: [] };
  const known: KnownAlarmState[] = matches.map((m) => ({ service: m.service.name, endpoint: m.endpoint, signal: m.signal, state: alarm.state }));
  const services = [...new Map(matches.map((m) => [m.service.name, m.service])).values()];
  const outcomes: EvaluationOutcome[] = [];
  const failures: ServiceFailure[] = [];
  for (const service of services) {
    try {
      outcomes.push(
        await evaluateService(rt, service, {
          trigger: `alarm ${alarm.alarmName} ${alarm.state}`,
          knownAlarms: known.filter((k) => k.service === service.name),
          ...(deadline !== undefined ? { deadline } : {}),
        }),
      );
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      rt.log.error('evaluation failed', { service: service.name, alarm: alarm.alarmName, error: failure.message, errorName: failure.name });
      failures.push({ service: service.name, error: failure });
    }
  }
  return { matched: true, matches: summary, outcomes, failures };
}
