/**
 * What the schedule handler accepts: the classic EventBridge scheduled-rule event, or the payload
 * of an EventBridge Scheduler schedule. Scheduler delivers whatever input the schedule defines;
 * steer53's schedules send either `{}` or the context attributes
 * `{"scheduleArn":"<aws.scheduler.schedule-arn>","scheduledTime":"<aws.scheduler.scheduled-time>",
 *   "executionId":"<aws.scheduler.execution-id>","attemptNumber":"<aws.scheduler.attempt-number>"}`,
 * optionally with `services` to evaluate only some services.
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
});

export type ScheduleInput =
  | { readonly kind: 'tick'; readonly trigger: string; readonly correlationId?: string; readonly services?: readonly string[] }
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
    return { kind: 'tick', trigger: `schedule ${rule.data.resources[0] ?? 'rule'}`, correlationId: rule.data.id };
  }
  const payload = schedulerPayloadSchema.safeParse(event);
  if (!payload.success) return { kind: 'invalid', problems: problemsOf(payload.error) };
  const p = payload.data;
  return {
    kind: 'tick',
    trigger: `schedule ${p.scheduleArn ?? 'scheduler'}`,
    ...(p.executionId ? { correlationId: p.executionId } : {}),
    ...(p.services ? { services: p.services } : {}),
  };
}
