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
import { onAlarms, screenAlarmChanges, type AlarmBatchOutcome, type AlarmChange, type ScreenedAlarm } from '../app/onAlarm.js';
import { parseAlarmInput } from '../events/alarmEvents.js';
import {
  deadlineOf,
  defaultDeps,
  isOutOfBudget,
  isRetryable,
  MetricNames,
  rejectMalformed,
  reportEvaluation,
  reportFailures,
  worthRedelivering,
  wrap,
  type HandlerDeps,
} from './edge.js';

/** From an SQS batch: the records to deliver again (Lambda's partial batch response). */
type Redelivery = { batchItemFailures?: { itemIdentifier: string }[] };

export type AlarmHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | ({ status: 'refused'; refusals: readonly { code: string; message: string }[] } & Redelivery)
  | ({ status: 'ignored'; reason: string } & Redelivery)
  | ({ status: 'evaluated'; alarms: number; matched: number; evaluations: number; failures: number } & Redelivery);

/** What an invocation says once its changes were screened. */
type Answered = Exclude<AlarmHandlerResult, { status: 'rejected' }>;

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
    const queued = input.changes[0]!.messageId !== undefined;
    if (input.problems) rejectMalformed(deps, `records in the ${queued ? 'SQS' : 'SNS'} alarm batch`, input.problems);
    deps.logger.setCorrelationId(input.changes.map((c) => c.correlationId).join(','));

    const rt = await deps.runtime();
    const screened = await screenAlarmChanges(rt, input.changes);
    const acting = reportScreening(deps, screened);
    const batch = acting.length === 0 ? undefined : await onAlarms(rt, acting, deadlineOf(rt, context));
    const result = batch ? reportBatch(deps, acting, batch, input.changes.length, queued) : nothingToDo(screened);
    if (!queued) return result;
    return { ...result, batchItemFailures: recordsToDeliverAgain(screened, acting, batch).map((itemIdentifier) => ({ itemIdentifier })) };
  });
}

/**
 * The records of an SQS batch to deliver again: those whose alarm state could not be read
 * (DescribeAlarms throttled or failing), and those naming a service whose evaluation failed for a
 * reason a redelivery may fix. Not for want of the invocation's own share of the rates: that is
 * the next tick's (edge.ts, `worthRedelivering`).
 */
export function recordsToDeliverAgain(screened: readonly ScreenedAlarm[], acting: readonly AlarmChange[], batch: AlarmBatchOutcome | undefined): string[] {
  const unread = screened.flatMap((s) => (s.kind === 'ignored' && s.retryable && s.change.messageId !== undefined ? [s.change.messageId] : []));
  const failed = new Set((batch?.failures ?? []).filter((f) => worthRedelivering(f.error)).map((f) => f.service));
  const named = acting.flatMap((c, i) => (c.messageId !== undefined && (batch?.matches[i] ?? []).some((m) => failed.has(m.service)) ? [c.messageId] : []));
  return [...new Set([...unread, ...named])];
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

function nothingToDo(screened: readonly ScreenedAlarm[]): Answered {
  const refusals = screened.flatMap((s) => (s.kind === 'refused' ? [{ code: s.refusal.code, message: refusalMessage(s.refusal) }] : []));
  if (refusals.length === screened.length) return { status: 'refused', refusals };
  const ignored = screened.flatMap((s) => (s.kind === 'ignored' ? [s.detail] : []));
  return { status: 'ignored', reason: ignored.join('; ') || 'nothing to act on' };
}

/**
 * Logs and counts what the invocation's alarms did (onAlarms: each named service once, a change
 * batch per hosted zone). Invoked directly, a failure a retry may fix fails the invocation so
 * Lambda retries it (and dead-letters it in the end); from the queue, the records go back instead
 * (`recordsToDeliverAgain`). A service out of the invocation's own share is logged as the next tick's.
 */
function reportBatch(deps: HandlerDeps, acting: readonly AlarmChange[], batch: AlarmBatchOutcome, alarms: number, queued: boolean): Answered {
  let matched = 0;
  acting.forEach((change, i) => {
    if (batch.matches[i]!.length === 0) return;
    matched += 1;
    deps.logger.info('alarm changed state', {
      alarmName: change.alarmName,
      state: change.state,
      previousState: change.previousState,
      signals: batch.matches[i],
    });
  });
  for (const o of batch.outcomes) reportEvaluation(deps, o);
  reportFailures(deps, batch.failures);
  const tick = batch.failures.filter((f) => isRetryable(f.error) && isOutOfBudget(f.error)).map((f) => f.service);
  if (tick.length > 0) {
    deps.logger.info("this invocation's share of the rates ran out: the next tick reads these services (woken by their alarms)", {
      services: tick.slice(0, 50),
      count: tick.length,
    });
  }
  const retryable = batch.failures.filter((f) => worthRedelivering(f.error));
  if (retryable.length > 0 && !queued) {
    throw new AggregateError(
      retryable.map((f) => f.error),
      `evaluation after alarm failed and may succeed on retry: ${retryable.map((f) => f.error.message).join('; ')}`,
    );
  }
  if (matched === 0) return { status: 'ignored', reason: 'no signal in the config names this alarm' };
  return { status: 'evaluated', alarms, matched, evaluations: batch.outcomes.length, failures: batch.failures.length };
}

export const handler = createAlarmHandler(defaultDeps());
