/**
 * The three ways a CloudWatch alarm reaches the alarm handler, parsed into one shape:
 *  - EventBridge `CloudWatch Alarm State Change` (metric, metric-math, anomaly-detection and
 *    composite alarms alike: `resources[0]` is the alarm ARN, `detail.state.value` the new state,
 *    `detail.state.actionsSuppressedBy` set when a composite's actions are suppressed);
 *  - an SNS notification (the Lambda SNS event) whose `Message` is the alarm JSON CloudWatch sends
 *    to alarm actions (`AlarmName`, `NewStateValue`, `AlarmArn`, `AWSAccountId`, …);
 *  - CloudWatch's Lambda alarm action: the function invoked directly, `alarmData` at the top level
 *    and no EventBridge envelope (`alarmArn`, `accountId`, `time`, `region`);
 *  - an SQS batch (the Lambda SQS event: the alarm queue that the rules and the alarm topic feed),
 *    each record's `body` one of: an EventBridge alarm state change, an SNS notification envelope
 *    whose `Message` is the alarm JSON, or that alarm JSON itself (raw message delivery). Each
 *    change keeps its record's `messageId`, so a failure can be reported for its record alone.
 * Only the fields steer53 uses are checked (test/fixtures/alarm-events holds AWS's samples of each).
 * Alarm configuration changes and other CloudWatch events are recognised and ignored.
 */
import type { AlarmState } from '../core/types.js';
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
import {
  accountIdField,
  boundedString,
  eventIdField,
  eventTimeField,
  isRecord,
  kindOf,
  MAX_ARN_LENGTH,
  MAX_ID_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_NAME_LENGTH,
  nonEmptyBounded,
  parseEventTime,
  regionField,
} from './eventFields.js';
import * as z from 'zod/mini';
import './zodMessages.js';

export const ALARM_EVENT_SOURCE = 'aws.cloudwatch';
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
export const ALARM_CONFIGURATION_CHANGE = 'CloudWatch Alarm Configuration Change';

/** How the alarm change arrived. */
export type AlarmDelivery = 'eventbridge' | 'sns' | 'lambda-action';

/** An SQS record's `messageId`: what a partial batch response names. */
export type QueueMessageId = string;

const alarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.+)$/;
const alarmArnField = z.string().check(z.maxLength(MAX_ARN_LENGTH), z.regex(ALARM_ARN, { error: 'must be a CloudWatch alarm ARN' }));
const alarmNameField = nonEmptyBounded(MAX_NAME_LENGTH);
/** `WaitPeriod`, `ExtensionPeriod` or `Alarm` when a composite alarm's actions are suppressed. */
const suppressedByField = z.optional(z.nullable(boundedString(64)));

const stateOf = z.object({ value: alarmStateSchema, actionsSuppressedBy: suppressedByField });

export const alarmStateChangeEventSchema = z.object({
  id: eventIdField,
  source: z.literal(ALARM_EVENT_SOURCE),
  'detail-type': z.literal(ALARM_STATE_CHANGE),
  account: accountIdField,
  time: eventTimeField,
  region: regionField,
  resources: z.array(boundedString(MAX_ARN_LENGTH)).check(z.minLength(1, { error: 'needs the alarm ARN' }), z.maxLength(20)),
  detail: z.object({ alarmName: alarmNameField, state: stateOf, previousState: z.optional(z.object({ value: alarmStateSchema })) }),
});

/** CloudWatch's payload when an alarm action invokes a Lambda function directly. */
export const lambdaAlarmActionSchema = z.object({
  source: z.literal(ALARM_EVENT_SOURCE),
  alarmArn: alarmArnField,
  accountId: accountIdField,
  time: eventTimeField,
  region: regionField,
  alarmData: z.object({ alarmName: alarmNameField, state: stateOf, previousState: z.optional(z.object({ value: alarmStateSchema })) }),
});

/** The alarm JSON CloudWatch publishes to SNS alarm actions. */
export const snsAlarmMessageSchema = z.object({
  AlarmName: alarmNameField,
  AlarmArn: z.optional(alarmArnField),
  AWSAccountId: accountIdField,
  NewStateValue: alarmStateSchema,
  OldStateValue: z.optional(alarmStateSchema),
  StateChangeTime: eventTimeField,
  /** A display name such as "EU (Ireland)" in most notifications; the ARN carries the code. */
  Region: z.optional(boundedString(MAX_NAME_LENGTH)),
});

/** The Lambda event of an SNS subscription; only what steer53 reads (not the signature or the URLs). */
export const snsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        EventSource: z.literal('aws:sns'),
        Sns: z.object({ MessageId: eventIdField, Message: boundedString(MAX_MESSAGE_LENGTH) }),
      }),
    )
    .check(z.minLength(1, { error: 'needs at least one record' }), z.maxLength(100)),
});

export interface ParsedAlarmChange {
  readonly alarmName: string;
  readonly alarmArn?: string;
  /** Region code; undefined when the notification names no code (then the name alone is matched). */
  readonly region: string | undefined;
  /** The account the alarm lives in, as the event says it (set by AWS, not by whoever put the event). */
  readonly account: string;
  readonly state: AlarmState;
  readonly previousState?: AlarmState;
  /** When the state changed (or the event was sent), epoch ms: how old the news is. */
  readonly at: number;
  /** Set when a composite alarm's actions are suppressed (`WaitPeriod`, `ExtensionPeriod`, `Alarm`). */
  readonly actionsSuppressedBy?: string;
  readonly delivery: AlarmDelivery;
  /** Id to correlate logs with: the EventBridge event id, the SNS MessageId, or the alarm ARN and time. */
  readonly correlationId: string;
  /** The SQS record it came in (an SQS batch only). */
  readonly messageId?: QueueMessageId;
}

export type AlarmInput =
  | { readonly kind: 'changes'; readonly changes: readonly ParsedAlarmChange[]; readonly problems?: readonly ValidationProblem[] }
  | { readonly kind: 'ignored'; readonly reason: string; readonly correlationId?: string }
  | { readonly kind: 'invalid'; readonly problems: readonly ValidationProblem[]; readonly correlationId?: string };

function prefixed(problems: readonly ValidationProblem[], prefix: string): ValidationProblem[] {
  return problems.map((p) => ({ path: p.path === '(root)' ? prefix : `${prefix}.${p.path}`.replace(/\.\[/g, '['), message: p.message }));
}

/** The problems of a form, each saying which form was expected. */
function asForm(problems: readonly ValidationProblem[], form: string): ValidationProblem[] {
  return problems.map((p) => ({ path: p.path, message: `${p.message} (as ${form})` }));
}

function correlationOf(event: Record<string, unknown>): string | undefined {
  return typeof event.id === 'string' && event.id.length <= MAX_ID_LENGTH ? event.id : undefined;
}

export function parseAlarmInput(event: unknown): AlarmInput {
  if (!isRecord(event)) {
    return {
      kind: 'invalid',
      problems: [{ path: '(root)', message: `expected an EventBridge, SNS or Lambda alarm action event object, got ${kindOf(event)}` }],
    };
  }
  if (Object.hasOwn(event, 'Records')) return isSqsEvent(event) ? parseSqsAlarms(event) : parseSnsAlarms(event);
  if (Object.hasOwn(event, 'alarmData')) return parseLambdaAction(event);
  return parseEventBridgeAlarm(event);
}

/** An EventBridge alarm state change (any other CloudWatch event is ignored). */
function parseEventBridgeAlarm(event: Record<string, unknown>): AlarmInput {
  const correlationId = correlationOf(event);
  const detailType = event['detail-type'];
  if (event.source === ALARM_EVENT_SOURCE && typeof detailType === 'string' && detailType !== ALARM_STATE_CHANGE) {
    return {
      kind: 'ignored',
      reason: `CloudWatch event "${detailType.slice(0, MAX_NAME_LENGTH)}" is not an alarm state change`,
      ...(correlationId ? { correlationId } : {}),
    };
  }
  const parsed = alarmStateChangeEventSchema.safeParse(event);
  if (!parsed.success) {
    return { kind: 'invalid', problems: asForm(problemsOf(parsed.error), 'an EventBridge alarm state change'), ...(correlationId ? { correlationId } : {}) };
  }
  const e = parsed.data;
  const arn = e.resources.find((r) => ALARM_ARN.test(r));
  const change: ParsedAlarmChange = {
    alarmName: e.detail.alarmName,
    ...(arn ? { alarmArn: arn } : {}),
    region: e.region,
    account: e.account,
    state: e.detail.state.value,
    ...(e.detail.previousState ? { previousState: e.detail.previousState.value } : {}),
    at: parseEventTime(e.time)!,
    ...(e.detail.state.actionsSuppressedBy ? { actionsSuppressedBy: e.detail.state.actionsSuppressedBy } : {}),
    delivery: 'eventbridge',
    correlationId: e.id,
  };
  return { kind: 'changes', changes: [change] };
}

function parseLambdaAction(event: Record<string, unknown>): AlarmInput {
  const parsed = lambdaAlarmActionSchema.safeParse(event);
  if (!parsed.success) return { kind: 'invalid', problems: asForm(problemsOf(parsed.error), 'a CloudWatch Lambda alarm action') };
  const e = parsed.data;
  const change: ParsedAlarmChange = {
    alarmName: e.alarmData.alarmName,
    alarmArn: e.alarmArn,
    region: e.region,
    account: e.accountId,
    state: e.alarmData.state.value,
    ...(e.alarmData.previousState ? { previousState: e.alarmData.previousState.value } : {}),
    at: parseEventTime(e.time)!,
    ...(e.alarmData.state.actionsSuppressedBy ? { actionsSuppressedBy: e.alarmData.state.actionsSuppressedBy } : {}),
    delivery: 'lambda-action',
    correlationId: `${e.alarmArn.slice(-MAX_ID_LENGTH)}@${e.time}`,
  };
  return { kind: 'changes', changes: [change] };
}

function parseSnsAlarms(event: Record<string, unknown>): AlarmInput {
  const parsed = snsEventSchema.safeParse(event);
  if (!parsed.success) return { kind: 'invalid', problems: asForm(problemsOf(parsed.error), 'an SNS event') };
  const changes: ParsedAlarmChange[] = [];
  const problems: ValidationProblem[] = [];
  parsed.data.Records.forEach((record, i) => {
    const read = snsAlarmOf(record.Sns, `Records[${i}].Sns.Message`);
    if ('problems' in read) problems.push(...read.problems);
    else changes.push(read.change);
  });
  // A batch with one bad record is still worth acting on for the good ones; the bad ones are logged.
  if (changes.length === 0) return { kind: 'invalid', problems };
  return problems.length > 0 ? { kind: 'changes', changes, problems } : { kind: 'changes', changes };
}

/** The Lambda event of an SQS event source mapping; only what steer53 reads. */
export const sqsEventSchema = z.object({
  Records: z
    .array(z.object({ eventSource: z.literal('aws:sqs'), messageId: eventIdField, body: boundedString(MAX_MESSAGE_LENGTH) }))
    .check(z.minLength(1, { error: 'needs at least one record' }), z.maxLength(10_000)),
});

function isSqsEvent(event: Record<string, unknown>): boolean {
  const records = event.Records;
  return Array.isArray(records) && isRecord(records[0]) && records[0].eventSource === 'aws:sqs';
}

/**
 * An SQS batch: each record read on its own. A record that is not an alarm change is logged as a
 * problem and not retried (it never will be one); the good records of the batch act.
 */
function parseSqsAlarms(event: Record<string, unknown>): AlarmInput {
  const parsed = sqsEventSchema.safeParse(event);
  if (!parsed.success) return { kind: 'invalid', problems: asForm(problemsOf(parsed.error), 'an SQS event') };
  const changes: ParsedAlarmChange[] = [];
  const problems: ValidationProblem[] = [];
  const ignored: string[] = [];
  parsed.data.Records.forEach((record, i) => {
    const read = queuedAlarmOf(record.body, record.messageId, `Records[${i}].body`);
    if (read.kind === 'changes') changes.push(...read.changes.map((c) => ({ ...c, messageId: record.messageId })));
    else if (read.kind === 'ignored') ignored.push(read.reason);
    else problems.push(...read.problems);
  });
  if (changes.length > 0) return problems.length > 0 ? { kind: 'changes', changes, problems } : { kind: 'changes', changes };
  if (problems.length > 0) return { kind: 'invalid', problems };
  return { kind: 'ignored', reason: [...new Set(ignored)].join('; ') };
}

/** One SQS record's body: an EventBridge event, an SNS envelope, or the alarm JSON SNS delivers raw. */
function queuedAlarmOf(body: string, messageId: string, where: string): AlarmInput {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return { kind: 'invalid', problems: [{ path: where, message: 'is not JSON (expected an alarm state change)' }] };
  }
  if (!isRecord(message)) return { kind: 'invalid', problems: [{ path: where, message: `expected an alarm state change object, got ${kindOf(message)}` }] };
  if (message.Type === 'Notification' && typeof message.Message === 'string') {
    const read = snsAlarmOf(
      { MessageId: typeof message.MessageId === 'string' ? message.MessageId.slice(0, MAX_ID_LENGTH) : 'sns', Message: message.Message },
      `${where}.Message`,
    );
    return 'problems' in read ? { kind: 'invalid', problems: read.problems } : { kind: 'changes', changes: [read.change] };
  }
  if (Object.hasOwn(message, 'AlarmName')) {
    const read = snsAlarmOf({ MessageId: messageId, Message: body }, where);
    return 'problems' in read ? { kind: 'invalid', problems: read.problems } : { kind: 'changes', changes: [read.change] };
  }
  const read = parseEventBridgeAlarm(message);
  return read.kind === 'invalid' ? { ...read, problems: prefixed(read.problems, where) } : read;
}

function snsAlarmOf(sns: { MessageId: string; Message: string }, where: string): { change: ParsedAlarmChange } | { problems: ValidationProblem[] } {
  let message: unknown;
  try {
    message = JSON.parse(sns.Message);
  } catch {
    return { problems: [{ path: where, message: 'is not JSON (expected a CloudWatch alarm notification)' }] };
  }
  const alarm = snsAlarmMessageSchema.safeParse(message);
  if (!alarm.success) return { problems: prefixed(asForm(problemsOf(alarm.error), 'a CloudWatch alarm notification'), where) };
  const a = alarm.data;
  const arnRegion = a.AlarmArn ? ALARM_ARN.exec(a.AlarmArn)?.[1] : undefined;
  const region = arnRegion ?? (a.Region !== undefined && regionField.safeParse(a.Region).success ? a.Region : undefined);
  return {
    change: {
      alarmName: a.AlarmName,
      ...(a.AlarmArn ? { alarmArn: a.AlarmArn } : {}),
      region,
      account: a.AWSAccountId,
      state: a.NewStateValue,
      ...(a.OldStateValue ? { previousState: a.OldStateValue } : {}),
      at: parseEventTime(a.StateChangeTime)!,
      delivery: 'sns',
      correlationId: sns.MessageId,
    },
  };
}

/** The account in a CloudWatch alarm ARN. */
export function accountOfAlarmArn(arn: string): string | undefined {
  return ALARM_ARN.exec(arn)?.[2];
}
