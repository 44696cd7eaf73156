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
import { onAlarms, screenAlarmChanges, type AlarmChange, type AlarmMatchSummary, type ScreenedAlarm } from '../app/onAlarm.js';
import type { ServiceFailure } from '../app/onTick.js';
import type { Runtime } from '../app/runtime.js';
import { parseAlarmInput } from '../events/alarmEvents.js';
import {
  deadlineOf,
  defaultDeps,
  isRetryable,
  MetricNames,
  rejectMalformed,
  reportEvaluation,
  reportFailures,
  worthRedelivering,
  wrap,
  type HandlerDeps,
} from './edge.js';

export type AlarmHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'refused'; refusals: readonly { code: string; message: string }[] }
  | { status: 'ignored'; reason: string; batchItemFailures?: { itemIdentifier: string }[] }
  | {
      status: 'evaluated';
      alarms: number;
      matched: number;
      evaluations: number;
      failures: number;
      /** From an SQS batch: the records to deliver again (Lambda's partial batch response). */
      batchItemFailures?: { itemIdentifier: string }[];
    };

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
    if (input.problems) rejectMalformed(deps, `records in the ${input.changes[0]!.messageId !== undefined ? 'SQS' : 'SNS'} alarm batch`, input.problems);
    deps.logger.setCorrelationId(input.changes.map((c) => c.correlationId).join(','));

    const rt = await deps.runtime();
    const screened = await screenAlarmChanges(rt, input.changes);
    const acting = reportScreening(deps, screened);
    const result = acting.length === 0 ? nothingToDo(screened) : await evaluateAlarms(deps, rt, acting, input.changes.length, context);
    return withUnconfirmed(result, screened);
  });
}

/**
 * From the alarm queue, a change whose state could not be read (DescribeAlarms throttled or
 * failing) goes back to the queue with the records that failed, to act when delivered again.
 */
function withUnconfirmed(result: AlarmHandlerResult, screened: readonly ScreenedAlarm[]): AlarmHandlerResult {
  const again = screened.flatMap((s) => (s.kind === 'ignored' && s.retryable && s.change.messageId !== undefined ? [s.change.messageId] : []));
  if (again.length === 0 || result.status === 'rejected' || result.status === 'refused') return result;
  const ids = new Set([...(result.batchItemFailures ?? []).map((f) => f.itemIdentifier), ...again]);
  return { ...result, batchItemFailures: [...ids].map((itemIdentifier) => ({ itemIdentifier })) };
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

/**
 * Every acting change of the invocation evaluated together (onAlarms: each named service once, a
 * change batch per hosted zone). A failure a retry may fix fails the invocation so Lambda retries
 * it (and dead-letters it in the end); from a queue, only the records whose services failed are
 * returned to it (`batchItemFailures`), the rest of the batch is done.
 */
async function evaluateAlarms(deps: HandlerDeps, rt: Runtime, acting: readonly AlarmChange[], alarms: number, context: Context): Promise<AlarmHandlerResult> {
  const batch = await onAlarms(rt, acting, deadlineOf(rt, context));
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
  const retryable = redeliverable(deps, batch.failures);
  const queued = acting.filter((c): c is QueuedChange => c.messageId !== undefined);
  if (retryable.length > 0 && queued.length < acting.length) {
    throw new AggregateError(
      retryable.map((f) => f.error),
      `evaluation after alarm failed and may succeed on retry: ${retryable.map((f) => f.error.message).join('; ')}`,
    );
  }
  if (matched === 0) return { status: 'ignored', reason: 'no signal in the config names this alarm' };
  const result = { status: 'evaluated' as const, alarms, matched, evaluations: batch.outcomes.length, failures: batch.failures.length };
  return queued.length > 0 ? { ...result, batchItemFailures: failedRecords(acting, batch.matches, retryable) } : result;
}

/** The failures worth delivering again; those for want of the invocation's share of the rates are logged as the next tick's. */
function redeliverable(deps: HandlerDeps, failures: readonly ServiceFailure[]): ServiceFailure[] {
  const tick = failures.filter((f) => isRetryable(f.error) && !worthRedelivering(f.error)).map((f) => f.service);
  if (tick.length > 0) {
    deps.logger.info("this invocation's share of the rates ran out: the next tick reads these services (woken by their alarms)", {
      services: tick.slice(0, 50),
      count: tick.length,
    });
  }
  return failures.filter((f) => worthRedelivering(f.error));
}

/** A change that came in an SQS record. */
type QueuedChange = AlarmChange & { readonly messageId: string };

/** The SQS records whose changes named a service that failed for a reason a retry may fix: those go back to the queue. */
function failedRecords(
  acting: readonly AlarmChange[],
  matches: readonly (readonly AlarmMatchSummary[])[],
  retryable: readonly ServiceFailure[],
): { itemIdentifier: string }[] {
  const failed = new Set(retryable.map((f) => f.service));
  const ids = acting.flatMap((change, i) => (change.messageId !== undefined && matches[i]!.some((m) => failed.has(m.service)) ? [change.messageId] : []));
  return [...new Set(ids)].map((itemIdentifier) => ({ itemIdentifier }));
}

export const handler = createAlarmHandler(defaultDeps());
