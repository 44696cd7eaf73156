/**
 * What the schedule handler accepts: the classic EventBridge scheduled-rule event, or the payload
 * of an EventBridge Scheduler schedule. Scheduler delivers whatever input the schedule defines;
 * steer53's schedules send either `{}` or the context attributes
 * `{"scheduleArn":"<aws.scheduler.schedule-arn>","scheduledTime":"<aws.scheduler.scheduled-time>",
 *   "executionId":"<aws.scheduler.execution-id>","attemptNumber":"<aws.scheduler.attempt-number>"}`,
 * optionally with `services` to evaluate only some services. A sharded schedule (the construct's,
 * one target per shard, planned by functions/app/shardPlan.ts) sends
 * `{"shard":"shard-02","services":[…],"scheduledTime":"<time>","staleAfterSeconds":90}`: the
 * shard's services, read at their own cadence.
 */
import { problemsOf, type ValidationProblem } from '../core/validationProblems.js';
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
  if ('detail-type' in event || 'source' in event) {
    const rule = scheduledRuleEventSchema.safeParse(event);
    if (!rule.success) return { kind: 'invalid', problems: problemsOf(rule.error) };
    return { kind: 'tick', trigger: `schedule ${rule.data.resources[0] ?? 'rule'}`, correlationId: rule.data.id, scheduledAt: Date.parse(rule.data.time) };
  }
  const payload = schedulerPayloadSchema.safeParse(event);
  if (!payload.success) return { kind: 'invalid', problems: problemsOf(payload.error) };
  const p = payload.data;
  if (p.shard && !p.services) return { kind: 'invalid', problems: [{ path: 'services', message: `shard ${p.shard} names no services` }] };
  return {
    kind: 'tick',
    trigger: `schedule ${p.scheduleArn ?? p.shard ?? 'scheduler'}`,
    ...(p.executionId ? { correlationId: p.executionId } : {}),
    ...(p.services ? { services: p.services } : {}),
    ...(p.scheduledTime ? { scheduledAt: Date.parse(p.scheduledTime) } : {}),
    ...(p.shard ? { shard: { id: p.shard, ...(p.staleAfterSeconds ? { staleAfterMs: p.staleAfterSeconds * 1000 } : {}) } } : {}),
  };
}
