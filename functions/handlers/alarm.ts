/**
 * Lambda entry: CloudWatch alarm state changes, from EventBridge (metric, metric-math, anomaly
 * detection and composite alarms), from an SNS alarm action, or from a Lambda alarm action. Each
 * change is screened first (functions/app/onAlarm.ts, `screenAlarmChanges`): too old, from the
 * future or from an account the signal does not allow is refused (logged, counted as
 * MalformedEvents); a composite with suppressed actions, a state CloudWatch no longer holds, or a
 * state that cannot be confirmed is ignored. The alarm's services are then evaluated at once, the
 * confirmed state counting as its signal. Alarms no signal names, and alarm configuration changes,
 * are ignored with a debug log.
 */
import type { Context } from 'aws-lambda';
import { refusalMessage } from '../app/eventChecks.js';
import { onAlarm, screenAlarmChanges, type AlarmChange, type ScreenedAlarm } from '../app/onAlarm.js';
import type { Runtime } from '../app/runtime.js';
import { parseAlarmInput } from '../events/alarmEvents.js';
import { deadlineOf, defaultDeps, isRetryable, MetricNames, rejectMalformed, reportEvaluation, reportFailures, wrap, type HandlerDeps } from './edge.js';

export type AlarmHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'refused'; refusals: readonly { code: string; message: string }[] }
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
    const screened = await screenAlarmChanges(rt, input.changes);
    const acting = reportScreening(deps, screened);
    if (acting.length === 0) return nothingToDo(screened);
    return evaluateAlarms(deps, rt, acting, input.changes.length, context);
  });
}

/** Logs what screening refused or ignored; returns the changes to act on. */
function reportScreening(deps: HandlerDeps, screened: readonly ScreenedAlarm[]): AlarmChange[] {
  const acting: AlarmChange[] = [];
  for (const s of screened) {
    const alarm = { alarmName: s.change.alarmName, account: s.change.account, state: s.change.state, region: s.change.region };
    if (s.kind === 'act') acting.push(s.change);
    else if (s.kind === 'refused') {
      deps.logger.error('refused alarm event: nothing changed', { ...alarm, code: s.refusal.code, reason: refusalMessage(s.refusal) });
      deps.counter.count(MetricNames.MALFORMED_EVENTS, 'none');
    } else if (s.why === 'no-signal') deps.logger.debug('alarm not named by any signal in the config; ignored', alarm);
    // A state that could not be confirmed (DescribeAlarms failing) is worth a look; the others are routine.
    else if (s.why === 'unconfirmed') deps.logger.warn('alarm event not acted on: its state could not be confirmed', { ...alarm, detail: s.detail });
    else deps.logger.info('alarm event not acted on', { ...alarm, why: s.why, detail: s.detail });
  }
  return acting;
}

function nothingToDo(screened: readonly ScreenedAlarm[]): AlarmHandlerResult {
  const refusals = screened.flatMap((s) => (s.kind === 'refused' ? [{ code: s.refusal.code, message: refusalMessage(s.refusal) }] : []));
  if (refusals.length === screened.length) return { status: 'refused', refusals };
  const ignored = screened.flatMap((s) => (s.kind === 'ignored' ? [s.detail] : []));
  return { status: 'ignored', reason: ignored.join('; ') || 'nothing to act on' };
}

async function evaluateAlarms(deps: HandlerDeps, rt: Runtime, acting: readonly AlarmChange[], alarms: number, context: Context): Promise<AlarmHandlerResult> {
  let matched = 0;
  let evaluations = 0;
  let failures = 0;
  const retryable: Error[] = [];
  for (const change of acting) {
    const outcome = await onAlarm(rt, change, deadlineOf(rt, context));
    if (!outcome.matched) continue;
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
  return { status: 'evaluated', alarms, matched, evaluations, failures };
}

export const handler = createAlarmHandler(defaultDeps());
