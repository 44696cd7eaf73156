/**
 * Lambda entry: CloudWatch alarm state changes, from EventBridge (metric, metric-math and
 * composite alarms) or from an SNS alarm action. The alarm's services are evaluated at once, the
 * alarm's new state counting as its signal. Alarms no signal names, and alarm configuration
 * changes, are ignored with a debug log.
 */
import type { Context } from 'aws-lambda';
import { onAlarm } from '../app/onAlarm.js';
import { parseAlarmInput } from '../events/alarmEvents.js';
import { deadlineOf, defaultDeps, isRetryable, rejectMalformed, reportEvaluation, reportFailures, wrap, type HandlerDeps } from './edge.js';

export type AlarmHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'ignored'; reason: string }
  | { status: 'evaluated'; alarms: number; matched: number; evaluations: number; failures: number };

export function createAlarmHandler(deps: HandlerDeps) {
  return wrap(deps, async (event: unknown, context: Context): Promise<AlarmHandlerResult> => {
    const input = parseAlarmInput(event);
    if (input.kind === 'invalid') {
      if (input.correlationId) deps.logger.setCorrelationId(input.correlationId);
      return rejectMalformed(deps, 'alarm event', input.problems);
    }
    if (input.kind === 'ignored') {
      deps.logger.debug('event ignored', { reason: input.reason });
      return { status: 'ignored', reason: input.reason };
    }
    if (input.problems) rejectMalformed(deps, 'records in the SNS alarm batch', input.problems);
    deps.logger.setCorrelationId(input.changes.map((c) => c.correlationId).join(','));

    const rt = await deps.runtime();
    let matched = 0;
    let evaluations = 0;
    const retryable: Error[] = [];
    let failures = 0;
    for (const change of input.changes) {
      const outcome = await onAlarm(rt, change, deadlineOf(rt, context));
      if (!outcome.matched) {
        deps.logger.debug('alarm not named by any signal in the config; ignored', {
          alarmName: change.alarmName,
          alarmArn: change.alarmArn,
          region: change.region,
        });
        continue;
      }
      matched += 1;
      deps.logger.info('alarm changed state', {
        alarmName: change.alarmName,
        state: change.state,
        previousState: change.previousState,
        signals: outcome.matches,
      });
      for (const o of outcome.outcomes) reportEvaluation(deps, o);
      evaluations += outcome.outcomes.length;
      reportFailures(deps, outcome.failures);
      failures += outcome.failures.length;
      retryable.push(...outcome.failures.filter((f) => isRetryable(f.error)).map((f) => f.error));
    }
    // An alarm is a one-off signal: if evaluating it failed for a reason that may pass, fail the
    // invocation so Lambda retries it (and dead-letters it in the end).
    if (retryable.length > 0)
      throw new AggregateError(retryable, `evaluation after alarm failed and may succeed on retry: ${retryable.map((e) => e.message).join('; ')}`);
    if (matched === 0) return { status: 'ignored', reason: 'no signal in the config names this alarm' };
    return { status: 'evaluated', alarms: input.changes.length, matched, evaluations, failures };
  });
}

export const handler = createAlarmHandler(defaultDeps());
