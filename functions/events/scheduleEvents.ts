/**
 * What the schedule handler accepts:
 *  - the classic EventBridge scheduled-rule event (`source: "aws.events"`, `detail-type: "Scheduled Event"`);
 *  - EventBridge Scheduler's default payload for a Lambda target with no input: the same envelope
 *    with `source: "aws.scheduler"` and a `detail` that is the *string* `"{}"` (an object is taken too);
 *  - the input a Scheduler schedule defines: `{}`, or the context attributes
 *    `{"scheduleArn":"<aws.scheduler.schedule-arn>","scheduledTime":"<aws.scheduler.scheduled-time>",
 *    "executionId":"<aws.scheduler.execution-id>","attemptNumber":"<aws.scheduler.attempt-number>"}`.
 * Each may name `services` to evaluate only some (in the Scheduler envelope, inside `detail`).
 * A sharded schedule (the construct's, one target per shard, planned by functions/app/shardPlan.ts)
 * sends `{"shard":"shard-02","services":[…],"scheduledTime":"<time>","staleAfterSeconds":90}`: the
 * shard's services, read at their own cadence.
 * A tick evaluates at the controller's own clock, with what CloudWatch says now: an old or replayed
 * tick is harmless, so its time is not checked for age; it is used only to skip a shard's tick
 * that starts after the next tick has fired (`scheduledAt`).
 */
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
import {
  boundedString,
  eventIdField,
  eventTimeField,
  isRecord,
  kindOf,
  MAX_ARN_LENGTH,
  MAX_NAME_LENGTH,
  nonEmptyBounded,
  parseEventTime,
} from './eventFields.js';
import * as z from 'zod/mini';
import './zodMessages.js';

const servicesField = z.optional(z.array(nonEmptyBounded(64)).check(z.minLength(1, { error: 'name at least one service' }), z.maxLength(1000)));

/** The envelope of a scheduled rule's event or of Scheduler's default payload. */
export const scheduledEventSchema = z.object({
  id: eventIdField,
  source: z.enum(['aws.events', 'aws.scheduler']),
  'detail-type': z.literal('Scheduled Event'),
  time: z.optional(eventTimeField),
  resources: z._default(z.array(boundedString(MAX_ARN_LENGTH)).check(z.maxLength(20)), []),
  detail: z._default(z.union([boundedString(65_536), z.record(z.string(), z.unknown())]), {}),
});

const scheduleDetailSchema = z.object({ services: servicesField });

export const schedulerPayloadSchema = z.strictObject({
  scheduleArn: z.optional(
    z
      .string()
      .check(
        z.maxLength(MAX_ARN_LENGTH),
        z.regex(/^arn:aws[a-z-]*:scheduler:[a-z0-9-]+:\d{12}:schedule\/.+$/, { error: 'must be an EventBridge Scheduler schedule ARN' }),
      ),
  ),
  scheduledTime: z.optional(eventTimeField),
  executionId: z.optional(nonEmptyBounded(MAX_NAME_LENGTH)),
  attemptNumber: z.optional(z.union([z.number().check(z.int(), z.minimum(1)), z.string().check(z.maxLength(12), z.regex(/^\d+$/))])),
  /** Evaluate only these services. @default every service */
  services: servicesField,
  /** The shard these services are: they are read at their own cadence, and the tick is done once per shard and minute. */
  shard: z.optional(z.string().check(z.regex(/^shard-\d+$/, { error: 'must be a shard id such as shard-01' }))),
  /** A tick started this long after its scheduled time is skipped: the next one has fired. */
  staleAfterSeconds: z.optional(z.number().check(z.int(), z.positive())),
});

export type ScheduleInput =
  | {
      readonly kind: 'tick';
      readonly trigger: string;
      readonly correlationId?: string;
      readonly services?: readonly string[];
      /** When the schedule fired (epoch ms), when the event says. */
      readonly scheduledAt?: number;
      readonly shard?: { readonly id: string; readonly staleAfterMs?: number };
    }
  | { readonly kind: 'invalid'; readonly problems: readonly ValidationProblem[] };

function asForm(problems: readonly ValidationProblem[], form: string): ValidationProblem[] {
  return problems.map((p) => ({ path: p.path, message: `${p.message} (as ${form})` }));
}

export function parseScheduleInput(event: unknown): ScheduleInput {
  if (!isRecord(event)) {
    return { kind: 'invalid', problems: [{ path: '(root)', message: `expected a scheduled event or a Scheduler payload object, got ${kindOf(event)}` }] };
  }
  if (Object.hasOwn(event, 'detail-type') || Object.hasOwn(event, 'source')) return parseScheduledEvent(event);
  const payload = schedulerPayloadSchema.safeParse(event);
  if (!payload.success) return { kind: 'invalid', problems: asForm(problemsOf(payload.error), 'a Scheduler input') };
  const p = payload.data;
  if (p.shard && !p.services) return { kind: 'invalid', problems: [{ path: 'services', message: `shard ${p.shard} names no services` }] };
  return {
    kind: 'tick',
    trigger: `schedule ${p.scheduleArn ?? p.shard ?? 'scheduler'}`,
    ...(p.executionId ? { correlationId: p.executionId } : {}),
    ...(p.services ? { services: p.services } : {}),
    ...(p.scheduledTime ? { scheduledAt: parseEventTime(p.scheduledTime)! } : {}),
    ...(p.shard ? { shard: { id: p.shard, ...(p.staleAfterSeconds ? { staleAfterMs: p.staleAfterSeconds * 1000 } : {}) } } : {}),
  };
}

function parseScheduledEvent(event: Record<string, unknown>): ScheduleInput {
  const rule = scheduledEventSchema.safeParse(event);
  if (!rule.success) return { kind: 'invalid', problems: asForm(problemsOf(rule.error), 'a scheduled event') };
  const { detail, id, resources, source, time } = rule.data;
  // Scheduler sends its default detail as the JSON text "{}".
  let detailValue: unknown = detail;
  if (typeof detail === 'string') {
    try {
      detailValue = JSON.parse(detail);
    } catch {
      return { kind: 'invalid', problems: [{ path: 'detail', message: 'is a string that is not JSON (as a scheduled event: Scheduler sends "{}")' }] };
    }
  }
  const parsedDetail = scheduleDetailSchema.safeParse(detailValue);
  if (!parsedDetail.success) {
    return {
      kind: 'invalid',
      problems: asForm(problemsOf(parsedDetail.error), 'a scheduled event').map((p) => ({ ...p, path: `detail.${p.path}`.replace('.(root)', '') })),
    };
  }
  const services = parsedDetail.data.services;
  return {
    kind: 'tick',
    trigger: `schedule ${resources[0] ?? (source === 'aws.scheduler' ? 'scheduler' : 'rule')}`,
    correlationId: id,
    ...(services ? { services } : {}),
    ...(time !== undefined ? { scheduledAt: parseEventTime(time)! } : {}),
  };
}
