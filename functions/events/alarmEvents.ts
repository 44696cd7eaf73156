/**
 * The two ways a CloudWatch alarm reaches the alarm handler, parsed into one shape:
 *  - EventBridge `CloudWatch Alarm State Change` (metric, metric-math and composite alarms alike:
 *    `resources[0]` is the alarm ARN, `detail.state.value` the new state);
 *  - an SNS notification (the Lambda SNS event) whose `Message` is the alarm JSON CloudWatch sends
 *    to alarm actions (`AlarmName`, `NewStateValue`, `AlarmArn`, …).
 * Alarm configuration changes and other CloudWatch events are recognised and ignored.
 */
import type { AlarmState } from '../core/types.js';
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
import { eventBridgeEnvelope, snsEventSchema } from './envelopes.js';
import * as z from 'zod/mini';
import './zodMessages.js';

export const ALARM_EVENT_SOURCE = 'aws.cloudwatch';
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
export const ALARM_CONFIGURATION_CHANGE = 'CloudWatch Alarm Configuration Change';

const alarmStateSchema = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const regionCode = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):\d{12}:alarm:(.+)$/;

export const alarmStateChangeEventSchema = z.object({
  ...eventBridgeEnvelope,
  source: z.literal(ALARM_EVENT_SOURCE),
  'detail-type': z.literal(ALARM_STATE_CHANGE),
  region: z.string().check(z.regex(regionCode, { error: 'must be an AWS region code' })),
  resources: z.array(z.string()).check(z.minLength(1, { error: 'needs the alarm ARN' })),
  detail: z.object({
    alarmName: z.string().check(z.minLength(1)),
    state: z.object({ value: alarmStateSchema, reason: z.optional(z.string()), timestamp: z.optional(z.string()) }),
    previousState: z.optional(z.object({ value: alarmStateSchema })),
  }),
});

/** The alarm JSON CloudWatch publishes to SNS alarm actions. */
export const snsAlarmMessageSchema = z.object({
  AlarmName: z.string().check(z.minLength(1)),
  AlarmArn: z.optional(z.string().check(z.regex(ALARM_ARN, { error: 'must be a CloudWatch alarm ARN' }))),
  NewStateValue: alarmStateSchema,
  OldStateValue: z.optional(alarmStateSchema),
  NewStateReason: z.optional(z.string()),
  StateChangeTime: z.optional(z.string()),
  /** A display name such as "EU (Ireland)" in most notifications; the ARN carries the code. */
  Region: z.optional(z.string()),
});

export interface ParsedAlarmChange {
  readonly alarmName: string;
  readonly alarmArn?: string;
  /** Region code; undefined when the notification names no code (then the name alone is matched). */
  readonly region: string | undefined;
  readonly state: AlarmState;
  readonly previousState?: AlarmState;
  /** Id to correlate logs with: the EventBridge event id or the SNS MessageId. */
  readonly correlationId: string;
}

export type AlarmInput =
  | { readonly kind: 'changes'; readonly changes: readonly ParsedAlarmChange[]; readonly problems?: readonly ValidationProblem[] }
  | { readonly kind: 'ignored'; readonly reason: string; readonly correlationId?: string }
  | { readonly kind: 'invalid'; readonly problems: readonly ValidationProblem[]; readonly correlationId?: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function prefixed(problems: readonly ValidationProblem[], prefix: string): ValidationProblem[] {
  return problems.map((p) => ({ path: p.path === '(root)' ? prefix : `${prefix}.${p.path}`.replace(/\.\[/g, '['), message: p.message }));
}

export function parseAlarmInput(event: unknown): AlarmInput {
  if (!isRecord(event))
    return {
      kind: 'invalid',
      problems: [
        {
          path: '(root)',
          message: `expected an EventBridge or SNS event object, got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`,
        },
      ],
    };
  const correlationId = typeof event.id === 'string' ? event.id : undefined;

  if ('Records' in event) return parseSnsAlarms(event);

  if (event.source === ALARM_EVENT_SOURCE && event['detail-type'] !== ALARM_STATE_CHANGE && typeof event['detail-type'] === 'string') {
    return { kind: 'ignored', reason: `CloudWatch event "${event['detail-type']}" is not an alarm state change`, ...(correlationId ? { correlationId } : {}) };
  }
  const parsed = alarmStateChangeEventSchema.safeParse(event);
  if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error), ...(correlationId ? { correlationId } : {}) };
  const e = parsed.data;
  const arn = e.resources.find((r) => ALARM_ARN.test(r));
  return {
    kind: 'changes',
    changes: [
      {
        alarmName: e.detail.alarmName,
        ...(arn ? { alarmArn: arn } : {}),
        region: e.region,
        state: e.detail.state.value,
        ...(e.detail.previousState ? { previousState: e.detail.previousState.value } : {}),
        correlationId: e.id,
      },
    ],
  };
}

function parseSnsAlarms(event: Record<string, unknown>): AlarmInput {
  const parsed = snsEventSchema.safeParse(event);
  if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
  const changes: ParsedAlarmChange[] = [];
  const problems: ValidationProblem[] = [];
  parsed.data.Records.forEach((record, i) => {
    const where = `Records[${i}].Sns.Message`;
    let message: unknown;
    try {
      message = JSON.parse(record.Sns.Message);
    } catch {
      problems.push({ path: where, message: 'is not JSON (expected a CloudWatch alarm notification)' });
      return;
    }
    const alarm = snsAlarmMessageSchema.safeParse(message);
    if (!alarm.success) {
      problems.push(...prefixed(problemsOf(alarm.error), where));
      return;
    }
    const a = alarm.data;
    const arnRegion = a.AlarmArn ? ALARM_ARN.exec(a.AlarmArn)?.[1] : undefined;
    const region = arnRegion ?? (a.Region && regionCode.test(a.Region) ? a.Region : undefined);
    changes.push({
      alarmName: a.AlarmName,
      ...(a.AlarmArn ? { alarmArn: a.AlarmArn } : {}),
      region,
      state: a.NewStateValue,
      ...(a.OldStateValue ? { previousState: a.OldStateValue } : {}),
      correlationId: record.Sns.MessageId,
    });
  });
  // A batch with one bad record is still worth acting on for the good ones; the bad ones are logged.
  if (changes.length === 0) return { kind: 'invalid', problems };
  return problems.length > 0 ? { kind: 'changes', changes, problems } : { kind: 'changes', changes };
}
