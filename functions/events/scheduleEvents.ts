/**
 * What the schedule handler accepts: the classic EventBridge scheduled-rule event, or the payload
 * of an EventBridge Scheduler schedule. Scheduler delivers whatever input the schedule defines;
 * steer53's schedules send either `{}` or the context attributes
 * `{"scheduleArn":"<aws.scheduler.schedule-arn>","scheduledTime":"<aws.scheduler.scheduled-time>",
 *   "executionId":"<aws.scheduler.execution-id>","attemptNumber":"<aws.scheduler.attempt-number>"}`,
 * optionally with `services` to evaluate only some services. And the shards of a tick, as the
 * schedule sent them to its queue: the Lambda event of an SQS event source, one shard a record.
 */
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
import type { ShardTick } from '../ports/shardQueue.js';
import { eventBridgeEnvelope } from './envelopes.js';
import * as z from 'zod/mini';
import './zodMessages.js';

export const scheduledRuleEventSchema = z.object({
  ...eventBridgeEnvelope,
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

export const schedulerPayloadSchema = z.strictObject({
  scheduleArn: z.optional(
    z.string().check(z.regex(/^arn:aws[a-z-]*:scheduler:[a-z0-9-]+:\d{12}:schedule\/.+$/, { error: 'must be an EventBridge Scheduler schedule ARN' })),
  ),
  scheduledTime: z.optional(z.iso.datetime({ offset: true })),
  executionId: z.optional(z.string().check(z.minLength(1))),
  attemptNumber: z.optional(z.union([z.number().check(z.int(), z.minimum(1)), z.string().check(z.regex(/^\d+$/))])),
  /** Evaluate only these services. @default every service */
  services: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
});

/** One shard of a tick, as the schedule sends it (ports/shardQueue.ts ShardTick). */
export const shardTickSchema = z.strictObject({
  shard: z.string().check(z.regex(/^shard-\d+$/, { error: 'must be a shard id such as shard-01' })),
  services: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  scheduledAt: z.number().check(z.int(), z.positive()),
  expiresAt: z.number().check(z.int(), z.positive()),
  trigger: z.string(),
  asked: z.optional(z.array(z.string().check(z.minLength(1)))),
});

/** The Lambda event of an SQS event source (the fields steer53 reads). */
export const sqsEventSchema = z.object({
  Records: z.array(z.object({ messageId: z.string(), eventSource: z.literal('aws:sqs'), body: z.string() })).check(z.minLength(1)),
});

export type ShardTickMessage = { readonly messageId: string; readonly tick: ShardTick };

export type ScheduleInput =
  | { readonly kind: 'tick'; readonly trigger: string; readonly scheduledAt?: number; readonly correlationId?: string; readonly services?: readonly string[] }
  | { readonly kind: 'shards'; readonly ticks: readonly ShardTickMessage[]; readonly problems: readonly ValidationProblem[] }
  | { readonly kind: 'invalid'; readonly problems: readonly ValidationProblem[] };

export function parseScheduleInput(event: unknown): ScheduleInput {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return {
      kind: 'invalid',
      problems: [
        {
          path: '(root)',
          message: `expected a scheduled event or a Scheduler payload object, got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`,
        },
      ],
    };
  }
  if ('Records' in event) return parseShardTicks(event);
  if ('detail-type' in event || 'source' in event) {
    const rule = scheduledRuleEventSchema.safeParse(event);
    if (!rule.success) return { kind: 'invalid', problems: problemsOf(rule.error) };
    return { kind: 'tick', trigger: `schedule ${rule.data.resources[0] ?? 'rule'}`, scheduledAt: Date.parse(rule.data.time), correlationId: rule.data.id };
  }
  const payload = schedulerPayloadSchema.safeParse(event);
  if (!payload.success) return { kind: 'invalid', problems: problemsOf(payload.error) };
  const p = payload.data;
  return {
    kind: 'tick',
    trigger: `schedule ${p.scheduleArn ?? 'scheduler'}`,
    ...(p.scheduledTime ? { scheduledAt: Date.parse(p.scheduledTime) } : {}),
    ...(p.executionId ? { correlationId: p.executionId } : {}),
    ...(p.services ? { services: p.services } : {}),
  };
}

/** The shards of an SQS event; a malformed record is reported with its path and the others kept. */
function parseShardTicks(event: object): ScheduleInput {
  const envelope = sqsEventSchema.safeParse(event);
  if (!envelope.success) return { kind: 'invalid', problems: problemsOf(envelope.error) };
  const ticks: ShardTickMessage[] = [];
  const problems: ValidationProblem[] = [];
  envelope.data.Records.forEach((record, i) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (error) {
      problems.push({ path: `Records[${i}].body`, message: `is not JSON: ${(error as Error).message}` });
      return;
    }
    const tick = shardTickSchema.safeParse(body);
    const at = (path: string) => (path === '(root)' ? `Records[${i}].body` : `Records[${i}].body.${path}`);
    if (!tick.success) problems.push(...problemsOf(tick.error).map((p) => ({ path: at(p.path), message: p.message })));
    else {
      const { asked, ...rest } = tick.data;
      ticks.push({ messageId: record.messageId, tick: { ...rest, ...(asked ? { asked } : {}) } });
    }
  });
  return ticks.length === 0 ? { kind: 'invalid', problems } : { kind: 'shards', ticks, problems };
}
